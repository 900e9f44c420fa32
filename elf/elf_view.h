// Bounds-checked access to an ELF file's bytes, shared by the two readers in
// elf/: the validation in front of LIEF (elf_file.cpp) and the code view
// (code_view.cpp), for what LIEF 0.9 cannot give. The identification, the
// file header and its program and section header tables are read here, in
// one place; every read checks its range against the file size.
// Not included by elf_file.h: LIEF's headers undefine <elf.h>'s macros.
#pragma once

#include <elf.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "common/error.h"
#include "elf/elf_file.h"

namespace decant {

class ByteView {
 public:
  ByteView(const uint8_t* data, uint64_t size) : data_(data), size_(size) {}
  const uint8_t* data() const { return data_; }
  uint64_t size() const { return size_; }
  bool contains(uint64_t off, uint64_t len) const { return off <= size_ && len <= size_ - off; }
  // Copies a T from offset off; false (out untouched) when it is not all inside.
  template <typename T>
  bool read(uint64_t off, T& out) const {
    if (!contains(off, sizeof(T))) return false;
    std::memcpy(&out, data_ + off, sizeof(T));
    return true;
  }
  // The NUL-terminated string at idx of the string table [table_off,
  // table_off+table_size), cut at the table's end; empty when outside.
  std::string str(uint64_t table_off, uint64_t table_size, uint64_t idx) const;

 private:
  const uint8_t* data_;
  uint64_t size_;
};

// e_ident and e_type/e_machine from the first bytes. Fails on anything that
// is not a well-formed ELF header (bad magic, truncated, unknown class).
Result<ElfIdent> parse_elf_ident(const uint8_t* p, size_t n, const std::string& name);

// read_file() whose error messages name display_name (the guest path)
// where they would name host_path (docs/errors.md).
Result<std::string> read_guest_file(const std::string& host_path, const std::string& display_name,
                                    uint64_t max_bytes);

// The file header and its tables, each table read (and checked) on request
// so a caller validates in the order it reports errors.
template <typename Ehdr, typename Phdr, typename Shdr>
struct ElfTables {
  Ehdr eh{};
  std::vector<Phdr> phdrs;
  std::vector<Shdr> shdrs;

  // Requires: parse_elf_ident accepted b with this class.
  void read_header(const ByteView& b) { b.read(0, eh); }
  // Entry size as the class says, and the whole table inside the file.
  Status read_program_headers(const ByteView& b, const std::string& name);
  Status read_section_headers(const ByteView& b, const std::string& name);
};
using ElfTables64 = ElfTables<Elf64_Ehdr, Elf64_Phdr, Elf64_Shdr>;
using ElfTables32 = ElfTables<Elf32_Ehdr, Elf32_Phdr, Elf32_Shdr>;

}  // namespace decant
