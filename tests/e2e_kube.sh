#!/bin/sh
# The manifests decant convert writes are accepted by real tools: `podman
# kube play` runs each k8s.yaml (image loaded from the OCI archive, the
# seccomp allowlist installed under --seccomp-profile-root as its
# Localhost profile) and redis-server and lighttpd answer their real clients
# (PING over the redis protocol, HTTP GET with curl) on the published ports;
# podman-compose runs each compose.yaml (the servers answer again). podman runs on its own
# storage in a scratch directory, so nothing is left in the host's store.
set -u
. "$DECANT_SOURCE/tests/lib.sh"
require_root "the guest and podman"
require_tool python3
require_tool podman
require_tool curl
require_tool nc
require_tool podman-compose
GUEST=$(bullseye_guest) || exit $?
SHIM="$DECANT_BUILD/libdecant-shim.so"
[ -f "$SHIM" ] || skip "shim not built ($SHIM): build target decant_shim"
command -v catatonit >/dev/null 2>&1 || [ -x /usr/libexec/podman/catatonit ] ||
    skip "no catatonit: podman cannot build the pod's infra image (apt-get install catatonit)"

tmp=$(mktemp -d /tmp/decant-e2e-kube.XXXXXX) || fail "mktemp"
# podman on storage of its own; on a host whose cgroups are in hybrid mode
# crun refuses to start containers, runc does not.
podman_conf "$tmp"
runtime=""
if [ -d /sys/fs/cgroup/unified ] && mountpoint -q /sys/fs/cgroup/unified 2>/dev/null; then
    command -v runc >/dev/null 2>&1 || skip "cgroups in hybrid mode and no runc (crun refuses them)"
    command -v unshare >/dev/null 2>&1 || skip "cgroups in hybrid mode and no unshare(1)"
    runtime="--runtime runc"
fi
mkdir -p "$tmp/ptmp"
P="podman --root $tmp/root --runroot $tmp/run --tmpdir $tmp/ptmp --volumepath $tmp/vol $runtime"
played=""
composed=""
# podman-compose with crun: runc's init checks /proc/self/fd after loading the
# filter, which decant's allowlist (made for the daemon, tested with crun)
# refuses. On a hybrid-cgroup host crun runs in a mount namespace without the
# cgroup2 mount, as `decant run` does.
compose() {  # service, podman-compose command...
    c_dir="$tmp/out/$1"; shift
    c_args="--root $tmp/root --runroot $tmp/run --tmpdir $tmp/ptmp --volumepath $tmp/vol --runtime crun"
    if [ -n "$runtime" ]; then
        unshare -m sh -c 'umount -l /sys/fs/cgroup/unified && cd "$1" && shift && exec podman-compose "$@"' sh \
            "$c_dir" --podman-args "$c_args" -p "decant-$(basename "$c_dir")" -f compose.yaml "$@"
    else
        (cd "$c_dir" && podman-compose --podman-args "$c_args" -p "decant-$(basename "$c_dir")" -f compose.yaml "$@")
    fi
}
# podman's CNI teardown can leave a container's hostPort DNAT behind (its
# cleanup runs after the private store is gone): later tests connecting to
# that port on 127.0.0.1 then reach a dead address and hang in connect().
drop_dnat() {
    command -v iptables >/dev/null 2>&1 || return 0
    for port in "$@"; do
        [ -n "$port" ] || continue
        for chain in $(iptables -t nat -S 2>/dev/null |
            awk -v p="--dport $port " '$1 == "-A" && $2 ~ /^CNI-DN-/ && index($0 " ", p) {print $2}' | sort -u); do
            iptables -t nat -S CNI-HOSTPORT-DNAT 2>/dev/null | grep -- "-j $chain\$" | sed 's/^-A /-D /' |
                while read -r rule; do eval "iptables -t nat $rule"; done
            iptables -t nat -F "$chain" 2>/dev/null && iptables -t nat -X "$chain" 2>/dev/null
        done
    done
}
cleanup() {
    for s in $composed; do
        compose "$s" down >/dev/null 2>&1
    done
    for y in $played; do $P kube down "$y" >/dev/null 2>&1; done
    $P pod rm -af >/dev/null 2>&1
    $P volume rm -af >/dev/null 2>&1
    $P system reset -f >/dev/null 2>&1
    umount "$tmp/root/overlay" 2>/dev/null
    rm -rf "$tmp"
    drop_dnat "${rport:-}" "${hport:-}"
}
trap cleanup EXIT
cd "$tmp" || exit 1
$P info >/dev/null 2>podman.err || skip "podman does not work here: $(head -1 podman.err)"

# A hard-linked copy of the guest whose servers listen on ports of this run's
# own, on every address (the guest's redis binds 127.0.0.1, which a pod's
# published port cannot reach), and lighttpd without the perl helper its
# config runs through include_shell (the image has no perl), logging to /tmp
# (nothing tells decant that its config writes /var/log/lighttpd).
rport=$((20000 + ($$ + 101) % 6000))
hport=$((26000 + ($$ + 103) % 6000))
cp -al "$GUEST" guest || fail "cannot hard-link the guest"
sed -e "s/^port 6379/port $rport/" -e "s/^bind .*/bind 0.0.0.0/" "$GUEST/etc/redis/redis.conf" >redis.conf
rm -f guest/etc/redis/redis.conf && cp redis.conf guest/etc/redis/redis.conf
sed -e "s/^server.port .*/server.port = $hport/" -e '/^include_shell/d' \
    -e 's|^server.errorlog .*|server.errorlog = "/tmp/error.log"|' -e 's|^server.upload-dirs .*|server.upload-dirs = ( "/tmp" )|' \
    "$GUEST/etc/lighttpd/lighttpd.conf" >lighttpd.conf
rm -f guest/etc/lighttpd/lighttpd.conf && cp lighttpd.conf guest/etc/lighttpd/lighttpd.conf
export SOURCE_DATE_EPOCH=1700000000
"$DECANT" convert guest -o out --shim "$SHIM" --only redis-server --only lighttpd -j 2 -q 2>convert.log ||
    fail "convert: $(cat convert.log)"
grep -q "containerPort: $rport" out/redis-server/k8s.yaml || fail "redis k8s.yaml lacks port $rport"
grep -q "containerPort: $hport" out/lighttpd/k8s.yaml || fail "lighttpd k8s.yaml lacks port $hport"

mkdir -p seccomp/decant
for s in redis-server lighttpd; do
    $P load -q -i "out/$s/image.oci.tar" >load.log 2>&1 || fail "podman load $s: $(cat load.log)"
    cp "out/$s/seccomp.json" "seccomp/decant/$s.json"
    played="$played out/$s/k8s.yaml"
    $P kube play --seccomp-profile-root "$tmp/seccomp" "out/$s/k8s.yaml" >play.log 2>&1 ||
        fail "podman kube play out/$s/k8s.yaml: $(tail -5 play.log)"
done

wait_for() {  # what, container, command...
    what=$1 ctr=$2; shift 2
    i=0
    until "$@" >reply 2>/dev/null && [ -s reply ]; do
        i=$((i + 1))
        if [ $i -ge 150 ]; then
            $P ps -a >ps.log 2>&1
            fail "$what did not answer: $(cat ps.log; $P logs --tail 5 "$ctr" 2>&1)"
        fi
        sleep 0.2
    done
}
redis_ping() { printf 'PING\r\n' | nc -q1 -w2 127.0.0.1 "$rport"; }
wait_for "redis-server (kube play, port $rport)" redis-server-pod-0-redis-server redis_ping
grep -q PONG reply || fail "redis answered '$(cat reply)'"
http_get() { curl -s -m 3 -o /dev/null -w '%{http_code}\n' "http://127.0.0.1:$hport/"; }
wait_for "lighttpd (kube play, port $hport)" lighttpd-pod-0-lighttpd http_get
case "$(cat reply)" in 200|403|404) ;; *) fail "lighttpd answered HTTP $(cat reply)" ;; esac
for y in $played; do $P kube down "$y" >down.log 2>&1 || fail "podman kube down $y: $(cat down.log)"; done
played=""

# podman-compose (which has no `config` in Debian's 1.0.3) runs each
# compose.yaml on the same private storage, and the servers answer again.
for s in redis-server lighttpd; do
    compose "$s" up -d >compose.log 2>&1 || fail "podman-compose up out/$s/compose.yaml: $(tail -5 compose.log)"
    composed="$composed $s"
done
wait_for "redis-server (podman-compose, port $rport)" decant-redis-server_redis-server_1 redis_ping
grep -q PONG reply || fail "redis (compose) answered '$(cat reply)'"
wait_for "lighttpd (podman-compose, port $hport)" decant-lighttpd_lighttpd_1 http_get
case "$(cat reply)" in 200|403|404) ;; *) fail "lighttpd (compose) answered HTTP $(cat reply)" ;; esac
# compose's security_opt applies decant's seccomp.json (podman 4.3's kube play
# reads only the deprecated seccomp annotations, not seccompProfile: there the
# container gets podman's default profile; docs/convert.md).
id=$($P inspect -f '{{.Id}}' decant-redis-server_redis-server_1) || fail "no compose container for redis-server"
python3 - "$tmp/root/overlay-containers/$id/userdata/config.json" out/redis-server/seccomp.json <<'PY' ||
import json, sys
run, ours = (json.load(open(p)) for p in sys.argv[1:])
got = run["linux"].get("seccomp")
assert got and got["defaultAction"] == ours["defaultAction"], got and got["defaultAction"]
names = lambda p: sorted(n for s in p["syscalls"] for n in s["names"])
assert names(got) == names(ours), "the runtime's seccomp is not decant's"
PY
    fail "redis-server under podman-compose does not run with decant's seccomp.json"
echo "PASS: e2e.kube (redis PONG on $rport, lighttpd HTTP $(cat reply) on $hport)"
