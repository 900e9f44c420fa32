#!/bin/sh
# Seeds for loader_config_fuzz: little guests as "PATH\n CONTENT" records
# separated by NUL bytes (see loader_config_fuzz.cpp): Debian's ld.so.conf
# with includes, include loops and escapes, a symlinked include, nsswitch
# files, and the host's own ld.so and nsswitch.conf. usage: make_loader_seeds.sh OUTDIR
set -eu
out=$1
mkdir -p "$out"
rec() { printf '%s\n' "$1"; cat; printf '\000'; }
{ printf '/etc/ld.so.conf\ninclude /etc/ld.so.conf.d/*.conf\n\000'
  printf '/etc/ld.so.conf.d/x86_64-linux-gnu.conf\n/usr/local/lib/x86_64-linux-gnu\n/lib/x86_64-linux-gnu\n\000'
  printf '/etc/ld.so.conf.d/libc.conf\n/usr/local/lib\n\000'
  printf '/etc/nsswitch.conf\npasswd: files systemd\nhosts: files [NOTFOUND=return] mdns4_minimal dns\n'; } >"$out/debian"
{ printf '/etc/ld.so.conf\ninclude /etc/ld.so.conf\ninclude ld.so.conf.d/*\n/lib64 /usr/lib64:/opt/lib,/x\thwcap 0 nosegneg\n\000'
  printf '/etc/ld.so.conf.d/a\ninclude /../../etc/*\ninclude /etc/ld.so.conf.d/*\n\000'
  printf '@/etc/ld.so.conf.d/b\n/etc/ld.so.conf\000'; } >"$out/loops"
{ printf '/etc/ld.so.conf\n'; i=0; while [ $i -lt 300 ]; do echo "include /e/$i/*"; i=$((i + 1)); done; } >"$out/many-includes"
printf '/etc/nsswitch.conf\nhosts: [ files\n: x\n[]:\nnetgroup: nis # c\n' >"$out/nss-odd"
# The loader: its system directories live in .rodata, so a window around
# them keeps the seed small (the whole input is also the guest's ld.so).
ld=/lib64/ld-linux-x86-64.so.2
if [ -f "$ld" ]; then
  off=$(grep -a -b -o '/usr/lib/x86_64-linux-gnu/' "$ld" 2>/dev/null | head -n 1 | cut -d: -f1 || true)
  if [ -n "$off" ]; then
    start=$((off > 2048 ? off - 2048 : 0))
    dd if="$ld" bs=1 skip="$start" count=8192 status=none >"$out/ld-so-window" || true
  fi
fi
[ -f /etc/nsswitch.conf ] && rec /etc/nsswitch.conf </etc/nsswitch.conf >"$out/host-nsswitch"
[ -f /etc/ld.so.conf ] && rec /etc/ld.so.conf </etc/ld.so.conf >"$out/host-ldsoconf"
exit 0
