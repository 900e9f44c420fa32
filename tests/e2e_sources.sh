#!/bin/sh
# decant discover and convert read the same guest from every kind of SOURCE:
# the directory, .tar.zst, .tar.gz, cpio, zip, a raw MBR image and a GPT
# qcow2 image (built offline by scripts/source-images.sh, no mounts). discover
# prints the same for all; `convert --only` one service gives the same
# profile.yaml and artifact digests from the qcow2 as from the directory;
# no source is ever written (digest and mtime). Bad sources fail with one
# line and exit 2. As root, the mount path (DECANT_SOURCE_MOUNT=1) reads the
# same guest and leaves no mount and no loop device behind, even on SIGTERM.
set -u
. "$DECANT_SOURCE/tests/lib.sh"
require_tool python3
for t in zstd cpio zip mkfs.ext4 sfdisk qemu-img; do require_tool "$t"; done
guest=$(bullseye_guest) || exit $?
images=$("$DECANT_SOURCE/scripts/source-images.sh" "$guest" | tail -n 1) || fail "cannot build the source images"
[ -f "$images/done" ] || fail "source-images.sh printed '$images'"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/decant-e2e-sources.XXXXXX") || fail "mktemp"
bg=""
trap '[ -n "$bg" ] && kill "$bg" 2>/dev/null; rm -rf "$tmp"' EXIT
export SOURCE_DATE_EPOCH=1700000000

# Every source is read under one name ($tmp/vm, a symlink to it): the name is
# the provenance a profile records, so only the content read may differ.
use() { ln -sfn "$1" "$tmp/vm"; }
stamp() { for f in "$images"/guest.* "$images"/*.raw "$images"/*.qcow2; do echo "$f $(stat -c %Y "$f") $(sha256sum <"$f")"; done; }
stamp >"$tmp/before"

use "$guest"
"$DECANT" discover --root "$tmp/vm" -o "$tmp/dir.json" || fail "discover on the directory"
for s in guest.tar.zst guest.tar.gz guest.cpio guest.zip mbr.raw gpt.qcow2; do
    use "$images/$s"
    "$DECANT" discover --root "$tmp/vm" -o "$tmp/$s.json" 2>"$tmp/err" || fail "discover on $s: $(cat "$tmp/err")"
    cmp -s "$tmp/dir.json" "$tmp/$s.json" || fail "discover on $s differs from the directory: $(diff "$tmp/dir.json" "$tmp/$s.json" | head -20)"
    echo "discover from $s: identical"
done

# One service that starts at boot, picked from what discover reports.
services=$(python3 - "$tmp/dir.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
names = [s["name"] for s in d["services"] if s["enabled"] and "reason" not in s and s["manager"] == "systemd"]
names.sort(key=lambda n: (n != "redis-server", n))  # redis-server first when the guest has it
print(" ".join(names))
PY
) || fail "cannot read discover's output"
convert_from() {  # SOURCE OUT [SERVICE]
    use "$1"
    "$DECANT" convert "$tmp/vm" -o "$2" --only "$3" -q 2>"$tmp/err"
}
svc=""
for s in $services; do
    convert_from "$guest" "$tmp/out-dir-$s" "$s"
    if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(d["services"][0]["status"] != "converted")' \
        "$tmp/out-dir-$s/summary.json" 2>/dev/null; then
        svc=$s
        break
    fi
done
[ -n "$svc" ] || fail "no service of the guest converts from the directory: $(cat "$tmp/err")"
mv "$tmp/out-dir-$svc" "$tmp/out-dir"
convert_from "$images/gpt.qcow2" "$tmp/out-qcow2" "$svc" || fail "convert $svc from the qcow2: $(cat "$tmp/err")"
cmp -s "$tmp/out-dir/$svc/profile.yaml" "$tmp/out-qcow2/$svc/profile.yaml" ||
    fail "profile.yaml differs: $(diff "$tmp/out-dir/$svc/profile.yaml" "$tmp/out-qcow2/$svc/profile.yaml" | head -20)"
cmp -s "$tmp/out-dir/summary.json" "$tmp/out-qcow2/summary.json" ||
    fail "summary.json (artifact digests) differs: $(diff "$tmp/out-dir/summary.json" "$tmp/out-qcow2/summary.json" | head -20)"
grep -q '"digest": "sha256:' "$tmp/out-qcow2/summary.json" || fail "summary.json has no artifact digest"
echo "convert --only $svc from the qcow2: same profile.yaml and artifact digests"
convert_from "$images/guest.tar.zst" "$tmp/out-tar" "$svc" || fail "convert $svc from the .tar.zst: $(cat "$tmp/err")"
cmp -s "$tmp/out-dir/summary.json" "$tmp/out-tar/summary.json" ||
    fail "summary.json from the .tar.zst differs: $(diff "$tmp/out-dir/summary.json" "$tmp/out-tar/summary.json" | head -20)"
echo "convert --only $svc from the .tar.zst: same artifact digests"
# decant package reads the same SOURCE kinds, shim included (it once checked the shim on directories only).
use "$images/gpt.qcow2"
"$DECANT" package "$tmp/out-dir/$svc/profile.yaml" --root "$tmp/vm" -o "$tmp/pkg.bundle" --format bundle -q \
    >/dev/null 2>"$tmp/err" || fail "package from the qcow2: $(cat "$tmp/err")"
[ -f "$tmp/pkg.bundle/rootfs/.decant/libdecant-shim.so" ] || fail "package from the qcow2 left the shim out"
echo "package from the qcow2: the shim is in the bundle"

# Nothing read was written.
stamp >"$tmp/after"
cmp -s "$tmp/before" "$tmp/after" || fail "a source changed: $(diff "$tmp/before" "$tmp/after")"
left=$(find "${TMPDIR:-/tmp}" -maxdepth 1 \( -name 'decant-source-*' -o -name 'decant-image-*' \) -newer "$tmp/before")
[ -z "$left" ] || fail "work directories were left behind: $left"

# Bad sources: one line, exit 2.
bad() {  # WHAT WANT-IN-MESSAGE SOURCE [ENV...]
    what=$1 want=$2 src=$3
    shift 3
    env "$@" "$DECANT" discover --root "$src" >/dev/null 2>"$tmp/err"
    rc=$?
    [ $rc -eq 2 ] || fail "$what: exit $rc, want 2: $(cat "$tmp/err")"
    [ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "$what: want one stderr line, got: $(cat "$tmp/err")"
    grep -q -- "$want" "$tmp/err" || fail "$what: want '$want' in: $(cat "$tmp/err")"
    echo "$what: $(cat "$tmp/err")"
}
yes "not an archive" | head -c 200000 >"$tmp/garbage.bin"
bad "garbage" "garbage.bin" "$tmp/garbage.bin"
head -c $(($(stat -c %s "$images/guest.tar.zst") / 2)) "$images/guest.tar.zst" >"$tmp/cut.tar.zst"
bad "truncated .tar.zst" "cut.tar.zst" "$tmp/cut.tar.zst"
mkdir -p "$tmp/data" && echo data >"$tmp/data/README"
mkfs.ext4 -q -F -d "$tmp/data" "$tmp/data.ext4" 8M >/dev/null 2>&1 || fail "mkfs.ext4"
truncate -s 10M "$tmp/nolinux.raw" && printf 'label: gpt\nstart=2048, size=16384\n' | sfdisk -q "$tmp/nolinux.raw" &&
    dd if="$tmp/data.ext4" of="$tmp/nolinux.raw" bs=1M seek=1 conv=notrunc status=none || fail "cannot build nolinux.raw"
bad "image without a Linux root" "no Linux root partition" "$tmp/nolinux.raw"
bad "qcow2 without qemu-img" "install qemu-utils" "$images/gpt.qcow2" PATH=/nonexistent

# A decant killed while reading an archive leaves its work directory; the next
# one removes it once that process is gone.
use "$images/guest.tar.zst"
"$DECANT" convert "$tmp/vm" -o "$tmp/out-killed-tar" --only "$svc" -q 2>/dev/null &
bg=$!
i=0
while ! ls -d "${TMPDIR:-/tmp}/decant-source-$bg-"* >/dev/null 2>&1 && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
ls -d "${TMPDIR:-/tmp}/decant-source-$bg-"* >/dev/null 2>&1 || fail "convert from the .tar.zst made no work directory"
kill -KILL "$bg"
wait "$bg" 2>/dev/null
"$DECANT" discover --root "$tmp/vm" >/dev/null || fail "discover after a killed convert"
ls -d "${TMPDIR:-/tmp}/decant-source-$bg-"* >/dev/null 2>&1 && fail "the killed decant's work directory is still there"
bg=""
echo "a killed decant's work directory is removed by the next one"

# As root: the same guest through a read-only mount, undone however decant ends.
[ "$(id -u)" -eq 0 ] || skip "the mount path needs root (everything before it passed)"
[ -e /dev/loop-control ] || skip "no /dev/loop-control: the mount path needs loop devices (everything before it passed)"
use "$images/mbr.raw"
DECANT_SOURCE_MOUNT=1 "$DECANT" discover --root "$tmp/vm" -o "$tmp/mount.json" 2>"$tmp/err" ||
    fail "discover through a mount: $(cat "$tmp/err")"
cmp -s "$tmp/dir.json" "$tmp/mount.json" || fail "discover through a mount differs: $(diff "$tmp/dir.json" "$tmp/mount.json" | head)"
loops() { losetup -j "$images/mbr.raw" 2>/dev/null; }
gone() { i=0; while [ -n "$(loops)" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done; [ -z "$(loops)" ]; }
gone || fail "a loop device is left on mbr.raw: $(loops)"
grep -q decant-mount /proc/self/mountinfo && fail "a mount is visible outside decant: $(grep decant-mount /proc/self/mountinfo)"
echo "discover through a read-only mount: identical, nothing left"
DECANT_SOURCE_MOUNT=1 "$DECANT" convert "$tmp/vm" -o "$tmp/out-killed" -q 2>/dev/null &
bg=$!
i=0
while [ -z "$(loops)" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
[ -n "$(loops)" ] || fail "convert through a mount never attached a loop device"
kill -TERM "$bg"
wait "$bg" 2>/dev/null
bg=""
gone || fail "SIGTERM left a loop device on mbr.raw: $(loops)"
echo "SIGTERM during a mounted convert: no loop device, no mount left"
stamp >"$tmp/after"
cmp -s "$tmp/before" "$tmp/after" || fail "a source changed: $(diff "$tmp/before" "$tmp/after")"
echo "PASS: e2e.sources"
