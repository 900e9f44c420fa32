#!/usr/bin/env python3
"""Compares the syscalls strace observed with a profile's syscalls.allow.

Used by the zero-false-negative e2e tests (e2e_syscalls_*.sh). Reads an
`strace -f -qq -o FILE` log, keeps only what the program under test did: the
launcher's lines (chroot, timeout) before its execve of the program are
dropped, and so is everything a process does after it execs some other
program. Prints one line per program: observed, allowed, missing; exits 1 if
anything observed is missing from the allowlist. Also checks that every
shared object the program opened (a successful open/openat of a `*.so*`
file, which is how ld.so and dlopen() load them) is among the profile's
libraries: glibc's own dlopens (NSS modules, libgcc_s) and plugins included,
unless a dlopen-unresolved hazard names it (the analyzer said it could not
find it in the guest, e.g. a plugin the test finds through LD_LIBRARY_PATH).

usage: e2e_syscalls_compare.py NAME STRACE_LOG PROFILE_JSON PROGRAM_PATH
"""
import json
import re
import sys

LINE = re.compile(r"^(\d+)\s+(?:\d+\.\d+\s+)?([a-z_][a-z0-9_]*)\((.*)$")
EXECVE = re.compile(r'^execve\("([^"]*)"')


OPENED_SO = re.compile(r'^open(?:at)?\((?:[^,]*, )?"([^"]*\.so(?:\.[0-9.]+)?)", .*\) = \d+')


def observed_syscalls(log, program, opened=None):
    seen = set()
    state = {}  # pid -> "before" (launcher), "in" (program), "other" (exec'd something else)
    first_pid = None
    with open(log, errors="replace") as f:
        for raw in f:
            m = LINE.match(raw)
            if not m:
                continue
            pid, name, rest = m.group(1), m.group(2), m.group(3)
            if first_pid is None:
                first_pid = pid
            st = state.get(pid)
            if st is None:
                # A new pid: a child of the program (fork/clone) or the launcher.
                st = "before" if pid == first_pid else "in"
                state[pid] = st
            if name == "execve" and " = 0" in raw:
                target = EXECVE.match(name + "(" + rest)
                path = target.group(1) if target else ""
                if path == program or path.endswith("/" + program.lstrip("/")):
                    state[pid] = "in"
                    seen.add("execve")
                    continue
                if st == "in":
                    state[pid] = "other"
                continue
            if st == "in":
                seen.add(name)
                so = OPENED_SO.match(name + "(" + rest)
                if so and opened is not None:
                    opened.add(so.group(1))
    return seen


def missing_libraries(opened, profile):
    """Opened shared objects that no library of the profile accounts for."""
    names = set()
    for lib in profile.get("libraries", []):
        for key in ("path", "opened_as"):
            if lib.get(key):
                names.add(lib[key])
                names.add(lib[key].rsplit("/", 1)[-1])
        if lib.get("soname"):
            names.add(lib["soname"])
    # A library dlopen()ed through a symlink (a module directory) is a file it reads.
    names.update(f["path"] for f in profile.get("files", []) if f.get("access") == "read")
    told = " ".join(e for h in profile.get("hazards", []) if h.get("id") == "dlopen-unresolved"
                    for e in h.get("evidence", []))
    return sorted(o for o in opened if o not in names and o.rsplit("/", 1)[-1] not in names
                  and f'"{o.rsplit("/", 1)[-1]}"' not in told)


def main():
    if len(sys.argv) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    name, log, profile, program = sys.argv[1:]
    with open(profile) as f:
        p = json.load(f)
    allow = set(p["syscalls"]["allow"])
    opened = set()
    seen = observed_syscalls(log, program, opened)
    if not seen:
        print(f"{name}: strace observed nothing for {program} (launcher or parse problem)")
        return 1
    missing = sorted(seen - allow)
    print(f"{name}: observed {len(seen)}, allowed {len(allow)}, "
          f"unresolved sites {p['syscalls'].get('unresolved_sites', 0)}, missing {len(missing)}"
          + (": " + " ".join(missing) if missing else ""))
    missing_libs = missing_libraries(opened, p)
    print(f"{name}: shared objects opened {len(opened)}, not in the profile {len(missing_libs)}"
          + (": " + " ".join(missing_libs) if missing_libs else ""))
    return 1 if missing or missing_libs else 0


if __name__ == "__main__":
    sys.exit(main())
