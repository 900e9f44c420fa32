// libFuzzer target for the ELF reader: feeds arbitrary bytes to
// read_elf_bytes(), whose contract is that malformed input yields an Error and
// never a crash, a hang or an absurd allocation. Coverage comes from our
// validator and LIEF bridge; LIEF itself is the distro build (uninstrumented),
// so a bad read inside it shows up only when it faults.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "elf/elf_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> bytes(data, data + size);
  auto info = decant::read_elf_bytes(bytes, "fuzz-input");
  (void)info;
  return 0;
}
