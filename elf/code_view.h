// The code view of an ELF file: what machine-code analysis needs and the
// structural reader (ElfInfo) deliberately leaves out so that resolving a
// closure stays cheap — executable ranges, symbols with their versions,
// dynamic relocations, GOT slots and pointers from data into code. Read on
// demand, one object at a time, straight from the file bytes with every
// offset bounds-checked (malformed input is an error, never a crash); the
// header and tables come from the shared view of elf_view.h.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/error.h"

namespace decant {

struct CodeSection {
  std::string name;
  uint64_t addr = 0, size = 0;
  uint32_t type = 0;
  uint64_t flags = 0;
  bool executable() const;
};

struct CodeSegment {
  uint64_t vaddr = 0, offset = 0, filesz = 0, memsz = 0;
  uint32_t flags = 0;  // PF_R | PF_W | PF_X
};

struct CodeSymbol {
  std::string name;
  std::string version;          // "GLIBC_2.2.5"; empty when unversioned
  bool default_version = true;  // false for "name@VERSION" (hidden) definitions
  uint64_t value = 0, size = 0;
  uint8_t type = 0;  // STT_FUNC, STT_GNU_IFUNC, STT_OBJECT, ...
  uint8_t bind = 0;  // STB_GLOBAL, STB_WEAK, STB_LOCAL
  bool defined = false;
  bool dynamic = false;  // from .dynsym (exported or imported), else .symtab
};

struct CodeReloc {
  uint64_t offset = 0;  // address patched
  uint32_t type = 0;    // R_X86_64_*
  int64_t addend = 0;
  std::string symbol;   // empty for RELATIVE/IRELATIVE
  std::string version;  // version the importer asks for
  bool symbol_defined = false;
  uint64_t symbol_value = 0;
};

// A code address range with the bytes behind it.
struct CodeRange {
  std::string name;  // section name, or "LOAD#n" for section-less files
  uint64_t addr = 0, size = 0;
};

struct CodeView {
  uint16_t type = 0;  // ET_EXEC | ET_DYN
  uint64_t entry = 0;
  std::shared_ptr<const std::string> bytes;  // the whole file (shared with ElfInfo::bytes)
  std::vector<CodeSection> sections;
  std::vector<CodeSegment> loads;
  std::vector<CodeRange> code;       // executable sections (or PF_X segments)
  std::vector<CodeSymbol> symbols;   // .dynsym then .symtab
  std::vector<CodeReloc> relocs;     // every SHT_RELA section
  std::vector<uint64_t> init_fini;   // DT_INIT, DT_FINI, DT_*_ARRAY entries

  bool is_code(uint64_t addr) const;
  // Bytes backing [vaddr, vaddr+len) in the file, or nullptr if any part is
  // not file-backed.
  const uint8_t* at(uint64_t vaddr, uint64_t len) const;
  // Reads a little-endian 64-bit value at vaddr; false if not file-backed.
  bool read_u64(uint64_t vaddr, uint64_t& out) const;
  // The NUL-terminated string at vaddr (empty if none or not file-backed).
  std::string c_string(uint64_t vaddr, size_t max_len = 4096) const;
  // Read-only, non-executable, allocated sections: where literals live.
  std::vector<const CodeSection*> rodata() const;
  const CodeSection* section_at(uint64_t vaddr) const;
};

// Builds the code view of a file's bytes (normally ElfInfo::bytes, so the
// file is read once). Only little-endian ELF64 x86-64 objects are analyzed;
// other machines are an error the caller reports as "not analyzed".
Result<CodeView> parse_code_view(std::shared_ptr<const std::string> bytes, const std::string& display_name);
Result<CodeView> parse_code_view(std::string bytes, const std::string& display_name);
// Reads the file first; errors name display_name, never host_path.
Result<CodeView> read_code_view(const std::string& host_path, const std::string& display_name);

}  // namespace decant
