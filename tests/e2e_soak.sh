#!/bin/sh
# A bounded soak (issue 13): the test guest's redis-server, converted and
# run under `decant run`, serves steady load from real clients on loopback
# for DECANT_SOAK_SECONDS (default 60) with no error and no lost request,
# while its RSS and the shim's bookkeeping inside it stay flat; start and
# end figures are printed on every run, pass or fail.
# `DECANT_SOAK_SECONDS=600 ctest -R e2e.soak` is the 10-minute soak; past
# CTest's 900 s timeout, run this script directly with DECANT, DECANT_BUILD
# and DECANT_SOURCE set (docs/run.md, "Soak").
#
# The server: `decant convert --only redis-server`, its profile then given
# two path rules (/var/lib/redis and /var/log/redis moved to /data, as a
# migration puts them on volumes), because the converted plan has none and
# every wrapper would pass straight through; packaged with a network
# namespace of its own and published on a free host port.
#
# The load: redis-benchmark rounds (20 connections, PING/SET/GET/INCR/MSET
# over a bounded keyspace, so the data set stops growing in the warm-up),
# and a checker of our own that counts every request and every wrong
# answer: an INCR counter only it touches must come back exact, every GET
# the value just SET; it reconnects every 200 requests (accept/close churn
# through the relay) and every 2 s asks for CLIENT LIST and a foreground
# SAVE. A SAVE opens and renames the dump relative to the server's working
# directory and logs a line, and redis opens its log file for every line:
# calls the shim maps, through its scratch pool, in the server process.
#
# What the shim keeps (shim/): nothing per fd; per call an 8 KiB buffer from
# a fixed pool of 128 in .bss (scratch.c), given back on return, mmap'd only
# when the pool is exhausted; per thread an exec arena and a dlopen page,
# mapped on a thread's first exec or redirected dlopen (redis does neither
# under load); the learn-mode dedup table, unused under `decant run`. So it
# is measured where a leak would show: the pool's busy bits (pool_used, read
# from /proc/PID/mem at the symbol's address in the shim's mapping; with the
# server quiet all must be clear), the pool's resident pages
# (/proc/PID/pagemap), the Rss of the shim's own mappings (smaps), and the
# server's mapping count, fd count and VmRSS/RssAnon (a leaked overflow mmap
# or arena would show there).
#
# Fails on: a benchmark round that errors (redis-benchmark exits on the
# first error reply or lost connection) or stalls, any checker error, fewer
# commands processed by the server than the clients were answered, SAVEs
# missing from the redirected log, the server dying or being replaced, a
# pool buffer still busy at the end, more fds at the end than at the start
# (+2), VmRSS growth from warm-up to end beyond DECANT_SOAK_RSS_PCT % (10)
# + DECANT_SOAK_RSS_KIB (4096), or a steady climb: every periodic sample
# above the one before, the last more than DECANT_SOAK_TREND_KIB (1024)
# above the first. DECANT_SOAK_WARMUP (10 s) and DECANT_SOAK_INTERVAL
# (seconds / 12, at least 5) set the warm-up and the sampling period.
set -u
. "$DECANT_SOURCE/tests/lib.sh"
require_root "crun, the guest and other processes' /proc/PID/mem"
require_tool crun
require_tool python3
require_tool jq
require_tool nm
require_tool redis-benchmark
require_tool redis-cli
GUEST=$(bullseye_guest) || exit $?
SHIM="$DECANT_BUILD/libdecant-shim.so"
[ -f "$SHIM" ] || skip "shim not built ($SHIM): build target decant_shim"
[ -x "$GUEST/usr/bin/redis-server" ] || skip "the guest has no redis-server ($GUEST)"

seconds=${DECANT_SOAK_SECONDS:-60}
warmup=${DECANT_SOAK_WARMUP:-10}
interval=${DECANT_SOAK_INTERVAL:-$((seconds / 12 > 5 ? seconds / 12 : 5))}
rss_pct=${DECANT_SOAK_RSS_PCT:-10}
rss_kib=${DECANT_SOAK_RSS_KIB:-4096}
trend_kib=${DECANT_SOAK_TREND_KIB:-1024}
id="decant-e2e-soak-$$"

tmp=$(mktemp -d /tmp/decant-e2e-soak.XXXXXX) || fail "mktemp"
run_pid="" checker_pid="" sampler_pid="" bench_pid="" server="" start_fig="" judged=""
run_dir="${XDG_RUNTIME_DIR:-/run}/decant/$id"
cleanup() {
    for p in $bench_pid $checker_pid $sampler_pid; do kill "$p" 2>/dev/null; done
    # A failure still reports the start figures and what the server is at.
    if [ -n "$start_fig" ] && [ -z "$judged" ]; then
        echo "start: $start_fig" >&2
        [ -s samples ] && sed 's/^/  /' samples >&2
        if alive; then echo "now:   $(probe 2>&1)" >&2; else echo "now:   redis-server ($server) is gone" >&2; fi
    fi
    if [ -n "$run_pid" ]; then
        # A container whose server ended winds down by itself: a TERM during
        # decant run's own teardown would cut it short.
        n=0
        while [ -n "$server" ] && ! alive && kill -0 "$run_pid" 2>/dev/null && [ $n -lt 50 ]; do sleep 0.2; n=$((n + 1)); done
        kill -TERM "$run_pid" 2>/dev/null
        # decant run stops the service (its --stop-timeout) and deletes the
        # container; should it not, it is killed and the container removed.
        n=0
        while kill -0 "$run_pid" 2>/dev/null && [ $n -lt 100 ]; do sleep 0.2; n=$((n + 1)); done
        if kill -0 "$run_pid" 2>/dev/null; then
            kill -KILL "$run_pid"
            if [ -d /sys/fs/cgroup/unified ] && mountpoint -q /sys/fs/cgroup/unified; then
                unshare -m sh -c 'umount /sys/fs/cgroup/unified && crun delete -f "$1"' sh "$id" 2>/dev/null
            else
                crun delete -f "$id" 2>/dev/null
            fi
        fi
        wait "$run_pid" 2>/dev/null
        [ -d "$run_dir" ] && { echo "note: decant run left $run_dir behind; removed" >&2; rm -rf "$run_dir"; }
    fi
    cd / && rm -rf "$tmp"
}
started=""
alive() { [ -n "$server" ] && [ "$(cut -d' ' -f22 "/proc/$server/stat" 2>/dev/null)" = "$started" ]; }
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
cd "$tmp" || exit 1

# --- convert, package with a network namespace of its own, run ---
timeout 600 "$DECANT" convert "$GUEST" -o out --shim "$SHIM" --only redis-server --format bundle -q \
    2>convert.log || fail "convert --only redis-server: $(tail -5 convert.log)"
# The converted plan holds no rules: without some, the soak would not
# exercise the shim's mapping at all.
jq '.redirects.paths = [{"from": "/var/lib/redis", "to": "/data/redis"}, {"from": "/var/log/redis", "to": "/data/log"}]' \
    out/redis-server/bundle/rootfs/.decant/profile.json >profile.json || fail "no JSON profile in the converted bundle"
timeout 300 "$DECANT" package profile.json --root "$GUEST" --shim "$SHIM" --network private \
    --format bundle -o bundle 2>package.log || fail "package --network private: $(tail -3 package.log)"
grep -q '^path /var/lib/redis /data/redis$' bundle/rootfs/.decant/plan || fail "the plan has no path rule for /var/lib/redis"
preload=$(jq -r '.process.env[] | select(startswith("LD_PRELOAD=")) | ltrimstr("LD_PRELOAD=")' bundle/config.json)
[ -f "bundle/rootfs$preload" ] || fail "the bundle preloads no shim (LD_PRELOAD '$preload')"
sport=$(jq -r '.annotations["io.decant.ports"] | fromjson | map(select(.proto == "tcp")) | .[0].port' bundle/config.json)
[ "$sport" = 6379 ] || fail "the bundle publishes tcp port '$sport', expected redis's 6379: $(jq '.annotations' bundle/config.json)"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$DECANT" run --name "$id" --stop-timeout 5 -p "127.0.0.1:$port:6379" bundle >run.log 2>&1 &
run_pid=$!

# --- the helpers: a RESP client (checker), the process probe ---
cat >resp.py <<'PY'
# Minimal RESP2 client: enough for the checker and for INFO.
import socket


class RedisError(Exception):
    pass


class Conn:
    def __init__(self, port, timeout=5):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.f = self.s.makefile("rb")

    def close(self):
        self.f.close()
        self.s.close()

    def cmd(self, *args):
        a = [x if isinstance(x, bytes) else str(x).encode() for x in args]
        self.s.sendall(b"*%d\r\n" % len(a) + b"".join(b"$%d\r\n%s\r\n" % (len(x), x) for x in a))
        return self.read()

    def read(self):
        line = self.f.readline()
        if not line.endswith(b"\r\n"):
            raise ConnectionError("connection closed mid-reply")
        t, v = line[:1], line[1:-2]
        if t == b"+":
            return v
        if t == b"-":
            raise RedisError(v.decode(errors="replace"))
        if t == b":":
            return int(v)
        if t == b"$":
            n = int(v)
            if n < 0:
                return None
            d = self.f.read(n + 2)
            if len(d) != n + 2:
                raise ConnectionError("connection closed mid-bulk")
            return d[:-2]
        if t == b"*":
            return [self.read() for _ in range(int(v))]
        raise ConnectionError("bad reply type %r" % line[:20])


def info(port, section):
    c = Conn(port)
    text = c.cmd("INFO", section).decode()
    c.close()
    return dict(l.split(":", 1) for l in text.splitlines() if ":" in l)
PY

cat >checker.py <<'PY'
# checker.py PORT SECONDS: requests whose answers it can check, until the
# deadline; prints its counts, exits 1 on any error.
import os, sys, time
from resp import Conn, RedisError

port, until = int(sys.argv[1]), time.time() + float(sys.argv[2])
requests = errors = reconnects = saves = incrs = 0
first = []


def error(what):
    global errors
    errors += 1
    if len(first) < 5:
        first.append(what)


c = None
expect = None
next_slow = time.time()
while time.time() < until:
    try:
        if c is None:
            c = Conn(port)
            reconnects += 1
            sent_here = 0
            if expect is None:
                c.cmd("DEL", "soak:counter")
                requests += 1
                expect = 0
        n = c.cmd("INCR", "soak:counter")
        requests += 1
        incrs += 1
        expect += 1
        if n != expect:
            error("INCR soak:counter gave %r, expected %d" % (n, expect))
            expect = n if isinstance(n, int) else expect
        key, value = "soak:key:%d" % (requests % 1000), "v%d-%d" % (os.getpid(), requests)
        if c.cmd("SET", key, value) != b"OK":
            error("SET %s did not answer OK" % key)
        requests += 1
        got = c.cmd("GET", key)
        requests += 1
        if got != value.encode():
            error("GET %s gave %r, expected %r" % (key, got, value))
        if time.time() >= next_slow:
            next_slow = time.time() + 2
            if not isinstance(c.cmd("CLIENT", "LIST"), bytes):
                error("CLIENT LIST gave no bulk string")
            requests += 1
            r = c.cmd("SAVE")
            requests += 1
            if r != b"OK":
                error("SAVE gave %r" % r)
            saves += 1
        sent_here += 3
        if sent_here >= 200:
            c.close()
            c = None
    except (OSError, RedisError) as e:
        error("%s: %s" % (type(e).__name__, e))
        if c is not None:
            try:
                c.close()
            except OSError:
                pass
        c = None
        time.sleep(0.1)
try:
    final = Conn(port).cmd("GET", "soak:counter")
    if final is None or int(final) != expect:
        error("soak:counter ends at %r after %d acknowledged INCRs" % (final, expect))
except (OSError, RedisError) as e:
    error("final GET: %s" % e)
print("requests=%d errors=%d incrs=%d saves=%d connections=%d" % (requests, errors, incrs, saves, reconnects))
for f in first:
    print("error: " + f)
sys.exit(1 if errors else 0)
PY

cat >probe.py <<'PY'
# probe.py PID SHIM POOL_OFF POOL_SIZE USED_OFF USED_SIZE [INTERVAL SECONDS]:
# one line of figures for the process and the shim inside it; with an
# interval, one line each INTERVAL s for SECONDS s (stops early if the
# process is gone). Offsets are the shim's symbols (nm), relative to the
# start of its first mapping.
import os, sys, time

pid, shim = int(sys.argv[1]), sys.argv[2]
pool_off, pool_size, used_off, used_size = (int(x, 16) for x in sys.argv[3:7])


def sample():
    status = dict(l.split(":", 1) for l in open("/proc/%d/status" % pid))
    kib = lambda k: int(status[k].split()[0])
    maps = open("/proc/%d/maps" % pid).read().splitlines()
    base = None
    for l in maps:
        f = l.split()
        if len(f) >= 6 and f[5] == shim and int(f[2], 16) == 0:
            base = int(f[0].split("-")[0], 16)
            break
    if base is None:
        raise SystemExit("probe: %s is not mapped in %d" % (shim, pid))
    # smaps: the shim's own mappings, and the anonymous one right after
    # them (the part of .bss beyond the file).
    shim_rss = 0
    in_shim = after_shim = False
    for l in open("/proc/%d/smaps" % pid):
        f = l.split()
        if "-" in f[0] and len(f) >= 5 and ":" in f[3]:
            name = f[5] if len(f) >= 6 else ""
            after_shim = in_shim and name == ""
            in_shim = name == shim
        elif f[0] == "Rss:" and (in_shim or after_shim):
            shim_rss += int(f[1])
    page = os.sysconf("SC_PAGE_SIZE")
    first, last = (base + pool_off) // page, (base + pool_off + pool_size - 1) // page
    with open("/proc/%d/pagemap" % pid, "rb") as pm:
        pm.seek(first * 8)
        entries = pm.read((last - first + 1) * 8)
    resident = sum(1 for i in range(0, len(entries), 8) if int.from_bytes(entries[i:i + 8], "little") >> 63)
    with open("/proc/%d/mem" % pid, "rb") as mem:
        mem.seek(base + used_off)
        used = mem.read(used_size)
    busy = sum(bin(b).count("1") for b in used)
    return ("vmrss_kib=%d rssanon_kib=%d threads=%s fds=%d maps=%d shim_rss_kib=%d pool_pages=%d pool_busy=%d"
            % (kib("VmRSS"), kib("RssAnon"), status["Threads"].strip(), len(os.listdir("/proc/%d/fd" % pid)),
               len(maps), shim_rss, resident, busy))


if len(sys.argv) == 7:
    print(sample())
    sys.exit(0)
interval, until = float(sys.argv[7]), time.time() + float(sys.argv[8])
t0 = time.time()
while time.time() < until:
    time.sleep(interval)
    try:
        print("t=%d %s" % (time.time() - t0, sample()), flush=True)
    except (FileNotFoundError, ProcessLookupError):
        print("gone", flush=True)
        break
PY

# --- wait for an answer, find the server process ---
until_s=$(($(date +%s) + 60))
until [ "$(timeout 3 redis-cli -h 127.0.0.1 -p "$port" PING 2>/dev/null)" = PONG ]; do
    kill -0 "$run_pid" 2>/dev/null || fail "the container ended before answering: $(tail -8 run.log)"
    [ "$(date +%s)" -lt "$until_s" ] || fail "no PONG on $port in 60 s: $(tail -8 run.log)"
    sleep 0.3
done
# The server is the redis-server under decant run whose parent is not one
# (a BGSAVE child would be).
ps -e -o pid= -o ppid= -o comm= >ps.txt
server=$(awk -v root="$run_pid" '
    { parent[$1] = $2; comm[$1] = $3 }
    END {
        for (p in parent) {
            for (q = p; q in parent && q != root && q > 1; q = parent[q]) ;
            if (q == root && comm[p] == "redis-server" && comm[parent[p]] != "redis-server") print p
        }
    }' ps.txt)
[ -n "$server" ] && [ "$(echo "$server" | wc -l)" -eq 1 ] || fail "no single redis-server under decant run ($run_pid): '$server'"
started=$(cut -d' ' -f22 "/proc/$server/stat")

# The shim's pool and its busy bitmap, by symbol (static, so in .symtab).
sym() { nm -S --defined-only "bundle/rootfs$preload" | awk -v s="$1" '$4 == s { print $1, $2 }'; }
set -- $(sym pool) $(sym pool_used)
[ $# -eq 4 ] || fail "the bundle's $preload has no symbols pool and pool_used (stripped?)"
pool_args="$preload $1 $2 $3 $4"
# shellcheck disable=SC2086
probe() { timeout 20 python3 probe.py "$server" $pool_args; }
probe >/dev/null 2>probe.err || fail "cannot read the shim's figures in redis-server ($server): $(cat probe.err)"

# round N: one redis-benchmark round; fails on an error or a stall.
bench_requests=0
round() {
    timeout 120 redis-benchmark -h 127.0.0.1 -p "$port" -c 20 -n 5000 -r 10000 -d 64 \
        -t ping,set,get,incr,mset >"bench.$1" 2>&1 &
    bench_pid=$!
    wait "$bench_pid"
    rc=$?
    bench_pid=""
    [ $rc -ne 124 ] || fail "redis-benchmark round $1 stalled (120 s): $(tail -5 "bench.$1")"
    if [ $rc -ne 0 ]; then
        alive || echo "redis-server ($server) is gone: $(tail -5 run.log)" >&2
        fail "redis-benchmark round $1 failed (exit $rc): $(tr '\r' '\n' <"bench.$1" | grep -i error | tail -3)"
    fi
    ! grep -qi 'error' "bench.$1" || fail "redis-benchmark round $1 reports: $(grep -i error "bench.$1" | head -3)"
    done_n=$(grep -c '5000 requests completed in' "bench.$1")
    [ "$done_n" -eq 6 ] || fail "redis-benchmark round $1 completed $done_n of 6 tests: $(grep 'requests completed' "bench.$1")"
    bench_requests=$((bench_requests + 6 * 5000))
    alive || fail "redis-server ($server) is gone after round $1: $(tail -8 run.log)"
}

# --- warm-up: the keyspace filled, the allocator and the pool settled ---
end_w=$(($(date +%s) + warmup))
timeout $((warmup + 30)) python3 checker.py "$port" "$warmup" >checker.warmup 2>&1 &
checker_pid=$!
r=0
while r=$((r + 1)) && round "w$r" && [ "$(date +%s)" -lt "$end_w" ]; do :; done
wait "$checker_pid" || fail "checker during warm-up: $(cat checker.warmup)"
checker_pid=""
sleep 1
start_fig=$(probe) || fail "probe at start: $(cat probe.err)"
processed0=$(timeout 5 python3 -c 'import sys; from resp import info; print(info(int(sys.argv[1]), "stats")["total_commands_processed"])' "$port") ||
    fail "INFO stats before the soak"
relay0=$(awk '/^VmRSS/ { print $2 }' "/proc/$run_pid/status")
echo "start (after ${warmup}s warm-up): $start_fig"
bench_requests=0

# --- the soak ---
t0=$(date +%s)
# shellcheck disable=SC2086
timeout $((seconds + 60)) python3 probe.py "$server" $pool_args "$interval" "$seconds" >samples 2>sampler.err &
sampler_pid=$!
timeout $((seconds + 60)) python3 checker.py "$port" "$seconds" >checker.out 2>&1 &
checker_pid=$!
rounds=0
while [ $(($(date +%s) - t0)) -lt "$seconds" ]; do
    rounds=$((rounds + 1))
    round "$rounds"
done
wait "$checker_pid"
checker_rc=$?
checker_pid=""
wait "$sampler_pid"
sampler_pid=""
elapsed=$(($(date +%s) - t0))
# Quiet again (every client gone, as at the start) before the end figures.
sleep 1
alive || fail "redis-server ($server) is gone at the end: $(tail -8 run.log)"
end_fig=$(probe) || fail "probe at end: $(cat probe.err)"
relay1=$(awk '/^VmRSS/ { print $2 }' "/proc/$run_pid/status")
processed1=$(timeout 5 python3 -c 'import sys; from resp import info; print(info(int(sys.argv[1]), "stats")["total_commands_processed"])' "$port") ||
    fail "INFO stats after the soak"

# --- report, then judge ---
judged=1
fig() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
checked=$(sed -n 's/^requests=\([0-9]*\) .*/\1/p' checker.out)
echo "soak: ${elapsed}s, $rounds benchmark rounds ($bench_requests requests, $((bench_requests / (elapsed > 0 ? elapsed : 1)))/s), checker: $(head -1 checker.out)"
echo "samples (every ${interval}s):"
sed 's/^/  /' samples
echo "end:   $end_fig"
saves=$(sed -n 's/.* saves=\([0-9]*\) .*/\1/p' checker.warmup checker.out | awk '{ n += $1 } END { print n + 0 }')
logged=$(grep -c 'DB saved on disk' bundle/volumes/data/log/redis-server.log 2>/dev/null)
echo "shim: ${logged:-0} of $saves SAVEs logged in the volume behind the /var/log/redis -> /data/log rule"
echo "server: processed $((processed1 - processed0)) commands during the soak; clients were answered $((bench_requests + ${checked:-0}))"
for k in vmrss_kib rssanon_kib fds maps shim_rss_kib pool_pages pool_busy; do
    printf '  %-13s start %8s  end %8s\n' "$k" "$(fig "$start_fig" "$k")" "$(fig "$end_fig" "$k")"
done
# The relay is decant's, not the server's: reported, not judged.
printf '  %-13s start %8s  end %8s  (decant run and its port relay)\n' vmrss_kib "$relay0" "$relay1"

[ "$checker_rc" -eq 0 ] || fail "checker: $(cat checker.out)"
grep -q '^gone' samples && fail "redis-server vanished during the soak"
[ -s sampler.err ] && fail "the sampler stopped: $(tail -3 sampler.err)"
# redis opens its log file for every line: each SAVE's line landing in the
# volume is a call the shim mapped.
[ "${logged:-0}" -ge "$saves" ] && [ -s bundle/volumes/data/redis/dump.rdb ] ||
    fail "the server's SAVEs did not all reach /data (logged ${logged:-0} of $saves): the shim's path rules did not apply"
[ $((processed1 - processed0)) -ge $((bench_requests + checked)) ] ||
    fail "the server processed $((processed1 - processed0)) commands, fewer than the $((bench_requests + checked)) answered: requests lost"
[ "$(fig "$end_fig" pool_busy)" -eq 0 ] || fail "$(fig "$end_fig" pool_busy) shim scratch buffers still busy with the server quiet: a leak in shim/scratch.c's callers"
[ "$(fig "$end_fig" fds)" -le $(($(fig "$start_fig" fds) + 2)) ] ||
    fail "fds grew from $(fig "$start_fig" fds) to $(fig "$end_fig" fds) with no client connected"
rss0=$(fig "$start_fig" vmrss_kib) rss1=$(fig "$end_fig" vmrss_kib)
bound=$((rss0 + rss0 * rss_pct / 100 + rss_kib))
[ "$rss1" -le "$bound" ] ||
    fail "VmRSS grew from $rss0 to $rss1 KiB, beyond the bound $bound KiB (start + ${rss_pct}% + $rss_kib KiB)"
sed -n 's/.* vmrss_kib=\([0-9]*\) .*/\1/p' samples | awk -v trend="$trend_kib" '
    NR > 1 && $1 <= prev { flat = 1 }
    NR == 1 { first = $1 }
    { prev = $1; n = NR }
    END { if (n >= 5 && !flat && prev - first > trend) { print first, prev, n; exit 1 } }' >trend ||
    fail "VmRSS climbed at every sample: $(cut -d' ' -f1 trend) to $(cut -d' ' -f2 trend) KiB over $(cut -d' ' -f3 trend) samples"
echo "PASS: ${elapsed}s of load, 0 errors; VmRSS $rss0 -> $rss1 KiB (bound $bound), shim pool busy $(fig "$end_fig" pool_busy), fds $(fig "$start_fig" fds) -> $(fig "$end_fig" fds)"
