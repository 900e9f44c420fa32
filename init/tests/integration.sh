#!/bin/sh
# decant-init against the corpus's legacy_daemon: a forking daemon followed
# through its PID file and as the only child (double fork), a start that
# fails, a daemon that dies, one that ignores SIGTERM, orphans to reap, the
# syslog relay (as PID 1 in its own PID and mount namespaces), runtime
# directories and volume seeds, the service user, and usage errors.
set -u
: "${INIT:?INIT must name decant-init}" "${CORPUS:?CORPUS must name the corpus build dir}"
D="$CORPUS/legacy_daemon"
C="$CORPUS/legacy_client"
fail() { echo "FAIL: $*" >&2; exit 1; }
skip() {
    [ "${DECANT_MUST_WORK:-0}" = 1 ] && fail "would skip: $*"
    echo "SKIP: $*" >&2; exit 77
}
[ "$(id -u)" -eq 0 ] || skip "needs root (chown, namespaces)"
T=$(mktemp -d /tmp/decant-init-test.XXXXXX) || fail mktemp
pids=""
# A failed step leaves an init and its daemon: the daemon first, or it
# outlives its subreaper and holds the port.
cleanup() { for p in $pids; do pkill -KILL -P "$p" 2>/dev/null; kill -9 "$p" 2>/dev/null; done; rm -rf "$T"; }
trap cleanup EXIT
port=$((24000 + $$ % 4000))
# Parallel tests share the port space: take the next free pair (port, port+1).
while command -v ss >/dev/null && ss -Htan | awk '{print $4}' | grep -qE ":($port|$((port + 1)))\$"; do
    port=$((port + 2))
done

# start_init NAME ARGS...: runs decant-init in the background, stderr to $T/NAME.err.
start_init() {
    name=$1; shift
    "$INIT" "$@" 2>"$T/$name.err" &
    ipid=$!
    pids="$pids $ipid"
}
# wait_exit PID SECONDS: waits for it and sets rc; fails when it outlives SECONDS.
wait_exit() {
    i=0
    while kill -0 "$1" 2>/dev/null; do
        i=$((i + 1)); [ $i -le $(($2 * 10)) ] || fail "decant-init $1 still running after $2 s"
        sleep 0.1
    done
    wait "$1"; rc=$?
}
# The client waits up to 10 s for a silent server; a test must not.
ask() { timeout 3 "$C" -h 127.0.0.1 -p "$1" -c "$2" 2>/dev/null; }
# What a failed wait leaves to read: who holds the port, the init's tree.
state() {
    echo "--- stderr:"; cat "$T"/*.err
    echo "--- port $1:"; ss -Htanp 2>/dev/null | grep ":$1 " || echo none
    echo "--- under the init $ipid:"; ps -o pid,ppid,stat,wchan:20,args --ppid "$ipid" 2>/dev/null
}
# wait_answer PORT: the daemon under the init $ipid answers PING within 20 s;
# fails at once when the init is gone (the start failed, e.g. port taken).
wait_answer() {
    until_s=$(($(date +%s) + 20))
    until out=$(ask "$1" PING) && [ -n "$out" ]; do
        kill -0 "$ipid" 2>/dev/null || fail "decant-init exited before the daemon answered on $1: $(state "$1")"
        [ "$(date +%s)" -lt "$until_s" ] || fail "no answer on $1 within 20 s: $(state "$1")"
        sleep 0.2
    done
}

# 1. Type=forking with a PID file: the parent exits at once, the init stays,
#    the daemon answers, SIGTERM reaches it and its status (0) comes back.
start_init pidfile --type forking --pidfile "$T/d.pid" -- "$D" -P "$T/d.pid" -p "$port"
wait_answer "$port"
case "$out" in *PONG*) ;; *) fail "daemon answered '$out'" ;; esac
kill -0 "$ipid" || fail "init exited while the daemon runs"
dpid=$(cat "$T/d.pid")
[ "$(awk '{print $4}' /proc/"$dpid"/stat)" = "$ipid" ] || fail "daemon $dpid was not reparented to the init (subreaper)"
kill -TERM "$ipid"; wait_exit "$ipid" 5
[ $rc -eq 0 ] || fail "forking daemon stopped by SIGTERM: init exited $rc, want 0: $(cat "$T/pidfile.err")"
kill -0 "$dpid" 2>/dev/null && fail "daemon $dpid survived the init"
echo "ok: forking daemon with PID file"

# 1b. The daemon ends and a stop is asked before the init's next look at
#     the PID file (it looks every 100 ms; under load the daemon can die
#     in between). Made certain by stopping the init meanwhile: the PID
#     file, written late (-L), names the daemon, whose status (0) counts.
start_init early --type forking --pidfile "$T/d1b.pid" -- "$D" -L -P "$T/d1b.pid" -p 0
sleep 0.3; kill -STOP "$ipid"
i=0; until [ -s "$T/d1b.pid" ]; do i=$((i + 1)); [ $i -le 500 ] || fail "no PID file"; sleep 0.01; done
sleep 0.1; dpid=$(cat "$T/d1b.pid"); kill -TERM "$dpid"
i=0; until [ "$(awk '{print $3}' /proc/"$dpid"/stat 2>/dev/null)" = Z ]; do
    i=$((i + 1)); [ $i -le 500 ] || { kill -CONT "$ipid"; fail "daemon $dpid did not end on SIGTERM"; }; sleep 0.01
done
kill -TERM "$ipid"; kill -CONT "$ipid"; wait_exit "$ipid" 5
[ $rc -eq 0 ] || fail "stop before the PID file was read: init exited $rc, want 0: $(cat "$T/early.err")"
echo "ok: stop before the PID file was read"

# 2. Double fork, no PID file: the only child left is the daemon; killing
#    it ends the init with 128+9.
start_init double --type forking -- "$D" -2 -P "$T/d2.pid" -p $((port + 1))
wait_answer $((port + 1))
dpid=$(cat "$T/d2.pid")
kill -KILL "$dpid"; wait_exit "$ipid" 5
[ $rc -eq 137 ] || fail "double-forked daemon killed: init exited $rc, want 137: $(cat "$T/double.err")"
echo "ok: double fork followed as the only child"

# 3. A start command that fails: its status, and one line saying so.
start_init failstart --type forking -- "$D" -F
wait_exit "$ipid" 5
[ $rc -eq 3 ] || fail "failed start: init exited $rc, want 3"
grep -q "start command failed with status 3" "$T/failstart.err" || fail "no line about the failed start: $(cat "$T/failstart.err")"
echo "ok: failed start"

# 4. A daemon that dies after starting (PID file written late): its status.
start_init dies --type forking --pidfile "$T/d4.pid" -- "$D" -L -D 7 -p 0 -P "$T/d4.pid"
wait_exit "$ipid" 10
[ $rc -eq 7 ] || fail "dying daemon: init exited $rc, want 7: $(cat "$T/dies.err")"
echo "ok: daemon death status"

# 5. SIGTERM ignored: SIGKILL after the stop timeout.
start_init ignore --stop-timeout 1 --type forking --pidfile "$T/d5.pid" -- "$D" -I -p 0 -P "$T/d5.pid"
i=0; until [ -s "$T/d5.pid" ]; do i=$((i + 1)); [ $i -le 50 ] || fail "no PID file"; sleep 0.1; done
sleep 0.3
kill -TERM "$ipid"; wait_exit "$ipid" 6
[ $rc -eq 137 ] || fail "daemon ignoring SIGTERM: init exited $rc, want 137: $(cat "$T/ignore.err")"
echo "ok: SIGTERM ignored, SIGKILL after the grace"

# 6. Orphans are reaped: no zombie child of the init remains.
start_init zombies --type forking --pidfile "$T/d6.pid" -- "$D" -Z 8 -p 0 -P "$T/d6.pid"
sleep 1.5
z=$(ps -o stat= --ppid "$ipid" | grep -c Z)
[ "$z" -eq 0 ] || fail "$z zombies left under the init"
kill -TERM "$ipid"; wait_exit "$ipid" 5
[ $rc -eq 0 ] || fail "zombie test: init exited $rc"
echo "ok: orphans reaped"

# 7. PID 1 in its own PID and mount namespaces, /dev a tmpfs as in a
#    container: the daemon's syslog messages reach the init's stderr.
command -v unshare >/dev/null || skip "unshare (util-linux) missing"
unshare -m -p -f --mount-proc --propagation private sh -c \
    'mount -t tmpfs tmpfs /dev && : >/dev/null && exec "$0" "$@"' \
    "$INIT" --syslog /dev/log --type forking --pidfile "$T/d7.pid" -- "$D" -D 0 -p 0 -P "$T/d7.pid" 2>"$T/syslog.err"
rc=$?
[ $rc -eq 0 ] || fail "PID 1 run: exit $rc: $(cat "$T/syslog.err")"
grep -q "legacy_daemon\[[0-9]*\]: started as pid" "$T/syslog.err" || fail "syslog message not relayed: $(cat "$T/syslog.err")"
grep -q "dying with 0" "$T/syslog.err" || fail "second syslog message missing: $(cat "$T/syslog.err")"
echo "ok: syslog relay as PID 1"

# 8. Setup: a runtime directory owned as declared and a volume seeded once.
mkdir -p "$T/seed$T/vol/sub" "$T/vol"
echo hello >"$T/seed$T/vol/sub/f"; chown 1:2 "$T/seed$T/vol/sub/f"; chmod 0640 "$T/seed$T/vol/sub/f"
ln -s sub/f "$T/seed$T/vol/link"
printf 'dir 2750 1 2 %s/run/app\nseed %s/vol\n' "$T" "$T" >"$T/setup"
"$INIT" --setup "$T/setup" --seed-root "$T/seed" -- true 2>"$T/setup.err" || fail "setup run: $(cat "$T/setup.err")"
[ "$(stat -c '%a %u %g' "$T/run/app")" = "2750 1 2" ] || fail "runtime dir: $(stat -c '%a %u %g' "$T/run/app")"
[ "$(stat -c '%a %u %g' "$T/vol/sub/f")" = "640 1 2" ] && [ "$(cat "$T/vol/sub/f")" = hello ] || fail "seeded file: $(ls -lR "$T/vol")"
[ "$(readlink "$T/vol/link")" = sub/f ] || fail "seeded symlink"
echo changed >"$T/vol/sub/f"
"$INIT" --setup "$T/setup" --seed-root "$T/seed" -- true 2>>"$T/setup.err"
[ "$(cat "$T/vol/sub/f")" = changed ] || fail "a volume with content was seeded again"
echo "ok: runtime directories and volume seeds"

# 9. The service user, groups and capabilities.
out=$("$INIT" --user 65534:65534 --groups 65534,4 --caps CAP_NET_BIND_SERVICE -- sh -c 'id -u; id -G; grep ^CapEff /proc/self/status')
[ "$(echo "$out" | sed -n 1p)" = 65534 ] || fail "user: $out"
[ "$(echo "$out" | sed -n 2p)" = "65534 4" ] || fail "groups: $out"
echo "$out" | grep -q "CapEff:	0000000000000400" || fail "capabilities: $out"
echo "ok: user, groups, capabilities"

# 10. Exit statuses like a shell's, usage errors with one line and 2.
"$INIT" -- sh -c 'exit 5'; [ $? -eq 5 ] || fail "exit status not passed through"
"$INIT" -- sh -c 'kill -TERM $$'; [ $? -eq 143 ] || fail "signal death not 128+N"
"$INIT" -- /nonexistent/x 2>"$T/e"; [ $? -eq 127 ] || fail "missing command not 127"
grep -q "/nonexistent/x" "$T/e" || fail "no line naming the missing command"
"$INIT" -- /etc/passwd 2>/dev/null; [ $? -eq 126 ] || fail "non-executable not 126"
for bad in "--type bogus -- true" "--user nobody -- true" "--caps CAP_NOPE -- true" "--pidfile rel -- true" "" "--frob"; do
    # shellcheck disable=SC2086
    "$INIT" $bad 2>"$T/e"; rc=$?
    [ $rc -eq 2 ] && [ "$(wc -l <"$T/e")" -eq 1 ] || fail "bad arguments '$bad': exit $rc, $(cat "$T/e")"
done
echo "ok: exit statuses and usage errors"
echo "PASS"
