#!/bin/sh
# Generates ELF inputs at test time (no binary fixtures in the tree): a few
# well-formed ELFs and many malformed variants of them. They are the seed
# corpus of the ELF reader's fuzzer and the cases of e2e_bad_input.sh, so a
# crash found by fuzzing becomes a regression case for both by adding one
# line here. Names say what is expected of `decant analyze`:
#   good-*  must succeed;
#   bad-*   must fail with exit 2 and one line on stderr;
#   odd-*   corrupt in parts decant does not use (symbol names, hash chains,
#           counts ld.so ignores): either outcome, but never a crash or hang.
# Usage: make_seeds.sh OUTDIR    (needs od, dd, printf; cc and as/ld optional)
set -eu

out=${1:?usage: make_seeds.sh OUTDIR}
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# --- byte helpers (little-endian, POSIX sh: printf has no \x, so go octal) ---

# put_bytes FILE OFFSET "HH HH ..." overwrites bytes in place.
put_bytes() {
  _s=""
  for _h in $3; do _s="$_s\\$(printf %o "0x$_h")"; done
  # shellcheck disable=SC2059
  printf "$_s" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# put_le FILE OFFSET NBYTES VALUE (VALUE < 2^63, decimal or 0x hex).
put_le() {
  _v=$(($4)); _i=0; _hex=""
  while [ "$_i" -lt "$3" ]; do
    _hex="$_hex $(printf %02x $(((_v >> (_i * 8)) & 255)))"
    _i=$((_i + 1))
  done
  put_bytes "$1" "$2" "$_hex"
}

# get_le FILE OFFSET NBYTES prints the unsigned value (host is little-endian).
get_le() { od -An -tu"$3" -j "$2" -N "$3" "$1" | tr -d ' '; }

size_of() { wc -c <"$1" | tr -d ' '; }

# variant NAME BASE: copies BASE to $out/NAME and prints the copy's path.
variant() { cp "$2" "$out/$1"; chmod 644 "$out/$1"; echo "$out/$1"; }

# ELF64 structure lookups on a file.
phoff() { get_le "$1" 32 8; }
phnum() { get_le "$1" 56 2; }
shoff() { get_le "$1" 40 8; }
shnum() { get_le "$1" 60 2; }

# phdr_of FILE TYPE: file offset of the first program header of that type.
phdr_of() {
  _o=$(phoff "$1"); _n=$(phnum "$1"); _i=0
  while [ "$_i" -lt "$_n" ]; do
    if [ "$(get_le "$1" $((_o + _i * 56)) 4)" = "$(($2))" ]; then echo $((_o + _i * 56)); return; fi
    _i=$((_i + 1))
  done
}

# shdr_of FILE TYPE: file offset of the first section header of that type.
shdr_of() {
  _o=$(shoff "$1"); _n=$(shnum "$1"); _i=0
  while [ "$_i" -lt "$_n" ]; do
    if [ "$(get_le "$1" $((_o + _i * 64 + 4)) 4)" = "$(($2))" ]; then echo $((_o + _i * 64)); return; fi
    _i=$((_i + 1))
  done
}

# dyn_of FILE TAG: file offset of d_val of the first dynamic entry with TAG.
dyn_of() {
  _p=$(phdr_of "$1" 2)
  [ -n "$_p" ] || return 0
  _o=$(get_le "$1" $((_p + 8)) 8); _n=$(($(get_le "$1" $((_p + 32)) 8) / 16)); _i=0
  while [ "$_i" -lt "$_n" ]; do
    if [ "$(get_le "$1" $((_o + _i * 16)) 8)" = "$(($2))" ]; then echo $((_o + _i * 16 + 8)); return; fi
    _i=$((_i + 1))
  done
}

# vaddr_to_off FILE VADDR through the PT_LOAD segments.
vaddr_to_off() {
  _o=$(phoff "$1"); _n=$(phnum "$1"); _i=0
  while [ "$_i" -lt "$_n" ]; do
    _b=$((_o + _i * 56))
    if [ "$(get_le "$1" "$_b" 4)" = 1 ]; then
      _off=$(get_le "$1" $((_b + 8)) 8); _va=$(get_le "$1" $((_b + 16)) 8); _fs=$(get_le "$1" $((_b + 32)) 8)
      if [ "$2" -ge "$_va" ] && [ "$2" -lt $((_va + _fs)) ]; then echo $(($2 - _va + _off)); return; fi
    fi
    _i=$((_i + 1))
  done
}

# patch_dyn NAME BASE TAG VALUE: a variant whose dynamic entry TAG holds VALUE.
patch_dyn() {
  _at=$(dyn_of "$2" "$3")
  [ -n "$_at" ] || return 0
  put_le "$(variant "$1" "$2")" "$_at" 8 "$4"
}

# patch_dyn_target NAME BASE TAG DELTA NBYTES VALUE: writes VALUE into the
# structure that dynamic entry TAG points to, DELTA bytes into it.
patch_dyn_target() {
  _at=$(dyn_of "$2" "$3")
  [ -n "$_at" ] || return 0
  _t=$(vaddr_to_off "$2" "$(get_le "$2" "$_at" 8)")
  [ -n "$_t" ] || return 0
  put_le "$(variant "$1" "$2")" $((_t + $4)) "$5" "$6"
}

# --- well-formed inputs ---

cp /bin/true "$out/good-true"
for lib in /lib/x86_64-linux-gnu/libdl.so.2 /usr/lib/x86_64-linux-gnu/libdl.so.2 /lib64/libdl.so.2; do
  if [ -f "$lib" ]; then cp "$lib" "$out/good-libdl.so"; break; fi
done
if command -v cc >/dev/null 2>&1; then
  printf 'void _start(void) { for (;;) ; }\n' >"$work/s.c"
  cc -static -nostdlib -o "$out/good-static" "$work/s.c" 2>/dev/null || true
  # --emit-relocs keeps 50000 section relocations in a static executable:
  # LIEF 0.9 parses those quadratically, so decant must hide them from it.
  { printf 'void _start(void) { for (;;) ; }\nvoid *table[] = {\n'
    awk 'BEGIN { for (i = 0; i < 5000; i++) print "_start,_start,_start,_start,_start,_start,_start,_start,_start,_start," }'
    printf '};\n'; } >"$work/r.c"
  cc -static -nostdlib -Wl,--emit-relocs -o "$out/good-static-emit-relocs" "$work/r.c" 2>/dev/null || true
  printf 'int f(void) { return 1; }\n' >"$work/l.c"
  cc -shared -fPIC -Wl,-soname,libseed.so.1 -o "$out/good-libseed.so" "$work/l.c" 2>/dev/null || true
fi
if command -v as >/dev/null 2>&1 && command -v ld >/dev/null 2>&1; then
  printf '.globl _start\n_start: jmp _start\n' >"$work/s32.s"
  if as --32 -o "$work/s32.o" "$work/s32.s" 2>/dev/null; then
    ld -m elf_i386 -o "$out/good-static32" "$work/s32.o" 2>/dev/null || true
    ld -m elf_i386 -shared -o "$out/good-lib32.so" "$work/s32.o" 2>/dev/null || true
  fi
fi
chmod 644 "$out"/good-*

# --- malformed: not ELF at all ---

printf 'hello, I am a text file\n' >"$out/bad-text"
: >"$out/bad-empty"
printf '\177ELF' >"$out/bad-magic-only"
printf '#!/bin/sh\necho hi\n' >"$out/bad-script"

# --- malformed variants of a 64-bit dynamic PIE ---

base="$out/good-true"
size=$(size_of "$base")
for n in 10 40 63 64 100 1000 $((size / 2)) $((size - 1)); do
  head -c "$n" "$base" >"$out/bad-trunc-$n"
done

put_bytes "$(variant bad-class "$base")" 4 "03"
put_bytes "$(variant bad-data "$base")" 5 "00"
put_bytes "$(variant bad-bigendian "$base")" 5 "02"
put_bytes "$(variant bad-version "$base")" 6 "00"
put_le "$(variant bad-type-rel "$base")" 16 2 1
put_le "$(variant bad-type-core "$base")" 16 2 4

put_le "$(variant bad-phoff-huge "$base")" 32 8 0x7fffffffffffff00
put_le "$(variant bad-phoff-past-end "$base")" 32 8 $((size - 8))
put_le "$(variant bad-phoff-wrap "$base")" 32 8 0x7fffffffffffffff
put_bytes "$(variant bad-phoff-allones "$base")" 32 "ff ff ff ff ff ff ff ff"
put_le "$(variant bad-phnum-huge "$base")" 56 2 0xffff
put_le "$(variant bad-phnum-zero "$base")" 56 2 0
put_le "$(variant bad-phentsize-1 "$base")" 54 2 1
put_le "$(variant bad-phentsize-0 "$base")" 54 2 0
put_le "$(variant bad-phentsize-big "$base")" 54 2 0xffff
put_le "$(variant bad-shoff-huge "$base")" 40 8 0x7fffffffffffff00
put_le "$(variant bad-shoff-past-end "$base")" 40 8 $((size - 8))
put_bytes "$(variant bad-shoff-allones "$base")" 40 "ff ff ff ff ff ff ff ff"
put_le "$(variant bad-shnum-huge "$base")" 60 2 0xffff
put_le "$(variant bad-shentsize-1 "$base")" 58 2 1
put_le "$(variant bad-shentsize-0 "$base")" 58 2 0
put_le "$(variant bad-shstrndx-past "$base")" 62 2 $(($(shnum "$base") + 5))
put_le "$(variant bad-shstrndx-xindex "$base")" 62 2 0xffff

# A program header table over the kernel's 64 KiB limit (found by fuzzing:
# LIEF's work grows with segments x sections).
v=$(variant bad-phnum-over-64k "$base")
head -c 80000 /dev/zero >>"$v"
put_le "$v" 56 2 1200

# Program headers pointing outside the file.
dynph=$(phdr_of "$base" 2)
if [ -n "$dynph" ]; then
  put_le "$(variant bad-dynamic-offset-beyond "$base")" $((dynph + 8)) 8 0x7fffffff00
  put_le "$(variant bad-dynamic-filesz-beyond "$base")" $((dynph + 32)) 8 0x7fffffff00
  put_le "$(variant bad-dynamic-filesz-odd "$base")" $((dynph + 32)) 8 7
fi
interp=$(phdr_of "$base" 3)
if [ -n "$interp" ]; then
  put_le "$(variant bad-interp-offset-beyond "$base")" $((interp + 8)) 8 $((size + 100))
  put_le "$(variant bad-interp-unterminated "$base")" $((interp + 32)) 8 3
fi
load=$(phdr_of "$base" 1)
[ -n "$load" ] && put_le "$(variant bad-load-filesz-beyond "$base")" $((load + 32)) 8 $((size * 4))
note=$(phdr_of "$base" 4)
[ -n "$note" ] && put_le "$(variant bad-note-offset-beyond "$base")" $((note + 8)) 8 $((size * 4))

# Found by fuzzing: LIEF 0.9 grows its buffer to cover every segment, so a
# segment of any type far past the end cost gigabytes and seconds.
ehf=$(phdr_of "$base" 0x6474e550)
if [ -n "$ehf" ]; then
  v=$(variant bad-eh-frame-segment-beyond "$base")
  put_le "$v" $((ehf + 8)) 8 0x10000000
  put_le "$v" $((ehf + 32)) 8 0x20000
fi

# Section headers pointing outside the file.
so=$(shoff "$base")
put_le "$(variant bad-section-offset-beyond "$base")" $((so + 64 + 24)) 8 $((size * 4))
put_le "$(variant bad-section-size-huge "$base")" $((so + 64 + 32)) 8 0x7fffffffffff
put_le "$(variant bad-section-link "$base")" $((so + 64 + 40)) 4 0xffff
v=$(variant bad-null-section-beyond "$base")
put_le "$v" $((so + 24)) 8 0x10000000
put_le "$v" $((so + 32)) 8 0x20000
dynsym=$(shdr_of "$base" 11)
if [ -n "$dynsym" ]; then
  put_le "$(variant bad-dynsym-entsize-0 "$base")" $((dynsym + 56)) 8 0
  put_le "$(variant bad-dynsym-entsize-huge "$base")" $((dynsym + 56)) 8 0x100000
fi

# Dynamic entries whose addresses or sizes point outside the image: ld.so
# would fault on these, so decant must refuse them rather than let LIEF read.
patch_dyn bad-dt-strtab-unmapped "$base" 5 0x7fffffff0000
patch_dyn bad-dt-strsz-huge "$base" 10 0x7fffffff0000
patch_dyn bad-dt-symtab-unmapped "$base" 6 0x7fffffff0000
patch_dyn bad-dt-needed-name-beyond "$base" 1 0x7fffffff
patch_dyn bad-dt-gnu-hash-unmapped "$base" 0x6ffffef5 0x7fffffff0000
patch_dyn bad-dt-verneed-unmapped "$base" 0x6ffffffe 0x7fffffff0000
patch_dyn bad-dt-verneednum-huge "$base" 0x6fffffff 0x7fffffff
patch_dyn bad-dt-versym-unmapped "$base" 0x6ffffff0 0x7fffffff0000
patch_dyn bad-dt-rela-unmapped "$base" 7 0x7fffffff0000
patch_dyn bad-dt-relasz-huge "$base" 8 0x7fffffff0000
patch_dyn bad-dt-jmprel-unmapped "$base" 0x17 0x7fffffff0000
patch_dyn bad-dt-pltrelsz-huge "$base" 2 0x7fffffff0000
patch_dyn bad-dt-init-array-unmapped "$base" 0x19 0x7fffffff0000
patch_dyn bad-dt-init-arraysz-huge "$base" 0x1b 0x7fffffff0000
patch_dyn bad-dt-fini-arraysz-huge "$base" 0x1c 0x7fffffff0000

# Structures inside the image with corrupt counts or links.
patch_dyn_target bad-gnu-hash-nbuckets-huge "$base" 0x6ffffef5 0 4 0x7fffffff
patch_dyn_target odd-gnu-hash-symndx-huge "$base" 0x6ffffef5 4 4 0x7fffffff
patch_dyn_target bad-gnu-hash-maskwords-huge "$base" 0x6ffffef5 8 4 0x7fffffff
patch_dyn_target odd-verneed-cnt-huge "$base" 0x6ffffffe 2 2 0xffff
patch_dyn_target bad-verneed-file-beyond "$base" 0x6ffffffe 4 4 0x7fffffff
patch_dyn_target bad-verneed-aux-beyond "$base" 0x6ffffffe 8 4 0x7fffffff
patch_dyn_target bad-verneed-next-beyond "$base" 0x6ffffffe 12 4 0x7fffffff
patch_dyn_target bad-vernaux-name-beyond "$base" 0x6ffffffe 24 4 0x7fffffff
patch_dyn_target bad-vernaux-next-beyond "$base" 0x6ffffffe 28 4 0x7fffffff
patch_dyn_target odd-dynsym-name-beyond "$base" 6 24 4 0x7fffffff
nph=$(phdr_of "$base" 4)
if [ -n "$nph" ]; then
  noff=$(get_le "$base" $((nph + 8)) 8)
  put_le "$(variant bad-note-namesz-huge "$base")" "$noff" 4 0x7fffffff
  put_le "$(variant bad-note-descsz-huge "$base")" $((noff + 4)) 4 0x7fffffff
fi

# Version definitions of a shared library.
if [ -f "$out/good-libdl.so" ]; then
  lib="$out/good-libdl.so"
  patch_dyn bad-dt-verdef-unmapped "$lib" 0x6ffffffc 0x7fffffff0000
  patch_dyn bad-dt-verdefnum-huge "$lib" 0x6ffffffd 0x7fffffff
  patch_dyn_target odd-verdef-cnt-huge "$lib" 0x6ffffffc 6 2 0xffff
  patch_dyn_target bad-verdef-aux-beyond "$lib" 0x6ffffffc 12 4 0x7fffffff
  patch_dyn_target bad-verdef-next-beyond "$lib" 0x6ffffffc 16 4 0x7fffffff
  patch_dyn_target bad-verdaux-name-beyond "$lib" 0x6ffffffc 20 4 0x7fffffff
fi

# --- malformed variants of a 32-bit static executable ---

if [ -f "$out/good-static32" ]; then
  b32="$out/good-static32"
  head -c 40 "$b32" >"$out/bad-trunc32-40"
  head -c $(($(size_of "$b32") / 2)) "$b32" >"$out/bad-trunc32-half"
  put_le "$(variant bad-phoff32-huge "$b32")" 28 4 0xfffffff0
  put_le "$(variant bad-phnum32-huge "$b32")" 44 2 0xffff
  put_le "$(variant bad-shoff32-huge "$b32")" 32 4 0xfffffff0
  put_le "$(variant bad-shentsize32 "$b32")" 46 2 64
fi
