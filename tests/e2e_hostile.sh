#!/bin/sh
# Hostile guests and archives cannot reach the host that converts them. A
# small guest built here has one service whose binary's DT_NEEDED and RPATH
# climb out with ../, whose ld.so.conf includes /../../etc/*, whose
# libraries are a FIFO, a device node, a 64 GiB sparse file and a mode-000
# file, and whose symlinks point at host files (absolute /etc/shadow and
# ../../.. chains to a marker file outside the guest). `decant convert`
# of it, from the directory and from a tar that also carries escaping
# entries (../, absolute names, a symlink out then written through, a hard
# link to an outside name, device nodes), must finish (no FIFO hang), never
# put a host byte into an artifact (the marker and the host's shadow are
# searched for in every produced file and archive member) and never write
# outside OUTDIR. A compression bomb and a corrupt disk image are refused
# with one line. Last, a raw `syscall` instruction for a call outside the
# allowlist fails under the runtime's filter, even carrying the shim's tag.
# Env: DECANT, DECANT_BUILD, DECANT_SOURCE (set by CTest).
set -u
. "$DECANT_SOURCE/tests/lib.sh"
require_root "device nodes in the hostile guest, decant run"
require_tool cc
require_tool python3
require_tool mkfifo
require_tool crun
require_tool jq

tmp=$(mktemp -d /tmp/decant-e2e-hostile.XXXXXX) || fail "mktemp"
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
export DECANT_CACHE="$tmp/cache"
marker="HOSTILE-MARKER-$$-$(date +%s)"
echo "$marker" >"$tmp/host-secret"
mkdir -p "$tmp/hostlib"

# --- the guest ----------------------------------------------------------
g=$tmp/guest
mkdir -p "$g/etc/ld.so.conf.d" "$g/usr/sbin" "$g/lib/x86_64-linux-gnu" "$g/lib64" "$g/lib/systemd/system" \
    "$g/etc/systemd/system/multi-user.target.wants" "$g/var/lib"
printf 'ID=debian\nVERSION_ID=11\nPRETTY_NAME="hostile"\n' >"$g/etc/os-release"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$g/etc/passwd"
for f in /lib64/ld-linux-x86-64.so.2 /lib/x86_64-linux-gnu/libc.so.6; do
    [ -f "$f" ] || skip "needs the host's x86-64 glibc ($f)"
    cp -L "$f" "$g$f"
done
# Libraries: each a shared object at link time, replaced in the guest by
# something hostile. The escaping one is named by its SONAME (DT_NEEDED).
echo 'int hostile_lib(void) { return 0; }' >lib.c
up="../../../../../../../../..$tmp/hostlib/libescape.so"
{ cat lib.c; printf 'const char *secret = "%s";\n' "$marker"; } >escape.c
cc -shared -fPIC -o "$tmp/hostlib/libescape.so" -Wl,-soname,"$up" escape.c || fail "cc libescape"
for l in fifo dev huge noperm; do
    cc -shared -fPIC -o "lib$l.so.1" -Wl,-soname,"lib$l.so.1" lib.c || fail "cc lib$l"
done
cat >d.c <<'EOF'
#include <unistd.h>
int hostile_lib(void);
int main(void) { for (;;) pause(); return hostile_lib(); }
EOF
cc -o "$g/usr/sbin/hostiled" d.c -L. -Wl,--no-as-needed "$tmp/hostlib/libescape.so" \
    -l:libfifo.so.1 -l:libdev.so.1 -l:libhuge.so.1 -l:libnoperm.so.1 \
    -Wl,--disable-new-dtags,-rpath,"/../../../..$tmp/hostlib:\$ORIGIN/../../../../../..$tmp/hostlib" ||
    fail "cc hostiled"
L=$g/lib/x86_64-linux-gnu
mkfifo "$L/libfifo.so.1"
mknod "$L/libdev.so.1" c 1 3 || fail "mknod"
truncate -s 64G "$L/libhuge.so.1"
cp libnoperm.so.1 "$L/libnoperm.so.1" && chmod 000 "$L/libnoperm.so.1"
printf 'include /../../etc/*\ninclude ../../../..%s/*\n/../../..%s\n' "$tmp" "$tmp/hostlib" >"$g/etc/ld.so.conf"
ln -s /etc/shadow "$g/etc/shadow"
ln -s "../../../../../../../..$tmp/host-secret" "$g/etc/hostile.conf"
ln -s "$tmp/host-secret" "$g/var/lib/abs-secret"
mkfifo "$g/etc/hostile.fifo"
cat >"$g/lib/systemd/system/hostile.service" <<'EOF'
[Unit]
Description=hostile daemon
[Service]
EnvironmentFile=-/etc/hostile.fifo
ExecStart=/usr/sbin/hostiled -c /etc/hostile.conf -s /etc/shadow -f /etc/hostile.fifo
[Install]
WantedBy=multi-user.target
EOF
ln -s /lib/systemd/system/hostile.service "$g/etc/systemd/system/multi-user.target.wants/hostile.service"

# no_host_bytes DIR: no file under DIR (archives unpacked first) holds the
# marker or the host's shadow.
no_host_bytes() {
    _dir=$1
    mkdir -p "$tmp/unpacked"
    find "$_dir" -type f \( -name '*.tar' -o -name '*.tar.gz' -o -name '*.tgz' \) | while read -r a; do
        _u=$tmp/unpacked/$(echo "$a" | tr / _)
        mkdir -p "$_u" && tar -xf "$a" -C "$_u" 2>/dev/null
    done
    # Layer blobs of OCI layouts are tars too.
    find "$_dir" -type f -path '*blobs/sha256/*' | while read -r a; do
        _u=$tmp/unpacked/$(echo "$a" | tr / _)
        mkdir -p "$_u" && tar -xf "$a" -C "$_u" 2>/dev/null || rmdir "$_u"
    done
    if grep -rlaF "$marker" "$_dir" "$tmp/unpacked" 2>/dev/null | grep -q .; then
        fail "host data in $_dir: $(grep -rlaF "$marker" "$_dir" "$tmp/unpacked" | head -3)"
    fi
    _shadow=$(grep -m1 '^root:' /etc/shadow 2>/dev/null)
    if [ -n "$_shadow" ] && grep -rlaF "$_shadow" "$_dir" "$tmp/unpacked" 2>/dev/null | grep -q .; then
        fail "the host's /etc/shadow in $_dir"
    fi
    if find "$_dir" "$tmp/unpacked" \( -type b -o -type c -o -type p \) | grep -q .; then
        fail "a device node or FIFO in $_dir: $(find "$_dir" "$tmp/unpacked" \( -type b -o -type c -o -type p \) | head -3)"
    fi
    rm -rf "$tmp/unpacked"
}

# only_inside OUT: nothing new under $tmp outside OUT, the cache and the stamp.
only_inside() {
    _new=$(find "$tmp" -newer "$tmp/stamp" ! -path "$1" ! -path "$1/*" ! -path "$tmp/cache*" ! -path "$tmp" \
        ! -path "$tmp/stamp" ! -path "$tmp/*.err" ! -path "$tmp/*.out" | head -5)
    [ -z "$_new" ] || fail "written outside OUTDIR: $_new"
}

convert_hostile() {  # SOURCE OUT
    touch "$tmp/stamp"
    sleep 1
    timeout 600 "$DECANT" convert "$1" -o "$2" -q >"$tmp/convert.out" 2>"$tmp/convert.err"
    _rc=$?
    [ $_rc -ne 124 ] || fail "convert of $1 hung (timeout): $(tail -3 "$tmp/convert.err")"
    [ $_rc -le 3 ] || fail "convert of $1 crashed (exit $_rc): $(tail -3 "$tmp/convert.err")"
    [ -d "$2" ] || fail "convert of $1 wrote no OUTDIR (exit $_rc): $(tail -3 "$tmp/convert.err")"
    grep -q 'hostile' "$2/summary.json" 2>/dev/null || fail "convert of $1 does not report the hostile service"
    no_host_bytes "$2"
    only_inside "$2"
    echo "convert $1: exit $_rc ($(jq -r '[.services[] | .name + " " + .status] | join(", ")' "$2/summary.json" 2>/dev/null)), no host data, nothing outside $2"
}

# 1. analyze on its own ends (FIFO, device, sparse) and names no host file.
touch "$tmp/stamp"
timeout 300 "$DECANT" analyze /usr/sbin/hostiled --root "$g" --format json -o "$tmp/hostiled.json" 2>"$tmp/analyze.err"
rc=$?
[ $rc -ne 124 ] || fail "analyze hung"
[ $rc -eq 0 ] || [ $rc -eq 2 ] || fail "analyze exit $rc: $(cat "$tmp/analyze.err")"
if [ $rc -eq 0 ]; then
    grep -qF "$marker" "$tmp/hostiled.json" && fail "the profile holds host data"
    # The escaping DT_NEEDED names no guest file: it must stay missing.
    n=$(jq '[.libraries[]? | tostring | select(contains("libescape"))] | length' "$tmp/hostiled.json")
    [ "$n" = 0 ] || fail "the escaping DT_NEEDED resolved: $(jq -c '.libraries' "$tmp/hostiled.json" | head -c 400)"
fi
echo "analyze: exit $rc"

# 2. convert from the directory.
convert_hostile "$g" "$tmp/out-dir"

# 3. the same guest as a tar, plus entries that try to escape.
python3 - "$g" "$tmp/guest.tar" "$tmp" <<'EOF'
import io, os, sys, tarfile
guest, out, tmp = sys.argv[1:4]
def fil(t):
    if t.isfifo() or t.ischr() or t.isblk():
        return t
    if t.size > (1 << 20):  # the 64 GiB sparse file: its header, not its holes
        t.size = 0
    return t
with tarfile.open(out, "w", format=tarfile.GNU_FORMAT) as tf:
    for root, dirs, files in os.walk(guest):
        for n in sorted(dirs + files):
            p = os.path.join(root, n)
            st = os.lstat(p)
            ti = tf.gettarinfo(p, "./" + os.path.relpath(p, guest))
            ti = fil(ti)
            if ti.isreg() and ti.size:
                with open(p, "rb") as f:
                    tf.addfile(ti, f)
            else:
                tf.addfile(ti)
    def add(name, kind=tarfile.REGTYPE, data=b"", **kw):
        ti = tarfile.TarInfo(name)
        ti.type = kind
        ti.size = len(data) if kind == tarfile.REGTYPE else 0
        for k, v in kw.items():
            setattr(ti, k, v)
        tf.addfile(ti, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
    add("../../../../../../.." + tmp + "/escaped-dotdot", data=b"x")
    add(tmp + "/escaped-absolute", data=b"x")
    add("./out-link", tarfile.SYMTYPE, linkname=tmp)
    add("./out-link/escaped-through-symlink", data=b"x")
    add("./hard-out", tarfile.LNKTYPE, linkname="../../../.." + tmp + "/host-secret")
    add("./dev/sda", tarfile.BLKTYPE, devmajor=8, devminor=0)
    add("./dev/kmem", tarfile.CHRTYPE, devmajor=1, devminor=2)
EOF
[ -s "$tmp/guest.tar" ] || fail "cannot build guest.tar"
convert_hostile "$tmp/guest.tar" "$tmp/out-tar"
for e in escaped-dotdot escaped-absolute escaped-through-symlink; do
    [ ! -e "$tmp/$e" ] || fail "the archive wrote $tmp/$e"
done
[ "$(cat "$tmp/host-secret")" = "$marker" ] || fail "the host file behind the hard link changed"

# 4. a compression bomb, bounded by DECANT_SOURCE_WORK_LIMIT_MB, and a
# corrupt disk image: one line, exit 2, nothing left in TMPDIR.
python3 - "$tmp/bomb.tar.gz" <<'EOF'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w:gz") as tf:
    for name, data in (("etc/os-release", b"ID=debian\n"), ("usr/sbin/bomb", b"\x7fELF" + bytes((64 << 20) - 4))):
        ti = tarfile.TarInfo(name)
        ti.size, ti.mode = len(data), 0o755
        tf.addfile(ti, io.BytesIO(data))
EOF
mkdir -p "$tmp/tmpdir"
DECANT_SOURCE_WORK_LIMIT_MB=16 TMPDIR=$tmp/tmpdir timeout 300 "$DECANT" discover --root "$tmp/bomb.tar.gz" \
    >/dev/null 2>"$tmp/bomb.err"
rc=$?
[ $rc -eq 2 ] || fail "the compression bomb: exit $rc, expected 2: $(cat "$tmp/bomb.err")"
[ "$(wc -l <"$tmp/bomb.err")" -eq 1 ] || fail "the bomb's refusal is not one line: $(cat "$tmp/bomb.err")"
grep -q DECANT_SOURCE_WORK_LIMIT_MB "$tmp/bomb.err" || fail "the refusal names no limit: $(cat "$tmp/bomb.err")"
[ -z "$(ls -A "$tmp/tmpdir")" ] || fail "work copies left in TMPDIR: $(ls "$tmp/tmpdir")"
echo "compression bomb: refused ($(cat "$tmp/bomb.err"))"
if command -v mkfs.ext4 >/dev/null 2>&1; then
    mkdir -p "$tmp/imgroot/etc"
    cp "$g/etc/os-release" "$tmp/imgroot/etc/"
    truncate -s 8M "$tmp/disk.raw"
    mkfs.ext4 -q -F -b 1024 -d "$tmp/imgroot" "$tmp/disk.raw" >/dev/null 2>&1 || fail "mkfs.ext4"
    # Garbage over the group descriptors, bitmaps and inode tables.
    python3 -c "
import random,sys
random.seed(13); f=open(sys.argv[1],'r+b'); f.seek(2048); f.write(bytes(random.getrandbits(8) for _ in range(300*1024))); f.close()" \
        "$tmp/disk.raw"
    DECANT_SOURCE_MOUNT=0 TMPDIR=$tmp/tmpdir timeout 300 "$DECANT" discover --root "$tmp/disk.raw" >/dev/null 2>"$tmp/disk.err"
    rc=$?
    # Refused in one line, or (if what survives still reads) contained: no crash, no hang.
    [ $rc -eq 2 ] || [ $rc -eq 0 ] || fail "the corrupt disk image: exit $rc: $(cat "$tmp/disk.err")"
    [ $rc -eq 0 ] || [ "$(wc -l <"$tmp/disk.err")" -eq 1 ] || fail "more than one line for the corrupt image: $(cat "$tmp/disk.err")"
    echo "corrupt disk image: exit $rc $(cat "$tmp/disk.err")"
fi

# 5. a raw syscall outside the allowlist, with and without the shim's tag,
# under the filter decant run installs: EPERM (exit 1), where an unfiltered
# run gets EFAULT (14) from chroot(NULL).
cat >raw.c <<EOF
/* chroot(NULL) through a bare syscall instruction, r9 = TAG when argv[1] is "tag". */
#include <string.h>
int main(int argc, char **argv) {
  long r;
  register long r9 __asm__("r9") = argc > 1 && strcmp(argv[1], "tag") == 0 ? (long)$(sed -n 's/^#define DECANT_SHIM_SYSCALL_TAG //p' "$DECANT_SOURCE/shim/plan_contract.h") : 0;
  __asm__ volatile("syscall" : "=a"(r) : "a"(161L), "D"(0L), "r"(r9) : "rcx", "r11", "memory");
  return r < 0 ? (int)-r : 0;
}
EOF
cc -O1 -o rawchroot raw.c || fail "cc raw.c"
./rawchroot
[ $? -eq 14 ] || skip "chroot(NULL) unfiltered does not give EFAULT here"
"$DECANT" analyze "$tmp/rawchroot" --format json -o raw.json 2>analyze-raw.err || fail "analyze rawchroot: $(cat analyze-raw.err)"
jq '.syscalls.allow -= ["chroot"]' raw.json >raw-nochroot.json
"$DECANT" package raw-nochroot.json --root / -o rawbundle --format bundle -q >/dev/null 2>pkg-raw.err ||
    fail "package rawchroot: $(cat pkg-raw.err)"
for how in plain tag; do
    "$DECANT" run rawbundle -- "$how" 2>run-raw.err
    rc=$?
    [ $rc -eq 1 ] || fail "raw chroot ($how) under the filter: exit $rc, expected 1 (EPERM): $(cat run-raw.err)"
done
echo "raw syscall outside the allowlist: refused by the runtime's filter, with and without the shim's tag"
echo "PASS"
