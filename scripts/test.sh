#!/bin/sh
# The README's second command: installs dependencies, builds, and runs the
# whole test suite (unit and end-to-end) with CTest. CI runs exactly this,
# with DECANT_MUST_WORK=1 so that tests that would skip fail instead.
# Then a second build, build-asan (-DDECANT_SANITIZE=ON: ASan+UBSan), runs
# the unit tests again: the end-to-end tests drive the same code through
# the decant binary and would double the suite's time, so they run once, in
# build/. DECANT_SKIP_ASAN=1 leaves the sanitized pass out (quick local runs).
set -eu
cd "$(dirname "$0")/.."
./scripts/build.sh
# The bullseye guest is built once and cached (~/.cache/decant); building it
# up front keeps the first test that needs it from looking slow.
if [ "$(id -u)" -eq 0 ]; then ./scripts/guest.sh bullseye >/dev/null || true; fi
(cd build && ctest --output-on-failure --timeout 1200 -j "${DECANT_TEST_JOBS:-2}" "$@")
[ "${DECANT_SKIP_ASAN:-0}" = 1 ] && exit 0
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDECANT_SANITIZE=ON >/dev/null
ninja -C build-asan
# Unit tests only: no e2e or fuzz label, none of the shim's script tests
# (the shim is never sanitized; they test it, not decant).
cd build-asan
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1} \
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
  ctest --output-on-failure --timeout 1200 -j "${DECANT_TEST_JOBS:-2}" -LE 'e2e|fuzz' \
    -E '^(shim\.(glibc_floor|integration|guest_bullseye|valgrind)|corpus\.smoke)' "$@"
