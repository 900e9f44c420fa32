#!/bin/sh
# Packaging benchmark (issue 5): for redis-server, memcached, lighttpd and
# vsftpd from the cached Debian bullseye guest, measures the time of
# `decant analyze` + `decant package --format oci-archive` in minimal and in
# system mode and the image sizes, side by side with ReproZip's pack of the
# same server run under a small real workload (.rpz size, pack time) and with
# a gzip tarball of the whole guest (computed once). Prints one table with the
# goal checks of issue 5 (minimal image < 5% of the guest tarball, no larger
# than ReproZip's .rpz, packaged in < 2 s). Reports; asserts nothing.
# Run: `ninja -C build bench-package`, or as root:
#   DECANT=build/decant sh bench/package_bench.sh
# Env: DECANT (default $DECANT_SOURCE/build/decant), DECANT_SOURCE (default
# the checkout holding this script), BENCH_GUEST (default scripts/guest.sh),
# BENCH_SERVERS (default "redis-server memcached lighttpd vsftpd"), BENCH_KEEP=1
# (keep the scratch directory: logs, profiles, reprozip's traces).
#
# How ReproZip is run: `reprozip trace` follows paths literally and does not
# model chroot(2): around `chroot GUEST /usr/bin/redis-server` it records the
# chroot binary and then resolves every later path against the *host* (the
# host's glibc gets packed, the guest's libraries and the server binary are
# "missing"), so that .rpz would not be the guest's server at all. The bench
# therefore starts the guest's server without chroot, through the guest's own
# ld.so (`GUEST/lib/x86_64-linux-gnu/ld-2.31.so --library-path GUEST/lib...
# GUEST/usr/bin/redis-server ...`): the same binary and libraries, paths
# ReproZip can follow; the configuration is the guest's (redis) or the plain
# one decant packages (lighttpd) with ports and writable paths moved into a
# scratch directory. ReproZip also adds the
# explicitly run ld.so and the host's ELF loaders to the pack.
# Nothing is mounted and the cached guest is never written: decant and the
# servers use a hard-linked copy (lighttpd.conf replaced by a plain one, as in
# tests/e2e_package_debian.sh); servers write only into a scratch directory;
# every step runs under timeout and servers are stopped by pid.
set -u

DECANT_SOURCE=${DECANT_SOURCE:-$(cd "$(dirname "$0")/.." && pwd)}
DECANT=${DECANT:-$DECANT_SOURCE/build/decant}
SERVERS=${BENCH_SERVERS:-redis-server memcached lighttpd vsftpd}

die() { echo "package_bench: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "needs root (reads every guest file, runs the guest's servers)"
[ -x "$DECANT" ] || die "decant binary not found at $DECANT (set DECANT)"
for t in jq tar gzip curl nc timeout awk; do
    command -v $t >/dev/null 2>&1 || die "$t not installed (scripts/install-deps.sh)"
done
GUEST=${BENCH_GUEST:-$(sh "$DECANT_SOURCE/scripts/guest.sh" bullseye)} || die "no bullseye guest"
[ -x "$GUEST/usr/bin/redis-server" ] || die "guest at $GUEST has no redis-server"
if command -v reprozip >/dev/null 2>&1; then have_rz=1; else have_rz=0; fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/decant-package-bench.XXXXXX") || die "mktemp"
tpid=""
# kill_tree PID: PID and its descendants, deepest first, each by its pid.
kill_tree() {
    for _c in $(ps -o pid= --ppid "$1" 2>/dev/null); do kill_tree "$_c"; done
    kill -KILL "$1" 2>/dev/null
}
cleanup() {
    [ -n "$tpid" ] && kill_tree "$tpid"
    if [ -n "${BENCH_KEEP:-}" ]; then echo "package_bench: kept $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
size() { stat -c %s "$1" 2>/dev/null || echo 0; }

# The guest as decant and the servers see it: hard links, no data copied.
G=$tmp/guest
cp -al "$GUEST" "$G" 2>/dev/null || cp -a "$GUEST" "$G" || die "cannot copy the guest"
rm -f "$G/etc/lighttpd/lighttpd.conf"
cat >"$G/etc/lighttpd/lighttpd.conf" <<'EOF'
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

# --- the whole guest as a gzip tarball (once, from the cached guest itself).
guest_du=$(du -sb "$GUEST" | cut -f1)
t0=$(now)
tar -C "$GUEST" -czf "$tmp/guest.tar.gz" . 2>"$tmp/guest.tar.err"
t1=$(now)
guest_tgz=$(size "$tmp/guest.tar.gz")
guest_tgz_s=$(secs "$t0" "$t1")

# --- decant: analyze (cold code cache, then warm), consultant's edits, package.
ev='["user: package_bench"]'
edit_profile() { # NAME RAW OUT
    case $1 in
    redis-server) jq --argjson ev "$ev" '.user = "redis"
        | .entrypoint = ["/usr/bin/redis-server", "/etc/redis/redis.conf", "--daemonize", "no"]
        | .files += [{"path": "/etc/redis/redis.conf", "access": "read", "evidence": $ev},
                     {"path": "/var/lib/redis", "access": "write", "evidence": $ev},
                     {"path": "/var/log/redis", "access": "write", "evidence": $ev}]' "$2" ;;
    memcached) jq '.user = "memcache"
        | .entrypoint = ["/usr/bin/memcached", "-u", "memcache", "-l", "127.0.0.1", "-p", "11211"]' "$2" ;;
    lighttpd) jq --argjson ev "$ev" '
          .entrypoint = ["/usr/sbin/lighttpd", "-D", "-f", "/etc/lighttpd/lighttpd.conf"]
        | .files += [{"path": "/etc/lighttpd/lighttpd.conf", "access": "read", "evidence": $ev},
                     {"path": "/usr/lib/lighttpd", "access": "read", "evidence": $ev},
                     {"path": "/var/www/html", "access": "read", "evidence": $ev},
                     {"path": "/var/log/lighttpd", "access": "write", "evidence": $ev}]' "$2" ;;
    vsftpd) jq --argjson ev "$ev" '
          .entrypoint = ["/usr/sbin/vsftpd", "/etc/vsftpd.conf"]
        | .files += [{"path": "/srv/ftp", "access": "read", "evidence": $ev}]' "$2" ;;
    esac >"$3.tmp" || return 1
    # Files the code names but this guest lacks (optional config files such as
    # vsftpd.banned_emails) are marked optional, as a consultant would.
    _missing=$(jq -r '.files[]?.path' "$3.tmp" | while IFS= read -r p; do
        [ -e "$G$p" ] || [ -L "$G$p" ] || printf '%s\n' "$p"; done | jq -R . | jq -s .)
    jq --argjson m "$_missing" '.files |= map(if (.path as $p | any($m[]; . == $p)) then .optional = true else . end)' \
        "$3.tmp" >"$3"
}
binary_of() {
    case $1 in
    redis-server | memcached) echo "/usr/bin/$1" ;;
    *) echo "/usr/sbin/$1" ;;
    esac
}

bench_decant() { # NAME
    n=$1
    bin=$(binary_of "$n")
    cache=$tmp/cache-$n # fresh per server: nothing reused from the one before
    mkdir -p "$cache"
    t0=$(now)
    DECANT_CACHE="$cache" timeout 300 "$DECANT" analyze --root "$G" "$bin" --format json -o "$tmp/$n.raw" \
        >/dev/null 2>"$tmp/$n.analyze.err" || { echo "analyze $n failed: $(tail -2 "$tmp/$n.analyze.err")" >&2; return 1; }
    t1=$(now)
    DECANT_CACHE="$cache" timeout 300 "$DECANT" analyze --root "$G" "$bin" --format json -o "$tmp/$n.raw2" \
        >/dev/null 2>&1
    t2=$(now)
    eval "an_cold_$2=\$(secs $t0 $t1) an_warm_$2=\$(secs $t1 $t2)"
    edit_profile "$n" "$tmp/$n.raw" "$tmp/$n.json" || { echo "profile edit $n failed" >&2; return 1; }
    for mode in minimal system; do
        t0=$(now)
        timeout 600 "$DECANT" package "$tmp/$n.json" --root "$G" --format oci-archive --mode $mode \
            -o "$tmp/$n.$mode.tar" -q >"$tmp/$n.$mode.out" 2>"$tmp/$n.$mode.err" ||
            echo "package $n $mode failed: $(tail -2 "$tmp/$n.$mode.err")" >&2
        t1=$(now)
        eval "pk_${mode}_$2=\$(secs $t0 $t1) img_${mode}_$2=\$(size $tmp/$n.$mode.tar)"
        rm -f "$tmp/$n.$mode.tar"
    done
}

# --- ReproZip: trace the guest's server under a workload, then pack.
LD=$G/lib/x86_64-linux-gnu/ld-2.31.so
if [ ! -x "$LD" ]; then
    for LD in "$G"/lib/x86_64-linux-gnu/ld-*.so*; do break; done
fi
LP=$G/lib/x86_64-linux-gnu:$G/usr/lib/x86_64-linux-gnu
guest_exec() { # GUEST-PATH ARGS...: the guest's program on the host, through the guest's ld.so
    _p=$1
    shift
    "$LD" --library-path "$LP" "$G$_p" "$@"
}
W=$tmp/work
mkdir -p "$W"
export HOME="$tmp/home" REPROZIP_USAGE_STATS=off REPROZIP_NO_LOGFILE=1
mkdir -p "$HOME"
port_base=$(($(od -An -N2 -tu2 /dev/urandom) % 20000 + 30000))

wait_port() { # PORT: up to 10 s for a listener on 127.0.0.1:PORT
    _i=0
    while [ $_i -lt 100 ]; do
        nc -z -w 1 127.0.0.1 "$1" 2>/dev/null && return 0
        sleep 0.1
        _i=$((_i + 1))
    done
    return 1
}
# stop_trace: TERM the traced server (reprozip's child), wait for the trace.
stop_trace() {
    _rz=$(ps -o pid= --ppid "$tpid" | head -n 1 | tr -d ' ')
    _srv=""
    [ -n "$_rz" ] && _srv=$(ps -o pid= --ppid "$_rz" | head -n 1 | tr -d ' ')
    [ -n "$_srv" ] && kill -TERM "$_srv" 2>/dev/null
    _i=0
    while kill -0 "$tpid" 2>/dev/null && [ $_i -lt 150 ]; do sleep 0.1; _i=$((_i + 1)); done
    kill -0 "$tpid" 2>/dev/null && kill_tree "$tpid"
    wait "$tpid" 2>/dev/null
    tpid=""
}
ftp_user() { # a host account with an existing home: vsftpd's anonymous user
    { awk -F: '$1 == "daemon" && $3 != 0 { print $1 " " $6 }' /etc/passwd
      awk -F: '$3 != 0 { print $1 " " $6 }' /etc/passwd; } | while read -r u h; do
        [ -d "$h" ] && { echo "$u"; break; }
    done
}

bench_reprozip() { # NAME VAR
    n=$1
    v=$2
    port=$((port_base + $(echo "$SERVERS" | tr ' ' '\n' | grep -n "^$n\$" | cut -d: -f1) * 25))
    d=$W/$n
    mkdir -p "$d"
    case $n in
    redis-server)
        # The guest's redis.conf with its paths moved to the scratch directory
        # (redis opens the configured log file while parsing, before any
        # command-line override applies).
        grep -v -E '^[[:space:]]*(port|bind|daemonize|supervised|dir|logfile|pidfile|unixsocket)[[:space:]]' \
            "$G/etc/redis/redis.conf" >"$d/redis.conf"
        printf 'port %s\nbind 127.0.0.1\ndaemonize no\nsupervised no\ndir %s\nlogfile %s\npidfile %s\n' \
            "$port" "$d" "$d/redis.log" "$d/redis.pid" >>"$d/redis.conf"
        set -- /usr/bin/redis-server "$d/redis.conf" ;;
    memcached) set -- /usr/bin/memcached -u root -l 127.0.0.1 -p "$port" -U 0 ;;
    lighttpd)
        cat >"$d/lighttpd.conf" <<EOF
server.modules = ( "mod_indexfile", "mod_access", "mod_dirlisting", "mod_staticfile" )
server.document-root = "$G/var/www/html"
server.errorlog      = "$d/error.log"
server.pid-file      = "$d/lighttpd.pid"
server.bind          = "127.0.0.1"
server.port          = $port
index-file.names     = ( "index.html", "index.lighttpd.html" )
mimetype.assign      = ( ".html" => "text/html" )
EOF
        set -- /usr/sbin/lighttpd -D -m "$G/usr/lib/lighttpd" -f "$d/lighttpd.conf" ;;
    vsftpd)
        mkdir -p "$d/ftp/pub" "$d/empty"
        echo "ftp file" >"$d/ftp/pub/f.txt"
        chmod 555 "$d/ftp"
        cat >"$d/vsftpd.conf" <<EOF
listen=YES
listen_ipv6=NO
listen_port=$port
listen_address=127.0.0.1
background=NO
anonymous_enable=YES
local_enable=NO
anon_root=$d/ftp
ftp_username=$(ftp_user)
nopriv_user=nobody
no_anon_password=YES
secure_chroot_dir=$d/empty
pasv_enable=YES
pasv_min_port=$((port + 1))
pasv_max_port=$((port + 20))
xferlog_enable=NO
EOF
        set -- /usr/sbin/vsftpd "$d/vsftpd.conf" ;;
    esac
    _prog=$1
    shift
    t0=$(now)
    timeout -s KILL 120 reprozip trace --overwrite -d "$d/trace" "$LD" --library-path "$LP" "$G$_prog" "$@" \
        >"$d/trace.out" 2>"$d/trace.err" </dev/null &
    tpid=$!
    ok=no
    if wait_port "$port"; then
        case $n in
        redis-server)
            for c in PING "SET k v" "GET k"; do
                # shellcheck disable=SC2086
                timeout 10 "$LD" --library-path "$LP" "$G/usr/bin/redis-cli" -p "$port" $c
            done >"$d/client" 2>&1
            grep -q PONG "$d/client" && grep -qx v "$d/client" && ok=yes
            timeout 10 "$LD" --library-path "$LP" "$G/usr/bin/redis-cli" -p "$port" SHUTDOWN NOSAVE >/dev/null 2>&1 ;;
        memcached)
            printf 'set k 0 0 5\r\nhello\r\nget k\r\nquit\r\n' | timeout 10 nc 127.0.0.1 "$port" >"$d/client" 2>&1
            grep -q hello "$d/client" && ok=yes ;;
        lighttpd)
            [ "$(curl -s -m 10 -o "$d/client" -w '%{http_code}' "http://127.0.0.1:$port/")" = 200 ] && ok=yes ;;
        vsftpd)
            curl -s -m 10 "ftp://127.0.0.1:$port/pub/" >"$d/client" 2>&1
            curl -s -m 10 "ftp://127.0.0.1:$port/pub/f.txt" >>"$d/client" 2>&1
            grep -q "ftp file" "$d/client" && ok=yes ;;
        esac
    fi
    stop_trace
    t1=$(now)
    t2=$t1
    if [ -f "$d/trace/config.yml" ]; then
        timeout 300 reprozip pack -d "$d/trace" "$d/$n.rpz" >"$d/pack.out" 2>&1 ||
            echo "reprozip pack $n failed: $(tail -2 "$d/pack.out")" >&2
        t2=$(now)
    else
        echo "reprozip trace $n wrote no config: $(tail -2 "$d/trace.err")" >&2
    fi
    eval "rz_trace_$v=\$(secs $t0 $t1) rz_pack_$v=\$(secs $t1 $t2) rz_size_$v=\$(size $d/$n.rpz) rz_ok_$v=$ok"
    [ -n "${BENCH_KEEP:-}" ] || rm -rf "$d/trace" "$d/$n.rpz"
}

i=0
for n in $SERVERS; do
    i=$((i + 1))
    echo "package_bench: $n ..." >&2
    bench_decant "$n" "$i"
    if [ $have_rz = 1 ]; then bench_reprozip "$n" "$i"; fi
done

# --- report
pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", 100 * a / b; else print "n/a" }'; }
lt() { awk -v a="$1" -v b="$2" 'BEGIN { print (a + 0 < b + 0) ? "yes" : "no" }'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { print (a + 0 <= b + 0) ? "yes" : "no" }'; }
sum() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a + b }'; }

echo
echo "decant packaging benchmark ($(date -u +%Y-%m-%d), $(uname -m), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)), guest $GUEST"
echo "guest: $guest_du bytes on disk; whole-guest tar.gz $guest_tgz bytes in $guest_tgz_s s (once, shared)"
echo "pkg s = decant analyze (cold code cache) + decant package --format oci-archive, minimal / system"
echo "goals: <5% = minimal < 5% of the guest tar.gz (% disk: of the guest's bytes on disk, for reference);"
echo "  <=rpz = minimal <= ReproZip's .rpz; <2s = analyze + package minimal < 2 s, cold / warm code cache"
if [ $have_rz = 1 ]; then
    echo "reprozip $(reprozip --version 2>&1 | awk '{print $NF}'): guest server run through the guest's ld.so, not chroot (see the script's header);"
    echo "  the .rpz also holds that ld.so and the host's ELF loaders; trace = server run + workload"
fi
echo
fmt="%-13s | %-27s | %-10s | %-23s | %-11s | %-11s | %-9s | %-4s | %-5s | %-10s\n"
# shellcheck disable=SC2059
printf "$fmt" server "minimal B (% tgz, % disk)" "system B" "reprozip .rpz B" "guest tgz B" "pkg s m/s" "rz pack s" "<5%" "<=rpz" "<2s c/w"
ac="" aw="" pmin="" psys="" imin="" isys="" rs="" rp="" rok="" line="" # set through eval below
# shellcheck disable=SC2059
printf "$fmt" "-------------" "---------------------------" "----------" "-----------------------" "-----------" "-----------" "---------" "----" "-----" "----------"
i=0
for n in $SERVERS; do
    i=$((i + 1))
    eval "ac=\$an_cold_$i aw=\$an_warm_$i pmin=\$pk_minimal_$i psys=\$pk_system_$i imin=\$img_minimal_$i isys=\$img_system_$i"
    tm=$(sum "$ac" "$pmin")
    tw=$(sum "$aw" "$pmin")
    ts=$(sum "$ac" "$psys")
    if [ $have_rz = 1 ]; then
        eval "rs=\$rz_size_$i rp=\$rz_pack_$i rok=\$rz_ok_$i"
        if [ "$rs" -gt 0 ]; then
            rcol=$rs
            [ "$rok" = yes ] || rcol="$rs (workload failed)"
            cmp=$(le "$imin" "$rs")
        else
            rcol="pack failed"
            cmp=n/a
        fi
    else
        rcol="reprozip: not installed" rp=n/a cmp=n/a
    fi
    # shellcheck disable=SC2059
    printf "$fmt" "$n" "$imin ($(pct "$imin" "$guest_tgz")%, $(pct "$imin" "$guest_du")%)" "$isys" "$rcol" "$guest_tgz" \
        "$tm/$ts" "$rp" "$(lt "$(pct "$imin" "$guest_tgz")" 5)" "$cmp" "$(lt "$tm" 2)/$(lt "$tw" 2)"
done
echo
echo "breakdown (s): analyze cold / warm, package minimal / system; reprozip trace (run + workload); workload ok"
i=0
for n in $SERVERS; do
    i=$((i + 1))
    eval "line=\"\$an_cold_$i / \$an_warm_$i, \$pk_minimal_$i / \$pk_system_$i\""
    if [ $have_rz = 1 ]; then
        eval "line=\"\$line; reprozip trace \$rz_trace_$i; workload \$rz_ok_$i\""
    fi
    printf '  %-13s %s\n' "$n" "$line"
done
