#!/bin/sh
# decant discover on real Debian packaging: the bullseye guest (packages enable
# both a systemd unit and a SysV script, and systemd's rules pick the unit),
# the same guest's real init scripts, /etc/default files and LSB functions
# read as a SysV-only guest, and bad roots.
set -u
. "$DECANT_SOURCE/tests/lib.sh"
require_tool python3
guest=$(bullseye_guest) || exit $?
out=$(mktemp -d "${TMPDIR:-/tmp}/decant-e2e-discover.XXXXXX") || fail "mktemp"
trap 'rm -rf "$out"' EXIT

# 1. The guest as packaged: systemd units win, scripts are listed as superseded.
"$DECANT" discover --root "$guest" -o "$out/systemd.json" || fail "discover on the guest"
python3 - "$out/systemd.json" <<'PY' || fail "systemd view of the guest"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["init"] == "systemd", d["init"]
svc = {(s["name"], s["manager"]): s for s in d["services"]}
want = {
    "redis-server": ["/usr/bin/redis-server", "/etc/redis/redis.conf", "--supervised", "systemd", "--daemonize", "no"],
    "lighttpd": ["/usr/sbin/lighttpd", "-D", "-f", "/etc/lighttpd/lighttpd.conf"],
    "vsftpd": ["/usr/sbin/vsftpd", "/etc/vsftpd.conf"],
    "memcached": ["/usr/share/memcached/scripts/systemd-memcached-wrapper", "/etc/memcached.conf"],
}
for name, argv in want.items():
    s = svc[(name, "systemd")]
    assert s["enabled"] and "reason" not in s, (name, s)
    assert s["argv"] == argv, (name, s["argv"])
    assert any(e.startswith("unit: ") and "/lib/systemd/system/" in e for e in s["evidence"]), s["evidence"]
    old = svc[(name, "sysv")]
    assert not old["enabled"] and "superseded" in old["reason"], old
assert svc[("redis-server", "systemd")]["user"] == "redis"
assert svc[("redis-server", "systemd")]["type"] == "notify"
print("systemd view ok:", len(d["services"]), "entries")
PY

# 2. The same init scripts in a SysV-only guest (no unit files, an /sbin/init).
sysv="$out/sysv-guest"
mkdir -p "$sysv/etc" "$sysv/lib" "$sysv/sbin"
cp -a "$guest/etc/init.d" "$guest/etc/rc2.d" "$guest/etc/default" "$sysv/etc/" || fail "copy init scripts"
cp -a "$guest/lib/lsb" "$sysv/lib/" || fail "copy LSB functions"
: >"$sysv/sbin/init"
# A script disabled through its /etc/default file, as admins do it.
sed 's/^DAEMON=.*/DAEMON=\/usr\/sbin\/offd/' "$sysv/etc/init.d/vsftpd" >"$sysv/etc/init.d/offd"
echo "ENABLED=no" >"$sysv/etc/default/offd"
sed -i 's|^DAEMON=\(.*\)|DAEMON=\1\n[ -r /etc/default/offd ] \&\& . /etc/default/offd|' "$sysv/etc/init.d/offd"
ln -s ../init.d/offd "$sysv/etc/rc2.d/S02offd"
"$DECANT" discover --root "$sysv" -o "$out/sysv.json" || fail "discover on the SysV guest"
python3 - "$out/sysv.json" <<'PY' || fail "SysV view of the guest's scripts"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["init"] == "sysv" and d["default_target"] == "runlevel 2", d
svc = {s["name"]: s for s in d["services"]}
r = svc["redis-server"]
assert r["enabled"] and r["argv"] == ["/usr/bin/redis-server", "/etc/redis/redis.conf"], r
assert r["user"] == "redis" and r["group"] == "redis" and r["pidfile"] == "/var/run/redis/redis-server.pid", r
assert svc["lighttpd"]["argv"] == ["/usr/sbin/lighttpd", "-f", "/etc/lighttpd/lighttpd.conf"], svc["lighttpd"]
assert svc["vsftpd"]["argv"] == ["/usr/sbin/vsftpd"], svc["vsftpd"]
assert svc["memcached"]["argv"][0] == "/usr/share/memcached/scripts/start-memcached", svc["memcached"]
off = svc["offd"]
assert not off["enabled"] and "/etc/default/offd:1: ENABLED=no" in off["reason"], off
print("sysv view ok")
PY

# 3. Bad roots: one line, exit 2, nothing written.
for bad in /nonexistent-root "$out/sysv-guest/etc/default/offd" "$out/empty"; do
    [ "$bad" = "$out/empty" ] && mkdir -p "$bad"
    "$DECANT" discover --root "$bad" -o "$out/bad.json" 2>"$out/err"
    rc=$?
    [ $rc -eq 2 ] || fail "discover --root $bad exited $rc, want 2"
    [ "$(wc -l <"$out/err")" -eq 1 ] || fail "discover --root $bad: want one stderr line, got: $(cat "$out/err")"
    [ ! -e "$out/bad.json" ] || fail "discover --root $bad left an output"
done
"$DECANT" discover --root "$sysv" -o "$out/sysv.json" 2>"$out/err" && fail "discover replaced an existing output without --force"
echo "PASS: e2e.discover"
