#!/bin/sh
# The README's first command: installs dependencies, builds decant, converts
# a bundled example VM root with `decant convert` (its boot service found
# from a systemd unit, analyzed, packaged), runs the converted service under
# crun and has a client request answered, printing each command
# (scripts/demo-convert.sh; scripts/demo-package.sh shows the same steps one
# command at a time, with redirects).
set -eu
cd "$(dirname "$0")/.."
./scripts/build.sh >/dev/null
exec ./scripts/demo-convert.sh build
