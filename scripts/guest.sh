#!/bin/sh
# Builds (once) and prints the path of a cached Debian guest filesystem used by
# the end-to-end tests: a minbase debootstrap of SUITE that boots systemd and
# carries real servers started at boot in different ways (native units of
# several types, SysV-only scripts run through systemd's generator, one
# disabled in /etc/default, xinetd serving both xinetd.d and inetd.conf
# entries), plus the small tweaks an admin would make (TWEAK below). The cache
# key is the suite, the package lists and the tweak, so changing any of them
# builds a fresh guest instead of silently reusing a stale one.
#
# usage: scripts/guest.sh [SUITE]        (default: bullseye)
# env:   DECANT_CACHE (default ~/.cache/decant), DECANT_MIRROR
set -eu

SUITE="${1:-bullseye}"
case "$SUITE" in
    *[!a-z]*|"") echo "usage: scripts/guest.sh [SUITE]   (a Debian suite name such as bullseye)" >&2; exit 2 ;;
esac
# systemd-sysv: /sbin/init is systemd, as on a Debian VM. xinetd conflicts
# with every inetd, so it is the superserver and reads inetd.conf too
# (Debian's -inetd_compat), where tftpd registers itself.
PACKAGES="redis-server,redis-tools,memcached,vsftpd,lighttpd,curl,libcap2-bin,systemd-sysv,apache2,openssh-server,bind9,squid,rsyslog,postfix,xinetd,update-inetd,tcpd,rsync,fetchmail"
# Installed by dpkg once the rest is in: debootstrap's resolver takes the
# first alternative of tftpd's "openbsd-inetd | inet-superserver", which
# conflicts with xinetd; dpkg sees that xinetd provides inet-superserver.
LATE="tftpd"
# Run with the guest's root as $1 before the LATE packages: an inetd.conf
# for xinetd's compatibility mode (update-inetd only adds to an existing
# one), an rsync daemon served by xinetd, and the standalone rsync.service
# disabled as `systemctl disable` would.
TWEAK='set -eu
[ "${1:-/}" != / ]
printf "%s\n" "# /etc/inetd.conf: read by xinetd -inetd_compat" >"$1/etc/inetd.conf"
printf "[pub]\n    path = /srv/pub\n    read only = yes\n" >"$1/etc/rsyncd.conf"
mkdir -p "$1/srv/pub"
printf "%s\n" "# rsync daemon on demand (rsync.service is disabled)" "service rsync" "{" \
    "    disable         = no" "    socket_type     = stream" "    wait            = no" \
    "    user            = root" "    server          = /usr/bin/rsync" "    server_args     = --daemon" \
    "    log_on_failure  += USERID" "}" >"$1/etc/xinetd.d/rsync"
rm -f "$1/etc/systemd/system/multi-user.target.wants/rsync.service"'
MIRROR="${DECANT_MIRROR:-http://deb.debian.org/debian}"
CACHE="${DECANT_CACHE:-$HOME/.cache/decant}"
KEY=$(printf '%s|%s|%s|%s' "$SUITE" "$PACKAGES" "$LATE" "$TWEAK" | sha256sum | cut -c1-12)
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
echo "guest.sh: debootstrapping $SUITE into $DEST (one time, a few minutes)" >&2
# Downloaded packages are kept, so a changed list or tweak rebuilds faster.
mkdir -p "$CACHE/debs"
if ! debootstrap --variant=minbase --cache-dir="$CACHE/debs" --include="$PACKAGES" \
        "$SUITE" "$TMP" "$MIRROR" >"$TMP.log" 2>&1; then
    echo "guest.sh: debootstrap failed, last lines of $TMP.log:" >&2
    tail -5 "$TMP.log" >&2
    rm -rf "$TMP"
    exit 1
fi

# The LATE packages, from the index debootstrap left in the guest, checked
# against its SHA256, installed with no daemon started (as debootstrap does).
late_install() {
    index=$(ls "$TMP"/var/lib/apt/lists/*_dists_"${SUITE}"_main_binary-*_Packages | head -1)
    for p in $LATE; do
        # shellcheck disable=SC2046
        set -- $(awk -v p="$p" '/^Package: /{ok=($2==p)} ok&&/^Filename: /{f=$2} ok&&/^SHA256: /{h=$2}
                                 /^$/{if(ok&&f)exit} END{print f, h}' "$index")
        [ $# -eq 2 ] || { echo "guest.sh: $p is not in $index" >&2; return 1; }
        deb="$CACHE/debs/$(basename "$1")"
        if [ ! -f "$deb" ]; then
            curl -fsS -o "$deb.part" "$MIRROR/$1" && mv "$deb.part" "$deb" || return 1
        fi
        echo "$2  $deb" | sha256sum -c - >&2 || return 1
        cp "$deb" "$TMP/tmp/"
    done
    printf '#!/bin/sh\nexit 101\n' >"$TMP/usr/sbin/policy-rc.d"
    chmod 755 "$TMP/usr/sbin/policy-rc.d"
    # shellcheck disable=SC2016
    DEBIAN_FRONTEND=noninteractive chroot "$TMP" sh -c 'dpkg -i /tmp/*.deb' || return 1
    rm -f "$TMP/usr/sbin/policy-rc.d" "$TMP"/tmp/*.deb
}
if ! sh -c "$TWEAK" tweak "$TMP" >>"$TMP.log" 2>&1; then
    echo "guest.sh: the post-install tweak failed, see $TMP.log" >&2
    rm -rf "$TMP"
    exit 1
fi
if ! late_install >>"$TMP.log" 2>&1; then
    echo "guest.sh: installing $LATE failed, last lines of $TMP.log:" >&2
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
