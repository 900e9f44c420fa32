#!/bin/sh
# End-to-end test of port publishing by `decant run`: legacy_forkd packaged
# as a bundle with --network private (its port 7070 redirected to a free
# port) runs in a network namespace decant creates, and decant relays the
# host's port into it. Checks that the port is recorded in config.json, that
# clients on the host get PONG over 3 sequential and 5 concurrent
# connections, that WHOAMI still answers 7070 (the shim's translation inside
# the namespace), that --publish maps the same service port of a second
# container to another host port, that a host port already in use is a
# one-line error leaving nothing behind, and that SIGTERM stops the
# container (decant-init forwards it to forkd) and takes
# the relay and the namespace: no run directory, no mount, port free again.
# Env: DECANT, DECANT_BUILD, DECANT_SOURCE (set by CTest).
set -u
. "$DECANT_SOURCE/tests/lib.sh"
. "$DECANT_SOURCE/tests/e2e_package_lib.sh"

require_root "decant run creates namespaces"
require_tool crun
require_tool jq
require_tool ss
CORPUS="$DECANT_BUILD/corpus"
CLIENT="$CORPUS/legacy_client"
[ -x "$CORPUS/legacy_forkd" ] || fail "corpus not built ($CORPUS/legacy_forkd)"
[ -f "$DECANT_BUILD/libdecant-shim.so" ] || skip "shim not built: build target decant_shim"

tmp=$(mktemp -d /tmp/decant-e2e-publish.XXXXXX)
pids=""
cleanup() {
    for p in $pids; do kill -KILL "$p" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT
cd "$tmp" || exit 1

listening() { [ -n "$(ss -Hltn "sport = :$1")" ]; }
# A free port near one derived from our pid (other tests pick theirs the same way).
free_port() {
    _p=$1
    while listening "$_p"; do _p=$((_p + 1)); done
    echo "$_p"
}
port=$(free_port $((21000 + $$ % 19000)))
port2=$(free_port $((port + 1)))
id="decant-e2e-publish-$$"
run_dir="${XDG_RUNTIME_DIR:-/run}/decant/$id"

# 1. package with its own network namespace; the ports are recorded.
forkd_profile profile.json "$port"
"$DECANT" package profile.json --root / -o bundle --format bundle --network private -q >/dev/null 2>pkg.err ||
    fail "package failed: $(cat pkg.err)"
jq -e '.linux.namespaces | map(.type) | index("network")' bundle/config.json >/dev/null ||
    fail "no network namespace in config.json"
# The annotation is a JSON list in a string (annotation values are strings).
recorded=$(jq -r '.annotations["io.decant.ports"] | fromjson | map("\(.port)/\(.proto)") | join(",")' bundle/config.json) ||
    fail "io.decant.ports is not a JSON list: $(jq '.annotations' bundle/config.json)"
[ "$recorded" = "$port/tcp" ] || fail "io.decant.ports holds '$recorded', expected $port/tcp"

# 2. run it (forkd without -1 serves many connections) and reach it from the host.
"$DECANT" run bundle --name "$id" --stop-timeout 2 >run.out 2>run.err &
run_pid=$!
pids="$run_pid"
reply=$(ping_until "$port" 100) || { cat run.err >&2; fail "no answer on published port $port"; }
[ "$reply" = "PONG" ] || fail "published port $port answered '$reply'"
grep -q "publishing 0.0.0.0:$port -> $port/tcp" run.err || fail "no publishing note: $(cat run.err)"
jq -e --arg p "/proc/$run_pid/fd/" '.linux.namespaces[] | select(.type == "network") | .path | startswith($p)' \
    "$run_dir/config.json" >/dev/null || fail "the runtime config does not join decant's namespace"
ss -Hltnp "sport = :$port" | grep -q decant || fail "port $port is not held by decant's relay: $(ss -Hltnp "sport = :$port")"

i=0
while [ $i -lt 3 ]; do
    r=$("$CLIENT" -h 127.0.0.1 -p "$port" -c PING 2>&1)
    [ "$r" = "PONG" ] || fail "sequential connection $i: '$r'"
    i=$((i + 1))
done
i=0
cpids=""
while [ $i -lt 5 ]; do
    "$CLIENT" -h 127.0.0.1 -p "$port" -c PING >"c$i.out" 2>&1 &
    cpids="$cpids $!"
    i=$((i + 1))
done
for p in $cpids; do wait "$p"; done
i=0
while [ $i -lt 5 ]; do
    [ "$(cat "c$i.out")" = "PONG" ] || fail "concurrent connection $i: '$(cat "c$i.out")'"
    i=$((i + 1))
done
who=$("$CLIENT" -h 127.0.0.1 -p "$port" -c WHOAMI 2>&1)
[ "$who" = "7070" ] || fail "WHOAMI answered '$who', expected 7070 (the shim's view)"

# 3. a second container of the same bundle, its port published elsewhere.
"$DECANT" run bundle --name "$id-b" --stop-timeout 0 --publish "127.0.0.1:$port2:$port" >run2.out 2>run2.err &
run2_pid=$!
pids="$pids $run2_pid"
reply=$(ping_until "$port2" 100) || { cat run2.err >&2; fail "no answer on --publish port $port2"; }
[ "$reply" = "PONG" ] || fail "--publish port $port2 answered '$reply'"
kill -TERM "$run2_pid"
wait "$run2_pid"
listening "$port2" && fail "port $port2 still listening after the second container stopped"

# 4. the host port is taken by the first container: one clear line, nothing left.
"$DECANT" run bundle --name "$id-c" >run3.out 2>run3.err
rc=$?
[ $rc -eq 1 ] || fail "publishing a port in use: exit $rc, expected 1 ($(cat run3.err))"
[ "$(wc -l <run3.err)" -eq 1 ] && grep -q "already in use" run3.err || fail "unclear error: $(cat run3.err)"
[ -e "${XDG_RUNTIME_DIR:-/run}/decant/$id-c" ] && fail "run directory left behind after the error"
"$DECANT" run bundle --publish "x:$port" 2>bad.err
rc=$?
[ $rc -eq 2 ] || fail "bad --publish: exit $rc, expected 2"

# 5. SIGTERM: decant-init (PID 1, docs/init.md) forwards it to forkd, which
# dies of it (no handler), so the container stops with 128+15 before
# --stop-timeout; then the relay and the namespace are gone.
kill -TERM "$run_pid"
wait "$run_pid"
rc=$?
pids=""
[ $rc -eq 143 ] || fail "decant run exited $rc after SIGTERM, expected 143 (forkd killed by the forwarded SIGTERM): $(cat run.err)"
[ -e "$run_dir" ] && fail "run directory $run_dir left behind"
grep -q "$id" /proc/self/mountinfo && fail "a mount of $id left behind"
crun list 2>/dev/null | grep -q "^$id " && fail "container $id left behind"
listening "$port" && fail "port $port still listening after decant run ended"
"$CLIENT" -h 127.0.0.1 -p "$port" -c PING >/dev/null 2>&1 && fail "something still answers on $port"

echo "PASS: e2e.run_publish"
