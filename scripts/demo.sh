#!/bin/sh
# The README's first command: installs dependencies, builds decant, and takes
# a bundled legacy server through analyze -> package -> run under crun -> a
# client request answered, printing each command (scripts/demo-package.sh).
set -eu
cd "$(dirname "$0")/.."
./scripts/build.sh >/dev/null
exec ./scripts/demo-package.sh build
