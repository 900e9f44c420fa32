#!/bin/sh
# Every service `decant convert` discovers in the bullseye guest, converted
# with no edit at all, runs from its OCI archive under
# `podman run --security-opt seccomp=<its exported seccomp.json>` and
# answers its real client (SSH banner and ssh-keyscan, FTP 220 and a login
# PAM refuses, rsync through xinetd, an
# HTTP GET through squid, apache2 and lighttpd, a DNS query to named,
# memcached's version, redis PING); services without a port (cron, rsyslog)
# must still be running. Then the image's ExposedPorts are compared with
# the sockets the service really holds (ss in its network namespace): every
# exposed port is bound, and every port bound on a non-loopback address is
# exposed. Loopback-only listeners (named's rndc channel, redis and
# memcached as Debian configures them) are printed, not required to be
# exposed: nothing outside the container could reach them. UDP sockets on
# ephemeral ports (a resolver's client sockets) are no listeners. Each
# container gets its own network namespace with loopback holding one more,
# non-loopback address (this kernel may lack dummy and veth links), so a
# daemon that binds every interface address (named) shows a non-loopback
# bind, and two servers on port 80 do not collide.
set -u
. "$DECANT_SOURCE/tests/lib.sh"
require_root "the guest, podman and network namespaces"
require_tool podman
require_tool ip
require_tool ss
require_tool python3
GUEST=$(bullseye_guest) || exit $?
SHIM="$DECANT_BUILD/libdecant-shim.so"
[ -f "$SHIM" ] || skip "shim not built ($SHIM): build target decant_shim"

tmp=$(mktemp -d /tmp/decant-e2e-pservices.XXXXXX) || fail "mktemp"
podman_scratch "$tmp"
ns_prefix="decant-e2e-$$-"
cleanup() {
    pod rm -af -t 2 >/dev/null 2>&1
    pod system reset -f >/dev/null 2>&1
    umount "$tmp/root/overlay" 2>/dev/null
    for n in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$ns_prefix"); do ip netns delete "$n"; done
    rm -rf "$tmp"
}
trap cleanup EXIT
cd "$tmp" || exit 1
pod info >/dev/null 2>podman.err || skip "podman does not work here: $(head -1 podman.err)"

export SOURCE_DATE_EPOCH=1700000000
"$DECANT" convert "$GUEST" -o out --shim "$SHIM" --format oci-archive -j 2 -q 2>convert.log ||
    fail "convert: $(tail -5 convert.log)"

# start NAME: loads NAME's image and runs it with its seccomp.json in a
# network namespace of its own; prints nothing, fails loudly.
start() {
    name=$1 ns="$ns_prefix$1"
    ip netns add "$ns" || fail "ip netns add $ns"
    ip -n "$ns" link set lo up
    ip -n "$ns" addr add 10.254.0.1/32 dev lo || fail "$name: cannot add a non-loopback address in its network namespace"
    pod load -q -i "out/$name/image.oci.tar" >"load-$name.log" 2>&1 || fail "$name: podman load: $(cat "load-$name.log")"
    image=$(sed -n 's/^Loaded image: //p' "load-$name.log" | head -1)
    pod run -d --name "$name" --network "ns:/run/netns/$ns" --security-opt "seccomp=out/$name/seccomp.json" \
        "$image" >"run-$name.log" 2>&1 || fail "$name: podman run with its seccomp.json: $(tail -3 "run-$name.log")"
    pod image inspect -f '{{json .Config.ExposedPorts}}' "$image" >"exposed-$name.json" ||
        fail "$name: podman image inspect"
}

# answers NAME PORT REGEX [REQUEST]: within 30 s, NAME's answer on PORT
# (inside its namespace) matches REGEX.
answers() {
    name=$1 port=$2 want=$3 request=${4:-}
    until_s=$(($(date +%s) + 30))
    until greeting=$(ip netns exec "$ns_prefix$name" python3 "$DECANT_SOURCE/tests/greet.py" 127.0.0.1 "$port" "$request") &&
        echo "$greeting" | grep -Eq "$want"; do
        state=$(pod inspect -f '{{.State.Status}}' "$name" 2>/dev/null)
        [ "$state" = running ] || fail "$name: the container is $state before answering: $(pod logs --tail 8 "$name" 2>&1)"
        [ "$(date +%s)" -lt "$until_s" ] || fail "$name: no '$want' answer on its port $port in 30 s, last '${greeting:-}': $(pod logs --tail 8 "$name" 2>&1)"
        sleep 0.3
    done
    echo "ok: $name answers on $port: $(echo "$greeting" | head -1)"
}

# exposes_what_it_binds NAME: the ExposedPorts check described above.
exposes_what_it_binds() {
    name=$1 ns="$ns_prefix$1"
    ephemeral=$(ip netns exec "$ns" cat /proc/sys/net/ipv4/ip_local_port_range | awk '{print $1}')
    ip netns exec "$ns" ss -Hlntu >"ss-$name.txt" || fail "$name: ss in its namespace"
    python3 - "$name" "exposed-$name.json" "ss-$name.txt" "$ephemeral" <<'PY' || fail "$name: ExposedPorts differ from the ports it binds (above)"
import json, sys
name, exposed_file, ss_file, ephemeral = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
exposed = set((json.load(open(exposed_file)) or {}).keys())
public, loopback = set(), set()
for line in open(ss_file):
    f = line.split()
    proto, state, local = f[0], f[1], f[4]
    addr, port = local.rsplit(":", 1)
    if proto == "udp" and int(port) >= ephemeral:
        continue  # a client socket, not a listener
    key = f"{port}/{proto}"
    (loopback if addr.strip("[]").split("%")[0] in ("127.0.0.1", "::1") else public).add(key)
loopback -= public
bound = public | loopback
print(f"{name}: exposed {sorted(exposed)}, bound {sorted(public)}, loopback only {sorted(loopback)}")
bad = False
for k in sorted(exposed - bound):
    print(f"{name}: {k} is exposed but nothing binds it"); bad = True
for k in sorted(public - exposed):
    print(f"{name}: {k} is bound on a public address but not exposed"); bad = True
sys.exit(1 if bad else 0)
PY
}

for s in out/*/image.oci.tar; do start "$(basename "$(dirname "$s")")"; done
answers ssh 22 '^SSH-2\.0-OpenSSH'
answers vsftpd 21 '^220 '
# A login goes through PAM (pam.d/vsftpd and the modules it loads): a wrong
# password is refused as a login, not as a broken server.
answers vsftpd 21 '^530 ' 'ftp-login:root:wrong-password'
# ssh-keyscan: the key exchange with the host keys the image carries.
if command -v ssh-keyscan >/dev/null 2>&1; then
    keys=$(ip netns exec "${ns_prefix}ssh" ssh-keyscan -T 5 -t ed25519,rsa 127.0.0.1 2>/dev/null | grep -c '^127.0.0.1 ')
    [ "$keys" -ge 2 ] || fail "ssh: ssh-keyscan got $keys host keys, want ed25519 and rsa"
    echo "ok: ssh-keyscan reads $keys host keys"
elif [ "${DECANT_MUST_WORK:-0}" = 1 ]; then
    fail "ssh-keyscan not installed (openssh-client)"
fi
answers xinetd 873 '^@RSYNCD: '
answers squid 3128 '^HTTP/1\.[01] [0-9]{3} ' 'GET / HTTP/1.0\r\n\r\n'
answers named 53 '^rcode 0 answers [1-9]' 'dns:localhost'
answers memcached 11211 '^VERSION ' 'version\r\n'
answers apache2 80 '^HTTP/1\.[01] 200 ' 'GET / HTTP/1.0\r\n\r\n'
answers lighttpd 80 '^HTTP/1\.[01] [0-9]{3} ' 'GET / HTTP/1.0\r\n\r\n'
answers redis-server 6379 '^\+PONG' 'PING\r\n'
sleep 1
for s in out/*/image.oci.tar; do
    name=$(basename "$(dirname "$s")")
    state=$(pod inspect -f '{{.State.Status}}' "$name" 2>/dev/null)
    [ "$state" = running ] || fail "$name: $state under podman with its seccomp.json: $(pod logs --tail 8 "$name" 2>&1)"
    exposes_what_it_binds "$name"
done
echo "PASS: e2e.podman_services ($(ls out/*/image.oci.tar | wc -l) services under podman with their seccomp.json)"
