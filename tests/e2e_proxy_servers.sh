#!/bin/sh
# Real servers from Debian that LD_PRELOAD cannot reach, under the seccomp
# proxy with a path and a port redirect, answering their clients:
# `busybox httpd` from busybox-static (statically linked) serving a docroot
# that only exists at the redirect target, and webhook, a Go HTTP server
# (Go makes its own system calls, no libc wrappers: the shim sees none of
# them), reading its hooks file through a path redirect. Run under
# decant-proxy directly; with PROXY_E2E_CRUN=1, also packaged and run under
# crun through the container init (/.decant/init, from the zero-edit issue),
# which needs the init's proxy integration (docs/proxy.md, "Integration").
set -u
. "$(dirname "$0")/lib.sh"
require_root "seccomp user notification supervisor"
B=${DECANT_BUILD:?}
PROXY=$B/decant-proxy
[ -x "$PROXY" ] || fail "decant-proxy not built at $PROXY"
require_tool busybox
require_tool curl
require_tool ss
file -L "$(command -v busybox)" | grep -q 'statically linked' || skip "busybox is not the static build (busybox-static)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/decant-proxy-srv.XXXXXX") || exit 1
pids=""
trap 'for p in $pids; do kill "$p" 2>/dev/null; done; rm -rf "$tmp"' EXIT
ok() { echo "ok: $*"; }
free_port() {
  while :; do
    p=$(($(od -An -N2 -tu2 /dev/urandom) % 12000 + 20000))
    ss -Htln "sport = :$p" 2>/dev/null | grep -q . || { echo "$p"; return; }
  done
}
wait_port() { # PORT PID
  i=0
  until ss -Htln "sport = :$1" | grep -q .; do
    i=$((i + 1))
    [ $i -lt 200 ] && kill -0 "$2" 2>/dev/null || return 1
    sleep 0.05
  done
}

# busybox httpd: docroot /srv/legacy/www -> $tmp/www, port 80 -> $hport.
hport=$(free_port)
mkdir -p "$tmp/www" "$tmp/etc"
echo "served from the redirected docroot" >"$tmp/www/index.html"
cat >"$tmp/httpd.yaml" <<EOF
apiVersion: decant/v1
kind: Profile
metadata: {name: busybox-httpd, generator: test}
binary: {path: /bin/busybox, arch: x86_64, linkage: static}
redirects:
  paths: [{from: /srv/legacy/www, to: $tmp/www}]
  ports: [{from: 80, to: $hport, proto: tcp}]
EOF
"$DECANT" plan "$tmp/httpd.yaml" -o "$tmp/httpd.plan" --force 2>"$tmp/err" || fail "decant plan: $(cat "$tmp/err")"
DECANT_PLAN="$tmp/httpd.plan" "$PROXY" -- busybox httpd -f -p 80 -h /srv/legacy/www >"$tmp/httpd.log" 2>&1 &
hpid=$!
pids="$pids $hpid"
wait_port "$hport" $hpid || fail "busybox httpd is not listening on $hport: $(cat "$tmp/httpd.log")"
ss -Htln "sport = :80" | grep -q . && ss -Htlnp "sport = :80" | grep -q busybox && fail "busybox listens on 80"
out=$(curl -sS --max-time 10 "http://127.0.0.1:$hport/index.html") || fail "curl busybox httpd"
[ "$out" = "served from the redirected docroot" ] || fail "busybox httpd answered: $out"
ok "busybox httpd (static) on port 80 -> $hport serves /srv/legacy/www from $tmp/www"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "http://127.0.0.1:$hport/missing.html")
[ "$code" = 404 ] || fail "a missing file gave HTTP $code"
ok "a file missing at the target is a 404"
kill $hpid
wait $hpid 2>/dev/null

# webhook (Go): hooks file /etc/webhook/hooks.json -> $tmp/etc, port 9000 -> $wport.
if command -v webhook >/dev/null 2>&1; then
  readelf -S "$(command -v webhook)" | grep -q gopclntab || fail "webhook is not a Go binary"
  wport=$(free_port)
  cat >"$tmp/etc/hooks.json" <<EOF
[{"id": "ping", "execute-command": "/bin/true", "response-message": "pong through the proxy"}]
EOF
  cat >"$tmp/webhook.yaml" <<EOF
apiVersion: decant/v1
kind: Profile
metadata: {name: webhook, generator: test}
binary: {path: /usr/bin/webhook, arch: x86_64}
hazards: [{id: raw-syscall, severity: warning, message: "Go makes its own system calls"}]
redirects:
  paths: [{from: /etc/webhook, to: $tmp/etc}]
  ports: [{from: 9000, to: $wport, proto: tcp}]
EOF
  "$DECANT" plan "$tmp/webhook.yaml" -o "$tmp/webhook.plan" --force 2>"$tmp/err" || fail "decant plan: $(cat "$tmp/err")"
  grep -qx 'proxy auto' "$tmp/webhook.plan" || fail "the raw-syscall hazard does not turn the proxy on"
  DECANT_PLAN="$tmp/webhook.plan" "$PROXY" -- webhook -hooks /etc/webhook/hooks.json -ip 127.0.0.1 -port 9000 \
    >"$tmp/webhook.log" 2>&1 &
  wpid=$!
  pids="$pids $wpid"
  wait_port "$wport" $wpid || fail "webhook is not listening on $wport: $(cat "$tmp/webhook.log")"
  out=$(curl -sS --max-time 10 "http://127.0.0.1:$wport/hooks/ping") || fail "curl webhook"
  [ "$out" = "pong through the proxy" ] || fail "webhook answered: $out ($(tail -3 "$tmp/webhook.log"))"
  ok "webhook (Go) on port 9000 -> $wport answers with the hook from the redirected /etc/webhook/hooks.json"
  kill $wpid
  wait $wpid 2>/dev/null
else
  skip "webhook is not installed (scripts/install-deps.sh)"
fi

if [ "${PROXY_E2E_CRUN:-0}" = 1 ]; then
  # Switched on by the integrator once the container init calls the proxy:
  # the same busybox profile packaged as an OCI bundle and run under crun.
  require_tool crun
  mkdir -p "$tmp/guest/bin" "$tmp/guest/srv/legacy/www"
  cp "$(command -v busybox)" "$tmp/guest/bin/busybox"
  echo "served in the container" >"$tmp/guest/srv/legacy/www/index.html"
  cport=$(free_port)
  sed -e "s|$tmp/www|/srv/legacy/www|; s|to: $hport|to: $cport|" -e 's|^binary:.*|binary: {path: /bin/busybox, arch: x86_64, linkage: static}|' \
    -e 's|^redirects:|entrypoint: [/bin/busybox, httpd, -f, -p, "80", -h, /srv/legacy/www]\nenforcement: {proxy: "on"}\nredirects:|' \
    "$tmp/httpd.yaml" >"$tmp/crun.yaml"
  "$DECANT" package "$tmp/crun.yaml" --root "$tmp/guest" --format bundle --network host -o "$tmp/bundle" \
    >"$tmp/pkg.log" 2>&1 ||
    fail "decant package: $(tail -3 "$tmp/pkg.log")"
  (cd "$tmp/bundle" && crun run "proxy-e2e-$$" >"$tmp/crun.log" 2>&1) &
  cpid=$!
  pids="$pids $cpid"
  wait_port "$cport" $cpid || fail "the container's httpd is not listening on $cport: $(cat "$tmp/crun.log")"
  out=$(curl -sS --max-time 10 "http://127.0.0.1:$cport/index.html")
  crun kill "proxy-e2e-$$" KILL 2>/dev/null
  [ "$out" = "served in the container" ] || fail "container httpd answered: $out"
  ok "busybox httpd under crun through the init's proxy"
fi
echo "PASS"
