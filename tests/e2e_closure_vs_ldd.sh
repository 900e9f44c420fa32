#!/bin/sh
# Correctness bar for the library closure: for every ELF executable under
# /usr/bin and /usr/sbin of a Debian bullseye guest (LDD_TARGET=guest) or of
# this host (LDD_TARGET=host), the set of library realpaths decant resolves
# must equal what the guest's own `ldd` resolves, and the missing sets must
# agree. Prints every mismatch and a summary. ANALYZE_FLAGS adds options to
# decant analyze (the host run uses --no-code: the closure is what is tested
# there, and the host has twice as many binaries).
set -eu
. "$DECANT_SOURCE/tests/lib.sh"
require_tool jq

TARGET="${LDD_TARGET:-guest}"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

if [ "$TARGET" = guest ]; then
    require_root "chroot into the guest"
    ROOT=$(bullseye_guest)
    run_in_root() { chroot "$ROOT" "$@"; }
else
    ROOT=/
    run_in_root() { "$@"; }
fi

# Every regular ELF file (not symlinks: they name a file already listed).
for dir in /usr/bin /usr/sbin; do
    for f in "$ROOT$dir"/* ; do
        [ -f "$f" ] && [ ! -L "$f" ] || continue
        magic=$(head -c 4 "$f" 2>/dev/null | od -An -c | tr -d ' ')
        [ "$magic" = '177ELF' ] || continue
        echo "$dir/${f##*/}"
    done
done > "$WORK/binaries"
total=$(wc -l < "$WORK/binaries")
[ "$total" -gt 0 ] || fail "no ELF executables found under $ROOT/usr/bin"

# ldd inside the root, realpaths resolved inside the root: "@@ BIN", then
# "L realpath" or "M soname" lines.
run_in_root sh -c '
while read -r bin; do
    echo "@@ $bin"
    ldd "$bin" 2>/dev/null | while read -r a b c rest; do
        case "$b" in
            "=>")
                if [ "$c" = "not" ]; then echo "M $a";
                elif [ -n "$c" ] && [ "${c#/}" != "$c" ]; then echo "L $(readlink -f "$c")"; fi ;;
            *)
                case "$a" in /*) echo "L $(readlink -f "$a")" ;; esac ;;
        esac
    done
done' < "$WORK/binaries" > "$WORK/ldd.out"

mismatches=0
checked=0
while read -r bin; do
    checked=$((checked + 1))
    awk -v b="$bin" '$1=="@@"{cur=($2==b)} cur && $1!="@@"' "$WORK/ldd.out" | sort -u > "$WORK/expected"
    # shellcheck disable=SC2086
    if ! "$DECANT" analyze ${ANALYZE_FLAGS:-} --root "$ROOT" --format json "$bin" > "$WORK/profile.json" 2> "$WORK/err"; then
        echo "MISMATCH $bin: decant failed: $(cat "$WORK/err")"
        mismatches=$((mismatches + 1))
        continue
    fi
    # Libraries added because code dlopen()s them are not ld.so's business.
    jq -r '(.libraries[] | select(.found_via != "dlopen" and .found_via != "config") | "L " + .path), (.missing_libraries[].soname | "M " + .)' \
        "$WORK/profile.json" \
        | sort -u > "$WORK/actual"
    if ! cmp -s "$WORK/expected" "$WORK/actual"; then
        mismatches=$((mismatches + 1))
        echo "MISMATCH $bin:"
        diff "$WORK/expected" "$WORK/actual" | sed -n 's/^</  ldd only:   /p; s/^>/  decant only:/p'
    fi
done < "$WORK/binaries"

echo "closure vs ldd ($TARGET, root $ROOT): $checked binaries checked, $mismatches mismatches"
[ "$mismatches" -eq 0 ] || fail "$mismatches binaries resolve differently from ldd"
