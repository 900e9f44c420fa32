#!/usr/bin/env python3
"""Compares what services opened natively (strace -ff files) with what
decant packaged for them (e2e.strace_files).

e2e_strace_compare.py GUEST OUTDIR TRACEDIR SERVICE...: for each SERVICE,
TRACEDIR/SERVICE.PID are its strace files, OUTDIR/SERVICE/bundle its
bundle. Only calls after the chroot and the exec that follows it count
(what chroot(8) itself opens is not the service's). Prints per service the
shared objects opened, files opened, programs run and the misses; exits 1
when any service has a miss.
"""
import glob
import json
import os
import re
import sys

CALL = re.compile(r'^(open|openat|execve|chroot|mkdir|mkdirat)\((?:AT_FDCWD, |\d+, )?"((?:[^"\\]|\\.)*)"(.*)\)\s+=\s+(-?\d+)')
KERNEL = ("/proc/", "/sys/", "/dev/")


def resolve(root, path, depth=0):
    """path resolved inside root (symlinks followed as the guest's)."""
    parts = [p for p in path.split("/") if p]
    cur = ""
    for i, part in enumerate(parts):
        if part == "..":
            cur = os.path.dirname(cur)
            continue
        nxt = cur + "/" + part
        host = root + nxt
        if os.path.islink(host) and depth < 40:
            target = os.readlink(host)
            base = "" if target.startswith("/") else cur
            return resolve(root, base + "/" + target + "/" + "/".join(parts[i + 1:]), depth + 1)
        cur = nxt
    return cur or "/"


def calls(trace_files):
    """(call, path, flags, result) of the service: the first pid is
    chroot(8), whose calls count from the exec after its chroot; chroot(8)
    forks nothing, so every other pid is the service's from its start."""
    first = min(trace_files, key=lambda f: int(f.rsplit(".", 1)[1]))
    out = []
    for f in trace_files:
        state = "before" if f == first else "service"
        for line in open(f, errors="replace"):
            m = CALL.match(line)
            if not m:
                continue
            call, path, rest, result = m.group(1), m.group(2), m.group(3), int(m.group(4))
            if state == "before":
                if call == "chroot" and result == 0:
                    state = "chrooted"
                continue
            if state == "chrooted":
                if call == "execve" and result == 0:
                    state = "service"
                else:
                    continue
            out.append((call, path, rest, result))
    return out


def image_has(bundle, rootfs, mounts, runtime_dirs, path):
    """Whether the container sees path: in the rootfs, in a volume's seed
    or in the volume the bundle mounts, or under a directory the init
    creates at start."""
    if os.path.lexists(rootfs + path) or os.path.lexists(rootfs + "/.decant/seed" + path):
        return True  # the seed: a volume's content, copied up at the first start
    for dest, source in mounts:
        if path == dest or path.startswith(dest.rstrip("/") + "/"):
            if os.path.lexists(os.path.join(bundle, source) + path[len(dest.rstrip("/")):]):
                return True
    return any(path == d or path.startswith(d.rstrip("/") + "/") for d in runtime_dirs)


def compare(guest, outdir, tracedir, name):
    bundle = os.path.join(outdir, name, "bundle")
    rootfs = os.path.join(bundle, "rootfs")
    profile = json.load(open(os.path.join(rootfs, ".decant", "profile.json")))
    config = json.load(open(os.path.join(bundle, "config.json")))
    mounts = [(m["destination"], m["source"]) for m in config.get("mounts", [])
              if m.get("type") == "bind" and not os.path.isabs(m["source"])]
    runtime_dirs = [os.path.normpath(d) for d in (profile.get("service") or {}).get("runtime_directories") or []]
    runtime_dirs += [d.replace("/var/run/", "/run/", 1) for d in runtime_dirs if d.startswith("/var/run/")]
    has = lambda p: image_has(bundle, rootfs, mounts, runtime_dirs, p)
    libs = set()
    for lib in profile.get("libraries", []):
        libs.add(lib["path"])
        libs.update(lib.get("opened_as") or [])
    libs.add(profile["binary"]["path"])
    files = {f["path"].rstrip("/") for f in profile.get("files", [])}
    traces = glob.glob(os.path.join(tracedir, name + ".*"))
    if not traces:
        return [f"{name}: no trace (it did not start)"], (0, 0, 0)
    misses, sos, opened, ran = [], set(), set(), set()
    everything = calls(traces)
    events = [c for c in everything if c[1].startswith("/") and c[3] >= 0]
    # Directories the service makes itself (apachectl's mkdir -p, which
    # walks down with relative names) are there for what it creates in them.
    made = set()
    for call, p, _, result in everything:
        if call.startswith("mkdir") and result == 0:
            made.add(resolve(guest, os.path.normpath(p)) if p.startswith("/") else os.path.basename(p))
    for call, path, rest, result in events:
        if path.startswith(KERNEL) or path in ("/proc", "/sys", "/dev") or call.startswith("mkdir"):
            continue
        path = os.path.normpath(path)
        real = resolve(guest, path)
        if call == "execve":
            ran.add(path)
            if not has(path):
                misses.append(f"{name}: ran {path}, not in the image")
            continue
        # A file created, or opened to write (a log): what the image needs
        # is its directory, not the guest's copy.
        # What the guest holds under /run is the VM's run-time state (utmp,
        # pid files): a container's /run starts empty, as a booted VM's does.
        writes = re.search(r"O_WRONLY|O_RDWR|O_APPEND|O_CREAT", rest) is not None or real.startswith("/run/")
        if writes or not os.path.lexists(guest + real):
            parent = os.path.dirname(real)
            if (parent not in made and os.path.basename(parent) not in made and not os.path.isdir(rootfs + resolve(rootfs, parent)) and not has(parent)
                    and not has(os.path.dirname(path))):
                misses.append(f"{name}: wrote {path}, whose directory {parent} is not in the image")
            continue
        base = os.path.basename(real)
        if (".so" in base and os.path.isfile(guest + real) and open(guest + real, "rb").read(4) == b"\x7fELF"):
            sos.add(real)
            if real not in libs and path not in libs and real not in files and path not in files:
                misses.append(f"{name}: loaded {path} ({real}), not in the profile's libraries")
            continue
        opened.add(path)
        if not has(path) and not has(real):
            misses.append(f"{name}: opened {path}, not in the image")
    return sorted(set(misses)), (len(sos), len(opened), len(ran))


def miss_of(message):
    """The path a miss message names ("svc: opened PATH, not in ...")."""
    words = message.split()
    return words[2].rstrip(",") if len(words) > 2 else message


def read_known(path):
    """KNOWN lines "SERVICE PATH REASON": misses the analyzer is known to
    have (a ratchet: printed, not failed; one that no longer happens fails,
    so the list stays true)."""
    known = {}
    for line in open(path):
        line = line.strip()
        if line and not line.startswith("#"):
            service, miss_path, reason = line.split(None, 2)
            known[(service, miss_path)] = reason
    return known


def main():
    args = sys.argv[1:]
    known = {}
    if args[:1] == ["--known"]:
        known, args = read_known(args[1]), args[2:]
    guest, outdir, tracedir, names = args[0], args[1], args[2], args[3:]
    bad = False
    for name in names:
        misses, (nso, nfiles, nran) = compare(guest, outdir, tracedir, name)
        if nso == 0 or nfiles == 0:
            misses.append(f"{name}: nothing traced (it did not run)")
        new = [m for m in misses if (name, miss_of(m)) not in known]
        print(f"{name}: {nso} shared objects, {nfiles} files opened, {nran} programs run; {len(new)} misses"
              f"{f', {len(misses) - len(new)} known' if len(misses) != len(new) else ''}")
        for m in misses:
            reason = known.get((name, miss_of(m)))
            print(f"  {m}" + (f" (known: {reason})" if reason else ""))
        seen = {miss_of(m) for m in misses}
        for (service, miss_path), reason in known.items():
            if service == name and miss_path not in seen:
                print(f"  {name}: the known miss {miss_path} no longer happens: take it off the list")
                bad = True
        bad |= bool(new)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
