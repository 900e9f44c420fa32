#!/bin/sh
# Smoke test for the corpus: runs every program once and checks what it
# prints, not just its exit code, so a broken fixture fails here instead of
# confusing the analyzer and shim tests that depend on it. Servers run on
# random free high ports, every command runs under timeout, and background
# processes are killed on exit, so the test cannot hang or leak processes.
# Usage: smoke_test.sh BUILD_CORPUS_DIR
set -u

dir=${1:?usage: smoke_test.sh BUILD_CORPUS_DIR}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/corpus-smoke.XXXXXX") || exit 1
pids=""
cleanup() {
  for p in $pids; do
    kill "$p" 2>/dev/null
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

fail() {
  echo "FAIL: $*" >&2
  for f in "$tmp"/*.err; do
    [ -s "$f" ] && { echo "--- $f" >&2; cat "$f" >&2; }
  done
  exit 1
}
ok() { echo "ok: $*"; }

# Expect EXPECTED DESCRIPTION ACTUAL
expect() {
  [ "$3" = "$1" ] || fail "$2: expected '$1', got '$3'"
  ok "$2"
}

random_port() {
  echo $(($(od -An -N2 -tu2 /dev/urandom) % 30000 + 20000))
}

# wait_listening OUTFILE PID: succeeds once the server announced itself,
# fails if it died first (port taken) or stayed silent for 10 seconds.
wait_listening() {
  i=0
  while [ $i -lt 100 ]; do
    grep -q '^listening on ' "$1" 2>/dev/null && return 0
    if ! kill -0 "$2" 2>/dev/null; then
      grep -q '^listening on ' "$1" 2>/dev/null
      return
    fi
    sleep 0.1
    i=$((i + 1))
  done
  return 1
}

# start_tcp_server NAME PROGRAM ARGS...: runs PROGRAM ARGS -p PORT in the
# background on a random high port, retrying another port when bind fails.
# Sets PORT and SERVER_PID.
start_tcp_server() {
  name=$1
  shift
  for attempt in 1 2 3 4 5 6 7 8 9 10; do
    PORT=$(random_port)
    timeout 30 "$@" -p "$PORT" >"$tmp/$name.out" 2>"$tmp/$name.err" &
    SERVER_PID=$!
    pids="$pids $SERVER_PID"
    if wait_listening "$tmp/$name.out" "$SERVER_PID"; then
      expect "listening on $PORT" "$name announces its port" \
        "$(head -n 1 "$tmp/$name.out")"
      return 0
    fi
    kill "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
  done
  fail "$name: could not start on any port (attempt $attempt)"
}

# wait_server NAME: a one-shot server must exit 0 after its session.
wait_server() {
  wait "$SERVER_PID"
  rc=$?
  [ $rc -eq 0 ] || fail "$1 exited with $rc"
  ok "$1 exited cleanly"
}

client() {
  timeout 15 "$dir/legacy_client" "$@" 2>"$tmp/client.err"
}

for prog in legacy_forkd legacy_client legacy_threadd legacy_unixd \
  legacy_execstack legacy_plugin_host libplugin_hello.so legacy_rawsys \
  try_syscall legacy_oscheck; do
  [ -e "$dir/$prog" ] || fail "$dir/$prog was not built"
done

# Forking server, one connection.
start_tcp_server forkd "$dir/legacy_forkd" -1
expect PONG "forkd answers PING" "$(client -h 127.0.0.1 -p "$PORT" -c PING)"
wait_server forkd

# Threaded server, two connections.
start_tcp_server threadd "$dir/legacy_threadd" -n 2
expect "$PORT" "threadd WHOAMI reports its bound port" \
  "$(client -h 127.0.0.1 -p "$PORT" -c WHOAMI)"
expect "$(uname -r)" "threadd UNAME reports the kernel release" \
  "$(client -h 127.0.0.1 -p "$PORT" -c UNAME)"
wait_server threadd

# Static server, if this machine could link it.
if [ -e "$dir/legacy_static" ]; then
  start_tcp_server static "$dir/legacy_static" -1
  expect PONG "static answers PING" "$(client -h 127.0.0.1 -p "$PORT" -c PING)"
  wait_server static
else
  echo "skip: legacy_static was not built (no static libc)"
fi

# AF_UNIX server.
sock=$tmp/unixd.sock
timeout 30 "$dir/legacy_unixd" -1 -s "$sock" >"$tmp/unixd.out" \
  2>"$tmp/unixd.err" &
SERVER_PID=$!
pids="$pids $SERVER_PID"
wait_listening "$tmp/unixd.out" "$SERVER_PID" || fail "unixd did not start"
expect "$sock" "unixd WHOAMI reports its socket" \
  "$(client -u "$sock" -c WHOAMI)"
wait_server unixd

# The client's own failure mode: an unresolvable name is exit 3. RES_OPTIONS
# bounds the wait when no DNS server answers.
RES_OPTIONS="timeout:1 attempts:1" \
  timeout 15 "$dir/legacy_client" -h no-such-host.invalid -p 9 \
  >/dev/null 2>"$tmp/client.err"
expect 3 "client exits 3 on an unresolvable host" "$?"

expect "execstack ok" "execstack runs" "$(timeout 10 "$dir/legacy_execstack")"

expect "plugin says: hello from plugin" "plugin host loads its plugin" \
  "$(LD_LIBRARY_PATH=$dir timeout 10 "$dir/legacy_plugin_host" \
    2>"$tmp/plugin.err")"

out=$(timeout 10 "$dir/legacy_rawsys")
rc=$?
[ $rc -eq 0 ] || fail "legacy_rawsys exited $rc: $out"
expect "rawsys ok" "rawsys raw syscalls agree with libc" \
  "$(printf '%s\n' "$out" | tail -n 1)"

out=$(timeout 10 "$dir/try_syscall" getpid)
expect 0 "try_syscall getpid succeeds" "$?"
expect "getpid: errno 0 (Success)" "try_syscall getpid output" "$out"
out=$(timeout 10 "$dir/try_syscall" bind)
expect 9 "try_syscall bind exits EBADF" "$?"
expect "bind: errno 9 (Bad file descriptor)" "try_syscall bind output" "$out"
timeout 10 "$dir/try_syscall" no_such_call >/dev/null 2>&1
expect 125 "try_syscall rejects an unknown name" "$?"

out=$(timeout 10 "$dir/legacy_oscheck")
expect 0 "oscheck without a maximum" "$?"
printf '%s\n' "$out" | grep -qx "kernel $(uname -r)" ||
  fail "oscheck did not print the kernel release: $out"
ok "oscheck prints the kernel release"
timeout 10 "$dir/legacy_oscheck" -m 1 >/dev/null 2>&1
expect 4 "oscheck refuses a kernel newer than its maximum" "$?"

echo "corpus smoke: all passed"
