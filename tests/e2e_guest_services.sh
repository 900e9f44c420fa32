#!/bin/sh
# Zero edits: services of the bullseye guest, converted as the VM starts
# them, run under `decant run` (crun) and greet a real client, with nothing
# changed by hand: sshd (its port the documented default that its
# sshd_config's commented `#Port 22` confirms), vsftpd (listening on ::,
# reached over IPv4), xinetd starting rsync per connection, and squid (its
# compiled-in data files and helper programs) answering an HTTP request,
# and named resolving localhost (it drops to the bind user itself, so the
# init needs CAP_KILL to pass it the stop), memcached, which its unit
# starts through Debian's perl wrapper (the wrapper is read for the daemon
# it execs; the image runs the wrapper with perl), and apache2, started by
# `apachectl start` (a shell script sourcing /etc/apache2/envvars, whose
# APACHE_LOG_DIR must be writable) as a forking daemon. Each then ends on SIGTERM within
# the grace (squid waits its own 30 s shutdown_lifetime: not checked). Each
# image is packaged with its own network namespace and published on a free
# host port; the port is the one the profile names, the greeting the
# protocol's.
set -u
. "$DECANT_SOURCE/tests/lib.sh"
require_root "crun and the guest"
require_tool crun
require_tool python3
GUEST=$(bullseye_guest) || exit $?
SHIM="$DECANT_BUILD/libdecant-shim.so"
[ -f "$SHIM" ] || skip "shim not built ($SHIM): build target decant_shim"
tmp=$(mktemp -d /tmp/decant-e2e-services.XXXXXX) || fail "mktemp"
run_pid=""
cleanup() {
    [ -n "$run_pid" ] && { kill "$run_pid" 2>/dev/null; wait "$run_pid" 2>/dev/null; }
    rm -rf "$tmp"
}
trap cleanup EXIT
cd "$tmp" || exit 1

"$DECANT" convert "$GUEST" -o out --shim "$SHIM" --only ssh --only vsftpd --only xinetd --only squid --only named --only memcached --only apache2 --format bundle -j 2 -q \
    2>convert.log || fail "convert: $(tail -5 convert.log)"

# free_port: one the kernel hands out now.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# greets NAME PORT REGEX [REQUEST] [STOPS]: the profile lists PORT; packaged
# with a private network and published, the service's greeting on it (its
# answer to REQUEST, when given) matches REGEX; unless STOPS is "no", it
# ends on SIGTERM within the stop grace.
greets() {
    name=$1 port=$2 want=$3 request=${4:-} stops=${5:-yes}
    python3 -c 'import json, sys
p = json.load(open(sys.argv[1]))
sys.exit(0 if any(l["port"] == int(sys.argv[2]) for l in p["network"]["listen"]) else 1)' \
        "out/$name/bundle/rootfs/.decant/profile.json" "$port" || fail "$name: the profile does not list port $port"
    "$DECANT" package "out/$name/profile.yaml" --root "$GUEST" --shim "$SHIM" --network private --format bundle \
        -o "b-$name" 2>"package-$name.log" || fail "$name: package --network private: $(tail -3 "package-$name.log")"
    host=$(free_port)
    "$DECANT" run -p "127.0.0.1:$host:$port" "b-$name" >"run-$name.log" 2>&1 &
    run_pid=$!
    until_s=$(($(date +%s) + 30))
    until greeting=$(python3 "$DECANT_SOURCE/tests/greet.py" 127.0.0.1 "$host" "$request") && echo "$greeting" | grep -Eq "$want"; do
        kill -0 "$run_pid" 2>/dev/null || fail "$name: the container ended before greeting: $(tail -8 "run-$name.log")"
        [ "$(date +%s)" -lt "$until_s" ] || fail "$name: no '$want' greeting on $host (its $port) in 30 s, last '${greeting:-}': $(tail -8 "run-$name.log")"
        sleep 0.3
    done
    # A stop as `podman stop` asks it: the service itself must end on the
    # SIGTERM the init forwards, not be killed after the grace.
    kill -TERM "$run_pid"; wait "$run_pid" 2>/dev/null; run_pid=""
    if [ "$stops" = yes ] && grep -q "did not stop in time\|ignored the stop request" "run-$name.log"; then
        fail "$name: SIGTERM did not stop it: $(grep -v '^$' "run-$name.log" | tail -5)"
    fi
    echo "ok: $name greets on its port $port: $greeting (stops on SIGTERM: $stops)"
}

greets ssh 22 '^SSH-2\.0-OpenSSH'
greets vsftpd 21 '^220 '
greets xinetd 873 '^@RSYNCD: '
# squid reads compiled-in defaults (mime.conf, icons, its error pages) and
# starts helpers (unlinkd, log_file_daemon) that no configuration line names.
# On SIGTERM it waits shutdown_lifetime (30 s) for clients, past the grace.
greets squid 3128 '^HTTP/1\.[01] [0-9]{3} ' 'GET / HTTP/1.0\r\n\r\n' no
# named: no file of the tree names its port; the configuration compiled
# into named (its defaults, read like a file) says port 53, so it is high,
# tcp and udp. The zone Debian ships for localhost answers.
python3 -c 'import json, sys
p = json.load(open(sys.argv[1]))
want = [l for l in p["network"]["listen"] if l["port"] == 53 and l["confidence"] == "high"
        and any("compiled-in configuration" in e for e in l["evidence"])]
sys.exit(0 if sorted(l["proto"] for l in want) == ["tcp", "udp"] else 1)' \
    out/named/bundle/rootfs/.decant/profile.json || fail "named: port 53 tcp+udp not high from its compiled-in configuration"
greets named 53 '^rcode 0 answers [1-9]' 'dns:localhost'
# memcached: ExecStart runs /usr/share/memcached/scripts/systemd-memcached-wrapper.
grep -q 'path: /usr/bin/perl$' out/memcached/profile.yaml || fail "memcached: the wrapper's interpreter is not in the profile"
greets memcached 11211 '^VERSION ' 'version\r\n'
# apache2: ExecStart=/usr/sbin/apachectl start.
grep -q 'which starts /usr/sbin/apache2 (named like the service)' out/apache2/profile.yaml ||
    fail "apache2: apachectl was not read for its daemon"
greets apache2 80 '^HTTP/1\.[01] 200 ' 'GET / HTTP/1.0\r\n\r\n'
echo "PASS"
