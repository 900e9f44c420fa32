#!/bin/sh
# Configuration trees on the real bullseye guest: for several servers,
# `decant convert` finds their configuration the way the daemon does and
# packages it whole — an include, a `*-enabled` symlink *and* its
# `*-available` target are in the profile (with config:/dpkg: evidence) and
# in the packaged rootfs; a module the configuration loads (LoadModule) is
# in the closure with found_via: config; the listen ports the Debian
# configuration sets are high confidence; and each image's ExposedPorts are
# exactly its high-confidence ports (no reply codes, no "echo"); postfix's
# master listens on master.cf's inet services, named through /etc/services.
# Expected values are read from the guest's own files here, not hard-coded.
set -u
. "$DECANT_SOURCE/tests/lib.sh"
require_root "the guest"
require_tool python3
GUEST=$(bullseye_guest) || exit $?

tmp=$(mktemp -d /tmp/decant-e2e-config.XXXXXX) || fail "mktemp"
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1

# apache2's unit starts apachectl (a script); name its ELF daemon directly.
"$DECANT" convert "$GUEST" -o out --no-shim --format oci-archive,bundle -j 2 -q \
    --service "apache2=/usr/sbin/apache2 -DFOREGROUND" \
    --only apache2 --only lighttpd --only named --only squid --only redis-server --only rsyslog \
    2>convert.log
rc=$?
[ $rc -eq 0 ] || [ $rc -eq 1 ] || fail "convert exited $rc: $(cat convert.log)"

python3 - "$GUEST" out <<'PY' || fail "configuration trees"
import glob, io, json, os, re, sys, tarfile
import yaml

guest, out = sys.argv[1], sys.argv[2]
errors = []

def check(cond, msg):
    if not cond:
        errors.append(msg)

def profile(name):
    return yaml.safe_load(open(f"{out}/{name}/profile.yaml"))

def files_of(p):
    return {f["path"]: f for f in p.get("files", [])}

def rootfs(name):
    return f"{out}/{name}/bundle/rootfs"

def in_rootfs(name, path):
    return os.path.lexists(rootfs(name) + path)

def exposed_ports(name):
    with tarfile.open(f"{out}/{name}/image.oci.tar") as t:
        blob = lambda d: t.extractfile("blobs/sha256/" + d.split(":", 1)[1]).read()
        index = json.loads(t.extractfile("index.json").read())
        manifest = json.loads(blob(index["manifests"][0]["digest"]))
        config = json.loads(blob(manifest["config"]["digest"]))
    return set(config.get("config", {}).get("ExposedPorts", {}).keys())

def high_ports(p):
    return {f"{l['port']}/{l.get('proto', 'tcp')}" for l in p.get("network", {}).get("listen", [])
            if l["confidence"] == "high"}

def guest_ports(path, regex):
    # Active, unindented directives of the guest's own file.
    ports = set()
    for line in open(guest + path, errors="replace"):
        m = re.match(regex, line)
        if m:
            ports.add(f"{m.group(1)}/tcp")
    return ports

def enabled_pair(name, enabled_dir):
    """An *-enabled symlink of the guest: in the profile, and in the rootfs
    as a symlink whose *-available target travelled too."""
    links = sorted(glob.glob(guest + enabled_dir + "/*"))
    links = [l for l in links if os.path.islink(l)]
    check(links, f"{name}: the guest has no symlink in {enabled_dir}")
    if not links:
        return
    p, f = profile(name), files_of(profile(name))
    for l in links[:3]:
        gpath = l[len(guest):]
        target = os.path.normpath(os.path.join(os.path.dirname(gpath), os.readlink(l)))
        check(gpath in f, f"{name}: enabled link {gpath} not in the profile")
        if gpath in f:
            check(any(e.startswith("config:") for e in f[gpath]["evidence"]), f"{name}: {gpath} evidence {f[gpath]['evidence']}")
        check(os.path.islink(rootfs(name) + gpath), f"{name}: {gpath} is not a symlink in the rootfs")
        check(os.path.isfile(rootfs(name) + target), f"{name}: link target {target} not in the rootfs")

def included(name, path):
    f = files_of(profile(name))
    check(path in f, f"{name}: included file {path} not in the profile")
    if path in f:
        check(any(e.startswith("config: /") for e in f[path]["evidence"]),
              f"{name}: {path} has no include evidence: {f[path]['evidence']}")
    check(in_rootfs(name, path), f"{name}: {path} not in the rootfs")

def ports(name, expected):
    p = profile(name)
    high = high_ports(p)
    check(expected and expected <= high, f"{name}: config ports {sorted(expected)} not all high ({sorted(high)})")
    for l in p.get("network", {}).get("listen", []):
        if f"{l['port']}/tcp" in expected and l["confidence"] == "high":
            check(any(e.startswith("config: /") for e in l["evidence"]), f"{name}: port {l['port']} evidence {l['evidence']}")
    exp = exposed_ports(name)
    check(exp == high, f"{name}: ExposedPorts {sorted(exp)} != high-confidence ports {sorted(high)}")
    for bogus in ("200/tcp", "220/tcp", "500/tcp", "7/tcp"):
        check(bogus not in exp, f"{name}: ExposedPorts has {bogus}")
    print(f"{name}: high {sorted(high)}, exposed {sorted(exp)}, config says {sorted(expected)}")

# apache2: includes, mods-enabled links, LoadModule'd modules in the closure.
included("apache2", "/etc/apache2/ports.conf")
enabled_pair("apache2", "/etc/apache2/mods-enabled")
libs = {l["path"]: l for l in profile("apache2").get("libraries", [])}
loads = sorted(glob.glob(guest + "/etc/apache2/mods-enabled/*.load"))
mods = set()
for l in loads:
    for line in open(l):
        m = re.match(r"\s*LoadModule\s+\S+\s+(/\S+\.so)", line)
        if m:
            mods.add(os.path.realpath(guest + m.group(1))[len(guest):])
check(mods, "apache2: no LoadModule line in the guest's mods-enabled")
for m in sorted(mods):
    check(m in libs and libs[m]["found_via"] == "config", f"apache2: module {m} not in the closure via config")
    check(in_rootfs("apache2", m), f"apache2: module {m} not in the rootfs")
ports("apache2", guest_ports("/etc/apache2/ports.conf", r"^Listen\s+(\d+)\s*$"))

# lighttpd: include "/etc/lighttpd/conf-enabled/*.conf" of symlinks.
enabled_pair("lighttpd", "/etc/lighttpd/conf-enabled")
ports("lighttpd", guest_ports("/etc/lighttpd/lighttpd.conf", r"^server\.port\s*=\s*(\d+)"))

# named: include "/etc/bind/named.conf.options"; (no port directive: 53 is a fallback).
included("named", "/etc/bind/named.conf.options")
included("named", "/etc/bind/named.conf.local")

# squid: http_port; "echo" near getservbyname never reaches a listen call.
ports("squid", guest_ports("/etc/squid/squid.conf", r"^http_port\s+(\d+)\s*$"))
check(7 not in {l["port"] for l in profile("squid").get("network", {}).get("listen", [])}, "squid: port 7 (echo) listed")

# redis: the command line's /etc/redis/redis.conf.
ports("redis-server", guest_ports("/etc/redis/redis.conf", r"^port\s+(\d+)\s*$"))
f = files_of(profile("redis-server"))
check("/etc/redis/redis.conf" in f and any("command line" in e for e in f["/etc/redis/redis.conf"]["evidence"]),
      "redis-server: redis.conf lacks command-line evidence")

# rsyslog: listens on nothing by default; its log files are writable.
p = profile("rsyslog")
check(not high_ports(p), f"rsyslog: high ports {high_ports(p)} with no input() port in its config")
writes = [x["path"] for x in p.get("files", []) if x["access"] == "write" and x["path"].startswith("/var/log/")]
check(writes, "rsyslog: no /var/log file from its configuration is writable")

for e in errors:
    print("ERROR:", e)
sys.exit(1 if errors else 0)
PY

# postfix's master opens each `SERVICE inet` socket of master.cf itself,
# SERVICE a name it looks up in /etc/services: both read from the guest.
"$DECANT" analyze --root "$GUEST" --format json /usr/lib/postfix/sbin/master >master.json 2>master.err ||
    fail "analyze of postfix's master: $(cat master.err)"
python3 - "$GUEST" master.json <<'PY' || fail "postfix master.cf ports"
import json, re, sys
guest, profile = sys.argv[1], json.load(open(sys.argv[2]))
services = {}
for line in open(guest + "/etc/services"):
    m = re.match(r"^([\w-]+)\s+(\d+)/tcp", line)
    if m:
        services.setdefault(m.group(1), int(m.group(2)))
want = set()
for line in open(guest + "/etc/postfix/master.cf"):
    f = line.split()
    if line[:1].strip() and not line.startswith("#") and len(f) >= 8 and f[1] == "inet":
        name = f[0].rsplit(":", 1)[-1]
        want.add(int(name) if name.isdigit() else services[name])
got = {l["port"] for l in profile["network"]["listen"] if l["confidence"] == "high"}
ev = [e for l in profile["network"]["listen"] for e in l["evidence"]]
ok = want and got == want and any(e.startswith("config: /etc/postfix/master.cf:") for e in ev)
print(f"master.cf inet services: want {sorted(want)}, high ports {sorted(got)}")
sys.exit(0 if ok else 1)
PY
echo "ok: configuration trees packaged, config modules in the closure, ExposedPorts = high-confidence ports, master.cf services"
