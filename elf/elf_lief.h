// Bridge to LIEF for the ELF reader (see elf_lief.cpp).
#pragma once

#include <string>
#include <vector>

#include "elf/elf_file.h"

namespace decant {

// Requires: bytes passed the header-table validation of elf_file.cpp.
Result<ElfInfo> extract_with_lief(const std::vector<uint8_t>& bytes, const ElfIdent& ident, const std::string& name);

}  // namespace decant
