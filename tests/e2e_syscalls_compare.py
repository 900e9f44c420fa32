#!/usr/bin/env python3
"""Compares the syscalls strace observed with a profile's syscalls.allow.

Used by the zero-false-negative e2e tests (e2e_syscalls_*.sh). Reads an
`strace -f -qq -o FILE` log, keeps only what the program under test did: the
launcher's lines (chroot, timeout) before its execve of the program are
dropped, and so is everything a process does after it execs some other
program. Prints one line per program: observed, allowed, missing; exits 1 if
anything observed is missing from the allowlist.

usage: e2e_syscalls_compare.py NAME STRACE_LOG PROFILE_JSON PROGRAM_PATH
"""
import json
import re
import sys

LINE = re.compile(r"^(\d+)\s+(?:\d+\.\d+\s+)?([a-z_][a-z0-9_]*)\((.*)$")
EXECVE = re.compile(r'^execve\("([^"]*)"')


def observed_syscalls(log, program):
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
    return seen


def main():
    if len(sys.argv) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    name, log, profile, program = sys.argv[1:]
    with open(profile) as f:
        p = json.load(f)
    allow = set(p["syscalls"]["allow"])
    seen = observed_syscalls(log, program)
    if not seen:
        print(f"{name}: strace observed nothing for {program} (launcher or parse problem)")
        return 1
    missing = sorted(seen - allow)
    print(f"{name}: observed {len(seen)}, allowed {len(allow)}, "
          f"unresolved sites {p['syscalls'].get('unresolved_sites', 0)}, missing {len(missing)}"
          + (": " + " ".join(missing) if missing else ""))
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
