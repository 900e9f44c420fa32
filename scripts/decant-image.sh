#!/bin/sh
# Builds decant's own container image with decant itself (dogfooding
# `decant analyze` + `decant package` on build/decant): the image holds
# /usr/local/bin/decant, the shim beside it and decant's library closure
# from this host, and its digest is reproducible (SOURCE_DATE_EPOCH, default
# the last commit's time). Usage: scripts/decant-image.sh [BUILD_DIR [OUT]]
# (default build/ and BUILD_DIR/decant-image.oci.tar); prints the digest.
# Needs root: the build tree's files are shown at /usr/local/bin in a
# private mount namespace, so the profile names the paths the image uses.
set -eu

SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$SRC/build}" && pwd)
OUT=${2:-$BUILD/decant-image.oci.tar}
TAG=${DECANT_IMAGE_TAG:-decant:latest}
[ -x "$BUILD/decant" ] && [ -f "$BUILD/libdecant-shim.so" ] || {
    echo "decant-image: build decant and the shim first (ninja -C $BUILD decant decant_shim)" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "decant-image: needs root (a private mount namespace); rerun with sudo" >&2; exit 77; }
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
    SOURCE_DATE_EPOCH=$(git -C "$SRC" log -1 --format=%ct 2>/dev/null || echo 0)
fi
export SOURCE_DATE_EPOCH

WORK=$(mktemp -d "${TMPDIR:-/tmp}/decant-image.XXXXXX")
trap 'rm -rf "$WORK"' EXIT INT TERM
mkdir "$WORK/bin"
# Without debug sections: a tenth of the size, and the same code analyzed.
strip --strip-debug -o "$WORK/bin/decant" "$BUILD/decant"
cp "$BUILD/libdecant-shim.so" "$WORK/bin/"
[ ! -x "$BUILD/decant-init" ] || cp "$BUILD/decant-init" "$WORK/bin/"

# Inside the namespace: the copies appear at /usr/local/bin (the host's own
# /usr/local/bin is hidden there only), decant analyzes itself on the host
# root, the profile keeps the closure and the files decant needs at run
# time (the shim, the init) and drops what its code merely names (host
# configuration it reads only inside guests), then decant packages it.
unshare -m --propagation private sh -eu -c '
    W=$1; OUT=$2; TAG=$3
    mount --bind "$W/bin" /usr/local/bin
    D=/usr/local/bin/decant
    "$D" analyze --root / --format json -o "$W/analyzed.json" "$D" 2>"$W/analyze.log" ||
        { cat "$W/analyze.log" >&2; exit 1; }
    keep=$(cd /usr/local/bin && for f in *; do [ "$f" = decant ] || printf "%s\n" "/usr/local/bin/$f"; done |
        jq -R . | jq -s .)
    jq --argjson keep "$keep" "
        .files = [\$keep[] | {path: ., access: \"read\", optional: false, evidence: [\"decant-image.sh: needed at run time\"]}]
        | .metadata.name = \"decant\"
        | .entrypoint = [\"/usr/local/bin/decant\"] | .user = \"root\" | .workdir = \"/\"
    " "$W/analyzed.json" >"$W/profile.json"
    "$D" package --root / --no-shim --tag "$TAG" --force -q -o "$OUT" "$W/profile.json" >"$W/package.out"
' decant-image "$WORK" "$OUT" "$TAG"
awk '{ print $1 }' "$WORK/package.out"
