#!/bin/sh
# Seeds for plan_fuzz: the example of docs/shim.md, every directive, the
# encodings and bounds plan.c checks, and real plans `decant plan` compiles
# from analyzed profiles when the build has decant. usage: make_plan_seeds.sh OUTDIR
set -eu
out=$1
mkdir -p "$out"
cat >"$out/all-directives" <<'EOF2'
# comment
decant-plan 1
path /var/log/legacy /data/log
path / /guest
path /a%20b /c%25d
port tcp 7070 17070
port udp 53 5353 127.0.0.1
port tcp 8080 18080 ::1
host db.legacy.internal 10.0.0.5
host 10.1.2.3 127.0.0.2
host fe80::1 ::1
uname sysname Linux
uname nodename legacy
uname release 3.10.0-1160.el7.x86_64
uname version #1%20SMP%20Mon%20Oct%2019
uname machine x86_64
seccomp enforce x86_64 2000000004000000150001003e0000c00600000000000000060000000000ff7f
end
EOF2
printf 'decant-plan 1\nseccomp log x86_64 0600000000000000\nend\n' >"$out/log"
printf 'decant-plan 1\npath /a /b\n' >"$out/truncated"
printf 'decant-plan 1\npath /a%%zz /b\nend\n' >"$out/bad-escape"
{ echo 'decant-plan 1'; i=0; while [ $i -lt 300 ]; do echo "path /d$i/x /t$i"; i=$((i + 1)); done; echo end; } >"$out/many-paths"
{ echo 'decant-plan 1'; printf 'seccomp enforce x86_64 '; i=0; while [ $i -lt 4097 ]; do printf '0600000000000000'; i=$((i + 1)); done; echo; echo end; } >"$out/bpf-too-long"
if [ -n "${DECANT:-}" ] && [ -x "$DECANT" ]; then
  work=$(mktemp -d)
  for b in /bin/true /bin/ls; do
    if "$DECANT" analyze "$b" -o "$work/p.yaml" >/dev/null 2>&1; then
      "$DECANT" plan "$work/p.yaml" -o "$out/compiled-$(basename "$b")" >/dev/null 2>&1 || true
    fi
  done
  rm -rf "$work"
fi
exit 0
