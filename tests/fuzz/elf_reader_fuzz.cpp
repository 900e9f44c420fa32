// libFuzzer target for the ELF reader: feeds arbitrary bytes to
// read_elf_bytes(), whose contract is that malformed input yields an Error and
// never a crash, a hang or an absurd allocation, and compares it with the
// reference reader (the same validation, LIEF's full parse extracting): what
// one accepts the other must too, with the same facts. LIEF itself is the
// distro build (uninstrumented), so a bad read inside it shows up only when
// it faults.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "elf/elf_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> bytes(data, data + size);
  auto info = decant::read_elf_bytes(bytes, "fuzz-input");
  auto ref = decant::read_elf_bytes_lief(bytes, "fuzz-input");
  // LIEF may still refuse what validation passed (its own exceptions): only
  // facts both produce are compared.
  if (info && ref && (info->needed != ref->needed || info->soname != ref->soname ||
                      info->interpreter != ref->interpreter || info->build_id != ref->build_id))
    std::abort();
  return 0;
}
