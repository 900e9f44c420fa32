#!/bin/sh
# The seccomp proxy (docs/proxy.md) with the corpus's static, raw-syscall
# programs: a plan compiled by `decant plan` from a profile, the program run
# under decant-proxy, and every redirect proved from outside the process
# (files at the target, the server listening on the remapped port and
# reached there, getsockname/getpeername showing the original port, uname
# showing the profile's release), in threads and across fork/exec; then the
# failure modes: a killed supervisor (the app gets ENOSYS, never hangs), a
# bad plan (one warning, unredirected); and learn mode's records. Needs root (pidfd_getfd of another process, setfsuid).
set -u
. "$(dirname "$0")/lib.sh"
require_root "seccomp user notification supervisor"
B=${DECANT_BUILD:?}
PROXY=$B/decant-proxy
C=$B/corpus
[ -x "$PROXY" ] || fail "decant-proxy not built at $PROXY"
[ -x "$C/legacy_static_probe" ] || skip "no static libc: corpus/legacy_static_probe was not built"
require_tool ss

tmp=$(mktemp -d "${TMPDIR:-/tmp}/decant-proxy-test.XXXXXX") || exit 1
pids=""
trap 'for p in $pids; do kill "$p" 2>/dev/null; done; rm -rf "$tmp"' EXIT
ok() { echo "ok: $*"; }
port_free() { ! ss -Htln "sport = :$1" 2>/dev/null | grep -q .; }
free_port() {
  while :; do
    p=$(($(od -An -N2 -tu2 /dev/urandom) % 12000 + 20000))
    port_free "$p" && { echo "$p"; return; }
  done
}

# The profile: a path, the static server's hard-coded port, a release.
port=$(free_port)
mkdir -p "$tmp/real"
cat >"$tmp/p.yaml" <<EOF
apiVersion: decant/v1
kind: Profile
metadata: {name: proxy-test, generator: test}
binary: {path: $C/legacy_static, arch: x86_64, linkage: static}
redirects:
  paths: [{from: /legacy/probe, to: $tmp/real}, {from: /opt/legacy, to: $tmp/real}]
  ports: [{from: 7072, to: $port, proto: tcp}]
  identity: {uname_release: 2.6.32-754.el6.x86_64}
EOF
"$DECANT" plan "$tmp/p.yaml" -o "$tmp/p.plan" --force 2>"$tmp/plan.err" || fail "decant plan: $(cat "$tmp/plan.err")"
grep -qx 'proxy auto' "$tmp/p.plan" || fail "a static binary's plan does not ask for the proxy: $(cat "$tmp/p.plan")"
ok "the plan of a static binary says 'proxy auto'"
export DECANT_PLAN="$tmp/p.plan"
run() { timeout 30 "$PROXY" -- "$@"; }

# Paths: every raw file call, checked inside and at the target outside.
run "$C/legacy_static_probe" paths /legacy/probe >"$tmp/paths.out" 2>&1 || fail "paths: $(grep FAIL "$tmp/paths.out")"
grep -qx 'all ok' "$tmp/paths.out" || fail "paths did not finish: $(tail -3 "$tmp/paths.out")"
[ "$(cat "$tmp/real/dir.main/moved")" = proxied ] || fail "the created, renamed file is not at the target"
[ -e /legacy/probe ] && fail "/legacy/probe exists on the host: the test proves nothing"
ok "raw-syscall file calls redirected: $(grep -c '^ok ' "$tmp/paths.out") checks, file at $tmp/real/dir.main/moved"

# Threads and fork/exec.
run "$C/legacy_static_probe" threads /legacy/probe >"$tmp/threads.out" 2>&1 || fail "threads: $(grep FAIL "$tmp/threads.out")"
for t in 0 1 2 3; do [ -f "$tmp/real/dir.t$t/moved" ] || fail "thread $t's file is not at the target"; done
ok "4 threads at once: every file at the target"
run "$C/legacy_static_probe" fork /legacy/probe >"$tmp/fork.out" 2>&1 || fail "fork: $(grep FAIL "$tmp/fork.out")"
[ -f "$tmp/real/dir.child/moved" ] || fail "the forked, re-exec'd child's file is not at the target"
ok "a forked child that re-execs itself is still redirected"

# uname.
out=$(run "$C/legacy_static_probe" uname)
[ "$out" = "release 2.6.32-754.el6.x86_64" ] || fail "uname: $out"
ok "uname(2) reports the profile's release"

# Ports: the static server binds its hard-coded 7072, lands on $port,
# reports 7072 from getsockname; a client reaches it on $port, and a proxied
# client connecting to 7072 is sent to $port and sees 7072 as its peer.
echo "greeting from the redirected data file" >"$tmp/real/static.dat"
run "$C/legacy_static" >"$tmp/srv.out" 2>&1 &
spid=$!
pids="$pids $spid"
i=0
until grep -q '^listening on' "$tmp/srv.out" 2>/dev/null; do
  i=$((i + 1))
  [ $i -lt 200 ] && kill -0 $spid 2>/dev/null || fail "legacy_static did not start: $(cat "$tmp/srv.out")"
  sleep 0.05
done
[ "$(cat "$tmp/srv.out")" = "listening on 7072" ] || fail "getsockname: $(cat "$tmp/srv.out")"
port_free "$port" && fail "nothing listens on the remapped port $port"
if ss -Htlnp "sport = :7072" | grep -q legacy_static; then fail "legacy_static listens on 7072"; fi
ok "legacy_static bound 7072 -> $port, getsockname shows 7072"
out=$(timeout 10 "$C/legacy_static_probe" connect "$port")
case $out in *"read greeting from the redirected data file"*) ;; *) fail "client on $port: $out" ;; esac
ok "a client reaches it on $port and gets the greeting from the redirected /opt/legacy/static.dat"
out=$(run "$C/legacy_static_probe" connect 7072)
case $out in *"ok getpeername"*"read greeting"*) ;; *) fail "proxied client to 7072: $out" ;; esac
ok "a proxied client's connect to 7072 reaches $port, getpeername shows 7072"
kill $spid 2>/dev/null
wait $spid 2>/dev/null

# The supervisor dies: the app's intercepted calls fail with ENOSYS.
echo x >"$tmp/real/f"
"$PROXY" -- "$C/legacy_static_probe" stat /legacy/probe/f 3000000 >"$tmp/kill.out" 2>&1 &
kpid=$!
pids="$pids $kpid"
sleep 1
kill -9 $kpid
i=0
while ! grep -q 'stat done' "$tmp/kill.out"; do
  i=$((i + 1))
  [ $i -lt 600 ] || fail "the app hung after its supervisor died"
  sleep 0.1
done
grep -q 'last errno 38' "$tmp/kill.out" || fail "after the supervisor died: $(cat "$tmp/kill.out")"
ok "supervisor killed: the app's calls fail with ENOSYS and it runs to the end ($(cat "$tmp/kill.out"))"

# A bad plan: one warning, the app runs unredirected.
printf 'decant-plan 1\npath relative /x\nend\n' >"$tmp/bad.plan"
DECANT_PLAN="$tmp/bad.plan" timeout 10 "$PROXY" -- "$C/legacy_static_probe" uname >"$tmp/bad.out" 2>"$tmp/bad.err" ||
  fail "bad plan: the app did not run"
[ "$(wc -l <"$tmp/bad.err")" -eq 1 ] && grep -q 'cannot use plan.*unredirected' "$tmp/bad.err" ||
  fail "bad plan warning: $(cat "$tmp/bad.err")"
grep -q "release $(uname -r)" "$tmp/bad.out" || fail "bad plan: uname was redirected anyway"
ok "bad plan: one warning ($(cat "$tmp/bad.err")), unredirected"

# Learn mode: the supervisor records what the static program did.
mkdir -p "$tmp/learn"
DECANT_LEARN="$tmp/learn" run "$C/legacy_static_probe" paths /legacy/probe learn >/dev/null 2>&1 || fail "learn run"
grep -q "\"op\":\"open\",\"access\":\"write\",\"path\":\"/legacy/probe/out.learn\",\"target\":\"$tmp/real/out.learn\"" \
  "$tmp"/learn/proxy.*.jsonl || fail "learn records: $(head -5 "$tmp"/learn/proxy.*.jsonl)"
ok "learn mode: $(cat "$tmp"/learn/proxy.*.jsonl | wc -l) records, the redirected open among them"

# decant learn on a static program: the shim cannot load into it, so it
# learns through decant-proxy and the file calls land in the profile.
mkdir -p "$tmp/lp"
"$DECANT" learn -o "$tmp/learned.yaml" -- "$C/legacy_static_probe" paths "$tmp/lp" learn >"$tmp/learn.out" 2>"$tmp/learn.err" ||
  fail "decant learn the static probe: $(tail -3 "$tmp/learn.err")"
grep -qx 'all ok' "$tmp/learn.out" || fail "the probe under decant learn: $(grep FAIL "$tmp/learn.out" | head -3)"
grep -q 'linkage: static' "$tmp/learned.yaml" || fail "decant learn did not see a static binary"
for f in "$tmp/lp/out.learn" "$tmp/lp/dir.learn"; do
  grep -q "path: $f\$" "$tmp/learned.yaml" || fail "decant learn missed $f: $(grep -A2 'files:' "$tmp/learned.yaml")"
done
grep -q 'observed: open (write) in learn mode' "$tmp/learned.yaml" || fail "no observed evidence in the learned profile"
ok "decant learn on a static program: $(grep -c 'observed' "$tmp/learned.yaml") observed facts through the proxy"
echo "PASS"
