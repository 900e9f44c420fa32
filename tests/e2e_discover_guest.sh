#!/bin/sh
# decant discover on the grown bullseye guest (scripts/guest.sh), which boots
# systemd: every service it starts, each with its binary, user, arguments and
# listen ports, whichever way it starts (native units of several types, a
# SysV-only script through systemd's generator, xinetd entries from
# xinetd.d and from inetd.conf behind tcpd); fetchmail, disabled in
# /etc/default/fetchmail, listed with that reason; what boots but is no
# application (systemd's own daemons, gettys, oneshots) listed with its reason.
set -u
. "$DECANT_SOURCE/tests/lib.sh"
require_tool python3
guest=$(bullseye_guest) || exit $?
[ -x "$guest/usr/sbin/xinetd" ] || skip "guest at $guest predates the grown package list"
out=$(mktemp -d "${TMPDIR:-/tmp}/decant-e2e-discover-guest.XXXXXX") || fail "mktemp"
trap 'rm -rf "$out"' EXIT

"$DECANT" discover --root "$guest" -o "$out/d.json" || fail "discover on the guest"
python3 - "$out/d.json" <<'PY' || fail "discovered services of the guest"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["init"] == "systemd" and d["default_target"] == "graphical.target", (d["init"], d["default_target"])
svc = {(s["name"], s["manager"]): s for s in d["services"]}

# name, manager -> argv, user (None: the unit/script sets none), listen ports.
want = {
    ("apache2", "systemd"): (["/usr/sbin/apachectl", "start"], None, []),
    ("cron", "systemd"): (["/usr/sbin/cron", "-f"], None, []),
    ("lighttpd", "systemd"): (["/usr/sbin/lighttpd", "-D", "-f", "/etc/lighttpd/lighttpd.conf"], None, []),
    ("memcached", "systemd"): (["/usr/share/memcached/scripts/systemd-memcached-wrapper", "/etc/memcached.conf"], None, []),
    ("named", "systemd"): (["/usr/sbin/named", "-f", "-u", "bind"], None, []),
    ("redis-server", "systemd"): (["/usr/bin/redis-server", "/etc/redis/redis.conf", "--supervised", "systemd",
                                   "--daemonize", "no"], "redis", []),
    ("rsyslog", "systemd"): (["/usr/sbin/rsyslogd", "-n", "-iNONE"], None, []),
    ("squid", "systemd"): (["/usr/sbin/squid", "--foreground", "-sYC"], None, []),
    ("ssh", "systemd"): (["/usr/sbin/sshd", "-D"], None, []),
    ("vsftpd", "systemd"): (["/usr/sbin/vsftpd", "/etc/vsftpd.conf"], None, []),
    ("xinetd", "sysv"): (["/usr/sbin/xinetd", "-pidfile", "/run/xinetd.pid", "-stayalive", "-inetd_compat",
                          "-inetd_ipv6"], None, ["69/udp", "873/tcp"]),
    ("rsync", "xinetd"): (["/usr/bin/rsync", "--daemon"], "root", ["873/tcp"]),
    ("tftp", "inetd"): (["/usr/sbin/in.tftpd", "/srv/tftp"], "nobody", ["69/udp"]),
}
running = {k for k, s in svc.items() if s["enabled"] and "reason" not in s}
assert running == set(want), ("started and convertible", sorted(running ^ set(want)))
for key, (argv, user, ports) in want.items():
    s = svc[key]
    assert s["argv"] == argv, (key, s["argv"])
    assert s.get("user") == user, (key, s.get("user"))
    assert sorted(f'{l["port"]}/{l["proto"]}' for l in s["listen"]) == ports, (key, s["listen"])

# Superserver entries name the boot service that serves them; tcpd is unwrapped.
for key in (("rsync", "xinetd"), ("tftp", "inetd")):
    assert svc[key]["superserver"] == "xinetd", svc[key]
assert any("runs through /usr/sbin/tcpd" in e for e in svc[("tftp", "inetd")]["evidence"]), svc[("tftp", "inetd")]
assert svc[("tftp", "inetd")].get("wrapper") == "/usr/sbin/tcpd", svc[("tftp", "inetd")]
# The superserver binds its entries' sockets: their ports are its own.
assert any("starts /usr/sbin/in.tftpd per connection" in e for e in svc[("xinetd", "sysv")]["evidence"])
# The SysV script is read with its /etc/default file; EnvironmentFile=- files too.
assert "sources: /etc/default/xinetd" in svc[("xinetd", "sysv")]["evidence"], svc[("xinetd", "sysv")]["evidence"]
assert any("EnvironmentFile=/etc/default/named" in e for e in svc[("named", "systemd")]["evidence"])
assert svc[("redis-server", "systemd")]["type"] == "notify" and svc[("apache2", "systemd")]["type"] == "forking"

# Found, not started or not an application, each with its reason.
reasons = {
    ("fetchmail", "sysv"): "/etc/default/fetchmail:11: START_DAEMON=no: disabled",
    ("rsync", "systemd"): "not enabled",
    ("rsync", "sysv"): "superseded by the native unit rsync.service",
    ("apache2", "sysv"): "superseded",
    ("postfix", "systemd"): "Type=oneshot",
    ("systemd-journald", "systemd"): "part of systemd itself",
    ("systemd-logind", "systemd"): "part of systemd itself",
    ("getty@tty1", "systemd"): "TTYPath=/dev/%I: a terminal login",
    ("chargen-stream", "xinetd"): "internal to the superserver",
    ("echo-dgram", "xinetd"): "internal to the superserver",
}
for key, why in reasons.items():
    s = svc.get(key)
    assert s is not None, ("missing", key)
    assert why in s.get("reason", ""), (key, s.get("reason"))
fm = svc[("fetchmail", "sysv")]
assert not fm["enabled"] and fm["argv"][0] == "/usr/bin/fetchmail" and fm["user"] == "fetchmail", fm
names = [(s["name"], s["manager"]) for s in d["services"]]
assert len(names) == len(set(names)), "duplicate service entries"
print(f"discover_guest ok: {len(running)} started, {len(d['services'])} listed")
PY
echo "PASS: e2e.discover_guest"
