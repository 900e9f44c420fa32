#!/bin/sh
# End-to-end test of what `decant run` refuses to run: artifacts whose
# runtime config asks for more than decant's policy grants. A bundle decant
# packaged (try_syscall, which exits 1 when its filter refuses chroot) runs;
# hand-made copies of it with CAP_SYS_ADMIN, a host directory bind-mounted
# read-write, no seccomp filter, or the host's pid namespace are refused
# (exit 2, one line naming the setting) and run only with --trust-bundle; a
# crafted OCI archive (valid digests, its own /.decant/runtime.json asking
# for CAP_SYS_ADMIN and a volume at ../../../tmp/...) is refused without
# creating anything outside its cache entry, with --trust-bundle too.
# Env: DECANT, DECANT_BUILD, DECANT_SOURCE (set by CTest).
set -u
. "$DECANT_SOURCE/tests/lib.sh"
. "$DECANT_SOURCE/tests/e2e_package_lib.sh"

require_root "decant run creates namespaces"
require_tool crun
require_tool jq
require_tool tar
require_tool sha256sum
CORPUS="$DECANT_BUILD/corpus"
[ -x "$CORPUS/try_syscall" ] || fail "corpus not built ($CORPUS/try_syscall)"

tmp=$(mktemp -d /tmp/decant-e2e-policy.XXXXXX)
escape="/tmp/decant-e2e-escape-$$"
cleanup() {
    rm -rf "$tmp" "$escape"
}
trap cleanup EXIT
cd "$tmp" || exit 1
export DECANT_CACHE="$tmp/cache"

# 1. what decant packages runs: the filter refuses chroot (exit 1).
forkd_profile server.json 7070
"$DECANT" analyze "$CORPUS/try_syscall" --format json -o probe.raw || fail "analyze try_syscall failed"
jq --slurpfile srv server.json '.syscalls.allow = $srv[0].syscalls.allow' probe.raw >probe.json
"$DECANT" package probe.json --root / -o probe --format bundle --no-shim -q >/dev/null 2>pkg.err ||
    fail "package try_syscall failed: $(cat pkg.err)"
"$DECANT" run probe -- chroot 2>ok.err
rc=$?
[ $rc -eq 1 ] || fail "the packaged bundle: exit $rc, expected 1 (chroot refused by its filter): $(cat ok.err)"

# refused NAME SETTING [ARGS...]: decant run NAME exits 2 with one line naming SETTING.
refused() {
    _name=$1
    _setting=$2
    shift 2
    "$DECANT" run "$@" "$_name" -- chroot >"$_name.out" 2>"$_name.err"
    _rc=$?
    [ $_rc -eq 2 ] || fail "$_name: exit $_rc, expected 2 (refused): $(cat "$_name.err")"
    [ "$(wc -l <"$_name.err")" -eq 1 ] || fail "$_name: more than one line: $(cat "$_name.err")"
    grep -qF -- "$_setting" "$_name.err" || fail "$_name: the refusal does not name $_setting: $(cat "$_name.err")"
}

# handmade NAME JQ: a copy of the packaged bundle with its config.json edited.
handmade() {
    cp -a probe "$1"
    jq "$2" probe/config.json >"$1/config.json" || fail "jq for $1"
}

# 2. hand-made bundles, each asking for one thing beyond the policy.
handmade sysadmin '.process.capabilities |= with_entries(.value += ["CAP_SYS_ADMIN"])'
refused sysadmin "process.capabilities.bounding: CAP_SYS_ADMIN"
mkdir hostdir
handmade hostmount ".mounts += [{\"destination\": \"/host\", \"type\": \"bind\", \"source\": \"$tmp/hostdir\", \"options\": [\"rbind\", \"rw\"]}]"
refused hostmount "mounts[/host].source"
handmade noseccomp 'del(.linux.seccomp)'
refused noseccomp "linux.seccomp: missing"
handmade hostpid '.linux.namespaces |= map(if .type == "pid" then . + {"path": "/proc/1/ns/pid"} else . end)'
refused hostpid "linux.namespaces[pid].path"

# 3. --trust-bundle runs a hand-made config as given (the filter still refuses chroot).
"$DECANT" run --trust-bundle sysadmin -- chroot 2>trust.err
rc=$?
[ $rc -eq 1 ] || fail "--trust-bundle: exit $rc, expected 1: $(cat trust.err)"
grep -q "trust-bundle" trust.err || fail "no note that the config ran unchecked: $(cat trust.err)"

# 4. a crafted OCI archive with valid digests and its own runtime.json.
"$DECANT" package probe.json --root / -o probe.tar --no-shim -q >/dev/null 2>pkg.err ||
    fail "package try_syscall as oci-archive failed: $(cat pkg.err)"
# craft NAME JQ: probe.tar with /.decant/runtime.json edited, digests redone.
craft() {
    rm -rf lay l
    mkdir lay l
    tar -C lay -xf probe.tar || fail "untar probe.tar"
    _m=$(jq -r '.manifests[0].digest' lay/index.json | cut -d: -f2)
    _layer=$(jq -r '.layers[0].digest' "lay/blobs/sha256/$_m" | cut -d: -f2)
    tar -C l -xf "lay/blobs/sha256/$_layer" || fail "untar the layer"
    jq "$2" l/.decant/runtime.json >rt.json && mv rt.json l/.decant/runtime.json || fail "jq for $1"
    tar -C l --numeric-owner -cf layer.tar . || fail "tar the layer"
    _ld=$(sha256sum layer.tar | cut -d' ' -f1)
    mv layer.tar "lay/blobs/sha256/$_ld"
    jq --arg d "sha256:$_ld" --argjson s "$(stat -c %s "lay/blobs/sha256/$_ld")" \
        '.layers[0].digest = $d | .layers[0].size = $s | .layers[0].mediaType = "application/vnd.oci.image.layer.v1.tar"' \
        "lay/blobs/sha256/$_m" >manifest.json
    _md=$(sha256sum manifest.json | cut -d' ' -f1)
    mv manifest.json "lay/blobs/sha256/$_md"
    jq --arg d "sha256:$_md" --argjson s "$(stat -c %s "lay/blobs/sha256/$_md")" \
        '.manifests[0].digest = $d | .manifests[0].size = $s' lay/index.json >index.json && mv index.json lay/index.json
    tar -C lay -cf "$1" . || fail "tar $1"
}
up="../../../../../../../../../../../../../../../.."
craft crafted.tar ".process.capabilities |= with_entries(.value += [\"CAP_SYS_ADMIN\"])
     | .mounts += [{\"destination\": \"/data/x\", \"type\": \"bind\", \"source\": \"$up$escape\", \"options\": [\"rbind\", \"rw\", \"nosuid\", \"nodev\"]}]"
refused crafted.tar "process.capabilities.bounding: CAP_SYS_ADMIN"
[ -e "$escape" ] && fail "decant run created $escape outside the artifact"
craft escape.tar ".mounts += [{\"destination\": \"/data/x\", \"type\": \"bind\", \"source\": \"$up$escape\", \"options\": [\"rbind\", \"rw\", \"nosuid\", \"nodev\"]}]"
refused escape.tar "mounts[/data/x].source"
[ -e "$escape" ] && fail "decant run created $escape outside the artifact"
# Trusting the archive does not let its paths leave the cache either.
refused escape.tar "climbs out of the artifact" --trust-bundle
[ -e "$escape" ] && fail "decant run --trust-bundle created $escape outside the artifact"
# The untouched archive still runs.
"$DECANT" run probe.tar -- chroot 2>oci.err
rc=$?
[ $rc -eq 1 ] || fail "the packaged archive: exit $rc, expected 1: $(cat oci.err)"

echo "PASS: e2e.run_policy"
