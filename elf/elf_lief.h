// Bridge to LIEF: the reference reader that read_elf_bytes() is tested and
// fuzzed against (see elf_lief.cpp). Linked by tests and the fuzzer only, in
// decant_elf_lief, so the decant binary neither loads nor initializes LIEF.
#pragma once

#include <string>
#include <vector>

#include "elf/elf_file.h"

namespace decant {

// Requires: bytes passed the header-table validation of elf_file.cpp.
Result<ElfInfo> extract_with_lief(const std::vector<uint8_t>& bytes, const ElfIdent& ident, const std::string& name);

// What extracts the facts once the tables are validated.
using ElfExtractor = Result<ElfInfo> (*)(const std::vector<uint8_t>& bytes, const ElfIdent& ident,
                                         const std::string& name);

// read_elf_bytes()'s validation and hash, then `extract` on the bytes LIEF
// may parse (relocation sections masked when there are too many of them).
Result<ElfInfo> read_elf_bytes_via(const std::vector<uint8_t>& bytes, const std::string& name, ElfExtractor extract);

}  // namespace decant
