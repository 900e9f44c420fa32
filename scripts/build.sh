#!/bin/sh
# Installs the dependencies (idempotent) and builds decant into build/.
# usage: scripts/build.sh [extra cmake args...]
set -eu
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
ninja -C build
