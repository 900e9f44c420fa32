#!/bin/sh
# The shim under valgrind's memcheck: fs_probe (every interposed file, exec
# and dlopen call through a redirected path) with a plan, then in learn mode,
# and the plan loader fed unusable plans (a FIFO, truncated, random bytes,
# single-byte corruptions). Any invalid read or write, use of uninitialized
# memory or bad free in the shim fails the test (--error-exitcode). The shim
# cannot be built with sanitizers (they need runtime libraries and newer
# glibc symbols, see CMakeLists.txt), so this is how its memory safety is
# checked in the real preload setting.
set -u
. "$(dirname "$0")/lib.sh"
: "${FS_PROBE:?}"
command -v valgrind >/dev/null || skip "valgrind not installed"

# vg NAME CMD...: runs CMD with the shim under memcheck, output in $tmp/NAME.*
vg() {
  _n=$1
  shift
  timeout 120 env LD_PRELOAD="$SHIM" valgrind -q --error-exitcode=99 --track-origins=yes \
    --log-file="$tmp/$_n.vg" "$@" >"$tmp/$_n.out" 2>"$tmp/$_n.err"
  _rc=$?
  [ $_rc != 99 ] || fail "memcheck found errors in $_n: $(head -40 "$tmp/$_n.vg")"
  return $_rc
}

mkdir -p "$tmp/app" "$tmp/real" "$tmp/rec"
{ profile_head vg
  echo "redirects:"
  echo "  paths: [{from: /legacy/probe, to: $tmp/real}]"
  echo "  ports: [{from: 7070, to: 17070, proto: tcp}]"
  echo "  identity: {uname_release: 3.10.0-valgrind}"
} >"$tmp/vg.yaml"
plan vg
DECANT_PLAN="$tmp/vg.plan" vg probe "$FS_PROBE" /legacy/probe "$tmp/real" || fail "fs_probe exited $?: $(tail -3 "$tmp/probe.err")"
grep -q '^all ok$' "$tmp/probe.out" || fail "fs_probe did not finish under valgrind"
ok "fs_probe under memcheck: $(grep -c '^ok ' "$tmp/probe.out") redirected calls, no errors"

rm -rf "$tmp/real" && mkdir -p "$tmp/real"
DECANT_PLAN="$tmp/vg.plan" DECANT_LEARN="$tmp/rec" vg learn "$FS_PROBE" /legacy/probe "$tmp/real" ||
  fail "fs_probe (learn) exited $?: $(tail -3 "$tmp/learn.err")"
grep -q '"path":"/legacy/probe/open"' "$tmp"/rec/shim.*.jsonl || fail "learn mode under valgrind recorded nothing"
ok "fs_probe in learn mode under memcheck: no errors"

echo hello >"$tmp/hello"
mkfifo "$tmp/fifo"
head -n -1 "$tmp/vg.plan" >"$tmp/trunc.plan"
size=$(wc -c <"$tmp/vg.plan")
set -- "$tmp/fifo" "$tmp/trunc.plan"
i=0
while [ $i -lt 4 ]; do
  head -c $(($(od -An -N2 -tu2 /dev/urandom) + 1)) /dev/urandom >"$tmp/random$i.plan"
  off=$(($(od -An -N2 -tu2 /dev/urandom) % size))
  { head -c $off "$tmp/vg.plan"; head -c 1 /dev/urandom; tail -c +$((off + 2)) "$tmp/vg.plan"; } >"$tmp/flip$i.plan"
  set -- "$@" "$tmp/random$i.plan" "$tmp/flip$i.plan"
  i=$((i + 1))
done
for p in "$@"; do
  DECANT_PLAN="$p" vg bad cat "$tmp/hello" || fail "cat with plan $p exited $?"
  [ "$(cat "$tmp/bad.out")" = hello ] || fail "cat with plan $p printed $(cat "$tmp/bad.out")"
done
ok "$# unusable plans loaded under memcheck: no errors"
echo "PASS: shim.valgrind"
