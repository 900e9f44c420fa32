#!/bin/sh
# Real servers from Debian that LD_PRELOAD cannot reach, under the seccomp
# proxy with a path and a port redirect, answering their clients:
# `busybox httpd` from busybox-static (statically linked) serving a docroot
# that only exists at the redirect target, and webhook, a Go HTTP server
# (Go makes its own system calls, no libc wrappers: the shim sees none of
# them), reading its hooks file through a path redirect. Run under
# decant-proxy directly; decant-init's refusal (proxy on) or warning (auto)
# when its filter cannot be installed; then busybox httpd (as a service user)
# and the corpus's static probe (as root) packaged and run under crun
# through the container init's proxy (/.decant/init, docs/init.md), and
# webhook analyzed from a small guest, packaged with its analyzed allowlist
# and run under crun the same way. Debian builds its Go servers with cgo
# (dynamically linked, `file` says so): their system calls are Go's own all
# the same, which is what the proxy is for.
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
# stop_run PID MESSAGE: SIGTERM, then up to 15 s for it to end.
stop_run() {
  kill -TERM "$1"
  i=0
  while kill -0 "$1" 2>/dev/null; do
    i=$((i + 1)); [ $i -lt 150 ] || fail "$2"
    sleep 0.1
  done
  wait "$1" 2>/dev/null
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

# decant-init when its filter cannot be installed: under decant-proxy the
# service process already has a filter with a listener, so the kernel refuses
# a second one (EBUSY). `proxy on`: one line, exit 125, the service never
# runs; `proxy auto`: one warning and the service runs.
INIT=$B/decant-init
[ -x "$INIT" ] || fail "decant-init not built at $INIT"
printf 'decant-plan 1\nuname release 9.9-outer\nproxy on\nend\n' >"$tmp/on.plan"
sed 's/^proxy on$/proxy auto/' "$tmp/on.plan" >"$tmp/auto.plan"
DECANT_PLAN="$tmp/on.plan" timeout 30 "$PROXY" -q -- "$INIT" -- touch "$tmp/ran" >"$tmp/on.out" 2>"$tmp/on.err"
rc=$?
[ $rc -eq 125 ] || fail "proxy on without a filter: exit $rc, want 125 ($(cat "$tmp/on.err"))"
[ -e "$tmp/ran" ] && fail "proxy on without a filter: the service ran"
[ "$(grep -c 'decant-init:' "$tmp/on.err")" -eq 1 ] || fail "proxy on without a filter: not one line: $(cat "$tmp/on.err")"
ok "proxy on and no filter possible: decant-init refuses with one line and 125"
DECANT_PLAN="$tmp/auto.plan" timeout 30 "$PROXY" -q -- "$INIT" -- touch "$tmp/ran" >"$tmp/auto.out" 2>"$tmp/auto.err" ||
  fail "proxy auto without a filter: exit $? ($(cat "$tmp/auto.err"))"
[ -e "$tmp/ran" ] || fail "proxy auto without a filter: the service did not run"
[ "$(grep -c 'decant-init:' "$tmp/auto.err")" -eq 1 ] || fail "proxy auto without a filter: not one warning: $(cat "$tmp/auto.err")"
ok "proxy auto and no filter possible: one warning, the service runs"

# Under crun through the container init (docs/init.md): busybox httpd in a
# small guest, packaged with `decant package`, run by `decant run`. The
# docroot it is told exists only at the redirect target in the image, the
# port is redirected, and it runs as a service user of another uid, so the
# init's supervisor needs its ptrace rights over it. PROXY_E2E_CRUN=0 skips.
if [ "${PROXY_E2E_CRUN:-1}" = 1 ]; then
  require_tool crun
  g=$tmp/guest
  mkdir -p "$g/bin" "$g/srv/www" "$g/etc" "$g/tmp"
  cp "$(command -v busybox)" "$g/bin/busybox"
  echo "served in the container" >"$g/srv/www/index.html"
  printf 'root:x:0:0:root:/root:/bin/sh\nwww-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\n' >"$g/etc/passwd"
  printf 'root:x:0:\nwww-data:x:33:\n' >"$g/etc/group"
  printf 'ID=debian\nVERSION_ID="11"\nPRETTY_NAME="decant proxy test guest"\n' >"$g/etc/os-release"
  cport=$(free_port)
  cat >"$tmp/crun.yaml" <<EOF
apiVersion: decant/v1
kind: Profile
metadata: {name: busybox-httpd, generator: test}
binary: {path: /bin/busybox, arch: x86_64, linkage: static}
entrypoint: [/bin/busybox, httpd, -f, -p, "80", -h, /srv/legacy/www]
user: www-data
enforcement: {proxy: "on"}
# What busybox httpd calls (strace -f, serving and forking per request): the
# runtime's filter is enforced, so the init's and the proxy's own calls
# must be in it too (init_own_syscalls, init_proxy_syscalls).
syscalls: {arch: x86_64, allow: [accept, alarm, arch_prctl, bind, brk, chdir, clone, close, dup2, execve, exit_group,
  getcwd, getpid, getrandom, getuid, listen, lseek, mprotect, newfstatat, openat, prctl, prlimit64, read, readlink,
  rseq, rt_sigaction, rt_sigreturn, sendfile, set_robust_list, set_tid_address, setsockopt, shutdown, socket, wait4,
  write]}
files: [{path: /srv/www, access: read}]
redirects:
  paths: [{from: /srv/legacy/www, to: /srv/www}]
  ports: [{from: 80, to: $cport, proto: tcp}]
EOF
  "$DECANT" package "$tmp/crun.yaml" --root "$g" --format bundle --network host -o "$tmp/bundle" \
    >"$tmp/pkg.log" 2>&1 || fail "decant package: $(tail -3 "$tmp/pkg.log")"
  [ -f "$tmp/bundle/rootfs/.decant/plan" ] || fail "the image has no plan for the init's proxy: $(ls "$tmp/bundle/rootfs/.decant")"
  [ -e "$tmp/bundle/rootfs/srv/legacy/www" ] && fail "the image has /srv/legacy/www: the redirect proves nothing"
  grep -q '"DECANT_PLAN=/.decant/plan"' "$tmp/bundle/config.json" || fail "DECANT_PLAN is not in the container's environment"
  grep -q CAP_SYS_PTRACE "$tmp/bundle/config.json" || fail "the init lacks CAP_SYS_PTRACE for a service of another uid"
  grep -q '"SCMP_ACT_ERRNO"' "$tmp/bundle/config.json" || fail "the runtime's seccomp filter is not enforced"
  # Without --trust-bundle: decant run's policy check knows decant-init's own
  # CAP_SYS_PTRACE for the proxy (init_capabilities, docs/init.md).
  "$DECANT" run "$tmp/bundle" >"$tmp/run.out" 2>"$tmp/run.err" &
  cpid=$!
  pids="$pids $cpid"
  wait_port "$cport" $cpid || fail "the container's httpd is not listening on $cport: $(tail -5 "$tmp/run.err")"
  out=$(curl -sS --max-time 10 "http://127.0.0.1:$cport/index.html") || fail "curl the container's httpd: $(tail -5 "$tmp/run.err")"
  [ "$out" = "served in the container" ] || fail "container httpd answered: $out"
  ok "busybox httpd (static, uid 33) under crun: port 80 -> $cport, /srv/legacy/www -> /srv/www, through the init's proxy"
  # httpd forks per request: each child inherits the filter and is served too.
  out=$(curl -sS --max-time 10 "http://127.0.0.1:$cport/index.html") || fail "second request"
  [ "$out" = "served in the container" ] || fail "second request answered: $out"
  ok "a second request (another forked child) is redirected as well"
  stop_run $cpid "decant run did not stop on SIGTERM"
  # The corpus's static raw-syscall probe, as root (no CAP_SYS_PTRACE: same
  # uid), under plain `decant run`: uname, file calls, and across fork/exec.
  PROBE=$B/corpus/legacy_static_probe
  [ -x "$PROBE" ] || fail "corpus/legacy_static_probe not built"
  g2=$tmp/guest2
  mkdir -p "$g2/usr/sbin" "$g2/etc" "$g2/srv/real"
  cp "$PROBE" "$g2/usr/sbin/probe"
  printf 'root:x:0:0:root:/root:/bin/sh\n' >"$g2/etc/passwd"
  printf 'root:x:0:\n' >"$g2/etc/group"
  cat >"$tmp/probe.yaml" <<EOF
apiVersion: decant/v1
kind: Profile
metadata: {name: static-probe, generator: test}
binary: {path: /usr/sbin/probe, arch: x86_64, linkage: static}
entrypoint: [/usr/sbin/probe, uname]
files: [{path: /srv/real, access: write}]
redirects:
  paths: [{from: /legacy/probe, to: /srv/real}]
  identity: {uname_release: 2.6.32-754.el6.x86_64}
EOF
  "$DECANT" package "$tmp/probe.yaml" --root "$g2" --format bundle --network host -o "$tmp/bundle2" \
    >"$tmp/pkg2.log" 2>&1 || fail "decant package the probe: $(tail -3 "$tmp/pkg2.log")"
  grep -q CAP_SYS_PTRACE "$tmp/bundle2/config.json" && fail "a root service's init got CAP_SYS_PTRACE"
  out=$(timeout 60 "$DECANT" run "$tmp/bundle2" 2>"$tmp/run2.err") || fail "decant run the probe: $(tail -3 "$tmp/run2.err")"
  [ "$out" = "release 2.6.32-754.el6.x86_64" ] || fail "uname in the container: $out"
  for m in paths fork; do
    timeout 60 "$DECANT" run "$tmp/bundle2" -- $m /legacy/probe >"$tmp/probe.$m" 2>&1 ||
      fail "probe $m in the container: $(grep FAIL "$tmp/probe.$m" | head -3)"
    grep -qx 'all ok' "$tmp/probe.$m" || fail "probe $m did not finish: $(tail -3 "$tmp/probe.$m")"
  done
  ok "corpus/legacy_static_probe under crun: uname, $(grep -c '^ok ' "$tmp/probe.paths") file calls, fork/exec redirected by the init's proxy"

  # webhook (Go) converted from a small guest: `decant analyze` writes the
  # profile (its allowlist is what the runtime enforces: Go passes syscall
  # numbers in registers and stack slots to its own wrappers, so listen,
  # accept4 and the rest must come out of the code analysis), the test adds
  # only the redirects a user would: the hooks file the VM had under
  # /etc/webhook now lives in /srv/hooks, port 9000 becomes a free port.
  if command -v webhook >/dev/null 2>&1 && command -v python3 >/dev/null 2>&1; then
    g3=$tmp/guest3
    mkdir -p "$g3/usr/bin" "$g3/lib/x86_64-linux-gnu" "$g3/lib64" "$g3/etc" "$g3/srv/hooks"
    cp "$(command -v webhook)" "$g3/usr/bin/webhook"
    for lib in $(ldd "$(command -v webhook)" | awk '$3 ~ /^\// {print $3} $1 ~ /^\/lib64/ {print $1}'); do
      cp -L "$lib" "$g3/lib/x86_64-linux-gnu/$(basename "$lib")"
    done
    ln -s /lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 "$g3/lib64/ld-linux-x86-64.so.2"
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' >"$g3/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' >"$g3/etc/group"
    printf 'ID=debian\nVERSION_ID="12"\n' >"$g3/etc/os-release"
    echo '[{"id": "ping", "execute-command": "/bin/true", "response-message": "pong from the image"}]' \
      >"$g3/srv/hooks/hooks.json"
    "$DECANT" analyze --root "$g3" /usr/bin/webhook -o "$tmp/wh.yaml" >"$tmp/wh.log" 2>&1 ||
      fail "decant analyze webhook: $(tail -3 "$tmp/wh.log")"
    for sc in listen accept4 epoll_pwait; do
      python3 -c 'import sys, yaml; sys.exit(sys.argv[2] not in yaml.safe_load(open(sys.argv[1]))["syscalls"]["allow"])' \
        "$tmp/wh.yaml" $sc || fail "the analyzer missed webhook's $sc (Go's own syscall wrappers)"
    done
    whport=$(free_port)
    python3 - "$tmp/wh.yaml" "$tmp/wh2.yaml" "$whport" <<'PY' || fail "editing the webhook profile"
import sys, yaml
p = yaml.safe_load(open(sys.argv[1]))
p["entrypoint"] = ["/usr/bin/webhook", "-hooks", "/etc/webhook/hooks.json", "-ip", "127.0.0.1", "-port", "9000"]
p["user"] = "nobody"
p.setdefault("files", []).append({"path": "/srv/hooks", "access": "read"})
p.setdefault("redirects", {})["paths"] = [{"from": "/etc/webhook", "to": "/srv/hooks"}]
p["redirects"]["ports"] = [{"from": 9000, "to": int(sys.argv[3]), "proto": "tcp"}]
yaml.safe_dump(p, open(sys.argv[2], "w"))
PY
    "$DECANT" package "$tmp/wh2.yaml" --root "$g3" --format bundle --network host -o "$tmp/bundle3" \
      >"$tmp/pkg3.log" 2>&1 || fail "decant package webhook: $(tail -3 "$tmp/pkg3.log")"
    [ -e "$tmp/bundle3/rootfs/etc/webhook" ] && fail "the image has /etc/webhook: the redirect proves nothing"
    grep -q '"SCMP_ACT_ERRNO"' "$tmp/bundle3/config.json" || fail "webhook's seccomp allowlist is not enforced"
    "$DECANT" run "$tmp/bundle3" >"$tmp/run3.out" 2>"$tmp/run3.err" &
    wcpid=$!
    pids="$pids $wcpid"
    wait_port "$whport" $wcpid || fail "webhook in the container is not listening on $whport: $(tail -5 "$tmp/run3.err")"
    for n in 1 2; do
      out=$(curl -sS --max-time 10 "http://127.0.0.1:$whport/hooks/ping") || fail "curl webhook in the container ($n)"
      [ "$out" = "pong from the image" ] || fail "webhook in the container answered: $out ($(tail -3 "$tmp/run3.err"))"
    done
    ok "webhook (Go, analyzed allowlist enforced, uid 65534) under crun: port 9000 -> $whport, /etc/webhook -> /srv/hooks, through the init's proxy"
    stop_run $wcpid "decant run webhook did not stop on SIGTERM"
  else
    skip "webhook or python3 is not installed (scripts/install-deps.sh)"
  fi
fi
echo "PASS"
