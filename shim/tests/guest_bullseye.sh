#!/bin/sh
# The shim inside a real Debian bullseye guest (glibc 2.31, binaries that
# import the pre-2.33 __xstat family): redis-server and lighttpd run chrooted
# into an overlay of the cached guest (so the cache is never written), each
# with a port redirect and path redirects, and are talked to from inside the
# guest (redis-cli under the shim, which follows the same port rule) and from
# the host on the remapped ports. Everything runs in private mount and PID
# namespaces, so mounts vanish and servers die when the test ends.
# Needs root, unshare, overlayfs and a guest from scripts/guest.sh.
set -u
if [ "${1:-}" = inner ]; then
  # ---- inside the namespaces: $2 = guest, $3 = work dir ----
  G=$2
  W=$3
  fail() { echo "FAIL: $*" >&2; for f in "$W"/*.log "$R"/mnt/data/*.log; do [ -s "$f" ] && { echo "--- $f" >&2; tail -15 "$f" >&2; }; done; exit 1; }
  ok() { echo "ok: $*"; }
  R=$W/root
  mkdir -p "$W/upper" "$W/work" "$R"
  mount -t overlay overlay -o "lowerdir=$G,upperdir=$W/upper,workdir=$W/work" "$R" || exit 77
  mount -t proc proc "$R/proc" || fail "mount proc"
  mount --rbind /dev "$R/dev" || fail "bind /dev"
  mount -t tmpfs tmpfs "$R/mnt" || fail "tmpfs on /mnt"
  mkdir -p "$R/mnt/decant" "$R/mnt/data/redis" "$R/mnt/data/redis-log" "$R/mnt/data/www" "$R/mnt/data/lighttpd-log" \
    "$R/mnt/data/cache" "$R/mnt/data/run"
  chmod -R 777 "$R/mnt/data"
  cp "$SHIM" "$R/mnt/decant/libdecant-shim.so"
  cp "$W/redis.plan" "$W/lighttpd.plan" "$R/mnt/decant/"
  echo "hello from a redirected document root" >"$R/mnt/data/www/index.html"
  in_guest() { # PLAN CMD...: run CMD in the guest with the shim
    _p=$1
    shift
    chroot "$R" /usr/bin/env LD_PRELOAD=/mnt/decant/libdecant-shim.so DECANT_PLAN=/mnt/decant/$_p.plan "$@"
  }

  # redis-server: port 6379 -> $REDIS_PORT, dir and log redirected.
  in_guest redis /usr/bin/redis-server /etc/redis/redis.conf --daemonize no >"$W/redis.log" 2>&1 &
  i=0
  until [ "$(printf 'PING\r\n' | timeout 2 nc -N 127.0.0.1 "$REDIS_PORT" 2>/dev/null | tr -d '\r')" = "+PONG" ]; do
    i=$((i + 1))
    [ $i -lt 300 ] || fail "redis-server does not answer on the remapped port $REDIS_PORT"
    sleep 0.1
  done
  ok "redis-server (bullseye) listens on $REDIS_PORT instead of 6379; PING from the host answers +PONG"
  out=$(in_guest redis timeout 10 /usr/bin/redis-cli -p 6379 SET decant works)
  [ "$out" = OK ] || fail "redis-cli SET through the port rule: $out"
  out=$(in_guest redis timeout 10 /usr/bin/redis-cli GET decant)
  [ "$out" = works ] || fail "redis-cli GET: $out"
  ok "redis-cli in the guest talks to 6379 and reaches it"
  out=$(in_guest redis timeout 10 /usr/bin/redis-cli SAVE)
  [ "$out" = OK ] || fail "SAVE: $out"
  [ -s "$R/mnt/data/redis/dump.rdb" ] || fail "dump.rdb is not at the redirect target"
  [ ! -e "$W/upper/var/lib/redis/dump.rdb" ] || fail "dump.rdb also written at the original path"
  ok "SAVE wrote /var/lib/redis/dump.rdb to /mnt/data/redis/dump.rdb"
  grep -q 'Ready to accept connections' "$R/mnt/data/redis-log/redis-server.log" ||
    fail "redis log not at the redirect target"
  ok "redis logs to the redirected /var/log/redis"
  in_guest redis timeout 10 /usr/bin/redis-cli SHUTDOWN NOSAVE >/dev/null 2>&1

  # lighttpd: port 80 -> $HTTP_PORT, document root, logs, pid, cache redirected.
  in_guest lighttpd /usr/sbin/lighttpd -D -f /etc/lighttpd/lighttpd.conf >"$W/lighttpd.log" 2>&1 &
  i=0
  until out=$(curl -s --max-time 2 "http://127.0.0.1:$HTTP_PORT/"); do
    i=$((i + 1))
    [ $i -lt 300 ] || fail "lighttpd does not answer on the remapped port $HTTP_PORT"
    sleep 0.1
  done
  [ "$out" = "hello from a redirected document root" ] || fail "lighttpd served: $out"
  ok "lighttpd (bullseye) serves /var/www/html from /mnt/data/www on $HTTP_PORT instead of 80"
  out=$(in_guest lighttpd timeout 10 curl -s http://localhost:80/index.html)
  [ "$out" = "hello from a redirected document root" ] || fail "curl in the guest to port 80: $out"
  ok "curl in the guest reaches http://localhost:80 through the port rule (getaddrinfo + connect)"
  [ -s "$R/mnt/data/run/lighttpd.pid" ] || fail "lighttpd pid file not at the redirect target"
  [ ! -e "$W/upper/run/lighttpd.pid" ] || fail "pid file also written at /run"
  ok "pid file went to the redirect target"
  exit 0
fi

# ---- outside: prerequisites, plans, then the namespaced part ----
. "$(dirname "$0")/lib.sh"
: "${SOURCE_DIR:?}"
[ "$(id -u)" = 0 ] || skip "needs root (chroot, mounts)"
command -v unshare >/dev/null || skip "unshare not installed"
command -v curl >/dev/null || skip "curl not installed on the host"
command -v nc >/dev/null || skip "nc not installed on the host"
grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null
grep -qw overlay /proc/filesystems || skip "kernel without overlayfs"
guest=$(sh "$SOURCE_DIR/scripts/guest.sh" bullseye 2>"$tmp/guest.err")
rc=$?
[ $rc = 77 ] && skip "guest: $(cat "$tmp/guest.err")"
[ $rc = 0 ] || skip "cannot build the bullseye guest (network?): $(tail -3 "$tmp/guest.err")"

REDIS_PORT=$(free_port)
HTTP_PORT=$(free_port)
export REDIS_PORT HTTP_PORT SHIM
{ profile_head redis
  echo "redirects:"
  echo "  paths: [{from: /var/lib/redis, to: /mnt/data/redis}, {from: /var/log/redis, to: /mnt/data/redis-log},"
  echo "          {from: /run/redis, to: /mnt/data/run}, {from: /var/run/redis, to: /mnt/data/run}]"
  echo "  ports: [{from: 6379, to: $REDIS_PORT, proto: tcp}]"
} >"$tmp/redis.yaml"
plan redis
{ profile_head lighttpd
  echo "redirects:"
  echo "  paths: [{from: /var/www/html, to: /mnt/data/www}, {from: /var/log/lighttpd, to: /mnt/data/lighttpd-log},"
  echo "          {from: /run/lighttpd.pid, to: /mnt/data/run/lighttpd.pid}, {from: /var/cache/lighttpd, to: /mnt/data/cache}]"
  echo "  ports: [{from: 80, to: $HTTP_PORT, proto: tcp}]"
} >"$tmp/lighttpd.yaml"
plan lighttpd

timeout 100 unshare --mount --pid --fork --propagation private sh "$0" inner "$guest" "$tmp"
rc=$?
[ $rc = 77 ] && skip "cannot mount an overlay of the guest here"
[ $rc = 0 ] || fail "guest test failed (exit $rc)"
echo "PASS: shim.guest_bullseye"
