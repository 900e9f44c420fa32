#!/bin/sh
# The README's second command: installs dependencies, builds, and runs the
# whole test suite (unit and end-to-end) with CTest. CI runs exactly this,
# with DECANT_MUST_WORK=1 so that tests that would skip fail instead.
set -eu
cd "$(dirname "$0")/.."
./scripts/build.sh
# The bullseye guest is built once and cached (~/.cache/decant); building it
# up front keeps the first test that needs it from looking slow.
if [ "$(id -u)" -eq 0 ]; then ./scripts/guest.sh bullseye >/dev/null || true; fi
cd build
ctest --output-on-failure --timeout 1200 -j "${DECANT_TEST_JOBS:-2}" "$@"
