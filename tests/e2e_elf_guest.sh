#!/bin/sh
# The header reader against the LIEF reference on every ELF file of the
# bullseye guest (elf/elf_file_test.cpp, HeaderReaderMatchesLiefOnGuestFiles):
# the unit test needs a guest path, which only the cached guest gives.
set -eu
. "$DECANT_SOURCE/tests/lib.sh"
: "${ELF_TEST:?ELF_TEST must point at the elf_test binary}"
G=$(bullseye_guest)
OUT=$(DECANT_GUEST="$G" "$ELF_TEST" --gtest_filter='ElfReader.HeaderReaderMatchesLiefOnGuestFiles' 2>&1) ||
    { printf '%s\n' "$OUT" | tail -30; fail "the header reader and LIEF disagree on guest files"; }
printf '%s\n' "$OUT" | tail -3
# A filter that matched nothing would pass without comparing a file.
printf '%s\n' "$OUT" | grep -q '^\[  PASSED  \] 1 test' || fail "the guest comparison did not run"
