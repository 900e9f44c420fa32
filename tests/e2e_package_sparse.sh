#!/bin/sh
# End-to-end check of issue 14's sparse files: a file of 1 TiB apparent size
# (three small data blocks) named by the profile. By default it is refused
# at once, naming the file and --max-size (podman and umoci unpack holes as
# written zeros, so such an image would fill the disk of whoever runs it).
# With --max-size raised it packages in seconds because holes are never
# read: the OCI layer is small and GNU tar restores the file from it with
# its data where it was; the bundle's rootfs holds it sparse.
# Env: DECANT, DECANT_BUILD, DECANT_SOURCE (set by CTest).
set -u
. "$DECANT_SOURCE/tests/lib.sh"
. "$DECANT_SOURCE/tests/e2e_package_lib.sh"

require_root "bundle rootfs owners"
require_tool jq
require_tool tar
[ -x "$DECANT_BUILD/corpus/legacy_forkd" ] || skip "corpus not built"

tmp=$(mktemp -d /tmp/decant-e2e-sparse.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
forkd_profile profile.json 17070
big="$tmp/data/big.img"
mkdir -p data
truncate -s 1T "$big" 2>/dev/null || skip "this filesystem cannot hold a 1 TiB sparse file"
printf head | dd of="$big" bs=1 seek=0 conv=notrunc 2>/dev/null
printf middle | dd of="$big" bs=1 seek=549755813888 conv=notrunc 2>/dev/null
printf tail | dd of="$big" bs=1 seek=1099511627772 conv=notrunc 2>/dev/null
jq --arg f "$big" '.files += [{"path": $f, "access": "read", "optional": false, "evidence": ["user: test"]}]' \
    profile.json >big.json

# bytes_at FILE OFFSET COUNT
bytes_at() { dd if="$1" bs=1 skip="$2" count="$3" 2>/dev/null; }

timeout 60 "$DECANT" package big.json --root / -o refused.tar --no-shim -q >stdout 2>stderr
rc=$?
[ "$rc" -eq 2 ] || fail "over the default bound: exit $rc, expected 2 ($(cat stderr))"
[ "$(wc -l <stderr)" -eq 1 ] || fail "the error is not one line: $(cat stderr)"
grep -qF "$big" stderr && grep -qF -- "--max-size" stderr || fail "the error names neither the file nor --max-size: $(cat stderr)"
[ ! -e refused.tar ] || fail "refused, but the archive was written"

timeout 120 "$DECANT" package big.json --root / -o img.tar --max-size 2T --no-shim -q >stdout 2>stderr \
    || fail "with --max-size 2T: $(cat stderr)"
size=$(stat -c %s img.tar)
[ "$size" -lt $((32 * 1024 * 1024)) ] || fail "the archive is $size bytes: holes were stored"
mkdir layout x
tar -xf img.tar -C layout || fail "cannot unpack the oci-archive"
layer=$(jq -r '.layers[0].digest' "layout/blobs/sha256/$(jq -r '.manifests[0].digest' layout/index.json | cut -d: -f2)" | cut -d: -f2)
rel=${big#/}
tar -xzf "layout/blobs/sha256/$layer" -C x "$rel" || fail "GNU tar cannot read the file from the layer"
[ "$(stat -c %s "x/$rel")" = 1099511627776 ] || fail "restored size $(stat -c %s "x/$rel")"
[ "$(bytes_at "x/$rel" 0 4)" = head ] && [ "$(bytes_at "x/$rel" 549755813888 6)" = middle ] \
    && [ "$(bytes_at "x/$rel" 1099511627772 4)" = tail ] || fail "the data blocks are not where they were"
rm -rf x

timeout 120 "$DECANT" package big.json --root / -o bundle --format bundle --max-size 2T --no-shim -q >stdout 2>stderr \
    || fail "bundle with --max-size 2T: $(cat stderr)"
f="bundle/rootfs/$rel"
[ "$(stat -c %s "$f")" = 1099511627776 ] || fail "bundle file size $(stat -c %s "$f")"
[ "$(stat -c %b "$f")" -lt 131072 ] || fail "the bundle's copy is not sparse ($(stat -c %b "$f") blocks)"
[ "$(bytes_at "$f" 549755813888 6)" = middle ] || fail "the bundle's copy lost its data"
echo "PASS: a 1 TiB sparse file is refused by default and packages by its data with --max-size"
