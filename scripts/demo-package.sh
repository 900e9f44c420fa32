#!/bin/sh
# The README's first command: takes the bundled corpus server legacy_forkd
# (hard-coded port 7070, log in /var/log/legacy) through analyze -> package
# -> run under crun, with its port redirected to 17070 and its log directory
# to a writable mount, then sends PING with legacy_client and prints the
# answer. Every command is printed before it runs, so the same steps work on
# your own binary. Needs root (crun) and builds decant first if needed.
# usage: scripts/demo-package.sh [BUILD_DIR]   (default: build)
set -eu
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$SRC/build}
case "$BUILD" in /*) ;; *) BUILD=$(pwd)/$BUILD ;; esac
PORT=17070
DEMO=demo-package
. "$SRC/scripts/demo-lib.sh"

demo_prepare
command -v jq >/dev/null || { echo "demo-package: needs jq (scripts/install-deps.sh)" >&2; exit 1; }
WORK=$(mktemp -d /tmp/decant-demo.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

# 1. What does the binary need? (the guest here is this machine: --root /)
run "$BUILD/decant" analyze "$BUILD/corpus/legacy_forkd" --root / --format json -o profile.json
# 2. The consultant's edits: move port 7070 to $PORT and the log onto a volume.
#    Its config file is optional: this machine has none, and forkd has defaults.
echo "+ jq '.redirects.ports=[{from:7070,to:$PORT}] | .redirects.paths=[{from:/var/log/legacy,to:/data/log}] | (/etc/legacy/forkd.conf).optional=true' profile.json" >&2
jq --argjson port "$PORT" '
  .redirects.ports = [{"from": 7070, "to": $port, "proto": "tcp"}]
  | .redirects.paths = [{"from": "/var/log/legacy", "to": "/data/log"}]
  | .files = [.files[] | if .path == "/etc/legacy/forkd.conf" then .optional = true else . end]' \
  profile.json >p && mv p profile.json
# 3. Package it as an OCI runtime bundle (read-only rootfs, seccomp, the shim).
run "$BUILD/decant" package profile.json --root / --format bundle -o forkd.bundle -q
# 4. Run it under crun, serving one connection.
echo "+ $BUILD/decant run forkd.bundle -- -1 &" >&2
"$BUILD/decant" run forkd.bundle -- -1 &
server=$!
# 5. Ask it.
demo_ping "$PORT" "$server"
echo "+ cat forkd.bundle/volumes/data/log/forkd.log" >&2
cat forkd.bundle/volumes/data/log/forkd.log
