#!/bin/sh
# End-to-end test of the packager on a corpus server: legacy_forkd goes
# through analyze -> package (OCI runtime bundle) -> run under crun, with its
# port 7070 redirected to a free port and its log directory redirected onto
# a writable mount. Checks that a client gets PONG on the remapped port, that
# the log lands in the bundle's volume, that the runtime's seccomp filter
# refuses a syscall outside the server's allowlist (try_syscall packaged with
# the server's allowlist and no shim, so only the runtime filters), that the
# rootfs holds nothing outside the computed file set, that an existing output
# is never replaced without --force, and that a missing profile file is an
# error that leaves nothing behind.
# Env: DECANT, DECANT_BUILD, DECANT_SOURCE (set by CTest).
set -u
. "$DECANT_SOURCE/tests/lib.sh"
. "$DECANT_SOURCE/tests/e2e_package_lib.sh"

require_root "crun creates namespaces"
require_tool crun
require_tool jq
CORPUS="$DECANT_BUILD/corpus"
SHIM="$DECANT_BUILD/libdecant-shim.so"
[ -x "$CORPUS/legacy_forkd" ] || fail "corpus not built ($CORPUS/legacy_forkd)"
[ -f "$SHIM" ] || skip "shim not built ($SHIM): build target decant_shim"

tmp=$(mktemp -d /tmp/decant-e2e-pkg.XXXXXX)
cleanup() {
    [ -n "${server_pid:-}" ] && kill "$server_pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
cd "$tmp" || exit 1

# A port unlikely to clash with parallel tests.
port=$((20000 + $$ % 12000))  # below the ephemeral range (32768+), where clients hold ports

# 1. analyze, then state the redirects a consultant would add
#    (tests/e2e_package_lib.sh: port 7070 -> $port, /var/log/legacy -> /data/log).
forkd_profile profile.json "$port"

# 2. package as a bundle; the digest is printed.
"$DECANT" package profile.json --root / -o bundle --format bundle >pkg.out 2>pkg.err || {
    cat pkg.err >&2
    fail "package failed"
}
grep -q '^sha256:[0-9a-f]\{64\} bundle' pkg.out || fail "no digest printed: $(cat pkg.out)"
[ -f bundle/config.json ] && [ -d bundle/rootfs ] || fail "bundle lacks config.json or rootfs"
jq -e '.root.readonly == true and .process.noNewPrivileges == true' bundle/config.json >/dev/null ||
    fail "rootfs not read-only or no_new_privileges missing"
jq -e '.linux.seccomp.defaultAction == "SCMP_ACT_ERRNO" and .linux.seccomp.defaultErrnoRet == 1' \
    bundle/config.json >/dev/null || fail "no EPERM seccomp filter in config.json"
jq -e '[.process.capabilities.bounding[]] | index("CAP_NET_BIND_SERVICE") | not' bundle/config.json >/dev/null ||
    fail "NET_BIND_SERVICE granted although the service binds $port"
jq -e '.mounts[] | select(.destination == "/data/log" and .type == "bind")' bundle/config.json >/dev/null ||
    fail "no writable mount for the redirect target /data/log"

# 3. run under crun; a client reaches the remapped port.
"$DECANT" run bundle -- -1 >run.out 2>run.err &
server_pid=$!
reply=""
i=0
while [ $i -lt 50 ]; do
    reply=$("$CORPUS/legacy_client" -h 127.0.0.1 -p "$port" -c PING 2>/dev/null) && break
    sleep 0.1
    i=$((i + 1))
done
[ "$reply" = "PONG" ] || {
    cat run.err >&2
    fail "no PONG on remapped port $port (got '$reply')"
}
wait "$server_pid"
rc=$?
server_pid=""
[ $rc -eq 0 ] || fail "decant run exited $rc: $(cat run.err)"

# 4. the log landed in the redirected path, on the writable mount.
grep -q "connection from 127.0.0.1" bundle/volumes/data/log/forkd.log 2>/dev/null ||
    fail "log not in bundle/volumes/data/log/forkd.log"

# 5. the runtime's filter refuses what the server's allowlist lacks.
"$DECANT" analyze "$CORPUS/try_syscall" --format json -o probe.json || fail "analyze try_syscall failed"
jq --slurpfile srv profile.json '.syscalls.allow = $srv[0].syscalls.allow' probe.json >probe2.json
"$DECANT" package probe2.json --root / -o probe --format bundle --no-shim -q >/dev/null 2>probe.err ||
    fail "package try_syscall failed: $(cat probe.err)"
jq -e '.linux.seccomp.syscalls[0].names | index("chroot") | not' probe/config.json >/dev/null ||
    fail "the server's allowlist unexpectedly allows chroot"
"$DECANT" run probe -- chroot 2>/dev/null
rc=$?
[ $rc -eq 1 ] || fail "chroot under the server's filter: exit $rc, expected 1 (EPERM)"
"$DECANT" run probe -- socket 2>/dev/null
rc=$?
[ $rc -ne 1 ] && [ $rc -ne 125 ] || fail "socket under the server's filter: exit $rc, expected an argument error"

# 6. the rootfs holds nothing outside the computed set: every non-directory
# is the binary, a library, a generated /etc file, the time zone, an NSS
# module, /.decant/*, or a symlink to one of those.
allowed="$tmp/allowed"
{
    jq -r '.binary.path, .libraries[].path' profile.json
    for f in passwd group hosts resolv.conf nsswitch.conf ld.so.cache; do echo "/etc/$f"; done
    readlink -f /etc/localtime
    libc_dir=$(dirname "$(jq -r '.libraries[] | select(.soname == "libc.so.6") | .path' profile.json)")
    for m in libnss_files.so.2 libnss_dns.so.2 libresolv.so.2 libdl.so.2; do
        [ -e "$libc_dir/$m" ] && readlink -f "$libc_dir/$m"
    done
    # /etc files the closure names by literal path (docs/packaging.md):
    # libc's /etc/services, protocols, gai.conf...
    jq -r '.binary.path, .libraries[].path' profile.json | while read -r obj; do
        strings -a "$obj" | grep -x '/etc/[A-Za-z0-9._/-]*'
    done | while read -r f; do [ -f "$f" ] && ! [ -L "$f" ] && echo "$f"; done
} | sort -u >"$allowed"
# The guest is the host here (--root /), so a symlink's target resolves the
# same on the host.
bad=$(cd bundle/rootfs && find . ! -type d | sed 's|^\.||' | while read -r f; do
    case "$f" in /.decant/*) continue ;; esac
    if [ -L ".$f" ]; then
        [ -d "$f" ] && continue  # a directory link (/lib -> usr/lib) holds nothing itself
        grep -qxF "$(readlink -f "$f")" "$allowed" || echo "$f"
    else
        grep -qxF "$f" "$allowed" || echo "$f"
    fi
done)
[ -z "$bad" ] || fail "rootfs holds files outside the computed set: $bad"

# 7. never overwrite without --force; --force replaces.
"$DECANT" package profile.json --root / -o bundle --format bundle >/dev/null 2>again.err
rc=$?
[ $rc -eq 2 ] || fail "re-package without --force: exit $rc, expected 2"
[ "$(wc -l <again.err)" -eq 1 ] && grep -q "already exists" again.err || fail "unclear refusal: $(cat again.err)"
"$DECANT" package profile.json --root / -o bundle --format bundle --force -q >/dev/null 2>&1 ||
    fail "--force did not replace the bundle"

# 8. a missing, non-optional profile file is an error naming it; nothing left behind.
jq '.files += [{"path": "/nonexistent/decant-e2e.conf", "access": "read", "evidence": ["user: test"]}]' \
    profile.json >missing.json
"$DECANT" package missing.json --root / -o missing.tar 2>missing.err
rc=$?
[ $rc -eq 2 ] || fail "missing file: exit $rc, expected 2"
grep -q "/nonexistent/decant-e2e.conf" missing.err || fail "error does not name the missing file: $(cat missing.err)"
[ "$(wc -l <missing.err)" -eq 1 ] || fail "more than one error line: $(cat missing.err)"
leftovers=$(ls -A | grep -e '^missing\.tar' -e 'decant-tmp')
[ -z "$leftovers" ] || fail "left behind after an error: $leftovers"

echo "PASS: e2e.package_corpus"
