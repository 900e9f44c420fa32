#!/bin/sh
# What a service really opens, against what decant packaged: each service
# `decant convert` discovers in the bullseye guest runs natively, as its VM
# ran it (a chroot of the guest through an overlay, so the cached guest is
# never written; its own network and PID namespaces; /run a tmpfs that
# systemd-tmpfiles fills from the guest's tmpfiles.d, the unit's
# RuntimeDirectory= made; systemd's environment), under `strace -f`
# with its client as workload. Then every shared object it opened must be in
# its profile's libraries (or its files, for modules read as files), every
# file it opened successfully that the guest has must be in its image's
# rootfs, every program it executed too, and every file it created must
# have its directory in the image. Misses are printed per service; the test
# passes with none. /proc, /sys and /dev are the kernel's and the
# runtime's, not the image's.
set -u
. "$DECANT_SOURCE/tests/lib.sh"
require_root "the guest, overlay mounts and namespaces"
require_tool strace
require_tool unshare
require_tool systemd-tmpfiles
require_tool python3
GUEST=$(bullseye_guest) || exit $?
SHIM="$DECANT_BUILD/libdecant-shim.so"
[ -f "$SHIM" ] || skip "shim not built ($SHIM): build target decant_shim"
tmp=$(mktemp -d /tmp/decant-e2e-strace.XXXXXX) || fail "mktemp"
cleanup() {
    for m in $(awk -v t="$tmp" '$2 ~ "^"t {print $2}' /proc/mounts | sort -r); do umount -l "$m" 2>/dev/null; done
    rm -rf "$tmp"
}
[ -n "${DECANT_KEEP:-}" ] || trap cleanup EXIT
cd "$tmp" || exit 1
export SOURCE_DATE_EPOCH=1700000000
"$DECANT" convert "$GUEST" -o out --shim "$SHIM" --format bundle -j 2 -q 2>convert.log ||
    fail "convert: $(tail -5 convert.log)"

# native NAME PORT REQUEST: runs NAME's entrypoint (as its profile's user,
# with the environment systemd would give it) in the guest under strace; its client greets PORT (none when PORT is 0)
# and the service gets 2 s more before everything in its PID namespace is
# killed. strace writes trace/NAME.PID.
native() {
    name=$1 port=$2 request=${3:-}
    mkdir -p "up-$name" "work-$name" "root-$name" trace
    python3 - "out/$name/bundle/rootfs/.decant/profile.json" >"cmd-$name" <<'PY' || fail "$name: no entrypoint"
import json, shlex, sys
p = json.load(open(sys.argv[1]))
user = p.get("user") or ""
# chroot's options, then the command, shell-quoted for the run script.
print(f"--userspec={user}:{p.get('group') or user}" if user and user != "root" else "")
print(" ".join(shlex.quote(a) for a in p["entrypoint"]))
# The environment systemd gives a service: PATH and the unit's, no more.
env = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
env += [f"{k}={v}" for k, v in sorted((p.get("env") or {}).items())]
print("ENV " + " ".join(shlex.quote(e) for e in env))
# What systemd creates before the start (RuntimeDirectory=), as mkdir lines.
for d in (p.get("service") or {}).get("runtime_directories") or []:
    print(f"RUNTIME_DIR {d} {user or 'root'}")
PY
    cat >"run-$name.sh" <<EOF
set -u
mount -t overlay overlay -o "lowerdir=$GUEST,upperdir=$tmp/up-$name,workdir=$tmp/work-$name" "$tmp/root-$name" || exit 3
mount -t proc proc "$tmp/root-$name/proc" && mount --rbind /dev "$tmp/root-$name/dev" && mount -t sysfs sys "$tmp/root-$name/sys" || exit 3
mount -t tmpfs tmpfs "$tmp/root-$name/run" || exit 3
# The VM's boot: systemd-tmpfiles creates /run/lock, /run/named ...
systemd-tmpfiles --root="$tmp/root-$name" --create --boot >/dev/null 2>&1
grep '^RUNTIME_DIR ' "cmd-$name" | while read -r _ dir owner; do
    mkdir -p "$tmp/root-$name\$dir" && chroot "$tmp/root-$name" chown "\$owner" "\$dir"
done
ip link set lo up
strace -f -ff -qq -s 512 -e trace=open,openat,execve,chroot,mkdir,mkdirat -o "$tmp/trace/$name" env -i $(sed -n 's/^ENV //p' "cmd-$name") chroot $(sed -n 1p "cmd-$name") "$tmp/root-$name" $(sed -n 2p "cmd-$name") >"$tmp/out-$name.log" 2>&1 &
if [ "$port" != 0 ]; then
    i=0
    until python3 "$DECANT_SOURCE/tests/greet.py" 127.0.0.1 "$port" "$request" >"$tmp/greet-$name.txt" 2>&1; do
        i=\$((i + 1)); [ \$i -lt 60 ] || { echo "no answer on $port" >"$tmp/greet-$name.txt"; break; }
        sleep 0.5
    done
fi
sleep 2
kill -9 -1 2>/dev/null
wait
EOF
    unshare -m -n -p -f --propagation private sh "run-$name.sh" >"ns-$name.log" 2>&1
    [ $? = 3 ] && fail "$name: cannot set up its chroot: $(cat "ns-$name.log")"
    echo "$name: $(head -1 "greet-$name.txt" 2>/dev/null)"
}

native ssh 22
native vsftpd 21 ftp-login:root:wrong-password
native xinetd 873
native squid 3128 'GET / HTTP/1.0\r\n\r\n'
native named 53 dns:localhost
native memcached 11211 'version\r\n'
native apache2 80 'GET / HTTP/1.0\r\n\r\n'
native lighttpd 80 'GET / HTTP/1.0\r\n\r\n'
native redis-server 6379 'PING\r\n'
native cron 0
native rsyslog 0

python3 "$DECANT_SOURCE/tests/e2e_strace_compare.py" --known "$DECANT_SOURCE/tests/data/strace_known_misses.txt" "$GUEST" out trace \
    ssh vsftpd xinetd squid named memcached apache2 lighttpd redis-server cron rsyslog ||
    fail "services opened what their images lack (above)"
echo "PASS: e2e.strace_files"
