#!/bin/sh
# decant convert's several-sources layout, -j N, --service and progress:
# -j 1 and -j 2 write byte-identical trees, two sources with the same name get
# OUTDIR/guest/ and OUTDIR/guest-2/ (each what a one-source run writes) and an
# index summary.json, --service adds/overrides a service (manager "manual"),
# plain progress is one line per service, a terminal gets a bar.
set -u
. "$DECANT_SOURCE/tests/lib.sh"
require_root "the guest"
require_tool python3
GUEST=$(bullseye_guest) || exit $?
SHIM="$DECANT_BUILD/libdecant-shim.so"
[ -f "$SHIM" ] || skip "shim not built ($SHIM): build target decant_shim"
tmp=$(mktemp -d /tmp/decant-e2e-convert-jobs.XXXXXX) || fail "mktemp"
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
export SOURCE_DATE_EPOCH=1700000000
ONLY="--only redis-server --only lighttpd --only vsftpd"

# A tree's every entry: path, type, mode, link target, content digest.
tree() {
    (cd "$1" && find . -printf '%P %y %m %l\n' | sort && find . -type f -print0 | sort -z | xargs -0 sha256sum)
}

# shellcheck disable=SC2086
"$DECANT" convert "$GUEST" -o j1 --shim "$SHIM" $ONLY -j 1 2>j1.log || fail "convert -j 1: $(cat j1.log)"
# shellcheck disable=SC2086
"$DECANT" convert "$GUEST" -o j2 --shim "$SHIM" $ONLY -j 2 2>j2.log || fail "convert -j 2: $(cat j2.log)"
tree j1 >j1.tree
tree j2 >j2.tree
cmp -s j1.tree j2.tree || fail "-j 1 and -j 2 differ: $(diff j1.tree j2.tree | head -20)"
grep -q 'redis-server/bundle' j1.tree || fail "the tree listing missed the bundle"

# Plain progress (stderr is a file): one line per source, one per service.
for log in j1.log j2.log; do
    for s in redis-server lighttpd vsftpd; do
        [ "$(grep -c "^decant: $s: converted\$" $log)" -eq 1 ] || fail "$log: no single '$s: converted' line: $(cat $log)"
    done
    grep -q '^decant: discovered .* 3 to convert' $log || fail "$log: no discovery line: $(cat $log)"
    [ "$(wc -l <$log)" -eq 4 ] || fail "$log: want 4 lines, got: $(cat $log)"
    grep -q "$(printf '\033')" $log && fail "$log: a bar was drawn into a file"
done
"$DECANT" convert "$GUEST" -o j1 --shim "$SHIM" --only redis-server -q 2>q.log || fail "convert -q"
[ -s q.log ] && fail "-q printed: $(cat q.log)"

# Two sources with one basename: guest/ and guest-2/, each as a one-source run writes it.
mkdir a b && ln -s "$GUEST" a/guest && ln -s "$GUEST" b/guest
"$DECANT" convert a/guest b/guest -o multi --shim "$SHIM" --only redis-server -j 2 -q || fail "convert of two sources"
# (The profile records the SOURCE as named, so each is compared with a run of that name.)
for pair in guest:a guest-2:b; do
    d=${pair%:*} src=${pair#*:}/guest
    [ -f "multi/$d/summary.json" ] || fail "no multi/$d/summary.json"
    "$DECANT" convert "$src" -o "one-$d" --shim "$SHIM" --only redis-server -q || fail "convert of $src alone"
    tree "multi/$d/redis-server" >m.tree
    tree "one-$d/redis-server" >s.tree
    cmp -s m.tree s.tree || fail "multi/$d/redis-server differs from a one-source run: $(diff m.tree s.tree | head)"
done
python3 - multi <<'PY' || fail "multi summaries"
import json, sys
out = sys.argv[1]
idx = json.load(open(out + "/summary.json"))
assert [s["name"] for s in idx["sources"]] == ["guest", "guest-2"], idx
assert [s["source"] for s in idx["sources"]] == ["a/guest", "b/guest"], idx
for s in idx["sources"]:
    assert s["summary"] == s["name"] + "/summary.json" and s["services"]["converted"] == 1, s
    one = json.load(open(out + "/" + s["summary"]))
    assert one["source"] == s["source"] and one["os"] == s["os"], one
    r = [x for x in one["services"] if x["status"] == "converted"]
    assert [x["name"] for x in r] == ["redis-server"] and r[0]["profile"] == "redis-server/profile.yaml", r
print("multi ok")
PY

# --service: memcached's unit runs a perl wrapper (converted through it, the
# daemon read out of it); given the daemon by bare name it converts (exit 0)
# as "manual" instead, the unit listed as overridden.
"$DECANT" convert "$GUEST" -o mc-unit --shim "$SHIM" --only memcached -q
rc=$?
[ $rc -eq 0 ] || fail "convert --only memcached exited $rc, want 0 (through its perl wrapper)"
grep -q 'systemd-memcached-wrapper, which starts /usr/bin/memcached (named like the service)' mc-unit/memcached/profile.yaml ||
    fail "the wrapper's evidence is missing: $(grep -m3 wrapper mc-unit/memcached/profile.yaml)"
"$DECANT" convert "$GUEST" -o mc --shim "$SHIM" --only memcached -q --service "memcached=memcached -u memcache -l '127.0.0.1' -p 11311"
rc=$?
[ $rc -eq 0 ] || fail "convert --service memcached=… exited $rc, want 0"
python3 - mc/summary.json <<'PY' || fail "--service summary"
import json, sys
svc = {(s["name"], s["manager"]): s for s in json.load(open(sys.argv[1]))["services"]}
m = svc[("memcached", "manual")]
assert m["status"] == "converted" and m["binary"] == "/usr/bin/memcached", m
assert svc[("memcached", "systemd")]["status"] == "skipped", svc
assert "overridden by --service" in svc[("memcached", "systemd")]["reason"], svc
PY
grep -q "11311" mc/memcached/profile.yaml && grep -q "127.0.0.1" mc/memcached/profile.yaml &&
    ! grep -q "'127.0.0.1'" mc/memcached/profile.yaml || fail "profile lost --service's words: $(grep -A8 entrypoint mc/memcached/profile.yaml)"
# An override keeps what the unit knew besides the command: redis's User=redis.
"$DECANT" convert "$GUEST" -o ov --shim "$SHIM" --only redis-server -q \
    --service "redis-server=/usr/bin/redis-server /etc/redis/redis.conf --daemonize no" || fail "--service override of redis-server"
grep -q "user: redis" ov/redis-server/profile.yaml || fail "--service override lost the unit's User=redis"
grep -q -- "--daemonize" ov/redis-server/profile.yaml || fail "--service override did not replace the command"
grep -q -- "--supervised" ov/redis-server/profile.yaml && fail "--service override kept the unit's command"
# A new service by absolute path.
"$DECANT" convert "$GUEST" -o mc --shim "$SHIM" --only myredis -q --service "myredis=/usr/bin/redis-server --port 20001" ||
    fail "convert --service myredis=… (a new service)"
python3 -c 'import json,sys; s=[x for x in json.load(open(sys.argv[1]))["services"] if x["name"]=="myredis"]; assert s and s[0]["manager"]=="manual" and s[0]["status"]=="converted", s' mc/summary.json ||
    fail "myredis is not a converted manual service"

# Bad --service: one line, exit 2, nothing written.
for bad in "noequals" "=x" "x=" "../x=/bin/sh" "x=/usr/bin/nonexistent-prog" "x=redis-server \$HOME" "x=nonexistent-prog"; do
    "$DECANT" convert "$GUEST" -o bad-out -q --service "$bad" 2>err
    rc=$?
    [ $rc -eq 2 ] || fail "--service '$bad' exited $rc, want 2: $(cat err)"
    [ "$(wc -l <err)" -eq 1 ] || fail "--service '$bad': want one line, got: $(cat err)"
    [ -e bad-out ] && fail "--service '$bad' wrote bad-out"
done
"$DECANT" convert "$GUEST" -o bad-out -q --service "x=/usr/bin/redis-server" --service "x=/usr/sbin/lighttpd" 2>err
rc=$?
[ $rc -eq 2 ] && [ "$(wc -l <err)" -eq 1 ] && [ ! -e bad-out ] || fail "--service x twice: exit $rc, want 2 and one line: $(cat err)"
# A bad second source: exit 2 before anything is written.
"$DECANT" convert "$GUEST" /nonexistent-guest -o bad-out -q 2>err
rc=$?
[ $rc -eq 2 ] && [ ! -e bad-out ] || fail "a bad second source: exit $rc (want 2), bad-out exists: $([ -e bad-out ] && echo yes)"

# On a terminal: a bar (redrawn with ESC [K), then the same per-service line.
if command -v script >/dev/null 2>&1; then
    TERM=xterm script -qec "'$DECANT' convert '$GUEST' -o tty --shim '$SHIM' --only redis-server" tty.log >/dev/null ||
        fail "convert under script: $(cat tty.log)"
    grep -q "$(printf '\033')\[K\[#*\.*\] 0/1" tty.log || fail "no progress bar on a terminal: $(cat -v tty.log | head)"
    grep -q "redis-server: analyze" tty.log || fail "the bar does not show the stage: $(cat -v tty.log | head)"
    grep -q "redis-server: converted" tty.log || fail "no per-service line on a terminal: $(cat -v tty.log | head)"
else
    echo "note: no script(1); the terminal bar is not checked"
fi
echo "PASS: e2e.convert_jobs"
