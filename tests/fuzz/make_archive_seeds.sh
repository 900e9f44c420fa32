#!/bin/sh
# Seeds for archive_fuzz: small guest archives in the formats libarchive
# reads (tar, gzip, xz, zstd when present, cpio, zip) holding the shapes a
# hostile archive uses: "../" and absolute names, a symlink out followed by
# a file written through it, a hard link to an outside name, device nodes,
# a FIFO, duplicate names, a sparse file and a small compression bomb.
# Built with python3's tarfile/zipfile. usage: make_archive_seeds.sh OUTDIR
set -eu
out=$1
mkdir -p "$out"
python3 - "$out" <<'EOF2'
import io, os, sys, tarfile, zipfile
out = sys.argv[1]

def info(name, kind=tarfile.REGTYPE, data=b"", **kw):
    t = tarfile.TarInfo(name)
    t.type = kind
    t.size = len(data) if kind == tarfile.REGTYPE else 0
    for k, v in kw.items():
        setattr(t, k, v)
    return t, data

def tar(path, entries, mode="w", fmt=tarfile.GNU_FORMAT):
    with tarfile.open(os.path.join(out, path), mode, format=fmt) as t:
        for info_, data in entries:
            t.addfile(info_, io.BytesIO(data) if info_.type == tarfile.REGTYPE else None)

elf = b"\x7fELF\x02\x01\x01" + b"\0" * 57
guest = [
    info("./", tarfile.DIRTYPE, mode=0o755),
    info("./etc/", tarfile.DIRTYPE),
    info("./etc/os-release", data=b"ID=debian\nVERSION_ID=11\n"),
    info("./etc/passwd", data=b"root:x:0:0:root:/root:/bin/sh\n"),
    info("./usr/sbin/daemon", data=elf, mode=0o755),
    info("./bin/sh", data=b"#!/bin/sh\nexit 0\n", mode=0o755),
    info("./lib", tarfile.SYMTYPE, linkname="usr/lib"),
    info("./usr/lib/libx.so.1", tarfile.LNKTYPE, linkname="./usr/sbin/daemon"),
]
hostile = [
    info("../../escape", data=b"x"),
    info("/etc/abs", data=b"x"),
    info("./etc/shadow", tarfile.SYMTYPE, linkname="/etc/shadow"),
    info("./up", tarfile.SYMTYPE, linkname="../../../../../../tmp"),
    info("./up/written-through", data=b"x"),
    info("./etc/shadow", data=b"overwrite"),
    info("./hard", tarfile.LNKTYPE, linkname="../../etc/passwd"),
    info("./dev/sda", tarfile.BLKTYPE, devmajor=8, devminor=0),
    info("./dev/mem", tarfile.CHRTYPE, devmajor=1, devminor=1),
    info("./run/fifo", tarfile.FIFOTYPE),
    info("./dup", data=b"a"), info("./dup", tarfile.DIRTYPE), info("./dup/x", data=b"b"),
    info("./" + "d/" * 200 + "deep", data=b"x"),
]
tar("guest.tar", guest)
tar("hostile.tar", guest + hostile)
tar("hostile.pax.tar", hostile, fmt=tarfile.PAX_FORMAT)
tar("guest.tar.gz", guest, "w:gz")
tar("guest.tar.xz", guest, "w:xz")
tar("guest.tar.bz2", guest, "w:bz2")
# A compression bomb in small: 32 MiB of zeros behind an ELF magic (the
# kind archive_guest copies eagerly) in a few kilobytes of gzip.
big = elf + b"\0" * (32 << 20)
tar("bomb.tar.gz", guest[:3] + [info("./usr/sbin/bomb", data=big, mode=0o755)], "w:gz")
with zipfile.ZipFile(os.path.join(out, "guest.zip"), "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("etc/os-release", "ID=debian\n")
    z.writestr("../escape", "x")
    z.writestr("usr/sbin/daemon", elf)
EOF2
# cpio (newc) of a real tree, when cpio exists.
if command -v cpio >/dev/null 2>&1; then
  t=$(mktemp -d)
  mkdir -p "$t/etc" "$t/bin"
  echo 'ID=debian' >"$t/etc/os-release"
  ln -s /etc/shadow "$t/etc/shadow"
  ln "$t/etc/os-release" "$t/bin/hard"
  (cd "$t" && find . | cpio -o -H newc --quiet >"$out/guest.cpio")
  rm -rf "$t"
fi
command -v zstd >/dev/null 2>&1 && zstd -q -c "$out/guest.tar" >"$out/guest.tar.zst" || true
# Regression cases found by fuzzing (gzip+base64): a damaged cpio on which
# libarchive fails without an error string (fmt threw on the null message).
echo 'H4sIAAAAAAACAzMwNzA3MDQwcDQ3MTA0MQACE0NnAxzAxMzJwM3JwMkVVdjN1QA/MIIx9BgMkOwzgtrn6oJLH3b7UIAhmhonIt3kBGOkliTrF2ckpuSXMwCBPhIX2a3GRuS5laA7TGCMpMw8oP1IdhoaOILELQwdTahspxuy3/OLdYtSc1ITi1MZKLXfkUj7LZH8rJ+RWJTCwODpYpuSmpSZmMeFcANRgFh1OOM/JMjR08c1SFFRkWEIAAApK+MpsAMAAA==' | base64 -d | gunzip >"$out/regress-cpio-null-error"
exit 0
