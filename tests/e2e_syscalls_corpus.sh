#!/bin/sh
# Zero false negatives on the corpus: runs each corpus program (servers with a
# real client session) under `strace -f` on this host and checks that every
# syscall strace saw is in the allowlist `decant analyze` computed for it.
# Also checks that hard-coded ports are found with static evidence
# (network.listen / network.connect). try_syscall is left out on purpose: it
# makes whatever syscall its argument names, which no static analysis can
# bound (its syscall() site is counted in unresolved_sites instead).
set -u
. "$DECANT_SOURCE/tests/lib.sh"
require_tool strace
require_tool python3

corpus="$DECANT_BUILD/corpus"
[ -x "$corpus/legacy_forkd" ] || fail "corpus not built at $corpus (ninja corpus)"
out=$(mktemp -d "${TMPDIR:-/tmp}/decant-e2e-corpus.XXXXXX") || fail "mktemp"
pids=""
cleanup() {
    for p in $pids; do kill -KILL "$p" 2>/dev/null; done
    rm -rf "$out"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

compare="$DECANT_SOURCE/tests/e2e_syscalls_compare.py"
failures=""

analyze() {  # analyze NAME: profile of corpus/NAME into $out/NAME.json
    "$DECANT" analyze "$corpus/$1" --format json >"$out/$1.json" 2>"$out/$1.analyze.err" ||
        { cat "$out/$1.analyze.err" >&2; failures="$failures $1(analyze)"; return 1; }
}

check() {  # check NAME: compare strace of NAME with its allowlist
    analyze "$1" || return
    python3 "$compare" "$1" "$out/$1.strace" "$out/$1.json" "$corpus/$1" || failures="$failures $1"
}

traced() {  # traced NAME ARGS...: run corpus/NAME ARGS under strace, foreground
    name=$1
    shift
    timeout -s KILL 30 strace -f -qq -o "$out/$name.strace" "$corpus/$name" "$@" >"$out/$name.out" 2>&1
}

# start_server NAME ARGS...: corpus server under strace on a free port; sets PORT.
start_server() {
    name=$1
    shift
    for attempt in 1 2 3 4 5; do
        PORT=$(($(od -An -N2 -tu2 /dev/urandom) % 30000 + 20000))
        timeout -s KILL 30 strace -f -qq -o "$out/$name.strace" "$corpus/$name" "$@" -p "$PORT" \
            >"$out/$name.out" 2>&1 &
        server_pid=$!
        pids="$pids $server_pid"
        i=0
        while [ $i -lt 100 ]; do
            grep -q '^listening on ' "$out/$name.out" 2>/dev/null && return 0
            kill -0 "$server_pid" 2>/dev/null || break
            sleep 0.1
            i=$((i + 1))
        done
        kill -KILL "$server_pid" 2>/dev/null
        wait "$server_pid" 2>/dev/null
    done
    fail "$name: could not start"
}

client() {  # client ARGS...: legacy_client, untraced
    timeout 10 "$corpus/legacy_client" "$@" >>"$out/client.out" 2>&1
}

start_server legacy_forkd -1
client -h 127.0.0.1 -p "$PORT" -c WHOAMI
wait "$server_pid" 2>/dev/null
check legacy_forkd

start_server legacy_threadd -n 2
client -h 127.0.0.1 -p "$PORT" -c PING
client -h 127.0.0.1 -p "$PORT" -c UNAME
wait "$server_pid" 2>/dev/null
check legacy_threadd

if [ -x "$corpus/legacy_static" ]; then
    start_server legacy_static -1
    client -h 127.0.0.1 -p "$PORT" -c PING
    wait "$server_pid" 2>/dev/null
    check legacy_static
fi

# The client itself: once against a live server, once with an unresolvable host.
start_server legacy_forkd -1
timeout -s KILL 30 strace -f -qq -o "$out/legacy_client.strace" \
    "$corpus/legacy_client" -h 127.0.0.1 -p "$PORT" -c PING >"$out/legacy_client.out" 2>&1
wait "$server_pid" 2>/dev/null
timeout -s KILL 30 strace -f -qq -o "$out/legacy_client.strace2" \
    "$corpus/legacy_client" -h no-such-host.invalid -p 9 >/dev/null 2>&1
cat "$out/legacy_client.strace2" >>"$out/legacy_client.strace"
check legacy_client

sock="$out/unixd.sock"
timeout -s KILL 30 strace -f -qq -o "$out/legacy_unixd.strace" "$corpus/legacy_unixd" -1 -s "$sock" \
    >"$out/legacy_unixd.out" 2>&1 &
server_pid=$!
pids="$pids $server_pid"
i=0
while [ ! -S "$sock" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
client -u "$sock" -c WHOAMI
wait "$server_pid" 2>/dev/null
check legacy_unixd

traced legacy_rawsys
check legacy_rawsys
LD_LIBRARY_PATH="$corpus" traced legacy_plugin_host
check legacy_plugin_host
traced legacy_execstack
check legacy_execstack
traced legacy_oscheck
check legacy_oscheck

# Hard-coded ports, found statically.
port_check() {  # port_check NAME listen|connect PORT
    python3 - "$out/$1.json" "$2" "$3" <<'EOF' || failures="$failures $1(port $3)"
import json, sys
p = json.load(open(sys.argv[1]))
facts = p.get("network", {}).get(sys.argv[2], [])
hits = [f for f in facts if f.get("port") == int(sys.argv[3])
        and any(e.startswith("static:") for e in f.get("evidence", []))]
print(f"{sys.argv[1].rsplit('/', 1)[-1][:-5]}: network.{sys.argv[2]} port {sys.argv[3]}: "
      + ("found, " + hits[0]["evidence"][0] if hits else "MISSING"))
sys.exit(0 if hits else 1)
EOF
}
port_check legacy_forkd listen 7070
port_check legacy_threadd listen 7071
[ -x "$corpus/legacy_static" ] && port_check legacy_static listen 7072
port_check legacy_client connect 7070

[ -z "$failures" ] || fail "corpus:$failures"
echo "ok: every observed syscall is allowed and every hard-coded port found for the corpus"
