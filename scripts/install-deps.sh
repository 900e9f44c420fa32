#!/bin/sh
# Installs every Debian package decant needs to build, test and run its
# end-to-end checks. Idempotent: prints nothing and touches nothing when all
# packages are already installed.
set -eu

PACKAGES="build-essential cmake ninja-build pkg-config git ca-certificates
liblief-dev libcapstone-dev libseccomp-dev libarchive-dev libyaml-cpp-dev
nlohmann-json3-dev libcli11-dev libfmt-dev libssl-dev libzstd-dev
libgtest-dev libgmock-dev libbenchmark-dev
clang libclang-rt-14-dev
debootstrap strace fakechroot file binutils curl jq python3 zstd
crun runc podman skopeo umoci lxc iproute2 netcat-openbsd
catatonit podman-compose util-linux openssh-client systemd
reprozip
libext2fs-dev libblkid-dev qemu-utils e2fsprogs fdisk xz-utils bzip2 cpio zip
chromium python3-jsonschema python3-yaml
busybox-static proot apache2-utils webhook
redis-tools wrk libmemcached-tools
ansible-core python3-kubernetes"

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    SUDO=sudo
else
    SUDO=
fi
echo "install-deps: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
