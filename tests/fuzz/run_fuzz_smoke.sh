#!/bin/sh
# CTest smoke run of one libFuzzer target (fuzz.*_smoke, tests/fuzz/CMakeLists.txt):
# replays the generated seed corpus (which holds every crash found so far as
# a regression case), then mutates for a bounded time. Any crash, sanitizer
# report, timeout, leak or out-of-memory fails the test and the input is kept
# under $DECANT_BUILD/fuzz-artifacts/.
# Env: DECANT_FUZZER (the fuzzer binary), DECANT_SOURCE, DECANT_BUILD,
#      FUZZ_SECONDS (default 60), FUZZ_MAX_LEN (default 65536: mutated input size),
#      FUZZ_SEED (default 1: the same mutations on every machine; 0 picks one),
#      DECANT_MUST_WORK=1 (a missing fuzzer fails),
#      DECANT_FUZZ_SEEDS (the seed generator, default tests/fuzz/make_seeds.sh).
# Longer runs: docs/fuzzing.md. By hand, e.g. 10 minutes with a persistent corpus:
#   sh tests/fuzz/make_seeds.sh /tmp/seeds && mkdir -p /tmp/corpus &&
#   build/tests/fuzz/elf_reader_fuzz -max_total_time=600 -rss_limit_mb=2048 \
#     -timeout=5 -max_len=65536 /tmp/corpus /tmp/seeds
set -u

: "${DECANT_SOURCE:?DECANT_SOURCE must point to the source tree}"
fuzzer=${DECANT_FUZZER:-}
seconds=${FUZZ_SECONDS:-60}
max_len=${FUZZ_MAX_LEN:-65536}
seeds=${DECANT_FUZZ_SEEDS:-$DECANT_SOURCE/tests/fuzz/make_seeds.sh}

if [ -z "$fuzzer" ] || [ ! -x "$fuzzer" ]; then
  if [ -n "${DECANT_FUZZ_CXX:-}" ] && [ "${DECANT_FUZZ_CXX%-NOTFOUND}" = "$DECANT_FUZZ_CXX" ]; then
    how="build it with 'ninja fuzz_elf_reader' or configure with -DDECANT_FUZZ=ON (clang++: $DECANT_FUZZ_CXX)"
  else
    how="no clang++ with libFuzzer was found at configure time"
  fi
  if [ "${DECANT_MUST_WORK:-0}" = 1 ]; then
    echo "FAIL: fuzzer not built ($fuzzer): $how"
    exit 1
  fi
  echo "SKIP: fuzzer not built: $how"
  exit 77
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/corpus" "$tmp/artifacts"
if ! sh "$seeds" "$tmp/seeds"; then
  echo "FAIL: $seeds could not generate the seed corpus"
  exit 1
fi
echo "fuzzing $fuzzer for ${seconds}s over $(ls "$tmp/seeds" | wc -l) seeds"

# First each seed once, whole: a corpus directory would be cut to -max_len,
# and some regression cases are only slow at full size.
# -malloc_limit_mb defaults to -rss_limit_mb: one absurd allocation fails too.
"$fuzzer" -rss_limit_mb=2048 -timeout=5 -artifact_prefix="$tmp/artifacts/" "$tmp/seeds"/* >"$tmp/log" 2>&1
rc=$?
if [ "$rc" -eq 0 ]; then
  "$fuzzer" -max_total_time="$seconds" -seed="${FUZZ_SEED:-1}" -rss_limit_mb=2048 -timeout=5 -max_len="$max_len" \
    -print_final_stats=1 -artifact_prefix="$tmp/artifacts/" "$tmp/corpus" "$tmp/seeds" >>"$tmp/log" 2>&1
  rc=$?
fi

found=$(ls -A "$tmp/artifacts")
if [ "$rc" -ne 0 ] || [ -n "$found" ] || grep -q -E '^==[0-9]+==ERROR|runtime error:' "$tmp/log"; then
  keep="${DECANT_BUILD:-.}/fuzz-artifacts"
  mkdir -p "$keep"
  [ -n "$found" ] && cp "$tmp/artifacts"/* "$keep/"
  # A seed replayed whole leaves no artifact: keep the one that was running.
  last=$(grep '^Running: ' "$tmp/log" | tail -n 1 | sed 's/^Running: //')
  if [ -z "$found" ] && [ -f "$last" ]; then
    cp "$last" "$keep/"
    found=$(basename "$last")
  fi
  grep -E -A30 'ERROR|runtime error|ALARM|SUMMARY' "$tmp/log" | head -80
  echo "FAIL: fuzzer exit $rc; inputs kept in $keep: $found"
  echo "reproduce: $fuzzer $keep/<input>  (and add it to $seeds)"
  exit 1
fi
grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' "$tmp/log"
echo "$(basename "$fuzzer"): no crash, hang, leak or OOM in ${seconds}s"
