#!/bin/sh
# Container start-up against native (issue 15): exec to the first answered
# request (start_probe.c) for the corpus's legacy_forkd and two servers of
# the test guest, each (1) natively in a chroot of its bundle's rootfs as the
# bundle's user, (2) under `decant run` of the bundle, (3) under crun run on
# the bundle directly, (4) the same without the shim (LD_PRELOAD and
# DECANT_PLAN taken out of the config's env), (5) under podman run of the
# OCI archive. Configurations alternate within each round, so a busy machine
# slows them alike; medians are reported as ratios to native, with decant's
# own stages (DECANT_TRACE_START=1) split out. Goal: decant run <= 1.3x.
# Reports; asserts nothing.
# usage: start_bench.sh DECANT START_PROBE CORPUS_DIR
# env: BENCH_RUNS (rounds, default 7), BENCH_SERVERS (guest services,
# default "redis-server lighttpd vsftpd"; one that does not answer under
# decant run once before the rounds is left out with a line saying so), BENCH_GUEST (default: scripts/guest.sh
# bullseye), BENCH_NO_PODMAN=1 to leave podman out, BENCH_BASELINE=DECANT
# to time another decant binary's run as well (before/after a change).
set -eu
decant=$(readlink -f "$1")
probe=$(readlink -f "$2")
corpus=$(readlink -f "$3")
runs=${BENCH_RUNS:-7}
servers=${BENCH_SERVERS:-redis-server lighttpd vsftpd}
src=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" -eq 0 ] || { echo "start_bench: needs root (containers)" >&2; exit 1; }
[ -x "$probe" ] || { echo "start_bench: no start_probe at $probe" >&2; exit 1; }
crun=$(command -v crun) || { echo "start_bench: crun not installed" >&2; exit 1; }
podman=$(command -v podman || true)
[ "${BENCH_NO_PODMAN:-0}" = 1 ] && podman=
guest=${BENCH_GUEST:-$(sh "$src/scripts/guest.sh" bullseye)}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/start-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM HUP

. "$src/bench/crun_ns.sh"

# --- the servers, packaged once (not timed) ---
# NAME PORT REQUEST per line; each gets $tmp/NAME/{bundle,image.oci.tar}.
: >"$tmp/servers"
"$decant" analyze "$corpus/legacy_forkd" -o "$tmp/forkd.yaml" 2>/dev/null
mkdir -p "$tmp/legacy_forkd"
"$decant" package "$tmp/forkd.yaml" --root / -o "$tmp/legacy_forkd/bundle" --format bundle -q >/dev/null
"$decant" package "$tmp/forkd.yaml" --root / -o "$tmp/legacy_forkd/image.oci.tar" --format oci-archive -q >/dev/null
echo "legacy_forkd 7070 -" >>"$tmp/servers"
for s in $servers; do
  "$decant" convert "$guest" --only "$s" --format bundle,oci-archive -o "$tmp/conv" -q >/dev/null 2>&1 || {
    echo "start_bench: convert --only $s failed; left out" >&2
    continue
  }
  mv "$tmp/conv/$s" "$tmp/$s"
  port=$(jq -r '.annotations["io.decant.ports"] // "[]" | fromjson | map(select(.proto == "tcp")) | .[0].port // null' \
    "$tmp/$s/bundle/config.json")
  # What the first request is: any reply counts, so a line the server does
  # not understand is enough; an HTTP server needs a request to answer.
  [ "$port" != null ] || port=$(jq -r '.network.listen[0].port' "$tmp/$s/bundle/rootfs/.decant/profile.json" 2>/dev/null || echo null)
  [ "$port" != null ] || { echo "start_bench: $s records no port; left out" >&2; continue; }
  case "$(jq -r '.process.args[0]' "$tmp/$s/bundle/config.json")" in
  *httpd* | *lighttpd* | *nginx*) req='GET / HTTP/1.0\r\n\r\n' ;;
  *) req='PING\r\n' ;;
  esac
  # A service that does not start in a container at all says nothing about start-up.
  [ "$req" = - ] || "$probe" "$port" "$req" 10 -- "$decant" run "$tmp/$s/bundle" >/dev/null || {
    echo "start_bench: $s does not answer on port $port under decant run; left out" >&2
    continue
  }
  printf '%s %s %s\n' "$s" "$port" "$req" >>"$tmp/servers"
done

# The no-shim variant: the same rootfs, the config's env without the shim.
for name in $(cut -d' ' -f1 "$tmp/servers"); do
  b=$tmp/$name/bundle
  mkdir -p "$tmp/$name/noshim"
  jq --arg root "$b/rootfs" '.root.path = $root
      | .process.env = [.process.env[] | select(startswith("LD_PRELOAD=") or startswith("DECANT_PLAN=") | not)]
      | .mounts = [.mounts[] | if .type == "bind" and (.source | startswith("/") | not)
                               then .source = "'"$b"'/" + .source else . end]' \
    "$b/config.json" >"$tmp/$name/noshim/config.json"
  if [ -n "$podman" ]; then
    sh -c "$(declare_ns)" sh "$podman" load -q -i "$tmp/$name/image.oci.tar" >"$tmp/$name/loaded" 2>/dev/null &&
      sed -n 's/^Loaded image[^:]*: //p' "$tmp/$name/loaded" | tail -1 >"$tmp/$name/image" || podman=
  fi
done

# --- the configurations ---
# run CONFIG NAME PORT REQ: one start, its time appended to $tmp/NAME.CONFIG
run_one() {
  cfg=$1 name=$2 port=$3 req=$4
  b=$tmp/$name/bundle
  [ "$req" = - ] && req=
  user=$(jq -r '"\(.process.user.uid):\(.process.user.gid)"' "$b/config.json")
  id=bench-start-$$
  case $cfg in
  native)
    eval "set -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin chroot --userspec=$user $b/rootfs \
      $(jq -r '.process.args | @sh' "$b/config.json")" ;;
  decant) set -- "$decant" run "$b" ;;
  baseline) set -- "$BENCH_BASELINE" run "$b" ;;
  crun) set -- sh -c "$(declare_ns)" sh "$crun" run -b "$b" "$id" ;;
  crun-noshim) set -- sh -c "$(declare_ns)" sh "$crun" run -b "$tmp/$name/noshim" "$id" ;;
  podman)
    set -- sh -c "$(declare_ns)" sh "$podman" --cgroup-manager=cgroupfs run --rm --network host \
      --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 --name "$id" "$(cat "$tmp/$name/image")" ;;
  esac
  rm -f "$tmp/err"
  if out=$(START_PROBE_STDERR=$tmp/err DECANT_TRACE_START=1 "$probe" "$port" "$req" 20 -- "$@"); then
    echo "$out" | cut -d' ' -f1 >>"$tmp/$name.$cfg"
    if [ "$cfg" = decant ] || [ "$cfg" = baseline ]; then
      t0=$(echo "$out" | cut -d' ' -f2)
      awk -v t0="$t0" -v total="$(echo "$out" | cut -d' ' -f1)" '$1 == "decant-start:" {t[$3] = ($2 - t0) * 1000}
        END {printf "%.2f %.2f %.2f %.2f\n", t["run"], t["prepared"] - t["run"], t["exec-runtime"] - t["prepared"],
             total - t["exec-runtime"]}' "$tmp/err" >>"$tmp/$name.$cfg-trace"
    fi
  else
    echo "start_bench: $name under $cfg did not answer on port $port" >&2
  fi
  case $cfg in crun*) sh -c "$(declare_ns)" sh "$crun" delete -f "$id" >/dev/null 2>&1 || true ;; esac
  if [ "$cfg" = podman ]; then "$podman" rm -f "$id" >/dev/null 2>&1 || true; fi
}
configs="native decant crun crun-noshim"
[ -n "${BENCH_BASELINE:-}" ] && configs="$configs baseline"
[ -n "$podman" ] && configs="$configs podman"
i=0
while [ $i -lt "$runs" ]; do
  while read -r name port req; do
    for cfg in $configs; do run_one "$cfg" "$name" "$port" "$req"; done
  done <"$tmp/servers"
  i=$((i + 1))
done

# --- report ---
median() { sort -n "$1" | awk '{v[NR] = $1} END {if (NR) print v[int((NR + 1) / 2)]; else print "nan"}'; }
echo "start-up: exec to first answered request, median ms of $runs alternating runs (ratio to native)"
printf '%-14s' server
for cfg in $configs; do printf ' %18s' "$cfg"; done
echo
while read -r name port req; do
  nat=$([ -s "$tmp/$name.native" ] && median "$tmp/$name.native" || echo nan)
  printf '%-14s' "$name"
  for cfg in $configs; do
    m=$([ -s "$tmp/$name.$cfg" ] && median "$tmp/$name.$cfg" || echo nan)
    printf ' %18s' "$(awk -v m="$m" -v n="$nat" 'BEGIN {if (n + 0 > 0 && m + 0 > 0) printf "%.1f (%.2fx)", m, m / n; else print "-"}')"
  done
  echo
done <"$tmp/servers"
echo
echo "decant run, median ms per stage: decant's start-up (exec to run_container), its own work (open, check,"
echo "rewrite the config), spawning the runtime (clone, private mount namespace, exec), runtime + service to answer"
printf '%-23s %8s %8s %8s %8s\n' "server/decant" start-up own spawn runtime
while read -r name port req; do
  for cfg in decant baseline; do
    [ -s "$tmp/$name.$cfg-trace" ] || continue
    printf '%-23s' "$name/$cfg"
    for col in 1 2 3 4; do
      cut -d' ' -f$col "$tmp/$name.$cfg-trace" >"$tmp/col"
      printf ' %8s' "$(median "$tmp/col")"
    done
    echo
  done
done <"$tmp/servers"
echo "goal (issue 15): decant <= 1.3x native; crun - crun-noshim is the shim's load"
