#!/bin/sh
# Throughput of converted servers against native (issue 13): redis-server,
# lighttpd and memcached of the test guest under load from real clients on
# 127.0.0.1 (redis-benchmark SET and GET, wrk, throughput_client.c for
# memcached), each (1) natively in a chroot of the guest as the service's
# user with the bundle's command line, (2) under crun run on the bundle
# decant convert wrote (shim and its seccomp filter, crun's OCI filter),
# (3) the same without the shim (LD_PRELOAD and DECANT_PLAN taken out of the
# config's env: crun's filter stays), (4) the same without any filter
# (linux.seccomp taken out too), so crun, the filter and the shim each show
# their own cost. Every round runs every configuration of a server back to
# back (each round starting one further on), so a busy machine slows them
# alike; medians of requests/s, p99 latency and the server's own CPU time
# per request (what a busy machine blurs least) are reported as ratios to
# native, with container start (exec to the first answer, start_probe.c)
# against native start. Goal: >= 97% of native throughput and p99 within
# 1.1x. Reports; asserts nothing.
# usage: throughput_bench.sh DECANT START_PROBE THROUGHPUT_CLIENT   (as root)
# env: BENCH_RUNS (rounds, default 5), BENCH_SECONDS (length of one load,
# default 2; redis runs two), BENCH_CONNS (client connections, default 16),
# BENCH_SERVERS (default "redis-server lighttpd memcached"),
# BENCH_CONFIGS (default "crun crun-noshim crun-nofilter"; native is
# always measured, the ratios need it), BENCH_GUEST (default:
# scripts/guest.sh bullseye), BENCH_KEEP=1 keeps the scratch directory.
set -eu
decant=$(readlink -f "$1")
probe=$(readlink -f "$2")
client=$(readlink -f "$3")
runs=${BENCH_RUNS:-5}
seconds=${BENCH_SECONDS:-2}
conns=${BENCH_CONNS:-16}
servers=${BENCH_SERVERS:-redis-server lighttpd memcached}
configs="native $(echo "${BENCH_CONFIGS:-crun crun-noshim crun-nofilter}" | sed 's/\bnative\b//g')"
src=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" -eq 0 ] || { echo "throughput_bench: needs root (chroot, containers)" >&2; exit 1; }
for t in "$probe" "$client"; do [ -x "$t" ] || { echo "throughput_bench: no $t" >&2; exit 1; }; done
crun=$(command -v crun) || { echo "throughput_bench: crun not installed" >&2; exit 1; }
for c in redis-benchmark wrk ss jq; do
  command -v $c >/dev/null || { echo "throughput_bench: $c not installed (scripts/install-deps.sh)" >&2; exit 1; }
done
guest=${BENCH_GUEST:-$(sh "$src/scripts/guest.sh" bullseye)}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/throughput-bench.XXXXXX")
id=bench-tput-$$
server_pid=

. "$src/bench/crun_ns.sh"
in_ns() { sh -c "$(declare_ns)" sh "$@"; }

# kill -0 is true of a zombie, and the server is this shell's own child.
alive() { s=$(ps -o stat= -p "$1" 2>/dev/null) && case $s in Z*) return 1 ;; esac; }
stop_server() {
  [ -n "$server_pid" ] || return 0
  # crun kill reaches the container's init whatever our process tree is.
  in_ns "$crun" kill "$id" TERM >/dev/null 2>&1 || kill -s TERM -- "-$server_pid" 2>/dev/null || true
  i=0
  while alive "$server_pid" && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
  kill -s KILL -- "-$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  in_ns "$crun" delete -f "$id" >/dev/null 2>&1 || true
  server_pid=
}
cleanup() {
  stop_server
  # A start_probe run cut short can leave its container behind.
  in_ns "$crun" delete -f "$id" >/dev/null 2>&1 || true
  if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "throughput_bench: kept $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# --- the guest, with an admin's edits (not timed) ---
# A hard-linked copy, so the cached guest is never modified. Ports of this
# bench's own, below the ephemeral range and outside the tests' 20000-32000.
# lighttpd's stock config runs perl through include_shell (not in a minimal
# image) and logs to /var/log/lighttpd, which nothing tells decant is
# written; memcached is converted with --service and the command line its
# perl wrapper builds, so the bench's port is on it (the unit itself
# converts through the wrapper too, docs/convert.md).
cp -al "$guest" "$tmp/guest"
# What the servers write natively (logs appended in place, pid files,
# dumps) is copied, not linked.
for d in var/log var/lib/redis run tmp; do rm -rf "${tmp:?}/guest/$d" && cp -a "$guest/$d" "$tmp/guest/$d"; done
redis_port=16379 http_port=18080 mc_port=11411
sed -e "s/^port 6379/port $redis_port/" "$guest/etc/redis/redis.conf" >"$tmp/redis.conf"
rm -f "$tmp/guest/etc/redis/redis.conf" && mv "$tmp/redis.conf" "$tmp/guest/etc/redis/redis.conf"
sed -e "s/^server.port .*/server.port = $http_port/" -e '/^include_shell/d' \
  -e 's|^server.errorlog .*|server.errorlog = "/tmp/error.log"|' \
  -e 's|^server.upload-dirs .*|server.upload-dirs = ( "/tmp" )|' \
  "$guest/etc/lighttpd/lighttpd.conf" >"$tmp/lighttpd.conf"
echo 'mimetype.assign = ( ".html" => "text/html" )' >>"$tmp/lighttpd.conf"
rm -f "$tmp/guest/etc/lighttpd/lighttpd.conf" && mv "$tmp/lighttpd.conf" "$tmp/guest/etc/lighttpd/lighttpd.conf"

# --- the servers, converted once (not timed) ---
# NAME PORT REQUEST per line; each gets $tmp/NAME/{bundle,noshim,nofilter}.
: >"$tmp/servers"
for s in $servers; do
  case $s in
  redis-server) port=$redis_port req='PING\r\n' svc= ;;
  lighttpd) port=$http_port req='GET / HTTP/1.0\r\n\r\n' svc= ;;
  memcached) port=$mc_port req='version\r\n' svc="memcached=/usr/bin/memcached -m 64 -u memcache -l 127.0.0.1 -p $mc_port" ;;
  *) echo "throughput_bench: no load for $s; left out" >&2; continue ;;
  esac
  rm -rf "$tmp/conv"
  if ! "$decant" convert "$tmp/guest" --only "$s" ${svc:+--service "$svc"} --format bundle -o "$tmp/conv" -q \
    >"$tmp/convert.log" 2>&1; then
    echo "throughput_bench: convert --only $s failed; left out: $(tail -1 "$tmp/convert.log")" >&2
    continue
  fi
  mv "$tmp/conv/$s" "$tmp/$s"
  b=$tmp/$s/bundle
  # The variants share the rootfs; the config's relative bind sources are
  # made absolute since their directory moves.
  for v in noshim nofilter; do
    mkdir -p "$tmp/$s/$v"
    jq --arg root "$b/rootfs" --arg b "$b" --arg v $v '.root.path = $root
        | .process.env = [.process.env[] | select(startswith("LD_PRELOAD=") or startswith("DECANT_PLAN=") | not)]
        | if $v == "nofilter" then del(.linux.seccomp) else . end
        | .mounts = [.mounts[] | if .type == "bind" and (.source | startswith("/") | not)
                                 then .source = $b + "/" + .source else . end]' \
      "$b/config.json" >"$tmp/$s/$v/config.json"
  done
  printf '%s %s %s\n' "$s" "$port" "$req" >>"$tmp/servers"
done
[ -s "$tmp/servers" ] || { echo "throughput_bench: no server to measure" >&2; exit 1; }

# One load against the server on PORT, appending "TEST RPS P99_MS" lines.
load() {
  name=$1 port=$2
  case $name in
  redis-server)
    # redis-benchmark has no time bound: the request count is set from
    # the first native run, so every run does the same work.
    for t in set get; do
      n=$(cat "$tmp/redis-n.$(echo $t | tr a-z A-Z)" 2>/dev/null || echo 20000)
      redis-benchmark -h 127.0.0.1 -p "$port" -c "$conns" -n "$n" -t "$t" --csv 2>/dev/null |
        awk -F'","' -v t=$t '$1 == "\"" toupper(t) {print toupper(t), $2, $7}' | tr -d '"'
    done ;;
  lighttpd)
    wrk -t1 -c "$conns" -d "${seconds}s" --latency "http://127.0.0.1:$port/" 2>/dev/null | awk '
      function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
      /^Requests\/sec:/ {rps = $2} $1 == "99%" {p99 = ms($2)} /Non-2xx|Socket errors/ {bad = 1}
      END {if (rps && !bad) print "GET", rps, p99}' ;;
  memcached) "$client" "$port" "$seconds" "$conns" 2>/dev/null | awk '{print "get-set", $1, $2}' ;;
  esac
}

# The server's own CPU time in ns, all its threads (schedstat is exact
# where utime ticks are 10 ms): the cost per request that a busy machine
# does not blur, unlike requests/s. Natively the started pid is the server
# (env and chroot exec it); in a container it is the init's child.
server_cpu_pid() {
  case $1 in
  native) echo "$server_pid" ;;
  *) init=$("$crun" state "$id" 2>/dev/null | jq -r .pid) && cut -d' ' -f1 "/proc/$init/task/$init/children" ;;
  esac
}
cpu_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{t += $1} END {printf "%.0f\n", t}'; }

# run_one CONFIG NAME PORT REQ: one start timed to the first answer, then
# one start put under load; figures appended to $tmp/NAME.CONFIG.*.
run_one() {
  cfg=$1 name=$2 port=$3 req=$4
  b=$tmp/$name/bundle
  case $cfg in
  native)
    # The bundle's command line and user, without the container init in
    # front (natively nothing needs signals forwarded or orphans reaped):
    # the init's --user/--groups when it switches, else the config's user.
    eval "$(jq -r '.process.args as $a | ($a | index("--")) as $i
        | (if $a[0] == "/.decant/init" and $i then $a[$i + 1:] else $a end) as $cmd
        | ([$a[] | select(startswith("--user=")) | ltrimstr("--user=")][0]
           // "\(.process.user.uid):\(.process.user.gid)") as $user
        | ([$a[] | select(startswith("--groups=")) | ltrimstr("--groups=")][0] // "") as $groups
        | "set -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin chroot --userspec=\($user)"
          + (if $groups != "" then " --groups=\($groups)" else "" end)
          + " \($tmp | @sh) \($cmd | @sh)"' --arg tmp "$tmp/guest" "$b/config.json")" ;;
  crun) set -- sh -c "$(declare_ns)" sh "$crun" run -b "$b" "$id" ;;
  crun-noshim | crun-nofilter) set -- sh -c "$(declare_ns)" sh "$crun" run -b "$tmp/$name/${cfg#crun-}" "$id" ;;
  esac
  if out=$("$probe" "$port" "$req" 20 -- "$@"); then
    echo "$out" | cut -d' ' -f1 >>"$tmp/$name.$cfg.start"
  else
    echo "throughput_bench: $name under $cfg did not answer on port $port" >&2
  fi
  in_ns "$crun" delete -f "$id" >/dev/null 2>&1 || true
  # Loaded only once it answers, so start-up is not in the figures.
  setsid "$@" </dev/null >/dev/null 2>>"$tmp/$name.$cfg.err" &
  server_pid=$!
  i=0
  while ! "$probe" "$port" "$req" 1 -- sleep 5 >/dev/null 2>&1; do
    i=$((i + 1))
    if [ $i -ge 20 ] || ! alive "$server_pid"; then
      echo "throughput_bench: $name under $cfg did not start for the load" >&2
      stop_server
      return 0
    fi
    sleep 0.1
  done
  cpid=$(server_cpu_pid "$cfg")
  c0=$(cpu_ns "$cpid")
  load "$name" "$port" >"$tmp/out"
  c1=$(cpu_ns "$cpid")
  stop_server
  # The first native redis run sets the request counts of all later runs.
  if [ "$name" = redis-server ] && [ ! -e "$tmp/redis-n.GET" ]; then
    awk -v s="$seconds" '{n = int($2 * s / 1000) * 1000; print (n < 1000 ? 1000 : n) >"'"$tmp"'/redis-n." $1}' "$tmp/out"
    return 0
  fi
  # CPU per request: redis runs a set number of requests per test (and
  # its tests one after the other, so they share the figure), the others
  # run for $seconds.
  if [ "$name" = redis-server ]; then
    reqs=$(cat "$tmp/redis-n.SET" "$tmp/redis-n.GET" | awk '{n += $1} END {print n}')
  else
    reqs=$(awk -v s="$seconds" '{n += $2 * s} END {print n}' "$tmp/out")
  fi
  cpu=$(awk -v a="$c0" -v b="$c1" -v n="$reqs" 'BEGIN {if (n > 0 && b > a) printf "%.2f", (b - a) / 1000 / n; else print 0}')
  while read -r test rps p99; do
    echo "$rps $p99 $cpu" >>"$tmp/$name.$cfg.$test"
  done <"$tmp/out"
  [ -s "$tmp/out" ] || echo "throughput_bench: $name under $cfg gave no figure (see $tmp/$name.$cfg.err)" >&2
}

echo "throughput_bench: $(nproc) cores, load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
# A calibration run of redis natively, not counted (sets the request counts).
while read -r name port req; do
  [ "$name" = redis-server ] && run_one native "$name" "$port" "$req"
done <"$tmp/servers"
rm -f "$tmp/redis-server.native.start"
round=0
while [ $round -lt "$runs" ]; do
  # Each round starts one configuration further on, so none is always
  # first after a server change.
  set -- $configs
  k=$((round % $#)) order= j=0
  for c; do [ $j -ge $k ] && order="$order $c"; j=$((j + 1)); done
  j=0
  for c; do [ $j -lt $k ] && order="$order $c"; j=$((j + 1)); done
  while read -r name port req; do
    for cfg in $order; do run_one "$cfg" "$name" "$port" "$req"; done
  done <"$tmp/servers"
  round=$((round + 1))
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# --- report ---
# median FILE COLUMN
median() { cut -d' ' -f"$2" "$1" | sort -n | awk '{v[NR] = $1} END {if (NR) print v[int((NR + 1) / 2)]; else print "nan"}'; }
ratio() { awk -v m="$1" -v n="$2" -v f="$3" 'BEGIN {if (n + 0 > 0 && m + 0 > 0) printf f " (%.2fx)", m, m / n; else print "-"}'; }
echo "throughput: medians of $runs rounds, configurations alternating; ${seconds} s loads, $conns connections"
echo "on 127.0.0.1; ratio to native in the same run (load average after: $load_after)"
# table COLUMN FORMAT TITLE: one row per server and test
table() {
  echo
  printf '%-20s' "$3"
  for cfg in $configs; do printf ' %20s' "$cfg"; done
  echo
  while read -r name port req; do
    for f in "$tmp/$name.native."*; do
      case $f in *.start | *.err) continue ;; esac
      [ -e "$f" ] || continue
      test=${f##*.native.}
      printf '%-20s' "$name/$test"
      n=$(median "$f" "$1")
      for cfg in $configs; do
        g=$tmp/$name.$cfg.$test
        printf ' %20s' "$([ -s "$g" ] && ratio "$(median "$g" "$1")" "$n" "$2" || echo -)"
      done
      echo
    done
  done <"$tmp/servers"
}
table 1 %.0f "requests/s"
table 2 %.2f "p99 latency, ms"
table 3 %.2f "server CPU us/req"
echo
echo "start-up: exec to first answered request, median ms (ratio to native)"
printf '%-20s' server
for cfg in $configs; do printf ' %20s' "$cfg"; done
echo
while read -r name port req; do
  printf '%-20s' "$name"
  n=$([ -s "$tmp/$name.native.start" ] && median "$tmp/$name.native.start" 1 || echo nan)
  for cfg in $configs; do
    m=$([ -s "$tmp/$name.$cfg.start" ] && median "$tmp/$name.$cfg.start" 1 || echo nan)
    printf ' %20s' "$(ratio "$m" "$n" %.1f)"
  done
  echo
done <"$tmp/servers"
echo "goal (issue 13): requests/s >= 0.97x and p99 <= 1.1x native for every server under crun;"
echo "crun against crun-noshim is the shim's cost (and its filter's), crun-noshim against"
echo "crun-nofilter crun's filter's; server CPU per request (redis: SET and GET together) shows"
echo "them where a busy machine blurs requests/s"
