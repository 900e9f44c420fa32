#!/bin/sh
# Throughput of `decant analyze` over every ELF executable and library of the
# host, against `ldd` over the same set as the baseline: both resolve each
# file's library closure, so the ratio says what decant's extra work (version
# floors, guest facts, hazards, the profile) costs. One process per binary for
# both, run sequentially, page cache warmed first; prints a table on stdout.
#
# Run:  ninja -C build bench-analyze
#   or  sh bench/analyze_bench.sh [path/to/decant]     (default build/decant)
# Env:  BENCH_MAX=N         analyze only the first N ELFs (sorted), default all
#       BENCH_DIRS="A B"    directories to scan, default "/usr/bin /usr/lib"
#       BENCH_TIMEOUT=S     per-binary time limit for both tools, default 30
#       BENCH_ARGS="..."    extra `decant analyze` options, e.g. --no-code to
#                           time structure and closure alone (what ldd does)
#       DECANT_CACHE=DIR    decant's code-summary cache; default a fresh
#                           directory, so each library is analyzed once per
#                           run (as when converting one VM) and runs compare
set -u

here=$(cd "$(dirname "$0")" && pwd)
decant=${1:-$here/../build/decant}
dirs=${BENCH_DIRS:-/usr/bin /usr/lib}
max=${BENCH_MAX:-0}
limit=${BENCH_TIMEOUT:-30}

if [ ! -x "$decant" ]; then
  echo "analyze_bench: $decant is not executable (build the decant target first)" >&2
  exit 2
fi
command -v ldd >/dev/null 2>&1 || { echo "analyze_bench: ldd not found" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ -z "${DECANT_CACHE:-}" ]; then
  DECANT_CACHE="$tmp/cache"
  export DECANT_CACHE
fi

# Regular files (symlinks are counted once, via their target) starting with
# \177ELF. perl reads 4 bytes per file without a fork per file.
# shellcheck disable=SC2086
find $dirs -type f -size +51c -print0 2>/dev/null |
  perl -0 -ne 'chomp; if (open(my $fh, "<", $_)) { my $m; print "$_\n" if read($fh, $m, 4) == 4 && $m eq "\x7fELF"; }' |
  LC_ALL=C sort >"$tmp/all"
if [ "$max" -gt 0 ]; then head -n "$max" "$tmp/all" >"$tmp/list"; else cp "$tmp/all" "$tmp/list"; fi
count=$(wc -l <"$tmp/list" | tr -d ' ')
if [ "$count" -eq 0 ]; then
  echo "analyze_bench: no ELF files under $dirs" >&2
  exit 2
fi
tr '\n' '\0' <"$tmp/list" >"$tmp/list0"
bytes=$(xargs -0 stat -c %s <"$tmp/list0" | awk '{ s += $1 } END { printf "%.0f", s }')

# Warm the page cache so neither tool pays for the first read.
xargs -0 cat <"$tmp/list0" >/dev/null 2>&1

now() { date +%s.%N; }

# run_tool NAME CMD...: one process per file, sequentially; failures are
# counted from stderr lines for decant (one line per failure by design) and
# from exit codes for ldd (its stderr is chatty).
t0=$(now)
# shellcheck disable=SC2086
xargs -0 -n1 -P1 timeout --verbose "$limit" "$decant" analyze ${BENCH_ARGS:-} <"$tmp/list0" >/dev/null 2>"$tmp/decant.err"
t1=$(now)
decant_fail=$(wc -l <"$tmp/decant.err" | tr -d ' ')

t2=$(now)
xargs -0 -n1 -P1 sh -c 'timeout "$0" ldd "$1" >/dev/null 2>&1 || echo x' "$limit" <"$tmp/list0" >"$tmp/ldd.fail"
t3=$(now)
ldd_fail=$(wc -l <"$tmp/ldd.fail" | tr -d ' ')
# The ldd loop pays one extra sh per file; measure that and subtract it.
t4=$(now)
xargs -0 -n1 -P1 sh -c ': "$0" "$1"' "$limit" <"$tmp/list0"
t5=$(now)

awk -v n="$count" -v b="$bytes" -v t0="$t0" -v t1="$t1" -v t2="$t2" -v t3="$t3" -v t4="$t4" -v t5="$t5" \
  -v df="$decant_fail" -v lf="$ldd_fail" -v dirs="$dirs" -v args="${BENCH_ARGS:-}" 'BEGIN {
  mb = b / 1048576
  td = t1 - t0
  tl = (t3 - t2) - (t5 - t4)
  printf "ELF files under %s: %d (%.1f MB), one process per file, sequential\n", dirs, n, mb
  printf "decant analyze %s\n\n", args
  printf "%-8s %10s %12s %10s %10s\n", "tool", "seconds", "binaries/s", "MB/s", "failed"
  printf "%-8s %10.2f %12.1f %10.1f %10d\n", "decant", td, n / td, mb / td, df
  printf "%-8s %10.2f %12.1f %10.1f %10d\n", "ldd", tl, n / tl, mb / tl, lf
  printf "\ndecant/ldd throughput ratio: %.2f (decant takes %.2fx the time of ldd)\n", tl / td, td / tl
}'
if [ "$decant_fail" -gt 0 ]; then
  echo "decant failures by message (object files and debug files are bad input by design):"
  sed 's/^decant: [^:]*: //' "$tmp/decant.err" | sort | uniq -c | sort -rn | head -10
fi
