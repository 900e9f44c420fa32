#!/bin/sh
# End-to-end test of the packager on real Debian servers from the cached
# bullseye guest: redis-server and lighttpd, each analyzed, given the edits a
# consultant would make (entrypoint in the foreground, files it needs, the
# port redirected by the shim), packaged in minimal mode, then
#   - run as a bundle under crun (decant run): `redis-cli PING` answers PONG,
#     an HTTP GET answers 200, and their logs land on the writable mounts;
#   - run as `podman run oci-archive:` with the same checks;
#   - every OCI output is accepted by `skopeo inspect` and `umoci unpack`,
#     and two builds are byte-identical.
# Prints each image's size against the guest's total size.
# lighttpd's stock config runs perl through include_shell, which a minimal
# image does not carry; the test replaces it with the plain config a legacy
# install would have had, in a hard-linked copy of the guest.
# Env: DECANT, DECANT_BUILD, DECANT_SOURCE (set by CTest).
set -u
. "$DECANT_SOURCE/tests/lib.sh"
. "$DECANT_SOURCE/tests/e2e_package_lib.sh"

require_root "crun, podman and the guest"
require_tool jq
require_tool crun
require_tool skopeo
require_tool umoci
require_tool curl
SHIM="$DECANT_BUILD/libdecant-shim.so"
[ -f "$SHIM" ] || skip "shim not built ($SHIM): build target decant_shim"
GUEST=$(bullseye_guest)
[ -x "$GUEST/usr/bin/redis-server" ] || skip "guest at $GUEST has no redis-server"

tmp=$(mktemp -d /tmp/decant-e2e-deb.XXXXXX)
cleanup() {
    [ -n "${server_pid:-}" ] && kill "$server_pid" 2>/dev/null && sleep 1 && kill "$server_pid" 2>/dev/null
    podman rmi -f "localhost/decant-e2e/redis-$$:test" "localhost/decant-e2e/lighttpd-$$:test" >/dev/null 2>&1
    rm -rf "$tmp"
}
trap cleanup EXIT
cd "$tmp" || exit 1

# The guest, hard-linked (seconds, no copy of data), with lighttpd's config
# replaced by a new file so the cached guest is never modified.
cp -al "$GUEST" guest || fail "cannot hard-link the guest into $tmp"
rm -f guest/etc/lighttpd/lighttpd.conf
cat >guest/etc/lighttpd/lighttpd.conf <<'EOF'
server.modules = ( "mod_indexfile", "mod_access", "mod_dirlisting", "mod_staticfile" )
server.document-root = "/var/www/html"
server.errorlog      = "/var/log/lighttpd/error.log"
server.pid-file      = "/run/lighttpd.pid"
server.username      = "www-data"
server.groupname     = "www-data"
server.port          = 80
index-file.names     = ( "index.html", "index.lighttpd.html" )
mimetype.assign      = ( ".html" => "text/html" )
EOF
guest_bytes=$(du -sb "$GUEST" | cut -f1)

redis_port=$((20000 + ($$ + 11) % 12000))  # below the ephemeral range (32768+), where clients hold ports
http_port=$((20000 + ($$ + 13) % 12000))  # below the ephemeral range (32768+), where clients hold ports
evid='["user: e2e_package_debian"]'

"$DECANT" analyze /usr/bin/redis-server --root guest --format json -o redis.raw || fail "analyze redis-server failed"
jq --argjson port "$redis_port" --argjson ev "$evid" '
  .user = "redis"
  | .entrypoint = ["/usr/bin/redis-server", "/etc/redis/redis.conf", "--daemonize", "no"]
  | .files += [{"path": "/etc/redis/redis.conf", "access": "read", "evidence": $ev},
               {"path": "/var/lib/redis", "access": "write", "evidence": $ev},
               {"path": "/var/log/redis", "access": "write", "evidence": $ev}]
  | .network.listen = [{"port": 6379, "proto": "tcp", "address": "127.0.0.1", "confidence": "high", "evidence": $ev}]
  | .redirects.ports = [{"from": 6379, "to": $port, "proto": "tcp"}]' redis.raw >redis.json

"$DECANT" analyze /usr/sbin/lighttpd --root guest --format json -o lighttpd.raw || fail "analyze lighttpd failed"
jq --argjson port "$http_port" --argjson ev "$evid" '
  .entrypoint = ["/usr/sbin/lighttpd", "-D", "-f", "/etc/lighttpd/lighttpd.conf"]
  | .files += [{"path": "/etc/lighttpd/lighttpd.conf", "access": "read", "evidence": $ev},
               {"path": "/usr/lib/lighttpd", "access": "read", "evidence": $ev},
               {"path": "/var/www/html", "access": "read", "evidence": $ev},
               {"path": "/var/log/lighttpd", "access": "write", "evidence": $ev}]
  | .network.listen = [{"port": 80, "proto": "tcp", "address": "0.0.0.0", "confidence": "high", "evidence": $ev}]
  | .redirects.ports = [{"from": 80, "to": $port, "proto": "tcp"}]' lighttpd.raw >lighttpd.json

redis_ping() { chroot guest /usr/bin/redis-cli -p "$redis_port" PING 2>/dev/null; }
http_get() { curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$http_port/" 2>/dev/null; }

# wait_for CHECK EXPECTED TRIES: polls the check until it prints EXPECTED.
wait_for() {
    _n=$3
    while [ "$_n" -gt 0 ]; do
        [ "$($1)" = "$2" ] && return 0
        sleep 0.2
        _n=$((_n - 1))
    done
    return 1
}

# stop PID: SIGTERM (graceful), then a second one (decant run kills), then wait.
stop() {
    kill "$1" 2>/dev/null
    _n=50
    while kill -0 "$1" 2>/dev/null && [ $_n -gt 0 ]; do
        sleep 0.1
        _n=$((_n - 1))
    done
    kill "$1" 2>/dev/null
    wait "$1" 2>/dev/null
    server_pid=""
}

for svc in redis lighttpd; do
    if [ $svc = redis ]; then check=redis_ping want=PONG log=volumes/var/log/redis/redis-server.log
    else check=http_get want=200 log=volumes/var/log/lighttpd/error.log; fi
    tag="localhost/decant-e2e/$svc-$$:test"

    # 1. minimal bundle under crun.
    "$DECANT" package $svc.json --root guest -o $svc.bundle --format bundle -q >$svc.bundle.out 2>$svc.err ||
        fail "package $svc bundle: $(cat $svc.err)"
    "$DECANT" run $svc.bundle >$svc.run.out 2>$svc.run.err &
    server_pid=$!
    wait_for $check $want 100 || fail "$svc under crun does not answer $want: $(tail -3 $svc.run.err)"
    stop "$server_pid"
    [ -s "$svc.bundle/$log" ] || fail "$svc: no log at $svc.bundle/$log"
    # getaddrinfo() is reachable: NSS "files" reads /etc/services, which the
    # analyzer must have named (a superserver binds nothing without it).
    [ -s "$svc.bundle/rootfs/etc/services" ] || fail "$svc: no /etc/services in the image"
    grep -q "^127.0.1.1" "$svc.bundle/rootfs/etc/hosts" || fail "$svc: the container's hostname does not resolve"

    # 2. OCI archive, twice, byte-identical; skopeo and umoci accept it.
    "$DECANT" package $svc.json --root guest -o $svc.tar --tag "$tag" -q >$svc.tar.out 2>$svc.err ||
        fail "package $svc oci-archive: $(cat $svc.err)"
    "$DECANT" package $svc.json --root guest -o $svc.2.tar --tag "$tag" -q >/dev/null 2>&1 || fail "second build of $svc"
    [ "$(sha256sum <$svc.tar)" = "$(sha256sum <$svc.2.tar)" ] || fail "two builds of $svc differ"
    skopeo inspect "oci-archive:$svc.tar" >$svc.inspect 2>$svc.err || fail "skopeo inspect $svc: $(cat $svc.err)"
    mkdir $svc.layout && tar -xf $svc.tar -C $svc.layout &&
        umoci unpack --image "$svc.layout:$tag" $svc.umoci >/dev/null 2>$svc.err || fail "umoci unpack $svc: $(cat $svc.err)"

    # 3. podman runs the archive.
    if command -v podman >/dev/null 2>&1; then
        podman_run --rm --network host "oci-archive:$tmp/$svc.tar" >$svc.pod.out 2>$svc.pod.err &
        server_pid=$!
        wait_for $check $want 600 || fail "$svc under podman does not answer $want: $(tail -3 $svc.pod.err)"
        stop "$server_pid"
    elif [ "${DECANT_MUST_WORK:-0}" = "1" ]; then
        fail "podman missing with DECANT_MUST_WORK=1"
    fi

    image=$(stat -c %s $svc.tar)
    echo "size: $svc minimal image $image bytes, guest $guest_bytes bytes ($(awk "BEGIN{printf \"%.2f\", 100*$image/$guest_bytes}")%)"
done

# An interrupted run leaves nothing behind: a system-mode package (the whole
# guest, several seconds) stopped by SIGTERM after a moment.
"$DECANT" package redis.json --root guest --mode system -o interrupted.tar -q 2>interrupt.err &
pkg_pid=$!
sleep 1
kill -TERM "$pkg_pid" 2>/dev/null
wait "$pkg_pid"
rc=$?
[ "$rc" -eq 143 ] || fail "interrupted package: exit $rc, expected 143 ($(cat interrupt.err))"
ls -a | grep -q 'decant-tmp' && fail "interrupted package left its scratch directory: $(ls -a | grep decant-tmp)"
[ ! -e interrupted.tar ] || fail "interrupted package left an output"
echo "ok: SIGTERM during packaging exits 143 and leaves nothing behind"

echo "PASS: e2e.package_debian"
