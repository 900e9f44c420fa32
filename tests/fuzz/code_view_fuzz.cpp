// libFuzzer target for code analysis' own ELF64 reader and the object
// summary built on it: feeds arbitrary bytes to parse_code_view() and, when
// they parse, to summarize_object() (disassembly, function recovery, data
// items, syscall numbers, literals). Contract: malformed input yields an
// error or an empty summary, never a crash, a hang or an absurd allocation.
// Capstone is the distro build (uninstrumented).
#include <cstddef>
#include <cstdint>
#include <string>

#include "elf/code_view.h"
#include "analyzer/code/summarize.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto view = decant::parse_code_view(std::string(reinterpret_cast<const char*>(data), size), "fuzz-input");
  if (view) {
    decant::ObjectSummary s = decant::summarize_object(*view);
    (void)s;
  }
  return 0;
}
