#!/bin/sh
# Benchmark of whole-closure code analysis (issue 3): for each real server in
# the bullseye guest, seconds cold (empty code cache) and warm (cache filled),
# and the allowlist size. Instructions per second come from the cold run's
# disassembly count (DECANT_CODE_STATS=1 makes decant print it on stderr).
# Measurements only; nothing is asserted.
# usage: code_bench.sh [DECANT]
set -u
DECANT=${1:-build/decant}
here=$(cd "$(dirname "$0")/.." && pwd)
guest=$("$here/scripts/guest.sh" bullseye 2>/dev/null) || { echo "code_bench: no bullseye guest (needs root)"; exit 0; }
cache=$(mktemp -d "${TMPDIR:-/tmp}/decant-code-bench.XXXXXX")
trap 'rm -rf "$cache"' EXIT
now() { date +%s.%N; }
printf '%-24s %8s %8s %10s %12s %8s\n' server cold_s warm_s insns insns/s allow
for bin in /usr/bin/redis-server /usr/bin/memcached /usr/sbin/vsftpd /usr/sbin/lighttpd; do
    rm -rf "$cache"/*
    t0=$(now)
    DECANT_CACHE=$cache DECANT_CODE_STATS=1 "$DECANT" analyze --root "$guest" "$bin" --format json \
        >"$cache.json" 2>"$cache.err"
    t1=$(now)
    DECANT_CACHE=$cache "$DECANT" analyze --root "$guest" "$bin" --format json >/dev/null 2>&1
    t2=$(now)
    insns=$(sed -n 's/.*instructions=\([0-9]*\).*/\1/p' "$cache.err" | tail -n 1)
    allow=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["syscalls"]["allow"]))' "$cache.json")
    awk -v b="$bin" -v t0="$t0" -v t1="$t1" -v t2="$t2" -v n="${insns:-0}" -v a="$allow" 'BEGIN {
        c = t1 - t0; w = t2 - t1;
        printf "%-24s %8.2f %8.2f %10d %12.0f %8d\n", b, c, w, n, (c > 0 ? n / c : 0), a }'
done
rm -f "$cache.json" "$cache.err"
