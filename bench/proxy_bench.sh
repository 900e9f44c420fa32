#!/bin/sh
# The seccomp proxy's cost in one run, as ratios to native (issue 12): per
# call of stat, open+close, socket+bind+close and getpid (never intercepted)
# natively on the real path and port, under the LD_PRELOAD shim, under
# decant-proxy and under PRoot (ptrace) doing the same path redirect (PRoot
# has no port remapping: its bind is on the real port); then requests/s of
# `busybox httpd` (static) serving a redirected docroot on a remapped port,
# native vs proxied, under ab on loopback. Goals printed beside the numbers:
# intercepted calls <= 8x native and >= 10x faster than PRoot, getpid within
# 1.05x, proxied httpd >= 90% of native. Reports; asserts nothing.
# usage: proxy_bench.sh PROXY_BENCH DECANT SHIM DECANT_PROXY   (as root)
set -eu
bench=$1
decant=$2
shim=$3
proxy=$4
tmp=$(mktemp -d "${TMPDIR:-/tmp}/proxy-bench.XXXXXX")
hpid=""
trap '[ -n "$hpid" ] && kill $hpid 2>/dev/null; rm -rf "$tmp"' EXIT

free_port() {
  while :; do
    p=$(($(od -An -N2 -tu2 /dev/urandom) % 10000 + 20000))
    ss -Htan "sport = :$p or sport = :$((p + 1))" 2>/dev/null | grep -q . || { echo $p; return; }
  done
}
mkdir -p "$tmp/real" "$tmp/www"
echo data >"$tmp/real/file"
head -c 2048 /dev/urandom | od -An -tx1 >"$tmp/www/index.html"
port=$(free_port)
app_port=$((port + 1))
cat >"$tmp/p.yaml" <<EOF
apiVersion: decant/v1
kind: Profile
metadata: {name: bench}
binary: {path: /bin/true}
redirects:
  paths: [{from: /bench/app, to: $tmp/real}, {from: /bench/www, to: $tmp/www}]
  ports: [{from: $app_port, to: $port, proto: tcp}]
EOF
"$decant" plan "$tmp/p.yaml" -o "$tmp/p.plan" --force 2>/dev/null

# Each mode three times, interleaved; the best run of each op counts.
best() { # MODE RUNFILE
  if [ -f "$tmp/$1.out" ]; then
    awk 'NR == FNR {m[$1] = $2; next} {if (!($1 in m) || $2 < m[$1]) m[$1] = $2} END {for (k in m) print k, m[k]}' \
      "$tmp/$1.out" "$2" >"$tmp/$1.new" && mv "$tmp/$1.new" "$tmp/$1.out"
  else
    cp "$2" "$tmp/$1.out"
  fi
}
have_proot=0
command -v proot >/dev/null 2>&1 && have_proot=1
for rep in 1 2 3; do
  for op in stat open bind getpid; do
    "$bench" $op "$tmp/real/file" $port >"$tmp/run" && best native "$tmp/run"
    env LD_PRELOAD="$shim" DECANT_PLAN="$tmp/p.plan" "$bench" $op /bench/app/file $app_port >"$tmp/run" &&
      best shim "$tmp/run"
    DECANT_PLAN="$tmp/p.plan" "$proxy" -q -- "$bench" $op /bench/app/file $app_port >"$tmp/run" &&
      best proxy "$tmp/run"
    [ $have_proot = 1 ] && proot -b "$tmp/real:/bench/app" "$bench" $op /bench/app/file $port >"$tmp/run" 2>/dev/null &&
      best proot "$tmp/run"
  done
done

val() { [ -f "$tmp/$1.out" ] && awk -v k="$2" '$1 == k {print $2}' "$tmp/$1.out" || true; }
cell() { # VALUE BASE
  if [ -n "$1" ]; then awk -v v="$1" -v b="$2" 'BEGIN {printf " %8.0f %6.2fx", v, v / b}'; else printf ' %15s' n/a; fi
}
echo "per call (best of 3), ns and ratio to native:"
printf '%-8s %9s %15s %15s %15s %12s\n' call native shim proxy proot proot/proxy
for op in stat open bind getpid; do
  base=$(val native $op)
  px=$(val proxy $op)
  pr=$(val proot $op)
  line=$(printf '%-8s %9s' $op "$base")
  line="$line$(cell "$(val shim $op)" "$base")$(cell "$px" "$base")$(cell "$pr" "$base")"
  if [ -n "$pr" ] && [ -n "$px" ]; then line="$line$(awk -v a="$pr" -v b="$px" 'BEGIN {printf " %11.1fx", a / b}')"; fi
  echo "$line"
done

# busybox httpd, native on the real docroot and port, then proxied.
if command -v busybox >/dev/null 2>&1 && command -v ab >/dev/null 2>&1; then
  rps() { # URL -> requests per second (best of 3)
    for _ in 1 2 3; do
      ab -q -n 3000 -c 4 "$1" 2>/dev/null | awk '/^Requests per second/ {print $4}'
    done | sort -n | tail -1
  }
  wait_port() {
    i=0
    while ! ss -Htln "sport = :$1" | grep -q .; do
      i=$((i + 1))
      [ $i -lt 100 ] || return 1
      sleep 0.05
    done
  }
  busybox httpd -f -p 127.0.0.1:$port -h "$tmp/www" &
  hpid=$!
  wait_port $port
  native=$(rps "http://127.0.0.1:$port/index.html")
  kill $hpid
  wait $hpid 2>/dev/null || true
  DECANT_PLAN="$tmp/p.plan" "$proxy" -q -- busybox httpd -f -p 127.0.0.1:$app_port -h /bench/www &
  hpid=$!
  wait_port $port
  proxied=$(rps "http://127.0.0.1:$port/index.html")
  kill $hpid
  wait $hpid 2>/dev/null || true
  hpid=""
  awk -v n="$native" -v p="$proxied" 'BEGIN {printf "busybox httpd (ab -n 3000 -c 4, 2 KiB file): native %.0f req/s, proxied %.0f req/s (%.0f%% of native)\n", n, p, 100 * p / n}'
else
  echo "busybox httpd: skipped (busybox-static or apache2-utils missing; scripts/install-deps.sh)"
fi
echo "goals: intercepted calls <= 8x native, >= 10x faster than PRoot; getpid <= 1.05x; httpd >= 90% of native"
