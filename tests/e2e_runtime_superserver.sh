#!/bin/sh
# Runtime consistency of converted images on the bullseye guest:
# - xinetd's image holds what it execs per connection (tcpd and in.tftpd
#   behind it, rsync) and every library of their closures, which ld.so in the
#   image resolves; its ports are exactly its enabled entries' (69/udp from
#   inetd.conf, 873/tcp), not the `port =` lines of disabled -udp files;
#   rsync's iconv converters (glibc's gconv directory) travel and convert;
# - what lighttpd and redis write keeps its guest owner and mode in the
#   bundle (rootfs or volume), and root that must write another account's
#   directory gets CAP_DAC_OVERRIDE;
# - /etc files the closure names (host.conf, services, localtime and its
#   zoneinfo target) are in the minimal image;
# - --mode system makes /var/log, /var/lib (...) volumes holding the guest's
#   content.
set -u
. "$DECANT_SOURCE/tests/lib.sh"
require_root "the guest"
require_tool python3
GUEST=$(bullseye_guest) || exit $?
SHIM="$DECANT_BUILD/libdecant-shim.so"
[ -f "$SHIM" ] || skip "shim not built ($SHIM): build target decant_shim"
tmp=$(mktemp -d /tmp/decant-e2e-runtime.XXXXXX) || fail "mktemp"
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
export SOURCE_DATE_EPOCH=1700000000

"$DECANT" convert "$GUEST" -o out --shim "$SHIM" --only xinetd --only lighttpd --only redis-server \
    --format bundle -j 2 -q 2>convert.log || fail "convert: $(tail -5 convert.log)"
python3 - "$GUEST" out <<'PY' || fail "minimal images"
import json, os, stat, subprocess, sys
guest, out = sys.argv[1:]
def profile(name):
    return json.load(open(f"{out}/{name}/bundle/rootfs/.decant/profile.json"))
def setup_dir(name, path):
    """(uid, gid, mode) the init gives a volume's mount point at start
    (docs/init.md, `dir MODE UID GID PATH` in /.decant/init.setup), or None."""
    try:
        lines = open(f"{out}/{name}/bundle/rootfs/.decant/init.setup").read().splitlines()
    except FileNotFoundError:
        return None
    for line in lines:
        w = line.split(" ", 4)
        if w[0] == "dir" and len(w) == 5 and w[4] == path:
            return (int(w[2]), int(w[3]), int(w[1], 8))
    return None
def in_bundle(name, path):
    """The path as the container sees it: a volume's copy, else the rootfs'."""
    cfg = json.load(open(f"{out}/{name}/bundle/config.json"))
    best = None
    for m in cfg["mounts"]:
        d = m["destination"]
        if m["type"] == "bind" and (path == d or path.startswith(d + "/")) and (not best or len(d) > len(best[0])):
            best = (d, m["source"])
    if best:
        return f"{out}/{name}/bundle/{best[1]}{path[len(best[0]):]}"
    return f"{out}/{name}/bundle/rootfs{path}"

# xinetd: children, closures, ports.
p = profile("xinetd")
execs = sorted(f["path"] for f in p["files"] if f["access"] == "exec")
assert execs == ["/usr/bin/rsync", "/usr/sbin/in.tftpd", "/usr/sbin/tcpd"], execs
root = f"{out}/xinetd/bundle/rootfs"
for prog in execs + ["/usr/sbin/xinetd"]:
    assert os.path.isfile(root + prog), prog
    # ld.so of the image lists what the program needs; nothing may be missing.
    r = subprocess.run(["chroot", root, "/lib64/ld-linux-x86-64.so.2", "--list", prog], capture_output=True, text=True)
    assert r.returncode == 0 and "not found" not in r.stdout, (prog, r.stdout, r.stderr)
for lib in p["libraries"]:
    assert os.path.exists(root + lib["path"]), lib["path"]
ports = sorted(f'{l["port"]}/{l["proto"]}' for l in p["network"]["listen"])
assert ports == ["69/udp", "873/tcp"], ports
assert os.path.isdir(root + "/srv/tftp") == os.path.isdir(guest + "/srv/tftp"), "tftpd's argument directory"
for f in ("/etc/services", "/etc/protocols", "/etc/host.conf"):
    assert os.path.isfile(root + f), f
assert os.path.islink(root + "/etc/localtime") and os.path.isfile(root + "/etc/localtime"), "localtime and its target"
# rsync calls iconv_open (its `charset =`): glibc's converters travel, the
# whole gconv directory of the guest, and iconv in the image converts.
gconv = [f for f in p["files"] if f["path"].endswith("/gconv")]
assert gconv and any("iconv_open" in e for e in gconv[0]["evidence"]), gconv
gdir = gconv[0]["path"]
missing = [n for n in os.listdir(guest + gdir) if not os.path.lexists(root + gdir + "/" + n)]
assert not missing, ("gconv files not in the image", missing[:5])
# Without the converters: iconv_open("UTF-8", "ISO-8859-15") failed.
conv = subprocess.run(["chroot", root, "/usr/bin/rsync", "-n", "--iconv=UTF-8,ISO-8859-15", "/etc/services", "/tmp/"],
                      capture_output=True, text=True)
assert conv.returncode == 0, ("rsync --iconv in the image", conv.stderr)

# Written paths keep their guest owner and mode.
checked = 0
for name in ("lighttpd", "redis-server"):
    as_root = profile(name).get("user", "root") in ("", "root", "0")
    foreign = False  # root must write a directory another account owns
    for f in profile(name)["files"]:
        if f["access"] != "write":
            continue
        g = guest + f["path"].rstrip("/")
        if not os.path.lexists(g) and f.get("optional"):
            continue  # a file the daemon may create (docs/packaging.md): its directory is not promised
        if not os.path.lexists(g):
            g = os.path.dirname(g)  # created by the application in the guest's directory
            if not os.path.isdir(g) or g in (guest, guest + "/run", guest + "/var/run"):
                continue
        gs = os.lstat(g)
        # A volume's mount point gets its owner from the init at start; any
        # other path has it in the bundle.
        want = (gs.st_uid, gs.st_gid, stat.S_IMODE(gs.st_mode))
        got = setup_dir(name, g[len(guest):])
        if got is None:
            bs = os.lstat(in_bundle(name, g[len(guest):]))
            got = (bs.st_uid, bs.st_gid, stat.S_IMODE(bs.st_mode))
        assert want == got, (name, g[len(guest):], want, got)
        checked += 1
        foreign |= as_root and gs.st_uid != 0 and not gs.st_mode & 0o002
    caps = json.load(open(f"{out}/{name}/bundle/config.json"))["process"]["capabilities"]["bounding"]
    # Root that writes another account's directory (lighttpd: www-data's
    # /var/log/lighttpd) keeps the owner and gets CAP_DAC_OVERRIDE, as in the VM.
    assert "CAP_DAC_OVERRIDE" in caps or not foreign, (name, caps)
assert checked >= 2, checked
print("minimal ok: xinetd children", execs, "ports", ports, "owners checked", checked)
PY

"$DECANT" convert "$GUEST" -o sys --shim "$SHIM" --only redis-server --format bundle --mode system -q 2>sys.log ||
    fail "convert --mode system: $(tail -5 sys.log)"
python3 - "$GUEST" sys/redis-server/bundle <<'PY' || fail "system mode"
import json, os, sys
guest, b = sys.argv[1:]
cfg = json.load(open(b + "/config.json"))
assert cfg["root"]["readonly"] is True
vols = {m["destination"] for m in cfg["mounts"] if m["type"] == "bind"}
want = {d for d in ("/var/log", "/var/lib", "/var/spool", "/var/cache", "/var/tmp") if os.path.isdir(guest + d)}
assert want <= vols, (sorted(want), sorted(vols))
# The guest's state is there, in the volume, not dropped.
logs = [n for n in os.listdir(guest + "/var/log") if os.path.isfile(os.path.join(guest, "var/log", n))]
assert logs, "the guest has log files"
# In the volume, or in the seed decant-init copies into an empty volume at
# first start (docs/init.md), so podman and Kubernetes fill it the same way.
def kept(rel, test):
    return test(os.path.join(b, "volumes", rel)) or test(os.path.join(b, "rootfs/.decant/seed", rel))
for n in logs:
    assert kept("var/log/" + n, os.path.isfile), n
assert kept("var/lib/dpkg", os.path.isdir), "dpkg's state"
print("system ok: volumes", sorted(vols & want), len(logs), "log files kept")
PY
echo "PASS: e2e.runtime_superserver"
