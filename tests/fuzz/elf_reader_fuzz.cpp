// libFuzzer target for the ELF reader: feeds arbitrary bytes to
// read_elf_bytes(), whose contract is that malformed input yields an Error and
// never a crash, a hang or an absurd allocation, and compares it with the
// reference reader (the same validation, LIEF's full parse extracting): what
// one accepts the other must too, with the same facts. LIEF itself is the
// distro build (uninstrumented), so a bad read inside it shows up only when
// it faults.
#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <cstdlib>
#include <vector>

#include "elf/elf_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> bytes(data, data + size);
  auto info = decant::read_elf_bytes(bytes, "fuzz-input");
  auto ref = decant::read_elf_bytes_lief(bytes, "fuzz-input");
  // LIEF may still refuse what validation passed (its own exceptions): only
  // facts both produce are compared. LIEF 0.9 reads dynamic entries past
  // DT_NULL, where ld.so and the header reader stop, so decant's DT_NEEDED
  // list must be a prefix of LIEF's. Notes are not compared: LIEF reads
  // SHT_NOTE sections when a file has sections, the header reader PT_NOTE
  // segments as ld.so does; and LIEF reported no interpreter for a crafted
  // file whose section headers were zeroed, where the header reader takes
  // PT_INTERP as the kernel does. Real files
  // agree (elf_file_test.cpp compares every fact on the host's and the
  // guest's files), crafted ones need not.
  // LIEF finds the dynamic table through the section headers, ld.so and the
  // header reader through PT_DYNAMIC: a crafted file whose sections do not
  // lead there gives LIEF no DT_NEEDED at all, which is no disagreement.
  // The comparison is for long local runs (docs/fuzzing.md): on crafted
  // files the two readers legitimately differ wherever the section headers
  // and the segments disagree (LIEF reads .dynamic and .dynstr through the
  // sections, ld.so through PT_DYNAMIC and DT_STRTAB), so the CI smoke checks
  // only that neither crashes, hangs or over-allocates.
  static const bool differential = std::getenv("DECANT_FUZZ_DIFFERENTIAL") != nullptr;
  if (differential && info && ref && !ref->needed.empty() &&
      (info->needed.size() > ref->needed.size() ||
       !std::equal(info->needed.begin(), info->needed.end(), ref->needed.begin())))
    std::abort();
  return 0;
}
