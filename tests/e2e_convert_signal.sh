#!/bin/sh
# SIGINT and SIGTERM during decant convert: every service directory is whole
# (its outcome.json, written last, is there) or absent, no scratch or
# temporary file is left, and a re-run completes, keeping the service that
# was finished before the signal ("unchanged").
set -u
. "$DECANT_SOURCE/tests/lib.sh"
require_root "the guest"
require_tool python3
GUEST=$(bullseye_guest) || exit $?
SHIM="$DECANT_BUILD/libdecant-shim.so"
[ -f "$SHIM" ] || skip "shim not built ($SHIM): build target decant_shim"
tmp=$(mktemp -d /tmp/decant-e2e-convert-signal.XXXXXX) || fail "mktemp"
pid=""
trap '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
export SOURCE_DATE_EPOCH=1700000000
# Services convert in name order: lighttpd first.
ONLY="--only lighttpd --only redis-server --only vsftpd"

check_whole() {
    leftovers=$(find out -name '*decant-tmp*')
    [ -z "$leftovers" ] || fail "$1 left scratch/temporary files: $leftovers"
    for d in out/*/; do
        [ -d "$d" ] || continue
        [ -f "$d/outcome.json" ] || fail "$1 left a half-written $d: $(ls "$d")"
    done
}

# SIGINT once lighttpd's directory is in place.
# shellcheck disable=SC2086
"$DECANT" convert "$GUEST" -o out --shim "$SHIM" $ONLY -q 2>int.log &
pid=$!
i=0
until [ -f out/lighttpd/outcome.json ]; do
    i=$((i + 1))
    [ $i -lt 3000 ] || fail "lighttpd was not converted within 300 s"
    kill -0 "$pid" 2>/dev/null || fail "convert ended before lighttpd was in place: $(cat int.log)"
    sleep 0.1
done
kill -INT "$pid"
wait "$pid"
rc=$?
pid=""
[ $rc -eq 130 ] || fail "convert after SIGINT exited $rc, want 130 (or it finished first: $(ls out))"
grep -q "interrupted" int.log || fail "no 'interrupted' line: $(cat int.log)"
check_whole "SIGINT"
[ -d out/vsftpd ] && fail "vsftpd (last) was converted before the SIGINT took effect"

# shellcheck disable=SC2086
"$DECANT" convert "$GUEST" -o out --shim "$SHIM" $ONLY -q || fail "re-run after SIGINT"
python3 - out/summary.json <<'PY' || fail "re-run summary"
import json, sys
st = {s["name"]: s["status"] for s in json.load(open(sys.argv[1]))["services"] if s["manager"] == "systemd"}
assert st["lighttpd"] == "unchanged", st
assert st["vsftpd"] == "converted", st
assert st["redis-server"] in ("converted", "unchanged"), st
PY

# SIGTERM in the middle of a --force rebuild (while redis-server is staged):
# the old directories stay whole or are replaced whole.
# shellcheck disable=SC2086
"$DECANT" convert "$GUEST" -o out --shim "$SHIM" $ONLY -q --force -j 2 2>term.log &
pid=$!
i=0
until ls -d out/.redis-server.decant-tmp-* >/dev/null 2>&1; do
    i=$((i + 1))
    [ $i -lt 3000 ] || fail "redis-server was never staged"
    kill -0 "$pid" 2>/dev/null || fail "convert --force ended before redis-server was staged"
    sleep 0.05
done
sleep 0.3
kill -TERM "$pid"
wait "$pid"
rc=$?
pid=""
[ $rc -eq 143 ] || [ $rc -eq 0 ] || fail "convert after SIGTERM exited $rc, want 143"
check_whole "SIGTERM"
for s in lighttpd redis-server vsftpd; do [ -d "out/$s" ] || fail "SIGTERM during --force lost out/$s"; done
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' out/summary.json || fail "summary.json is not whole after SIGTERM"
echo "PASS: e2e.convert_signal"
