// libFuzzer target for the profile loader (profiles/profile_io.cpp): a
// profile is a file users hand-edit and pass around, read as YAML or JSON.
// Whatever parses and validates must serialize and read back to an equal
// profile in both formats (the profile is a contract: docs/profile.md), so a
// field the writer and the reader disagree on traps as well.
#include <cstddef>
#include <cstdint>
#include <string>

#include "profiles/profile.h"

using namespace decant;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto p = parse_profile(text, "fuzz");
  if (!p) return 0;
  for (ProfileFormat f : {ProfileFormat::Yaml, ProfileFormat::Json}) {
    std::string out = serialize(*p, f);
    auto back = parse_profile(out, "round trip");
    if (!back || *back != *p) __builtin_trap();
  }
  return 0;
}
