#!/bin/sh
# The seccomp.json decant convert exports works as it is handed to an OCI
# runtime by hand: `podman run --security-opt seccomp=seccomp.json` (no
# no-new-privileges, podman's default, so crun and runc load the filter
# before they switch user and capabilities) starts redis-server converted
# from the bullseye guest, from its OCI archive, and it answers PING; then
# the same under runc. The filter is checked to be enforcing (ERRNO default),
# so the runtime passes because its own calls are in the allowlist, not
# because the filter lets everything through. podman runs on its own storage
# in a scratch directory.
set -u
. "$DECANT_SOURCE/tests/lib.sh"
require_root "the guest and podman"
require_tool podman
require_tool nc
require_tool python3
GUEST=$(bullseye_guest) || exit $?
SHIM="$DECANT_BUILD/libdecant-shim.so"
[ -f "$SHIM" ] || skip "shim not built ($SHIM): build target decant_shim"

tmp=$(mktemp -d /tmp/decant-e2e-pseccomp.XXXXXX) || fail "mktemp"
podman_scratch "$tmp"
cleanup() {
    pod rm -af >/dev/null 2>&1
    pod volume rm -af >/dev/null 2>&1
    pod system reset -f >/dev/null 2>&1
    umount "$tmp/root/overlay" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
cd "$tmp" || exit 1
pod info >/dev/null 2>podman.err || skip "podman does not work here: $(head -1 podman.err)"

# The guest's redis binds 127.0.0.1 and 6379: a copy of it listens on every
# address of its network namespace and on a port of this run's own.
port=$((21000 + ($$ + 211) % 4000))
cp -al "$GUEST" guest || fail "cannot hard-link the guest"
sed -e "s/^port 6379/port $port/" -e "s/^bind .*/bind 0.0.0.0/" "$GUEST/etc/redis/redis.conf" >redis.conf
rm -f guest/etc/redis/redis.conf && cp redis.conf guest/etc/redis/redis.conf
export SOURCE_DATE_EPOCH=1700000000
"$DECANT" convert guest -o out --shim "$SHIM" --only redis-server --format oci-archive -q 2>convert.log ||
    fail "convert: $(cat convert.log)"
SC="$tmp/out/redis-server/seccomp.json"
[ -f "$SC" ] || fail "convert wrote no seccomp.json"
python3 - "$SC" <<'PY' || fail "the exported seccomp.json is not an enforcing allowlist"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["defaultAction"] == "SCMP_ACT_ERRNO", s["defaultAction"]
names = {n for r in s["syscalls"] for n in r["names"]}
assert "mount" not in names and "setresgid" in names, sorted(names)
PY
pod load -q -i out/redis-server/image.oci.tar >load.log 2>&1 || fail "podman load: $(cat load.log)"
image=$(sed -n 's/^Loaded image: //p' load.log | head -1)
[ -n "$image" ] || image=decant/redis-server:latest

ping_redis() {  # runtime
    pod run -d --name "redis-$1" --runtime "$1" --network host --security-opt "seccomp=$SC" "$image" \
        >run.log 2>&1 || fail "podman run --runtime $1 --security-opt seccomp=seccomp.json: $(tail -3 run.log)"
    i=0
    until printf 'PING\r\n' | nc -q1 -w2 127.0.0.1 "$port" >reply 2>/dev/null && grep -q PONG reply; do
        i=$((i + 1))
        [ $i -lt 100 ] || fail "redis-server under $1 with the exported seccomp did not answer PING on $port: \
$(pod ps -a --format '{{.Names}} {{.Status}}' 2>&1 | tr '\n' ' '); $(pod logs --tail 5 "redis-$1" 2>&1)"
        sleep 0.2
    done
    pod rm -f "redis-$1" >/dev/null 2>&1
}
ping_redis crun
ran="crun"
if command -v runc >/dev/null 2>&1; then
    ping_redis runc
    ran="$ran, runc"
fi
echo "PASS: e2e.podman_seccomp (redis PONG on $port under $ran with the exported seccomp.json)"
