#!/bin/sh
# Keeps the README's first command true: runs scripts/demo-convert.sh (what
# scripts/demo.sh execs after building) on this build, on a port of its own,
# and checks the converted server answered and logged to its volume.
set -u
. "$DECANT_SOURCE/tests/lib.sh"
require_root "crun"
require_tool crun
port=$((20000 + ($$ + 23) % 12000))  # below the ephemeral range (32768+), where clients hold ports
out=$(DEMO_PORT=$port sh "$DECANT_SOURCE/scripts/demo-convert.sh" "$DECANT_BUILD" 2>&1)
rc=$?
[ $rc -eq 0 ] || fail "demo exited $rc: $out"
echo "$out" | grep -qx "PONG" || fail "demo: no PONG from the converted server: $out"
echo "$out" | grep -q '"status": "converted"' || fail "demo: summary does not say converted: $out"
echo "$out" | grep -q "connection from 127.0.0.1" || fail "demo: no log line on the volume: $out"
echo "PASS: e2e.demo"
