#!/bin/sh
# End-to-end test of the OCI outputs: legacy_forkd packaged as oci-archive
# (gzip and zstd) and oci-dir is accepted by `skopeo inspect` (which reports
# the digest decant printed) and `umoci unpack`; two builds are
# byte-identical (sha256 of the archive, recursive diff of the directory);
# `podman run oci-archive:` and `decant run ARCHIVE` both serve PONG on the
# remapped port.
# Env: DECANT, DECANT_BUILD, DECANT_SOURCE (set by CTest).
set -u
. "$DECANT_SOURCE/tests/lib.sh"
. "$DECANT_SOURCE/tests/e2e_package_lib.sh"

require_root "skopeo/umoci/podman/crun as root"
require_tool jq
require_tool skopeo
require_tool umoci

tmp=$(mktemp -d /tmp/decant-e2e-oci.XXXXXX)
cleanup() {
    [ -n "${server_pid:-}" ] && kill "$server_pid" 2>/dev/null
    [ -n "${tag:-}" ] && podman rmi -f "$tag" >/dev/null 2>&1
    rm -rf "$tmp"
}
trap cleanup EXIT
cd "$tmp" || exit 1
port=$((20000 + ($$ + 7) % 12000))  # below the ephemeral range (32768+), where clients hold ports
forkd_profile profile.json "$port"
tag="localhost/decant-e2e/forkd-$$:test"

# 1. two builds each, byte-identical.
for n in 1 2; do
    "$DECANT" package profile.json --root / -o "a$n.tar" --tag "$tag" -q >"a$n.out" || fail "oci-archive build $n failed"
    "$DECANT" package profile.json --root / -o "d$n" --format oci-dir --tag "$tag" -q >"d$n.out" || fail "oci-dir build $n failed"
    "$DECANT" package profile.json --root / -o "z$n.tar" --compression zstd --tag "$tag" -q >"z$n.out" ||
        fail "zstd build $n failed"
done
[ "$(sha256sum <a1.tar)" = "$(sha256sum <a2.tar)" ] || fail "two oci-archive builds differ"
[ "$(sha256sum <z1.tar)" = "$(sha256sum <z2.tar)" ] || fail "two zstd oci-archive builds differ"
diff -r d1 d2 >/dev/null || fail "two oci-dir builds differ"
digest=$(cut -d' ' -f1 a1.out)
[ "$(cut -d' ' -f1 d1.out)" = "$digest" ] || fail "oci-dir and oci-archive digests differ"

# 2. skopeo reads them and agrees on the digest.
for ref in "oci-archive:a1.tar" "oci:d1" "oci-archive:z1.tar"; do
    skopeo inspect "$ref" >inspect.json 2>inspect.err || fail "skopeo inspect $ref: $(cat inspect.err)"
done
skopeo inspect oci-archive:a1.tar >inspect.json
[ "$(jq -r .Digest inspect.json)" = "$digest" ] || fail "skopeo digest $(jq -r .Digest inspect.json) != $digest"
jq -e '.Env | index("LD_PRELOAD=/.decant/libdecant-shim.so")' inspect.json >/dev/null || fail "no LD_PRELOAD in Env"
jq -e '.Labels["io.decant.profile.digest"] | startswith("sha256:")' inspect.json >/dev/null || fail "no profile digest label"
skopeo inspect --config oci:d1 >config.json
jq -e ".config.ExposedPorts[\"$port/tcp\"]" config.json >/dev/null || fail "ExposedPorts lacks $port/tcp"
jq -e '.config.Volumes["/data/log"]' config.json >/dev/null || fail "Volumes lacks /data/log"

# 3. umoci unpacks the directory and the archive's layout.
umoci unpack --image "d1:$tag" u1 >/dev/null 2>umoci.err || fail "umoci unpack oci-dir: $(cat umoci.err)"
mkdir lay && tar -xf a1.tar -C lay && umoci unpack --image "lay:$tag" u2 >/dev/null 2>umoci.err ||
    fail "umoci unpack oci-archive layout: $(cat umoci.err)"
[ -x "u1/rootfs$DECANT_BUILD/corpus/legacy_forkd" ] || fail "umoci rootfs lacks the binary"

# 4. decant run on the archive (crun, unpacked to a cache).
if command -v crun >/dev/null 2>&1 || command -v runc >/dev/null 2>&1; then
    DECANT_CACHE="$tmp/cache" "$DECANT" run a1.tar -- -1 >run.out 2>run.err &
    server_pid=$!
    [ "$(ping_until "$port")" = "PONG" ] || fail "decant run ARCHIVE: no PONG on $port: $(cat run.err)"
    wait "$server_pid" || fail "decant run ARCHIVE exited non-zero: $(cat run.err)"
    server_pid=""
fi

# 5. podman runs the archive.
if command -v podman >/dev/null 2>&1; then
    podman_run --rm --network host "oci-archive:$tmp/a1.tar" -1 >pod.out 2>pod.err &
    server_pid=$!
    [ "$(ping_until "$port" 600)" = "PONG" ] || fail "podman run oci-archive: no PONG on $port: $(tail -3 pod.err)"
    wait "$server_pid" || fail "podman run exited non-zero: $(tail -3 pod.err)"
    server_pid=""
else
    echo "note: podman not installed; skipped podman run" >&2
    [ "${DECANT_MUST_WORK:-0}" = "1" ] && fail "podman missing with DECANT_MUST_WORK=1"
fi

echo "image: $(stat -c %s a1.tar) bytes (gzip), $(stat -c %s z1.tar) bytes (zstd), digest $digest"
echo "PASS: e2e.package_oci"
