#!/bin/sh
# End-to-end check of issue 14's LXC config injection: LXC's config has no
# quoting, so an env value or an argument holding a line break used to add
# keys of the profile's choosing (lxc.mount.entry of the host's root,
# lxc.cap.keep = sys_admin). Such a profile must be refused with a one-line
# error naming the field (exit 2, no output), and a clean one must give a
# config that holds only the keys decant writes.
# Env: DECANT, DECANT_BUILD, DECANT_SOURCE (set by CTest).
set -u
. "$DECANT_SOURCE/tests/lib.sh"
. "$DECANT_SOURCE/tests/e2e_package_lib.sh"

require_tool jq
[ -x "$DECANT_BUILD/corpus/legacy_forkd" ] || skip "corpus not built"

tmp=$(mktemp -d /tmp/decant-e2e-lxcinj.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
forkd_profile profile.json 17070

# refused FIELD PROFILE: packaging PROFILE as lxc fails with exit 2, one
# stderr line naming FIELD, and leaves no output behind.
refused() {
    "$DECANT" package "$2" --root / -o out --format lxc --no-shim -q >stdout 2>stderr
    rc=$?
    [ "$rc" -eq 2 ] || fail "$2: exit $rc, expected 2 (stderr: $(cat stderr))"
    [ "$(wc -l <stderr)" -eq 1 ] || fail "$2: the error is not one line: $(cat stderr)"
    grep -qF "$1" stderr || fail "$2: the error does not name $1: $(cat stderr)"
    [ ! -e out ] || fail "$2: refused, but out was written"
    ls -a | grep -q 'decant-tmp' && fail "$2: a scratch directory was left behind"
    grep -q 'host-root\|sys_admin\|unconfined' stderr && fail "$2: the error echoes the injected text"
    return 0
}

jq '.env.EVIL = "x\nlxc.mount.entry = / host-root none rbind,rw"' profile.json >env.json
refused env.EVIL env.json
jq '.entrypoint = [.binary.path, "-p\nlxc.cap.keep = sys_admin"]' profile.json >arg.json
refused 'entrypoint[1]' arg.json
jq '.workdir = "/\rlxc.apparmor.profile = unconfined"' profile.json >cwd.json
refused workdir cwd.json
jq '.redirects.paths += [{"from": "/var/cache/x", "to": "/data/c\nlxc.cap.keep = sys_admin"}]' profile.json >mnt.json
# The profile reader refuses it first (validate_profile), naming the field.
refused 'redirects.paths[1].to' mnt.json

# The same kind of values without line breaks package, and the config holds
# only decant's keys: one line each, one mount entry per writable directory.
jq '.env.GREETING = "hello, lxc.mount.entry = / x" | .entrypoint = [.binary.path, "-v"]' profile.json >clean.json
"$DECANT" package clean.json --root / -o lxc --format lxc --no-shim -q >stdout 2>stderr \
    || fail "clean profile: $(cat stderr)"
keys='lxc.arch lxc.init.cmd lxc.init.uid lxc.init.gid lxc.init.cwd lxc.environment lxc.mount.auto lxc.autodev
      lxc.cap.keep lxc.no_new_privs lxc.mount.entry lxc.seccomp.profile'
while IFS= read -r line; do
    case "$line" in '#'*) continue ;; esac
    key=${line%% = *}
    echo " $keys " | tr '\n' ' ' | grep -q "[[:space:]]$key[[:space:]]" || fail "config has a key decant does not write: $line"
done <lxc/config
grep -qx 'lxc.environment = GREETING=hello, lxc.mount.entry = / x' lxc/config || fail "env line not as written: $(cat lxc/config)"
[ "$(grep -c '^lxc.mount.entry' lxc/config)" -eq 1 ] || fail "expected the one mount entry of /data/log: $(cat lxc/config)"
tar -xJOf lxc/meta.tar.xz config | cmp -s - lxc/config || fail "meta.tar.xz's config differs from the plain copy"
echo "PASS: line breaks in LXC config values are refused, clean values keep to decant's keys"
