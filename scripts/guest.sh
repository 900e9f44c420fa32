#!/bin/sh
# Builds (once) and prints the path of a cached Debian guest filesystem used by
# the end-to-end tests: a minbase debootstrap of SUITE with a few real server
# packages. The cache key is the suite plus the package list, so changing the
# list builds a fresh guest instead of silently reusing a stale one.
#
# usage: scripts/guest.sh [SUITE]        (default: bullseye)
# env:   DECANT_CACHE (default ~/.cache/decant), DECANT_MIRROR
set -eu

SUITE="${1:-bullseye}"
case "$SUITE" in
    *[!a-z]*|"") echo "usage: scripts/guest.sh [SUITE]   (a Debian suite name such as bullseye)" >&2; exit 2 ;;
esac
PACKAGES="redis-server,redis-tools,memcached,vsftpd,lighttpd,curl,libcap2-bin"
MIRROR="${DECANT_MIRROR:-http://deb.debian.org/debian}"
CACHE="${DECANT_CACHE:-$HOME/.cache/decant}"
KEY=$(printf '%s|%s' "$SUITE" "$PACKAGES" | sha256sum | cut -c1-12)
DEST="$CACHE/guests/$SUITE-$KEY"

if [ -f "$DEST/.decant-guest-complete" ]; then
    echo "$DEST"
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "guest.sh: building a debootstrap guest needs root" >&2
    exit 77
fi
command -v debootstrap >/dev/null || { echo "guest.sh: debootstrap not installed (run scripts/install-deps.sh)" >&2; exit 1; }

mkdir -p "$CACHE/guests"
# Serialize concurrent test processes: only one builds, the others wait.
exec 9>"$CACHE/guests/.lock-$SUITE-$KEY"
flock 9
if [ -f "$DEST/.decant-guest-complete" ]; then
    echo "$DEST"
    exit 0
fi
TMP="$DEST.tmp.$$"
rm -rf "$TMP"
echo "guest.sh: debootstrapping $SUITE into $DEST (one time, about a minute)" >&2
if ! debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$TMP" "$MIRROR" >"$TMP.log" 2>&1; then
    echo "guest.sh: debootstrap failed, last lines of $TMP.log:" >&2
    tail -5 "$TMP.log" >&2
    rm -rf "$TMP"
    exit 1
fi
rm -f "$TMP.log"
# Package caches are large and useless to the tests.
rm -rf "$TMP/var/cache/apt/archives/"*.deb
touch "$TMP/.decant-guest-complete"
rm -rf "$DEST"
mv "$TMP" "$DEST"
echo "$DEST"
