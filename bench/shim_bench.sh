#!/bin/sh
# Shim overhead in one run, as ratios to native: stat, open+close and a
# loopback connect, (1) natively, (2) with the shim and no matching rule,
# (3) with the shim and a matching rule (the same file reached through a path
# redirect, the same server through a port redirect), (4) under fakechroot
# for the same path rewrite. Published anchor: fakechroot turns a 420 ns stat
# into about 1430 ns (3.4x). Goals: redirected stat <= 1.3x, non-matching
# call <= 1.05x. Reports; asserts nothing.
# usage: shim_bench.sh SHIM_BENCH DECANT SHIM [ITERATIONS]
set -eu
bench=$1
decant=$2
shim=$3
n=${4:-200000}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/shim-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

mkdir -p "$tmp/real" "$tmp/fc/bench/app"
echo data >"$tmp/real/file"
echo data >"$tmp/fc/bench/app/file"
profile() { # PATH-RULE PORT-RULE
  printf 'apiVersion: decant/v1\nkind: Profile\nmetadata: {name: bench}\nbinary: {path: /bin/true}\n'
  printf 'redirects:\n  paths: [%s]\n  ports: [%s]\n' "$1" "$2"
}
profile "{from: /nonexistent/prefix, to: /tmp/x}" "{from: 1, to: 2, proto: tcp}" >"$tmp/nomatch.yaml"
"$decant" plan "$tmp/nomatch.yaml" -o "$tmp/nomatch.plan" 2>/dev/null
fc=/usr/lib/x86_64-linux-gnu/fakechroot/libfakechroot.so

# Each mode runs three times, interleaved, on a fresh port; the best run of
# each counts, so a busy machine skews all modes alike rather than one.
free_port() {
  while :; do
    p=$(($(od -An -N2 -tu2 /dev/urandom) % 20000 + 30000))
    ss -Htan "sport = :$p or sport = :$((p + 1))" 2>/dev/null | grep -q . || { echo $p; return; }
  done
}
best() { # MODE OUTFILE: keep the minimum per op
  if [ -f "$tmp/$1.out" ]; then
    awk 'NR == FNR {m[$1] = $2; next} {if (!($1 in m) || $2 < m[$1]) m[$1] = $2} END {for (k in m) print k, m[k]}' \
      "$tmp/$1.out" "$2" >"$tmp/$1.new" && mv "$tmp/$1.new" "$tmp/$1.out"
  else
    cp "$2" "$tmp/$1.out"
  fi
}
for rep in 1 2 3; do
  port=$(free_port)
  app_port=$((port + 1))
  profile "{from: /bench/app, to: $tmp/real}" "{from: $app_port, to: $port, proto: tcp}" >"$tmp/match.yaml"
  "$decant" plan "$tmp/match.yaml" -o "$tmp/match.plan" --force 2>/dev/null
  "$bench" "$tmp/real/file" $port $port "$n" >"$tmp/run" && best native "$tmp/run"
  port=$(free_port)
  env LD_PRELOAD="$shim" DECANT_PLAN="$tmp/nomatch.plan" "$bench" "$tmp/real/file" $port $port "$n" >"$tmp/run" &&
    best nomatch "$tmp/run"
  port=$(free_port)
  app_port=$((port + 1))
  profile "{from: /bench/app, to: $tmp/real}" "{from: $app_port, to: $port, proto: tcp}" >"$tmp/match.yaml"
  "$decant" plan "$tmp/match.yaml" -o "$tmp/match.plan" --force 2>/dev/null
  env LD_PRELOAD="$shim" DECANT_PLAN="$tmp/match.plan" "$bench" /bench/app/file $app_port $port "$n" >"$tmp/run" &&
    best match "$tmp/run"
  if [ -f "$fc" ]; then
    port=$(free_port)
    env LD_PRELOAD="$fc" FAKECHROOT_BASE="$tmp/fc" "$bench" /bench/app/file $port $port "$n" >"$tmp/run" 2>/dev/null &&
      best fakechroot "$tmp/run"
  fi
done

val() { awk -v k="$2" '$1 == k {print $2}' "$tmp/$1.out"; }
printf '%-12s %12s %12s %12s %12s\n' "call" "native ns" "shim/no rule" "shim/rule" "fakechroot"
for op in stat open_close connect; do
  base=$(val native $op)
  line=$(printf '%-12s %12s' "$op" "$base")
  for m in nomatch match fakechroot; do
    v=$( [ -f "$tmp/$m.out" ] && val $m $op || true)
    if [ -n "$v" ]; then
      line="$line $(awk -v v="$v" -v b="$base" 'BEGIN {printf "%7.0f %4.2fx", v, v / b}')"
    else
      line="$line $(printf '%12s' n/a)"
    fi
  done
  echo "$line"
done
echo "(goals: redirected stat <= 1.30x, non-matching <= 1.05x; anchor: fakechroot stat 3.4x)"
