#!/bin/sh
# The shim under stress (issue 13): shim_stress (stress.c) runs 64 threads,
# a signal handler, a fork storm, vfork+exec and posix_spawn against one
# redirected directory for STRESS_SECONDS (default 10); every record it says
# it wrote must be at the redirect's target, none lost or duplicated, and
# nothing may appear at the from-side path; every thread's records come
# back whole and in sequence.
# Env: SHIM, DECANT (CTest), STRESS (the probe).
set -u
. "$(dirname "$0")/lib.sh"
: "${STRESS:?STRESS not set (run through ctest)}"
seconds=${STRESS_SECONDS:-10}
from=/decant-stress-$$
[ ! -e "$from" ] || skip "$from exists"
mkdir -p "$tmp/real"
printf 'decant-plan 1\npath %s %s\nend\n' "$from" "$tmp/real" >"$tmp/plan"
LD_PRELOAD=$SHIM DECANT_PLAN=$tmp/plan timeout $((seconds + 120)) "$STRESS" "$from" "$seconds" \
    >"$tmp/stress.out" 2>"$tmp/stress.err"
rc=$?
[ $rc -ne 124 ] || fail "shim_stress hung (deadlock?)"
[ $rc -eq 0 ] || fail "shim_stress exit $rc"
[ ! -e "$from" ] || { rm -rf "$from"; fail "records written to the unredirected $from"; }
lines() { if [ -f "$tmp/real/$1" ]; then wc -l <"$tmp/real/$1" | tr -d ' '; else echo 0; fi; }
while read -r name count; do
    case $name in
    total) total=$count; continue ;;
    esac
    expect "$count" "$name: every record at the target" "$(lines "$name")"
done <"$tmp/stress.out"
# Each thread's records are its own, in order: none torn or interleaved.
bad=$(cat "$tmp"/real/t* | awk '{ if (NF != 2 || $2 != seen[$1]++) bad++ } END { print bad + 0 }')
expect 0 "per-thread records whole and in sequence" "$bad"
ok "$total thread records, $(lines shared) shared, $(lines sig) from the signal handler, $(lines forks) forks"
