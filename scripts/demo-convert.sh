#!/bin/sh
# The README's first command: builds a small example VM root (the corpus
# server legacy_forkd, its libraries, an os-release and a systemd unit that
# starts it at boot with its log directory), converts the whole VM with
# `decant convert`, runs the converted service's bundle under crun, sends
# PING with legacy_client and prints the answer and the log written to the
# service's volume. Every decant command is printed before it runs.
# usage: scripts/demo-convert.sh [BUILD_DIR]   (default: build)
set -eu
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$SRC/build}
case "$BUILD" in /*) ;; *) BUILD=$(pwd)/$BUILD ;; esac
# Tests set DEMO_PORT to keep clear of other tests; the legacy default is 7070.
PORT=${DEMO_PORT:-7070}
ARGS="-1"
[ "$PORT" = 7070 ] || ARGS="-1 -p $PORT"
DEMO=demo-convert
. "$SRC/scripts/demo-lib.sh"

demo_prepare
WORK=$(mktemp -d /tmp/decant-demo.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

# The example VM: what a legacy box looks like to decant.
VM=$WORK/vm
mkdir -p "$VM/usr/sbin" "$VM/etc/legacy" "$VM/var/log/legacy" "$VM/lib/systemd/system" "$VM/etc/systemd/system/multi-user.target.wants"
cp "$BUILD/corpus/legacy_forkd" "$VM/usr/sbin/legacy_forkd"
for lib in $(ldd "$BUILD/corpus/legacy_forkd" | awk '/\// { for (i = 1; i <= NF; i++) if ($i ~ /^\//) print $i }'); do
    mkdir -p "$VM$(dirname "$lib")" && cp -L "$lib" "$VM$lib"
done
cp /etc/os-release "$VM/etc/os-release"
echo "greeting from the VM's config" >"$VM/etc/legacy/forkd.conf"
cat >"$VM/lib/systemd/system/legacy-forkd.service" <<UNIT
[Unit]
Description=Legacy fork-per-connection server

[Service]
ExecStart=/usr/sbin/legacy_forkd $ARGS
LogsDirectory=legacy

[Install]
WantedBy=multi-user.target
UNIT
ln -s /lib/systemd/system/legacy-forkd.service "$VM/etc/systemd/system/multi-user.target.wants/legacy-forkd.service"
# /var/log/legacy exists as on the running VM, where systemd made it (LogsDirectory=).
echo "# example VM root in $VM: /usr/sbin/legacy_forkd started by legacy-forkd.service" >&2

run "$BUILD/decant" discover --root "$VM" -o discovered.json
run "$BUILD/decant" convert "$VM" -o out
echo "+ cat out/summary.json" >&2
cat out/summary.json
echo "+ $BUILD/decant run out/legacy-forkd/bundle &" >&2
"$BUILD/decant" run out/legacy-forkd/bundle &
server=$!
demo_ping "$PORT" "$server"
echo "+ cat out/legacy-forkd/bundle/volumes/var/log/legacy/forkd.log" >&2
cat out/legacy-forkd/bundle/volumes/var/log/legacy/forkd.log
