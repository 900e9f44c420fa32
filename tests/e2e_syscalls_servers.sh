#!/bin/sh
# Zero false negatives on real servers: starts redis-server, memcached,
# vsftpd and lighttpd from the cached Debian bullseye guest (chroot) under
# `strace -f`, drives each with a small real client workload, and checks that
# every syscall strace saw is in the allowlist `decant analyze` computed for
# that server. Prints, per server, observed / allowed / missing; fails on any
# missing syscall. Runs in a private mount namespace so the /proc and /dev
# mounts it makes inside the guest vanish with it, even on a crash; every
# step is under timeout, servers are killed by pid.
set -u
. "$DECANT_SOURCE/tests/lib.sh"

if [ -z "${E2E_SYSCALLS_IN_NS:-}" ]; then
    require_root "chroot into the guest"
    require_tool strace
    require_tool unshare
    require_tool python3
    require_tool curl
    guest=$(bullseye_guest) || exit $?
    export E2E_SYSCALLS_IN_NS=1 E2E_GUEST="$guest"
    # A private PID namespace too: when this script (its init) exits, the
    # kernel kills every server it started, whatever happened to strace.
    exec unshare -m --propagation private --pid --fork sh "$0" "$@"
fi

G=$E2E_GUEST
work=$(mktemp -d "$G/tmp/decant-e2e-syscalls.XXXXXX") || fail "mktemp in guest"
gwork=${work#"$G"}  # the same directory as the guest sees it
out=$(mktemp -d "${TMPDIR:-/tmp}/decant-e2e-syscalls.XXXXXX") || fail "mktemp"
strace_pid=""
cleanup() {
    [ -n "$strace_pid" ] && kill -KILL "$strace_pid" 2>/dev/null
    rm -rf "$work" "$out"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

mount -t proc proc "$G/proc" || skip "cannot mount /proc in the guest"
mount --bind /dev "$G/dev" || skip "cannot bind /dev in the guest"

compare="$DECANT_SOURCE/tests/e2e_syscalls_compare.py"
failures=""
# Below the kernel's ephemeral range (32768-60999): a client's local port elsewhere
# in the suite can never hold a port a server here must bind.
port_base=$(($(od -An -N2 -tu2 /dev/urandom) % 12000 + 20000))

# wait_port PORT: up to 10 s for something to listen on 127.0.0.1:PORT.
wait_port() {
    python3 - "$1" <<'EOF'
import socket, sys, time
for _ in range(100):
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.2).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit(1)
EOF
}

# start NAME PROGRAM ARGS...: PROGRAM (a guest path) under strace in the guest.
start() {
    name=$1
    shift
    timeout -s KILL 90 strace -f -qq -o "$out/$name.strace" chroot "$G" "$@" \
        >"$out/$name.out" 2>"$out/$name.err" &
    strace_pid=$!
}

# stop: TERM the server, then wait for strace. $strace_pid is the timeout
# wrapper: strace is its child and the (chroot-exec'd) server strace's.
stop() {
    tracer=$(ps -o pid= --ppid "$strace_pid" | head -n 1 | tr -d ' ')
    server=""
    [ -n "$tracer" ] && server=$(ps -o pid= --ppid "$tracer" | head -n 1 | tr -d ' ')
    [ -n "$server" ] && kill -TERM "$server" 2>/dev/null
    i=0
    while kill -0 "$strace_pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    kill -KILL "$strace_pid" 2>/dev/null
    wait "$strace_pid" 2>/dev/null
    strace_pid=""
}

# check NAME PROGRAM: analyze PROGRAM in the guest and compare with strace.
check() {
    "$DECANT" analyze --root "$G" "$2" --format json >"$out/$1.json" 2>"$out/$1.analyze.err" ||
        { cat "$out/$1.analyze.err" >&2; failures="$failures $1(analyze)"; return; }
    python3 "$compare" "$1" "$out/$1.strace" "$out/$1.json" "$2" || failures="$failures $1"
}

# --- redis-server: PING, SET/GET, INCR, a foreground SAVE and a BGSAVE fork.
port=$((port_base + 1))
mkdir -p "$work/redis"
start redis /usr/bin/redis-server --port "$port" --bind 127.0.0.1 --dir "$gwork/redis" \
    --appendonly yes --daemonize no --logfile "$gwork/redis/log"
if wait_port "$port"; then
    for cmd in "PING" "SET k v" "GET k" "INCR n" "LPUSH l a b c" "LRANGE l 0 -1" "SAVE" "BGSAVE" "INFO"; do
        # shellcheck disable=SC2086
        timeout 10 chroot "$G" /usr/bin/redis-cli -p "$port" $cmd >>"$out/redis.client" 2>&1
    done
    sleep 1  # let the BGSAVE child finish
    grep -q PONG "$out/redis.client" || failures="$failures redis(workload)"
    timeout 10 chroot "$G" /usr/bin/redis-cli -p "$port" SHUTDOWN NOSAVE >/dev/null 2>&1
else
    failures="$failures redis(start)"
    cat "$out/redis.err" >&2
fi
stop
check redis /usr/bin/redis-server

# --- memcached: set/get/incr/stats over its text protocol.
port=$((port_base + 2))
start memcached /usr/bin/memcached -u root -l 127.0.0.1 -p "$port" -U 0 -t 2
if wait_port "$port"; then
    python3 - "$port" >"$out/memcached.client" 2>&1 <<'EOF' || failures="$failures memcached(workload)"
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 5)
s.sendall(b"set k 0 0 5\r\nhello\r\nget k\r\nset n 0 0 1\r\n1\r\nincr n 5\r\nstats\r\nquit\r\n")
data = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
print(data.decode(errors="replace"))
sys.exit(0 if b"hello" in data and b"STAT pid" in data else 1)
EOF
else
    failures="$failures memcached(start)"
    cat "$out/memcached.err" >&2
fi
stop
check memcached /usr/bin/memcached

# --- lighttpd: static file, index, 404, directory listing.
port=$((port_base + 3))
mkdir -p "$work/www/dir"
echo "hello from lighttpd" >"$work/www/index.html"
echo "file" >"$work/www/dir/a.txt"
cat >"$work/lighttpd.conf" <<EOF
server.modules = ("mod_indexfile", "mod_access", "mod_alias", "mod_redirect", "mod_dirlisting", "mod_staticfile")
server.document-root = "$gwork/www"
server.port = $port
server.bind = "127.0.0.1"
server.errorlog = "$gwork/lighttpd.error.log"
server.pid-file = "$gwork/lighttpd.pid"
index-file.names = ("index.html")
dir-listing.activate = "enable"
mimetype.assign = (".html" => "text/html", ".txt" => "text/plain")
EOF
start lighttpd /usr/sbin/lighttpd -D -f "$gwork/lighttpd.conf"
if wait_port "$port"; then
    for path in / /index.html /dir/ /dir/a.txt /missing; do
        curl -s -m 5 "http://127.0.0.1:$port$path" >>"$out/lighttpd.client" 2>&1
    done
    grep -q "hello from lighttpd" "$out/lighttpd.client" || failures="$failures lighttpd(workload)"
else
    failures="$failures lighttpd(start)"
    cat "$out/lighttpd.err" >&2
fi
stop
check lighttpd /usr/sbin/lighttpd

# --- vsftpd: anonymous login, directory listing, a download.
port=$((port_base + 4))
mkdir -p "$work/ftp/pub" "$work/empty"
chmod 555 "$work/ftp"
echo "ftp file" >"$work/ftp/pub/f.txt"
cat >"$work/vsftpd.conf" <<EOF
listen=YES
listen_ipv6=NO
listen_port=$port
listen_address=127.0.0.1
background=NO
anonymous_enable=YES
local_enable=NO
anon_root=$gwork/ftp
no_anon_password=YES
secure_chroot_dir=$gwork/empty
pasv_enable=YES
pasv_min_port=$((port + 1))
pasv_max_port=$((port + 20))
xferlog_enable=NO
EOF
start vsftpd /usr/sbin/vsftpd "$gwork/vsftpd.conf"
if wait_port "$port"; then
    curl -s -m 10 "ftp://127.0.0.1:$port/pub/" >>"$out/vsftpd.client" 2>&1
    curl -s -m 10 "ftp://127.0.0.1:$port/pub/f.txt" >>"$out/vsftpd.client" 2>&1
    grep -q "ftp file" "$out/vsftpd.client" || failures="$failures vsftpd(workload)"
else
    failures="$failures vsftpd(start)"
    cat "$out/vsftpd.err" >&2
fi
stop
check vsftpd /usr/sbin/vsftpd

# Default listen ports, from the guest's configuration files (config hints)
# or the code: printed with their first evidence.
listen_check() {  # listen_check NAME PORT
    python3 - "$out/$1.json" "$2" <<'EOF' || failures="$failures $1(listen $2)"
import json, sys
p = json.load(open(sys.argv[1]))
hits = [f for f in p.get("network", {}).get("listen", []) if f.get("port") == int(sys.argv[2])]
name = sys.argv[1].rsplit("/", 1)[-1][:-5]
print(f"{name}: network.listen port {sys.argv[2]}: " + ("; ".join(hits[0]["evidence"][:2]) if hits else "MISSING"))
sys.exit(0 if hits else 1)
EOF
}
listen_check redis 6379
listen_check memcached 11211
listen_check lighttpd 80
listen_check vsftpd 21

[ -z "$failures" ] || fail "syscalls missing or workload failed:$failures"
echo "ok: every observed syscall is allowed for redis-server, memcached, lighttpd and vsftpd"
