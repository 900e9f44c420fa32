#!/bin/sh
# Seeds for disk_image_fuzz: small ext2 and ext4 images of a tiny Linux root
# (mke2fs -d), bare and behind an MBR partition table, plus a GPT table when
# sgdisk exists, a directory loop and a 16 GiB size claim (debugfs), and a
# table pointing past the end. All below 1 MiB (the fuzzer's FUZZ_MAX_LEN). usage: make_image_seeds.sh OUTDIR
set -eu
out=$1
mkdir -p "$out"
command -v mke2fs >/dev/null 2>&1 || { echo "make_image_seeds.sh: mke2fs missing (install e2fsprogs)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tree=$work/tree
mkdir -p "$tree/etc" "$tree/usr/sbin" "$tree/lib"
echo 'ID=debian' >"$tree/etc/os-release"
echo '/dev/sda1 / ext4 defaults 0 1' >"$tree/etc/fstab"
printf '#!/bin/sh\nexit 0\n' >"$tree/usr/sbin/daemon"
ln -s /etc/shadow "$tree/etc/shadow"
ln -s ../../../../etc "$tree/lib/up"
mkfs() {  # mkfs NAME TYPE FEATURES
  truncate -s 256K "$work/$1"
  mke2fs -q -F -t "$2" -b 1024 -N 32 -m 0 -O "$3" -d "$tree" "$work/$1" >/dev/null 2>&1
}
mkfs ext2.img ext2 ^resize_inode
mkfs ext4.img ext4 ^has_journal,^resize_inode,inline_data
cp "$work/ext2.img" "$out/ext2-bare"
cp "$work/ext4.img" "$out/ext4-bare"
# MBR: one Linux partition at sector 128 (64 KiB), and one past the end.
python3 - "$work/ext4.img" "$out" <<'EOF2'
import struct, sys
fs = open(sys.argv[1], "rb").read()
def mbr(parts):
    b = bytearray(512)
    for i, (start, size, kind) in enumerate(parts):
        b[446 + 16 * i: 462 + 16 * i] = struct.pack("<B3sB3sII", 0, b"\0\0\0", kind, b"\0\0\0", start, size)
    b[510:512] = b"\x55\xaa"
    return bytes(b)
sectors = len(fs) // 512
open(sys.argv[2] + "/mbr-ext4", "wb").write(mbr([(128, sectors, 0x83)]) + b"\0" * (128 * 512 - 512) + fs)
open(sys.argv[2] + "/mbr-past-end", "wb").write(mbr([(128, sectors, 0x83), (1 << 31, 1 << 30, 0x83), (64, 4, 0x05)])
                                               + b"\0" * (128 * 512 - 512) + fs)
EOF2
# A directory that contains its own ancestor: indexing must not loop.
if command -v debugfs >/dev/null 2>&1; then
  cp "$work/ext2.img" "$work/loop.img"
  debugfs -w -R 'link /etc /etc/loop' "$work/loop.img" >/dev/null 2>&1 &&
    debugfs -w -R 'link / /usr/sbin/root' "$work/loop.img" >/dev/null 2>&1 &&
    cp "$work/loop.img" "$out/ext2-dir-loop"
fi
# An inode claiming 16 GiB over one block (found by fuzzing: its copy cost
# the claimed size): holes must stay holes.
if command -v debugfs >/dev/null 2>&1; then
  for t in ext2 ext4; do
    cp "$work/$t.img" "$work/huge.img"
    debugfs -w -R 'sif /usr/sbin/daemon size 17179869184' "$work/huge.img" >/dev/null 2>&1 &&
      cp "$work/huge.img" "$out/$t-huge-size"
  done
fi
if command -v sgdisk >/dev/null 2>&1; then
  truncate -s 400K "$work/gpt.img"
  if sgdisk -q -n 1:128:+256K -t 1:8300 "$work/gpt.img" >/dev/null 2>&1; then
    dd if="$work/ext2.img" of="$work/gpt.img" bs=512 seek=128 conv=notrunc status=none
    cp "$work/gpt.img" "$out/gpt-ext2"
  fi
fi
exit 0
