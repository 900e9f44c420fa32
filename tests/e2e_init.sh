#!/bin/sh
# decant-init end to end (docs/init.md): a SysV daemon that forks away
# (corpus/legacy_daemon, started by a start-stop-daemon init script with a
# PID file, a service user and a tmpfiles.d runtime directory, in a small
# guest built from the host's libraries) is converted with zero edits to its
# profile and runs under crun through `decant run` and from its OCI archive
# under `podman run`: it answers its client, its syslog messages reach the
# container's stderr, its runtime directory exists with its owner, and
# SIGTERM stops it with its status (0: it exits cleanly on SIGTERM).
# Env: DECANT, DECANT_BUILD, DECANT_SOURCE (set by CTest).
set -u
. "$DECANT_SOURCE/tests/lib.sh"
require_root "crun creates namespaces"
require_tool crun
require_tool podman
D="$DECANT_BUILD/corpus/legacy_daemon"
C="$DECANT_BUILD/corpus/legacy_client"
SHIM="$DECANT_BUILD/libdecant-shim.so"
[ -x "$D" ] && [ -x "$C" ] || fail "corpus not built ($D)"
[ -x "$DECANT_BUILD/decant-init" ] || fail "decant-init not built ($DECANT_BUILD/decant-init)"
[ -f "$SHIM" ] || skip "shim not built ($SHIM)"

tmp=$(mktemp -d /tmp/decant-e2e-init.XXXXXX) || fail "mktemp"
run_pid=""
P="podman --root $tmp/root --runroot $tmp/run --tmpdir $tmp/ptmp --runtime crun"
pm() { $P "$@"; }  # redefined below for hybrid cgroups
cleanup() {
    if [ -n "$run_pid" ]; then  # decant run stops its container itself (SIGKILL after its stop timeout)
        kill -TERM "$run_pid" 2>/dev/null
        i=0; while kill -0 "$run_pid" 2>/dev/null && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
        kill -9 "$run_pid" 2>/dev/null
    fi
    pm rm -af >/dev/null 2>&1
    pm system reset -f >/dev/null 2>&1
    umount "$tmp/root/overlay" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
cd "$tmp" || exit 1
port=$((20000 + ($$ + 211) % 12000))  # below the ephemeral range
# Parallel tests share the port space: take the next free pair (port, port+1).
while ss -Htan | awk '{print $4}' | grep -qE ":($port|$((port + 1)))\$"; do
    port=$((port + 2))
done
pport=$((port + 1))
# ask PORT: PING through the corpus client, which would wait 10 s for a
# silent server; a test must not.
ask() { timeout 3 "$C" -h 127.0.0.1 -p "$1" -c PING 2>/dev/null; }
# held PORT: who holds it, for a failure's message.
held() { ss -Htanp 2>/dev/null | grep ":$1 " || echo "port $1: nothing"; }

# 1. The guest: the daemon and its libraries, accounts, a SysV init script
#    started in runlevel 2, the runtime directory from tmpfiles.d, /var/run
#    a link to /run as on Debian.
g=guest
mkdir -p $g/etc/init.d $g/etc/rc2.d $g/usr/sbin $g/usr/lib/tmpfiles.d $g/run $g/var $g/sbin $g/tmp
cp "$D" $g/usr/sbin/legacyd
ldd "$D" | awk '/=> \//{print $3} /^\t\/lib/{print $1}' | while read -r lib; do
    mkdir -p "$g$(dirname "$lib")" && cp -L "$lib" "$g$lib"
done
ln -s /run $g/var/run
printf 'root:x:0:0:root:/root:/bin/sh\nlegacyd:x:120:120::/nonexistent:/usr/sbin/nologin\n' >$g/etc/passwd
printf 'root:x:0:\nadm:x:4:legacyd\nlegacyd:x:120:\n' >$g/etc/group
printf 'ID=debian\nVERSION_ID="11"\nPRETTY_NAME="decant init test guest"\n' >$g/etc/os-release
printf 'id:2:initdefault:\n' >$g/etc/inittab
printf 'd /run/legacyd 0750 legacyd legacyd -\n' >$g/usr/lib/tmpfiles.d/legacyd.conf
cat >$g/etc/init.d/legacyd <<EOF
#!/bin/sh
# A classic init script: the daemon forks away and writes its PID file.
NAME=legacyd
DAEMON=/usr/sbin/\$NAME
PIDFILE=/run/\$NAME/\$NAME.pid
DAEMON_OPTS="-p $port -P \$PIDFILE"
case "\$1" in
    start) start-stop-daemon --start --quiet --chuid legacyd --pidfile \$PIDFILE --exec \$DAEMON -- \$DAEMON_OPTS ;;
    stop) start-stop-daemon --stop --quiet --pidfile \$PIDFILE ;;
esac
EOF
chmod 755 $g/etc/init.d/legacyd
ln -s ../init.d/legacyd $g/etc/rc2.d/S01legacyd

# 2. Convert, and nothing else: the profile is used as written.
export SOURCE_DATE_EPOCH=1700000000
"$DECANT" convert $g --only legacyd -o out --shim "$SHIM" >convert.log 2>&1 || fail "convert: $(cat convert.log)"
grep -q "type: forking" out/legacyd/profile.yaml || fail "profile has no forking service: $(cat out/legacyd/profile.yaml)"
grep -q "pidfile: /run/legacyd/legacyd.pid" out/legacyd/profile.yaml || fail "profile lost the PID file"
[ -s out/legacyd/bundle/config.json ] || fail "no bundle: $(ls -R out | head -30)"
archive=$(ls out/legacyd/*.tar 2>/dev/null | head -1)
[ -n "$archive" ] || fail "no OCI archive in out/legacyd: $(ls out/legacyd)"

# 3. decant run: the daemon forks away, the init follows it and relays syslog.
"$DECANT" run out/legacyd/bundle >run.out 2>run.err &
run_pid=$!
i=0
until reply=$(ask "$port") && [ -n "$reply" ]; do
    i=$((i + 1))
    [ $i -lt 60 ] || fail "no answer under decant run: $(tail -5 run.err); $(held "$port")"
    kill -0 "$run_pid" 2>/dev/null || fail "decant run ended: $(tail -5 run.err)"
    sleep 0.1
done
case "$reply" in *PONG*) ;; *) fail "daemon answered '$reply'" ;; esac
sleep 0.3
grep -q "legacy_daemon\[[0-9]*\]: started as pid" run.err run.out || fail "syslog message not on the container's output: $(cat run.err)"
grep -q "legacy_daemon\[[0-9]*\]: connection" run.err run.out || fail "the client's syslog line is missing: $(cat run.err)"
kill -TERM "$run_pid"
i=0
while kill -0 "$run_pid" 2>/dev/null; do
    i=$((i + 1)); [ $i -lt 150 ] || fail "decant run did not stop on SIGTERM"
    sleep 0.1
done
wait "$run_pid"; rc=$?; run_pid=""
[ $rc -eq 0 ] || fail "SIGTERM: decant run exited $rc, want 0 (the daemon exits 0 on SIGTERM): $(tail -5 run.err)"
grep -q "stopping on SIGTERM" run.err run.out || fail "the daemon did not log its stop: $(tail -5 run.err)"
echo "ok: decant run follows the forking daemon"

# 4. podman run of the OCI archive: the same, on another port. podman on
#    storage of its own, with limits this host lets a container set.
mkdir -p "$tmp/ptmp"
podman_conf "$tmp"
# crun refuses cgroups in hybrid mode; run it, as `decant run` does, in a
# mount namespace without the cgroup2 mount.
hybrid=""
[ -d /sys/fs/cgroup/unified ] && mountpoint -q /sys/fs/cgroup/unified 2>/dev/null && hybrid=1
pm() {
    if [ -n "$hybrid" ]; then
        unshare -m sh -c 'umount -l /sys/fs/cgroup/unified && exec "$@"' sh $P "$@"
    else
        $P "$@"
    fi
}
pm info >/dev/null 2>podman.err || skip "podman does not work here: $(head -1 podman.err)"
pm load -i "$archive" >load.out 2>&1 || fail "podman load: $(cat load.out)"
img=$(sed -n 's/^Loaded image: //p' load.out | head -1)
[ -n "$img" ] || fail "podman load printed no image: $(cat load.out)"
pm run -d --name legacyd --network host "$img" -p "$pport" -P /run/legacyd/legacyd.pid \
    >cid 2>prun.err || fail "podman run: $(cat prun.err)"
i=0
until reply=$(ask "$pport") && [ -n "$reply" ]; do
    i=$((i + 1))
    [ $i -lt 60 ] || fail "no answer under podman: $(pm logs legacyd 2>&1 | tail -5); $(held "$pport")"
    sleep 0.1
done
case "$reply" in *PONG*) ;; *) fail "daemon under podman answered '$reply'" ;; esac
sleep 0.3
pm logs legacyd >plogs 2>&1
grep -q "legacy_daemon\[[0-9]*\]: started as pid" plogs || fail "syslog message not in podman logs: $(cat plogs)"
pm stop -t 10 legacyd >/dev/null 2>&1 || fail "podman stop"
code=$(pm inspect -f '{{.State.ExitCode}}' legacyd)
[ "$code" = 0 ] || fail "podman stop: exit code $code, want 0: $(cat plogs)"
echo "ok: podman run of the OCI archive"
echo PASS
