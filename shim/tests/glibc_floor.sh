#!/bin/sh
# The shim must load into apps built for glibc 2.17 and newer. This runs
# `decant analyze` on the shim alone (a guest root holding only the shim, so
# the host's libc does not count) and requires requires.glibc <= 2.17, then
# cross-checks with objdump that no GLIBC_2.18+ version is referenced and
# that libc.so.6 is the only DT_NEEDED entry.
set -u
. "$(dirname "$0")/lib.sh"

mkdir -p "$tmp/root"
cp "$SHIM" "$tmp/root/libdecant-shim.so"
"$DECANT" analyze --root "$tmp/root" /libdecant-shim.so --format json -o "$tmp/shim.json" 2>"$tmp/analyze.err" ||
  fail "decant analyze on the shim: $(cat "$tmp/analyze.err")"
glibc=$(sed -n 's/.*"glibc": *"\([0-9.]*\)".*/\1/p' "$tmp/shim.json" | head -1)
[ -n "$glibc" ] || fail "decant analyze reported no requires.glibc for the shim: $(head -c 600 "$tmp/shim.json")"
highest=$(printf '%s\n2.17\n' "$glibc" | sort -V | tail -1)
[ "$highest" = 2.17 ] || fail "the shim requires glibc $glibc (> 2.17): $(grep -A3 '"evidence"' "$tmp/shim.json" | head -8)"
ok "decant analyze: requires.glibc = $glibc (<= 2.17)"

if command -v objdump >/dev/null; then
  vers=$(objdump -T "$SHIM" | grep -o 'GLIBC_[0-9][0-9.]*' | sort -uV)
  worst=$(echo "$vers" | sed 's/GLIBC_//' | sort -V | tail -1)
  [ "$(printf '%s\n2.17\n' "$worst" | sort -V | tail -1)" = 2.17 ] ||
    fail "objdump -T shows a version newer than 2.17: $(echo "$vers" | tr '\n' ' ')"
  ok "objdump -T: newest version referenced is GLIBC_$worst"
  needed=$(objdump -p "$SHIM" | awk '/NEEDED/ {print $2}' | sort | tr '\n' ' ')
  expect "libc.so.6 " "DT_NEEDED is libc.so.6 only" "$needed"
  undefined_private=$(objdump -T "$SHIM" | grep -c 'GLIBC_PRIVATE')
  expect 0 "no GLIBC_PRIVATE symbols" "$undefined_private"
else
  echo "note: objdump not installed, cross-check skipped"
fi
echo "PASS: shim.glibc_floor"
