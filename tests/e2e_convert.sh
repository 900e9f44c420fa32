#!/bin/sh
# decant convert on a real Debian guest: every boot service is discovered and
# converted or reported with its reason, the converted redis answers from its
# bundle under decant run, a re-run keeps unchanged services, --force rebuilds
# them byte for byte, and bad sources fail with one line.
set -u
. "$DECANT_SOURCE/tests/lib.sh"
require_root "the guest and crun"
require_tool python3
require_tool crun
require_tool nc
GUEST=$(bullseye_guest) || exit $?
SHIM="$DECANT_BUILD/libdecant-shim.so"
[ -f "$SHIM" ] || skip "shim not built ($SHIM): build target decant_shim"

tmp=$(mktemp -d /tmp/decant-e2e-convert.XXXXXX) || fail "mktemp"
run_pid=""
cleanup() {
    [ -n "$run_pid" ] && kill "$run_pid" 2>/dev/null && sleep 1 && kill -9 "$run_pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
cd "$tmp" || exit 1

# A copy of the guest (hard links: cheap, and files we change are replaced,
# never written through) whose redis listens on a port of this run's own.
port=$((20000 + ($$ + 17) % 12000))  # below the ephemeral range (32768+), where clients hold ports
cp -al "$GUEST" guest || fail "cannot hard-link the guest"
sed "s/^port 6379/port $port/" "$GUEST/etc/redis/redis.conf" >redis.conf
rm -f guest/etc/redis/redis.conf && cp redis.conf guest/etc/redis/redis.conf

export SOURCE_DATE_EPOCH=1700000000
"$DECANT" convert guest -o out --shim "$SHIM" 2>convert.log
rc=$?
[ $rc -eq 0 ] || fail "convert exited $rc, want 0 (every service converts; tftp and rsync run in xinetd's image): $(cat convert.log)"
python3 - out/summary.json "$port" <<'PY' || fail "summary.json"
import json, os, sys
d = json.load(open(sys.argv[1]))
port = sys.argv[2]
assert d["init"] == "systemd" and d["os"].startswith("Debian GNU/Linux 11"), d
svc = {(s["name"], s["manager"]): s for s in d["services"]}
for name in ("redis-server", "lighttpd", "vsftpd"):
    s = svc[(name, "systemd")]
    assert s["status"] == "converted", s
    assert [a["format"] for a in s["artifacts"]] == ["oci-archive", "bundle"], s
    for a in s["artifacts"]:
        assert a["digest"].startswith("sha256:") and os.path.exists(os.path.join("out", a["path"])), a
    assert os.path.exists(os.path.join("out", s["profile"])), s
r = svc[("redis-server", "systemd")]
assert r["binary"] == "/usr/bin/redis-server", r
assert f"{port}/tcp" in r["listen"], r["listen"]
m = svc[("memcached", "systemd")]
assert m["status"] == "converted" and m["binary"] == "/usr/share/memcached/scripts/systemd-memcached-wrapper", m
assert "11211/tcp" in m["listen"], m
t = svc[("tftp", "inetd")]
assert t["status"] == "skipped" and t["reason"] == "started per connection by xinetd: its image runs it", t
assert svc[("redis-server", "sysv")]["status"] == "skipped", svc[("redis-server", "sysv")]
assert svc[("e2scrub_reap", "systemd")]["status"] == "skipped", svc[("e2scrub_reap", "systemd")]
print("summary ok")
PY
grep -q "entrypoint:" out/redis-server/profile.yaml || fail "profile has no entrypoint"
grep -q -- "--supervised" out/redis-server/profile.yaml || fail "profile lost the unit's arguments"
grep -q "user: redis" out/redis-server/profile.yaml || fail "profile lost User=redis"
for f in k8s.yaml compose.yaml seccomp.json; do
    [ -s "out/redis-server/$f" ] || fail "convert wrote no $f for redis-server"
done
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["defaultAction"] and d["syscalls"], d' \
    out/redis-server/seccomp.json || fail "seccomp.json is not an OCI seccomp profile"
grep -q 'image: "decant/redis-server:latest"' out/redis-server/k8s.yaml || fail "k8s.yaml does not name the image"
grep -q "containerPort: $port" out/redis-server/k8s.yaml || fail "k8s.yaml does not expose $port"
grep -q 'localhostProfile: "decant/redis-server.json"' out/redis-server/k8s.yaml || fail "k8s.yaml has no seccomp profile"
grep -q "\"$port:$port/tcp\"" out/redis-server/compose.yaml || fail "compose.yaml does not publish $port"

# The converted redis runs from its bundle and answers.
"$DECANT" run out/redis-server/bundle >run.log 2>&1 &
run_pid=$!
i=0
until reply=$(printf 'PING\r\n' | nc -q1 127.0.0.1 "$port" 2>/dev/null) && [ -n "$reply" ]; do
    i=$((i + 1))
    [ $i -lt 100 ] || fail "converted redis did not answer on $port: $(tail -5 run.log)"
    sleep 0.1
done
case "$reply" in *PONG*) ;; *) fail "converted redis answered '$reply'" ;; esac
kill "$run_pid"; wait "$run_pid" 2>/dev/null; run_pid=""

# A re-run keeps what did not change; --force rebuilds it identically.
cp out/summary.json first.json
"$DECANT" convert guest -o out --shim "$SHIM" -q
grep -q '"status": "unchanged"' out/summary.json || fail "re-run did not keep unchanged services"
"$DECANT" convert guest -o out --shim "$SHIM" -q --force
python3 - first.json out/summary.json <<'PY' || fail "--force rebuild differs"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
assert a == b, "summaries differ after --force"
PY

# Bad input: a mistyped --only and an OUTDIR that is a file; one line, exit 2, nothing written.
"$DECANT" convert guest -o "$tmp/only-out" --only no-such-service -q 2>err
rc=$?
[ $rc -eq 2 ] || fail "convert --only no-such-service exited $rc, want 2"
[ "$(wc -l <err)" -eq 1 ] && grep -q "no-such-service" err || fail "convert --only: want one line naming it, got: $(cat err)"
[ ! -e "$tmp/only-out" ] || fail "convert --only no-such-service wrote $tmp/only-out"
before=$(sha256sum <"$tmp/redis.conf")
"$DECANT" convert guest -o "$tmp/redis.conf" -q 2>err
rc=$?
[ $rc -eq 2 ] || fail "convert -o FILE exited $rc, want 2: $(cat err)"
[ "$(wc -l <err)" -eq 1 ] || fail "convert -o FILE: want one stderr line, got: $(cat err)"
[ "$(sha256sum <"$tmp/redis.conf")" = "$before" ] || fail "convert -o FILE modified the file"

# Bad sources: one line, exit 2.
for bad in /nonexistent-guest "$tmp/redis.conf" "$tmp/empty"; do
    [ "$bad" = "$tmp/empty" ] && mkdir -p "$bad"
    "$DECANT" convert "$bad" -o "$tmp/bad-out" -q 2>err
    rc=$?
    [ $rc -eq 2 ] || fail "convert $bad exited $rc, want 2"
    [ "$(wc -l <err)" -eq 1 ] || fail "convert $bad: want one stderr line, got: $(cat err)"
done
echo "PASS: e2e.convert"
