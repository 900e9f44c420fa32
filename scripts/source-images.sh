#!/bin/sh
# Builds the guest sources e2e.sources reads, offline and without mounting
# anything: the guest directory as .tar.zst, .tar.gz, newc cpio and zip, a
# raw disk image with an MBR table and one ext4 root partition, and a qcow2
# image with a GPT table (a small ext4 data partition first, the ext4 root
# second), made with `mkfs.ext4 -d`, sfdisk, dd and qemu-img. Prints the
# cache directory holding them: ~/.cache/decant/sources/<guest dir name>-<digest
# of this script>, built once (CI keeps it between runs).
# Usage: scripts/source-images.sh GUEST_DIR
set -eu
guest=${1:?usage: source-images.sh GUEST_DIR}
[ -d "$guest/etc" ] || { echo "source-images: $guest is not a guest root" >&2; exit 2; }
for t in tar zstd gzip cpio zip mkfs.ext4 sfdisk qemu-img; do
    command -v "$t" >/dev/null 2>&1 || { echo "source-images: $t is missing (run scripts/install-deps.sh)" >&2; exit 2; }
done
self=$(sha256sum "$0" | cut -c1-12)
cache="${XDG_CACHE_HOME:-$HOME/.cache}/decant/sources/$(basename "$guest")-$self"
if [ -f "$cache/done" ]; then
    echo "$cache"
    exit 0
fi
mkdir -p "$(dirname "$cache")"
work=$(mktemp -d "$cache.tmp.XXXXXX")
trap 'rm -rf "$work"' EXIT
(
    cd "$guest"
    # Sorted names and numeric owners: what the guest directory holds, nothing of this host.
    tar --sort=name --numeric-owner --xattrs -cf - . | zstd -q -T2 -o "$work/guest.tar.zst"
    tar --sort=name --numeric-owner --xattrs -cf - . | gzip -1 >"$work/guest.tar.gz"
    find . -depth -print | LC_ALL=C sort | cpio --quiet -o -H newc >"$work/guest.cpio"
    # zip keeps symlinks as links (-y) and Unix owners in its extra fields.
    zip -q -r -y --symlinks "$work/guest.zip" . -x './dev/*' || [ $? -eq 18 ]  # 18: a file vanished meanwhile
)

# A filesystem image of the guest with room to spare, written into a disk image
# at 1 MiB. Sizes are in MiB.
kib=$(du -sk "$guest" | cut -f1)
size=$((kib / 1024 * 13 / 10 + 64))
inodes=$(( $(find "$guest" | wc -l) * 12 / 10 + 4096 ))
mkfs.ext4 -q -F -L root -N "$inodes" -d "$guest" "$work/root.ext4" "${size}M" >/dev/null

# Raw, MBR: one Linux partition.
truncate -s "$((size + 2))M" "$work/mbr.raw"
printf 'label: dos\nstart=2048, type=83\n' | sfdisk -q "$work/mbr.raw"
dd if="$work/root.ext4" of="$work/mbr.raw" bs=1M seek=1 conv=notrunc,sparse status=none

# GPT: an 8 MiB ext4 partition with no /etc first, the root second; then qcow2.
mkdir "$work/data" && echo "not a root" >"$work/data/README"
mkfs.ext4 -q -F -L data -d "$work/data" "$work/data.ext4" 8M >/dev/null
truncate -s "$((size + 12))M" "$work/gpt.raw"
printf 'label: gpt\nstart=2048, size=16384, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4\nstart=18432, type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709\n' |
    sfdisk -q "$work/gpt.raw"
dd if="$work/data.ext4" of="$work/gpt.raw" bs=1M seek=1 conv=notrunc,sparse status=none
dd if="$work/root.ext4" of="$work/gpt.raw" bs=1M seek=9 conv=notrunc,sparse status=none
qemu-img convert -f raw -O qcow2 "$work/gpt.raw" "$work/gpt.qcow2"
rm -rf "$work/gpt.raw" "$work/data.ext4" "$work/root.ext4" "$work/data"
touch "$work/done"
rm -rf "$cache"
mv "$work" "$cache"
trap - EXIT
echo "$cache"
