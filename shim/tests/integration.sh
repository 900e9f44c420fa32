#!/bin/sh
# Integration tests of libdecant-shim.so with the corpus programs: each
# section compiles a profile with `decant plan`, preloads the shim and proves
# the redirect really happened from outside the process (the file exists at
# the target, the server listens on the remapped port, the client reaches
# it, uname shows the profile's release, the filter returns EPERM).
# usage: integration.sh SECTION   (paths ports hosts identity unix exec
#                                  threads seccomp learn smallstack planfile)
set -u
. "$(dirname "$0")/lib.sh"
: "${CORPUS:?}"
section=${1:?usage: integration.sh SECTION}
C=$CORPUS

# start_server OUT CMD...: runs CMD under the shim in the background.
start_server() {
  _out=$1
  shift
  "$@" >"$_out" 2>"$_out.err" &
  SERVER_PID=$!
  pids="$pids $SERVER_PID"
  wait_listening "$_out" $SERVER_PID || fail "server did not start: $*"
}

case $section in

paths)
  mkdir -p "$tmp/app" "$tmp/real" "$tmp/log" "$tmp/etc"
  { profile_head paths
    echo "redirects:"
    echo "  paths:"
    echo "    - {from: /legacy/probe, to: $tmp/real}"
    echo "    - {from: /var/log/legacy, to: $tmp/log}"
    echo "    - {from: /etc/legacy, to: $tmp/etc}"
  } >"$tmp/paths.yaml"
  plan paths
  # Every interposed file function, checked with raw syscalls.
  shim paths "$FS_PROBE" /legacy/probe "$tmp/real" >"$tmp/probe.out" 2>"$tmp/probe.err" ||
    fail "fs_probe: $(tail -1 "$tmp/probe.err")"
  grep -q '^all ok$' "$tmp/probe.out" || fail "fs_probe did not finish"
  ok "fs_probe: $(grep -c '^ok ' "$tmp/probe.out") file API calls redirected"
  # The corpus server: config read and log written through path rules.
  printf 'greeting=hello from the redirected config\n' >"$tmp/etc/forkd.conf"
  port=$(free_port)
  start_server "$tmp/forkd.out" shim paths "$C/legacy_forkd" -1 -p "$port"
  timeout 10 "$C/legacy_client" -h 127.0.0.1 -p "$port" -c PING >"$tmp/client.out" || fail "client"
  wait $SERVER_PID
  grep -q 'connection from 127.0.0.1' "$tmp/log/forkd.log" 2>/dev/null ||
    fail "forkd's log did not land at the redirect target"
  ok "legacy_forkd wrote /var/log/legacy/forkd.log at $tmp/log/forkd.log"
  # Tools from the host: relative paths, .. and a cd into a redirected dir.
  echo hello >"$tmp/real/hello"
  out=$(shim paths sh -c 'cd /legacy/probe/dir && cat ../hello && cat /legacy/probe/./dir/../hello')
  expect "hello
hello" "cd into a redirected dir, relative and dotted paths" "$out"
  out=$(shim paths ls /legacy/probe | tr '\n' ' ')
  case $out in *hello*) ok "ls lists the target directory" ;; *) fail "ls: $out" ;; esac
  # Without a plan the shim does nothing.
  out=$(LD_PRELOAD="$SHIM" DECANT_PLAN=/nonexistent/plan cat /legacy/probe/hello 2>&1)
  case $out in *"cannot read plan"*"No such file"*) ok "missing plan: reported, no redirects" ;;
    *) fail "missing plan: $out" ;; esac
  out=$(LD_PRELOAD="$SHIM" cat "$tmp/real/hello" 2>&1)
  expect hello "no plan at the default location: silent no-op" "$out"
  ;;

ports)
  port=$(free_port)
  { profile_head ports
    echo "redirects:"
    echo "  ports: [{from: 7070, to: $port, proto: tcp}]"
    echo "  hosts: [{from: db.legacy.internal, to: 127.0.0.1}]"
  } >"$tmp/ports.yaml"
  plan ports
  # The server binds its hard-coded 7070; the shim moves it to $port.
  start_server "$tmp/forkd.out" shim ports "$C/legacy_forkd"
  expect "listening on 7070" "getsockname reports the original port to the server" "$(head -1 "$tmp/forkd.out")"
  ss -Htln "sport = :$port" | grep -q . || fail "nothing listens on $port"
  ok "the server really listens on $port"
  # A client without the shim reaches the remapped port directly...
  out=$(timeout 10 "$C/legacy_client" -h 127.0.0.1 -p "$port" -c WHOAMI) || fail "native client"
  expect 7070 "server's own view of its port (WHOAMI)" "$out"
  # ...and the legacy client with the shim connects to 7070 and lands there.
  out=$(shim ports "$C/legacy_client" -c PING) || fail "shim client to db.legacy.internal:7070"
  expect PONG "client with hard-coded db.legacy.internal:7070 reaches the remapped server" "$out"
  # getpeername on the client side translates back too.
  cat >"$tmp/peer.c" <<'EOF'
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
int main(void) {
  struct sockaddr_in a, b;
  socklen_t l = sizeof b;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons(7070);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int s = socket(AF_INET, SOCK_STREAM, 0);
  if (connect(s, (struct sockaddr *)&a, sizeof a) < 0) { perror("connect"); return 2; }
  if (getpeername(s, (struct sockaddr *)&b, &l) < 0) { perror("getpeername"); return 2; }
  printf("%u\n", ntohs(b.sin_port));
  return 0;
}
EOF
  cc -o "$tmp/peer" "$tmp/peer.c" || fail "cannot compile the getpeername probe"
  expect 7070 "getpeername reports the original port to the client" "$(shim ports "$tmp/peer")"
  ;;

hosts)
  port=$(free_port)
  { profile_head hosts
    echo "redirects:"
    echo "  hosts:"
    echo "    - {from: db.legacy.internal, to: 127.0.0.1}"
    echo "    - {from: 10.255.255.1, to: 127.0.0.1}"
  } >"$tmp/hosts.yaml"
  plan hosts
  timeout 10 "$C/legacy_client" -c PING >/dev/null 2>&1
  expect 3 "without the shim db.legacy.internal does not resolve (exit 3)" "$?"
  start_server "$tmp/forkd.out" "$C/legacy_forkd" -p "$port"
  out=$(shim hosts "$C/legacy_client" -p "$port" -c PING) || fail "gethostbyname redirect"
  expect PONG "gethostbyname(db.legacy.internal) answers the rule's address" "$out"
  out=$(shim hosts "$C/legacy_client" -h 10.255.255.1 -p "$port" -c PING) || fail "literal IP connect redirect"
  expect PONG "connect() to the literal 10.255.255.1 is rewritten to 127.0.0.1" "$out"
  out=$(shim hosts getent ahostsv4 db.legacy.internal | head -1 | cut -d' ' -f1)
  expect 127.0.0.1 "getaddrinfo(db.legacy.internal)" "$out"
  out=$(shim hosts getent hosts DB.Legacy.Internal | cut -d' ' -f1)
  expect 127.0.0.1 "host names compare case-insensitively" "$out"
  ;;

identity)
  mkdir -p "$tmp/identity"
  echo "CentOS Linux release 7.9.2009 (Core)" >"$tmp/identity/redhat-release"
  { profile_head identity
    echo "redirects:"
    echo "  paths: [{from: /etc/redhat-release, to: $tmp/identity/redhat-release}]"
    echo "  identity: {uname_release: 3.10.0-1160.el7.x86_64, uname_version: '#1 SMP Mon Oct 19 16:18:59 UTC 2020', hostname: legacy-db01}"
  } >"$tmp/identity.yaml"
  plan identity
  "$C/legacy_oscheck" -m 4 >/dev/null 2>&1
  [ $? -eq 4 ] || [ "$(uname -r | cut -d. -f1)" -le 4 ] || fail "oscheck should refuse this kernel natively"
  out=$(shim identity "$C/legacy_oscheck" -m 4) || fail "legacy_oscheck under the shim exited $?"
  expect "CentOS Linux release 7.9.2009 (Core)
kernel 3.10.0-1160.el7.x86_64
os ok" "legacy_oscheck sees the profile's release file and kernel" "$out"
  expect "#1 SMP Mon Oct 19 16:18:59 UTC 2020" "uname -v" "$(shim identity uname -v)"
  expect legacy-db01 "hostname (uname nodename)" "$(shim identity uname -n)"
  ;;

unix)
  mkdir -p "$tmp/run"
  { profile_head unix
    echo "redirects:"
    echo "  paths: [{from: /var/run/legacy, to: $tmp/run}]"
  } >"$tmp/unix.yaml"
  plan unix
  start_server "$tmp/unixd.out" shim unix "$C/legacy_unixd" -1
  [ -S "$tmp/run/unixd.sock" ] || fail "socket not at the redirect target"
  ok "bind(AF_UNIX /var/run/legacy/unixd.sock) created $tmp/run/unixd.sock"
  out=$(shim unix "$C/legacy_client" -u /var/run/legacy/unixd.sock -c WHOAMI) || fail "unix client"
  expect /var/run/legacy/unixd.sock "connect(AF_UNIX) follows the same rule" "$out"
  wait $SERVER_PID
  ;;

exec)
  mkdir -p "$tmp/real" "$tmp/log"
  echo "from the target" >"$tmp/real/data"
  port=$(free_port)
  { profile_head exec
    echo "redirects:"
    echo "  paths: [{from: /legacy/data, to: $tmp/real}, {from: /var/log/legacy, to: $tmp/log},"
    echo "          {from: /usr/lib/legacy/plugins, to: $C}]"
    echo "  ports: [{from: 7070, to: $port, proto: tcp}]"
    echo "  identity: {uname_release: 2.6.32-754.el6.x86_64}"
  } >"$tmp/exec.yaml"
  plan exec
  # dlopen: a plugin path follows the rules...
  out=$(shim exec "$C/legacy_plugin_host" 2>"$tmp/plugin.err") || fail "plugin host: $(cat "$tmp/plugin.err")"
  expect "plugin says: hello from plugin" "dlopen(/usr/lib/legacy/plugins/...) loads from the target" "$out"
  # ...and a soname still searches the caller's RUNPATH ($ORIGIN), which
  # only works because the shim reaches the real dlopen by a tail call.
  mkdir -p "$tmp/rp"
  cp "$C/libplugin_hello.so" "$tmp/rp/"
  cc -o "$tmp/rp/host" "$SOURCE_DIR/corpus/legacy_plugin_host.c" -Wl,-rpath,'$ORIGIN' -ldl ||
    fail "cannot build the RUNPATH plugin host"
  out=$(shim exec "$tmp/rp/host" 2>"$tmp/rp.err")
  expect "plugin says: hello from plugin" "dlopen by soname under the shim" "$out"
  [ ! -s "$tmp/rp.err" ] || fail "dlopen by soname lost the caller's RUNPATH: $(cat "$tmp/rp.err")"
  ok "dlopen by soname still uses the app's RUNPATH"
  # The app wipes its environment before exec'ing: the child keeps the shim.
  out=$(shim exec env -i /bin/cat /legacy/data/data) || fail "env -i cat"
  expect "from the target" "exec with an emptied environment keeps the shim" "$out"
  out=$(shim exec env -u LD_PRELOAD -u DECANT_PLAN sh -c 'cat /legacy/data/data; uname -r')
  expect "from the target
2.6.32-754.el6.x86_64" "LD_PRELOAD and DECANT_PLAN restored through sh -c (execvp, execve)" "$out"
  out=$(shim exec env LD_PRELOAD=/nonexistent-other.so sh -c 'echo $LD_PRELOAD' 2>/dev/null)
  case $out in "$SHIM:/nonexistent-other.so") ok "an app's own LD_PRELOAD is kept after the shim" ;;
    *) fail "LD_PRELOAD composition: $out" ;; esac
  # fork-per-connection: every forked child answers with the redirected uname.
  start_server "$tmp/forkd.out" shim exec "$C/legacy_forkd"
  for i in 1 2 3; do
    out=$(timeout 10 "$C/legacy_client" -h 127.0.0.1 -p "$port" -c UNAME) || fail "client $i"
    expect 2.6.32-754.el6.x86_64 "forked child $i of legacy_forkd reports the profile's release" "$out"
  done
  [ "$(grep -c 'connection from' "$tmp/log/forkd.log")" = 3 ] || fail "log lines missing"
  ok "all connections logged at the redirect target"
  ;;

threads)
  mkdir -p "$tmp/log"
  port=$(free_port)
  { profile_head threads
    echo "redirects:"
    echo "  paths: [{from: /var/log/legacy, to: $tmp/log}]"
    echo "  ports: [{from: 7071, to: $port, proto: tcp}]"
    echo "  identity: {uname_release: 3.10.0-threads}"
  } >"$tmp/threads.yaml"
  plan threads
  n=16
  start_server "$tmp/threadd.out" shim threads "$C/legacy_threadd" -n $n
  i=0
  while [ $i -lt $n ]; do
    (timeout 10 "$C/legacy_client" -h 127.0.0.1 -p "$port" -c UNAME >"$tmp/c$i.txt" 2>&1) &
    i=$((i + 1))
  done
  wait $SERVER_PID || fail "legacy_threadd exited with $?"
  wait
  bad=$(cat "$tmp"/c*.txt | grep -vc '^3.10.0-threads$')
  [ "$bad" = 0 ] || fail "$bad of $n threaded answers were wrong: $(cat "$tmp"/c*.txt | sort | uniq -c)"
  ok "$n concurrent connections, each thread reports the profile's release"
  [ "$(grep -c 'connection from' "$tmp/log/threadd.log")" = $n ] || fail "threadd log incomplete"
  ok "threads logged through the path rule"
  ;;

seccomp)
  grep -q '^Seccomp:' /proc/self/status || skip "kernel without seccomp"
  # Allow every x86-64 syscall but a few the probe then tries.
  hdr=/usr/include/x86_64-linux-gnu/asm/unistd_64.h
  [ -f "$hdr" ] || skip "no $hdr to list x86-64 syscalls"
  [ "$(uname -m)" = x86_64 ] || skip "seccomp test written for x86-64"
  allow=$(sed -n 's/^#define __NR_\([a-z0-9_]*\) .*/\1/p' "$hdr" |
    grep -vxE 'chroot|mount|swapon|pivot_root|umount2' | tr '\n' ',' | sed 's/,$//')
  for mode in enforce log kill eacces; do
    case $mode in
      enforce) enf="{mode: enforce, default_action: errno, errno: EPERM}" ;;
      log) enf="{mode: log}" ;;
      kill) enf="{mode: enforce, default_action: kill}" ;;
      eacces) enf="{mode: enforce, default_action: errno, errno: EACCES}" ;;
    esac
    { profile_head "sc-$mode"
      echo "syscalls: {arch: x86_64, allow: [$allow]}"
      echo "enforcement: {seccomp: $enf}"
    } >"$tmp/$mode.yaml"
    plan "$mode"
  done
  "$C/try_syscall" chroot >/dev/null
  native=$?
  [ $native != 1 ] || skip "chroot already returns EPERM without a filter (not root?)"
  shim enforce "$C/try_syscall" chroot >/dev/null 2>"$tmp/enforce.err"
  expect 1 "enforce: a syscall outside the allowlist fails with EPERM" "$?"
  shim enforce "$C/try_syscall" getpid >/dev/null
  expect 0 "enforce: an allowed syscall works" "$?"
  shim eacces "$C/try_syscall" mount >/dev/null
  expect 13 "enforce with errno EACCES" "$?"
  shim log "$C/try_syscall" chroot >/dev/null 2>"$tmp/log.err"
  expect $native "log mode: the syscall is only logged, not denied" "$?"
  shim kill "$C/try_syscall" chroot >/dev/null 2>&1
  expect 159 "enforce with kill: SIGSYS (128+31)" "$?"
  # Children: a filter applied once is inherited across fork+exec, not stacked.
  out=$(shim enforce sh -c "$C/try_syscall chroot >/dev/null; echo \$?; grep Seccomp_filters /proc/self/status | tr -d '\t '")
  expect "1
Seccomp_filters:1" "exec'd children stay confined, with a single filter" "$out"
  # A filter the kernel rejects: reported once, the app keeps running.
  sed 's/^seccomp log x86_64 [0-9a-f]*/seccomp log x86_64 ffffffffffffffff/' "$tmp/log.plan" >"$tmp/bad.plan"
  grep -q '^seccomp log x86_64 ffffffffffffffff$' "$tmp/bad.plan" || fail "could not make a bad plan"
  shim bad "$C/try_syscall" getpid >/dev/null 2>"$tmp/bad.err"
  expect 0 "log mode: a filter that fails to apply never stops the app" "$?"
  expect 1 "the failure is reported once on stderr" "$(grep -c 'cannot apply the seccomp filter (mode log): EINVAL' "$tmp/bad.err")"
  ;;

learn)
  grep -q '^Seccomp:' /proc/self/status || skip "kernel without seccomp"
  mkdir -p "$tmp/log" "$tmp/records"
  port=$(free_port)
  { profile_head learn
    echo "files: [{path: /etc/legacy/forkd.conf, access: read, evidence: ['static: .rodata']}]"
    echo "syscalls: {arch: x86_64, allow: [read, write, close, exit_group]}"
    echo "redirects:"
    echo "  paths: [{from: /var/log/legacy, to: $tmp/log}]"
    echo "  ports: [{from: 7070, to: $port, proto: tcp}]"
  } >"$tmp/learn.yaml"
  "$DECANT" learn --profile "$tmp/learn.yaml" --records "$tmp/records" -o "$tmp/observed.yaml" -- \
    "$C/legacy_forkd" -1 >"$tmp/learn.out" 2>"$tmp/learn.err" &
  lp=$!
  pids="$pids $lp"
  i=0
  until timeout 5 "$C/legacy_client" -h 127.0.0.1 -p "$port" -c PING >/dev/null 2>&1; do
    i=$((i + 1))
    [ $i -lt 100 ] || fail "learn: the server never answered on $port"
    sleep 0.1
  done
  wait $lp || fail "decant learn exited $?: $(cat "$tmp/learn.err")"
  grep -q 'not supported\|cannot observe' "$tmp/learn.err" && skip "user notification unavailable: $(cat "$tmp/learn.err")"
  o="$tmp/observed.yaml"
  grep -q -- '- port: 7070' "$o" || fail "learn: listen port 7070 missing from $(cat "$o")"
  grep -q 'observed: listen() on 0.0.0.0:7070/tcp in learn mode' "$o" || fail "learn: listen evidence"
  ok "listen on 7070 recorded with observed: evidence (app's view, not $port)"
  grep -q 'path: /var/log/legacy/forkd.log' "$o" || fail "learn: log file missing"
  grep -q 'observed: open (write) in learn mode' "$o" || fail "learn: file evidence"
  ok "the log file is a files[] entry with observed: evidence"
  grep -q 'observed: open (read) failed with errno 2 in learn mode' "$o" || fail "learn: missing config evidence"
  ok "the static files[] entry gained the observed (failed) open"
  grep -q 'analyzer miss: syscall' "$tmp/learn.err" || fail "learn: no analyzer miss reported"
  grep -q "analyzer miss: syscall 'socket'" "$tmp/learn.err" || fail "learn: socket not reported as a miss"
  ok "syscalls outside the static allowlist are reported as analyzer misses"
  grep -q 'observed: learn mode (seccomp user notification)' "$o" || fail "learn: syscall evidence"
  ls "$tmp/records"/shim.*.jsonl >/dev/null 2>&1 || fail "learn: no shim records"
  ok "raw records kept in --records"
  # Fork and threads: each process writes its own file.
  "$DECANT" learn --records "$tmp/rec2" -o "$tmp/obs2.json" --format json -- \
    sh -c "cat /etc/hostname >/dev/null; sh -c 'cat /etc/passwd >/dev/null'" 2>"$tmp/learn2.err" ||
    fail "learn 2: $(cat "$tmp/learn2.err")"
  [ "$(ls "$tmp/rec2"/shim.*.jsonl | wc -l)" -ge 3 ] || fail "learn: expected one record file per process"
  grep -q '"/etc/passwd"' "$tmp/obs2.json" || fail "learn: grandchild's open missing"
  ok "fork/exec descendants recorded, one file per process"
  # A command that cannot run is bad input: exit 2, one line, no output.
  rc=0
  "$DECANT" learn -o "$tmp/none.yaml" -- /nonexistent/daemon 2>"$tmp/learn3.err" || rc=$?
  [ "$rc" -eq 2 ] || fail "learn of a missing command exited $rc"
  [ "$(wc -l <"$tmp/learn3.err")" -eq 1 ] || fail "learn of a missing command: $(cat "$tmp/learn3.err")"
  [ ! -e "$tmp/none.yaml" ] || fail "learn of a missing command wrote an output"
  ok "a missing command is an error and writes nothing"
  ;;

smallstack)
  # 16 KiB thread stacks, an 8 KiB sigaltstack, signal handlers interrupting
  # redirected calls, and an execve with a 2.5 MB environment: all must work
  # (or fail with E2BIG) under the shim, in plain and in learn mode; and
  # vfork+exec must not leave memory taken in the parent.
  : "${SMALL_STACKS:?}"
  mkdir -p "$tmp/real" "$tmp/rec"
  printf 'A\n' >"$tmp/real/a"
  printf 'B\n' >"$tmp/real/b"
  cp /bin/true "$tmp/real/true"
  { profile_head smallstack
    echo "redirects:"
    echo "  paths: [{from: /legacy/small, to: $tmp/real}]"
  } >"$tmp/smallstack.yaml"
  plan smallstack
  "$SMALL_STACKS" run /legacy/small "$tmp/real" >"$tmp/native.out" 2>&1
  expect 1 "without the shim the redirected opens fail (the test can fail)" "$?"
  for mode in plan learn; do
    if [ $mode = learn ]; then set -- env DECANT_LEARN="$tmp/rec"; else set --; fi
    "$@" env LD_PRELOAD="$SHIM" DECANT_PLAN="$tmp/smallstack.plan" timeout 60 \
      "$SMALL_STACKS" run /legacy/small "$tmp/real" >"$tmp/run.$mode.out" 2>"$tmp/run.$mode.err"
    rc=$?
    [ $rc = 0 ] || fail "small_stacks ($mode) exited $rc (139 = SIGSEGV): $(tail -3 "$tmp/run.$mode.err")"
    grep -q '^all ok$' "$tmp/run.$mode.out" || fail "small_stacks ($mode) did not finish"
    ok "$mode: $(grep -c '^ok ' "$tmp/run.$mode.out") small-stack checks: $(tail -2 "$tmp/run.$mode.out" | head -1)"
  done
  grep -q '"path":"/legacy/small/a"' "$tmp"/rec/shim.*.jsonl || fail "learn mode recorded nothing"
  # The shim's own stack use per call: touched bytes with the shim minus
  # without it, for the same call, must stay under 2 KiB.
  "$SMALL_STACKS" depth /legacy/small "$tmp/real" >"$tmp/depth.native" || fail "depth (native)"
  for mode in plan learn; do
    if [ $mode = learn ]; then set -- env DECANT_LEARN="$tmp/rec"; else set --; fi
    "$@" env LD_PRELOAD="$SHIM" DECANT_PLAN="$tmp/smallstack.plan" \
      "$SMALL_STACKS" depth /legacy/small "$tmp/real" >"$tmp/depth.$mode" || fail "depth ($mode)"
    report=$(awk 'NR == FNR { native[$2] = $3; next }
                  { extra = $3 - native[$2]; printf "%s=%d ", $2, extra; if (extra > 2048) bad = bad " " $2 }
                  END { if (bad != "") { print "OVER:" bad; exit 1 } }' "$tmp/depth.native" "$tmp/depth.$mode") ||
      fail "$mode: the shim uses more than 2 KiB of stack per call: $report"
    ok "$mode: extra stack bytes per call: $report"
  done
  ;;

planfile)
  # A plan that cannot be used never stops the app: whatever DECANT_PLAN
  # names (a FIFO, a device, a directory, nothing, an empty, truncated,
  # oversized or corrupt file), the app runs unredirected within seconds and
  # stderr gets exactly one warning line.
  mkdir -p "$tmp/real"
  echo hello >"$tmp/real/hello"
  { profile_head planfile
    echo "redirects:"
    echo "  paths: [{from: /legacy/pf, to: $tmp/real}]"
    echo "  ports: [{from: 7070, to: 17070, proto: tcp}]"
    echo "  identity: {uname_release: 3.10.0-planfile}"
  } >"$tmp/planfile.yaml"
  plan planfile
  good=$tmp/planfile.plan
  expect hello "a good plan redirects" "$(LD_PRELOAD="$SHIM" DECANT_PLAN="$good" cat /legacy/pf/hello)"
  # unusable NAME PLAN [EXPECTED-WARNING]: one warning (or, for corruptions
  # that happen to stay valid, none when EXPECTED-WARNING is "any").
  unusable() {
    rc=0
    out=$(timeout 10 env LD_PRELOAD="$SHIM" DECANT_PLAN="$2" cat "$tmp/real/hello" 2>"$tmp/pf.err") || rc=$?
    [ $rc = 0 ] || fail "$1: the app exited $rc (124: hung before main): $(cat "$tmp/pf.err")"
    [ "$out" = hello ] || fail "$1: the app printed '$out'"
    lines=$(wc -l <"$tmp/pf.err")
    case ${3:-} in
      any) [ "$lines" -le 1 ] || fail "$1: $lines lines on stderr: $(cat "$tmp/pf.err")" ;;
      *)
        [ "$lines" = 1 ] || fail "$1: expected one warning line, got $lines: $(cat "$tmp/pf.err")"
        grep -q "^decant-shim: .*${3:-}" "$tmp/pf.err" || fail "$1: unexpected warning: $(cat "$tmp/pf.err")"
        ;;
    esac
  }
  mkfifo "$tmp/fifo"
  unusable "a FIFO" "$tmp/fifo" "not a regular file"
  ok "a FIFO plan: one warning, no hang"
  unusable "a directory" "$tmp/real" "a directory"
  unusable "a character device" /dev/zero "not a regular file"
  unusable "a missing file" "$tmp/nonexistent" "no such file"
  : >"$tmp/empty.plan"
  unusable "an empty file" "$tmp/empty.plan" "empty plan"
  head -n -1 "$good" >"$tmp/trunc.plan"
  unusable "a plan without its end line" "$tmp/trunc.plan" "truncated"
  head -c $(($(wc -c <"$good") / 2)) "$good" >"$tmp/half.plan"
  unusable "a plan cut in the middle" "$tmp/half.plan" "invalid plan"
  { echo "decant-plan 1"; head -c 5000000 /dev/zero | tr '\0' '#'; echo; echo end; } >"$tmp/big.plan"
  unusable "a plan over 4 MiB" "$tmp/big.plan" "larger than 4 MiB"
  { echo "decant-plan 1"; printf 'seccomp enforce x86_64 '; head -c 80000 /dev/zero | tr '\0' 'a'; echo; echo end; } >"$tmp/bpf.plan"
  unusable "a BPF program of 5000 instructions" "$tmp/bpf.plan" "max 4096"
  printf 'decant-plan 1\nport tcp 99999999999999999999999 1\nend\n' >"$tmp/port.plan"
  unusable "a port number that overflows" "$tmp/port.plan" "ports 1-65535"
  ok "directory, device, missing, empty, truncated, oversized, huge counts: one warning each"
  i=0
  while [ $i -lt 25 ]; do
    head -c $(($(od -An -N2 -tu2 /dev/urandom) + 1)) /dev/urandom >"$tmp/random.plan"
    unusable "random bytes ($i)" "$tmp/random.plan" "invalid plan"
    # One byte of the good plan overwritten: rejected, or still a plan.
    size=$(wc -c <"$good")
    off=$(($(od -An -N2 -tu2 /dev/urandom) % size))
    { head -c $off "$good"; head -c 1 /dev/urandom; tail -c +$((off + 2)) "$good"; } >"$tmp/flip.plan"
    unusable "a corrupted byte at $off ($i)" "$tmp/flip.plan" any
    i=$((i + 1))
  done
  ok "25 random files and 25 single-byte corruptions: no crash, no hang, at most one warning"
  # Many rules are data, not a reason to hang: 300000 path rules of two
  # lengths (quadratic to insert one by one) load in well under the timeout.
  awk -v t="$tmp/real" 'BEGIN { print "decant-plan 1"; for (i = 0; i < 150000; i++) print "path /a /s";
    for (i = 0; i < 150000; i++) print "path /ab /l"; print "path /legacy/pf " t; print "end" }' >"$tmp/many.plan"
  out=$(timeout 10 env LD_PRELOAD="$SHIM" DECANT_PLAN="$tmp/many.plan" cat /legacy/pf/hello 2>"$tmp/pf.err")
  expect hello "300000 path rules load and apply" "$out"
  ;;

*)
  echo "unknown section $section" >&2
  exit 2
  ;;
esac
echo "PASS: shim.integration.$section"
