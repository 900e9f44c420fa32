#!/bin/sh
# Closure resolution against ld.so itself (issue 15): for every ELF executable
# under a guest's /usr/bin and /usr/sbin, `decant analyze --no-code` (one
# process per binary) and `chroot GUEST ldd` time the same binary in turn, the
# order swapped every binary so drift hits both; then all of them in one
# `decant analyze` process (the batch form, YAML and JSON), and full analysis
# with code analysis of a few servers, cold (empty code cache) and warm.
# Prints the speed-up over ldd per binary (median, p25, p75) and in total;
# the goal is >= 10x, and < 2 s cold, < 0.2 s warm for full analysis.
# Wall seconds, measured by perl around fork/exec/wait; nothing is asserted.
#
# Run (as root: chroot):  ninja -C build bench-analyze
#   or  sh bench/analyze_bench.sh [path/to/decant]     (default build/decant)
# Env:  BENCH_GUEST=DIR     guest root, default scripts/guest.sh bullseye
#       BENCH_MAX=N         only the first N binaries (sorted), default all
#       BENCH_SERVERS="..." guest paths for the full-analysis rows
set -u

here=$(cd "$(dirname "$0")" && pwd)
decant=${1:-$here/../build/decant}
max=${BENCH_MAX:-0}
servers=${BENCH_SERVERS:-/usr/bin/redis-server /usr/sbin/lighttpd /usr/bin/memcached /usr/sbin/vsftpd}

if [ ! -x "$decant" ]; then
  echo "analyze_bench: $decant is not executable (build the decant target first)" >&2
  exit 2
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "analyze_bench: needs root (ldd runs in a chroot of the guest)" >&2
  exit 2
fi
guest=${BENCH_GUEST:-$("$here/../scripts/guest.sh" bullseye 2>/dev/null)} || guest=
if [ -z "$guest" ] || [ ! -x "$guest/usr/bin/ldd" ]; then
  echo "analyze_bench: no guest with ldd (set BENCH_GUEST or build it with scripts/guest.sh)" >&2
  exit 2
fi
command -v perl >/dev/null 2>&1 || { echo "analyze_bench: perl not found" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Regular files (symlinks name a file already listed) starting with \177ELF,
# as guest paths.
(cd "$guest" && find usr/bin usr/sbin -type f -size +51c -print0) |
  perl -0 -ne 'chomp; if (open(my $fh, "<", "'"$guest"'/$_")) { my $m; print "/$_\n" if read($fh, $m, 4) == 4 && $m eq "\x7fELF"; }' |
  LC_ALL=C sort >"$tmp/all"
if [ "$max" -gt 0 ]; then head -n "$max" "$tmp/all" >"$tmp/list"; else cp "$tmp/all" "$tmp/list"; fi
count=$(wc -l <"$tmp/list" | tr -d ' ')
[ "$count" -gt 0 ] || { echo "analyze_bench: no ELF executables in $guest" >&2; exit 2; }
# Warm the page cache so neither tool pays for the first read.
(cd "$guest" && sed 's|^/||' "$tmp/list" | tr '\n' '\0' | xargs -0 cat >/dev/null 2>&1)

DECANT=$decant GUEST=$guest LIST=$tmp/list SERVERS=$servers TMPD=$tmp perl -e '
use strict; use warnings; use Time::HiRes qw(time);
my ($decant, $guest, $tmp) = @ENV{qw(DECANT GUEST TMPD)};
open(my $fh, "<", $ENV{LIST}) or die; chomp(my @bins = <$fh>); close $fh;

# Wall seconds of one command, its output thrown away; exit status in $?.
sub timed {
  my @cmd = @_;
  my $t0 = time;
  my $pid = fork // die "fork: $!";
  if ($pid == 0) {
    open(STDOUT, ">", "/dev/null"); open(STDERR, ">>", "$tmp/stderr");
    exec @cmd or exit 127;
  }
  waitpid($pid, 0);
  return time - $t0;
}
sub pct { my ($p, @v) = @_; @v = sort { $a <=> $b } @v; my $i = $p * $#v; my $lo = int $i;
          return $lo == $#v ? $v[$lo] : $v[$lo] + ($v[$lo + 1] - $v[$lo]) * ($i - $lo); }
sub median { return pct(0.5, @_); }

my (@ratio, @tdec, @tldd, $sum_ldd, $sum_dec, $fail_dec, $fail_ldd);
$sum_ldd = $sum_dec = $fail_dec = $fail_ldd = 0;
my @ldd_cmd = ("chroot", $guest, "/usr/bin/ldd");
my @dec_cmd = ($decant, "analyze", "--root", $guest, "--no-code");
for my $i (0 .. $#bins) {
  my $b = $bins[$i];
  my ($tl, $td, $sl, $sd);
  if ($i % 2) { $td = timed(@dec_cmd, $b); $sd = $?; $tl = timed(@ldd_cmd, $b); $sl = $?; }
  else        { $tl = timed(@ldd_cmd, $b); $sl = $?; $td = timed(@dec_cmd, $b); $sd = $?; }
  $fail_dec++ if $sd; $fail_ldd++ if $sl;
  $sum_ldd += $tl; $sum_dec += $td;
  push @ratio, $tl / $td; push @tdec, $td; push @tldd, $tl;
}
my $n = @bins;
printf "Guest %s: %d ELF executables under /usr/bin and /usr/sbin\n\n", $guest, $n;
printf "One process per binary, alternating (speed-up = ldd time / decant time; goal >= 10):\n";
printf "  %-34s %9s %9s\n", "", "decant", "ldd";
printf "  %-34s %9.1f %9.1f\n", "median ms per binary", 1000 * median(@tdec), 1000 * median(@tldd);
printf "  %-34s %9.1f %9.1f\n", "mean ms per binary", 1000 * $sum_dec / $n, 1000 * $sum_ldd / $n;
printf "  %-34s %9d %9d\n", "failed (non-zero exit)", $fail_dec, $fail_ldd;
printf "  speed-up per binary: median %.2fx, p25 %.2fx, p75 %.2fx; total %.2fx\n\n",
  median(@ratio), pct(0.25, @ratio), pct(0.75, @ratio), $sum_ldd / $sum_dec;

# All binaries in one decant process, three runs each format, against the
# per-binary ldd total above.
for my $fmt ("yaml", "json") {
  my @t = map { timed($decant, "analyze", "--root", $guest, "--no-code", "--format", $fmt, @bins) } 1 .. 3;
  my $m = median(@t);
  printf "One decant process for all %d (--format %s): median %.2f s, %.2f ms per binary; speed-up %.2fx\n",
    $n, $fmt, $m, 1000 * $m / $n, $sum_ldd / $m;
}

# Full analysis (code included) per server, cold and warm code cache.
print "\nFull analysis (code analysis included; goal < 2 s cold, < 0.2 s warm):\n";
printf "  %-28s %8s %8s\n", "server", "cold_s", "warm_s";
for my $s (split " ", $ENV{SERVERS}) {
  next unless -e "$guest$s";
  my $cache = "$tmp/code-cache";
  system("rm", "-rf", $cache);
  local $ENV{DECANT_CACHE} = $cache;
  my $cold = timed($decant, "analyze", "--root", $guest, $s);
  my $warm = median(map { timed($decant, "analyze", "--root", $guest, $s) } 1 .. 3);
  printf "  %-28s %8.2f %8.2f\n", $s, $cold, $warm;
}
'
if [ -s "$tmp/stderr" ]; then
  echo "stderr lines by message (first 5):"
  sed 's/^decant: [^:]*: //' "$tmp/stderr" | sort | uniq -c | sort -rn | head -5
fi
