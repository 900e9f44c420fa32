#!/bin/sh
# The README's first command: installs dependencies, builds decant and runs
# its main job on a bundled example, printing each command it runs so a
# newcomer can repeat them on their own binary.
set -eu
cd "$(dirname "$0")/.."
./scripts/build.sh >/dev/null
run() { echo "+ $*" >&2; "$@"; }
run build/decant analyze build/corpus/legacy_forkd
