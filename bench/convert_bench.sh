#!/bin/sh
# Convert benchmark (issue 9): `decant convert` of the whole cached test
# guest with -j 1 and -j 2, each cold (empty code cache, empty OUTDIR), warm
# cache (code cache filled, empty OUTDIR) and re-run (same OUTDIR: every
# service unchanged), with total seconds, seconds per converted service and
# peak RSS (/usr/bin/time's maximum resident set, the largest of decant and
# its children), next to `tar -c` of the same guest as the baseline ratio.
# CPU seconds (user + system) are shown too: on a shared machine they vary
# less than wall time. Prints one table and issue 9's goals (re-run < 10% of cold; cold < 2 s per
# service with -j 2 on 2 cores; peak RSS < 500 MB). Reports; asserts nothing.
# Run: `ninja -C build bench-convert`, or as root:
#   DECANT=build/decant sh bench/convert_bench.sh
# Env: DECANT, DECANT_SOURCE, BENCH_GUEST (default scripts/guest.sh bullseye),
# BENCH_KEEP=1 (keep the scratch directory).
set -u

DECANT_SOURCE=${DECANT_SOURCE:-$(cd "$(dirname "$0")/.." && pwd)}
DECANT=${DECANT:-$DECANT_SOURCE/build/decant}
die() { echo "convert_bench: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "needs root (reads every guest file)"
[ -x "$DECANT" ] || die "no decant at $DECANT"
[ -x /usr/bin/time ] || die "needs /usr/bin/time (apt-get install time)"
SHIM=${SHIM:-$(dirname "$DECANT")/libdecant-shim.so}
[ -f "$SHIM" ] || die "no shim at $SHIM (build target decant_shim)"
GUEST=${BENCH_GUEST:-$(sh "$DECANT_SOURCE/scripts/guest.sh" bullseye)} || die "no bullseye guest"

tmp=$(mktemp -d /tmp/decant-bench-convert.XXXXXX) || die "mktemp"
[ "${BENCH_KEEP:-0}" = 1 ] || trap 'rm -rf "$tmp"' EXIT
export SOURCE_DATE_EPOCH=1700000000

# seconds and peak KiB of one command, appended as "label secs kib" to results.
measure() {  # label, command...
    label=$1; shift
    /usr/bin/time -f '%e %M %U %S' -o "$tmp/time.out" "$@" >"$tmp/$label.log" 2>&1
    rc=$?
    echo "$label $(cat "$tmp/time.out" | tail -1) $rc" >>"$tmp/results"
}

measure tar sh -c "tar -cf - -C '$GUEST' . | wc -c >'$tmp/tar.bytes'"
for j in 1 2; do
    export DECANT_CACHE="$tmp/cache-j$j"
    out="$tmp/out-j$j"
    measure "cold-j$j" "$DECANT" convert "$GUEST" -o "$out" --shim "$SHIM" -j $j -q
    cp "$out/summary.json" "$tmp/summary-j$j.json"
    rm -rf "$out"
    measure "warm-cache-j$j" "$DECANT" convert "$GUEST" -o "$out" --shim "$SHIM" -j $j -q
    measure "rerun-j$j" "$DECANT" convert "$GUEST" -o "$out" --shim "$SHIM" -j $j -q
done
services=$(python3 -c 'import json,sys; print(sum(s["status"] in ("converted","failed") for s in json.load(open(sys.argv[1]))["services"]))' "$tmp/summary-j1.json")
converted=$(python3 -c 'import json,sys; print(sum(s["status"]=="converted" for s in json.load(open(sys.argv[1]))["services"]))' "$tmp/summary-j1.json")

python3 - "$tmp/results" "$services" "$converted" "$(cat "$tmp/tar.bytes")" "$(nproc)" <<'PY'
import sys
rows = {}
for line in open(sys.argv[1]):
    label, secs, kib, user, sys_, rc = line.split()
    rows[label] = (float(secs), int(kib), int(rc), float(user) + float(sys_))
services, converted, tar_bytes, cores = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
tar = rows["tar"][0]
print(f"decant convert of the whole test guest: {services} services attempted, {converted} converted; "
      f"tar -c of the guest: {tar_bytes / 1e6:.0f} MB in {tar:.2f} s; {cores} cores, load {open('/proc/loadavg').read().split()[0]}")
print(f"{'run':<16}{'exit':>5}{'seconds':>10}{'s/service':>11}{'x tar':>8}{'CPU s':>8}{'peak RSS MB':>13}")
for label in ["cold-j1", "warm-cache-j1", "rerun-j1", "cold-j2", "warm-cache-j2", "rerun-j2"]:
    s, kib, rc, cpu = rows[label]
    per = s / services if services else 0
    print(f"{label:<16}{rc:>5}{s:>10.2f}{per:>11.2f}{s / tar if tar else 0:>8.1f}{cpu:>8.2f}{kib / 1024:>13.0f}")
peak = max(rows[l][1] for l in rows if l != "tar") / 1024
for j in (1, 2):
    ratio = rows[f"rerun-j{j}"][0] / rows[f"cold-j{j}"][0]
    cpu = rows[f"rerun-j{j}"][3] / rows[f"cold-j{j}"][3]
    print(f"goal: re-run < 10% of cold (-j {j}): {ratio * 100:.1f}% wall, {cpu * 100:.1f}% CPU -> "
          f"{'met' if ratio < 0.10 else 'NOT met'}")
per2 = rows["cold-j2"][0] / services if services else 0
print(f"goal: cold < 2 s per service with -j 2: {per2:.2f} s -> {'met' if per2 < 2 else 'NOT met'}")
print(f"goal: peak RSS < 500 MB: {peak:.0f} MB -> {'met' if peak < 500 else 'NOT met'}")
PY
