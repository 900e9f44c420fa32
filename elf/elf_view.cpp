// Implementation of the bounds-checked ELF view (see elf_view.h).
#include "elf/elf_view.h"

#include <fmt/format.h>

#include "common/file_util.h"

namespace decant {

std::string ByteView::str(uint64_t table_off, uint64_t table_size, uint64_t idx) const {
  if (idx >= table_size || !contains(table_off, table_size)) return {};
  const char* s = reinterpret_cast<const char*>(data_) + table_off + idx;
  return std::string(s, strnlen(s, table_size - idx));
}

Result<ElfIdent> parse_elf_ident(const uint8_t* p, size_t n, const std::string& name) {
  if (n == 0) return bad_input(fmt::format("{}: empty file, not an ELF binary", name));
  if (n < EI_NIDENT || std::memcmp(p, ELFMAG, SELFMAG) != 0)
    return bad_input(fmt::format("{}: not an ELF file (bad magic)", name));
  ElfIdent id;
  if (p[EI_CLASS] == ELFCLASS64) id.is64 = true;
  else if (p[EI_CLASS] == ELFCLASS32) id.is64 = false;
  else return bad_input(fmt::format("{}: corrupt ELF header (unknown class {})", name, p[EI_CLASS]));
  if (p[EI_DATA] == ELFDATA2LSB) id.little_endian = true;
  else if (p[EI_DATA] == ELFDATA2MSB) id.little_endian = false;
  else return bad_input(fmt::format("{}: corrupt ELF header (unknown data encoding)", name));
  if (p[EI_VERSION] != EV_CURRENT) return bad_input(fmt::format("{}: corrupt ELF header (bad version)", name));
  size_t need = id.is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
  if (n < need) return bad_input(fmt::format("{}: truncated ELF header ({} bytes)", name, n));
  id.osabi = p[EI_OSABI];
  if (!id.little_endian) {
    // decant targets x86 and arm64 guests; none are big-endian.
    id.type = static_cast<uint16_t>(p[16] << 8 | p[17]);
    id.machine = static_cast<uint16_t>(p[18] << 8 | p[19]);
    return id;
  }
  std::memcpy(&id.type, p + 16, 2);
  std::memcpy(&id.machine, p + 18, 2);
  return id;
}

Result<std::string> read_guest_file(const std::string& host_path, const std::string& display_name,
                                    uint64_t max_bytes) {
  auto content = read_file(host_path, max_bytes);
  if (content) return content;
  // Messages name guest paths (docs/errors.md): the host prefix is replaced.
  std::string msg = content.error().message;
  if (msg.compare(0, host_path.size(), host_path) == 0) msg = display_name + msg.substr(host_path.size());
  return bad_input(msg);
}

template <typename Ehdr, typename Phdr, typename Shdr>
Status ElfTables<Ehdr, Phdr, Shdr>::read_program_headers(const ByteView& b, const std::string& name) {
  phdrs.clear();
  if (eh.e_phnum == 0) return Status::success();
  if (eh.e_phentsize != sizeof(Phdr))
    return bad_input(fmt::format("{}: corrupt program header table (entry size {})", name, eh.e_phentsize));
  if (!b.contains(eh.e_phoff, uint64_t(eh.e_phnum) * sizeof(Phdr)))
    return bad_input(fmt::format("{}: truncated or corrupt program header table", name));
  phdrs.resize(eh.e_phnum);
  std::memcpy(phdrs.data(), b.data() + eh.e_phoff, uint64_t(eh.e_phnum) * sizeof(Phdr));
  return Status::success();
}

template <typename Ehdr, typename Phdr, typename Shdr>
Status ElfTables<Ehdr, Phdr, Shdr>::read_section_headers(const ByteView& b, const std::string& name) {
  shdrs.clear();
  if (eh.e_shnum == 0) return Status::success();
  if (eh.e_shentsize != sizeof(Shdr))
    return bad_input(fmt::format("{}: corrupt section header table (entry size {})", name, eh.e_shentsize));
  if (!b.contains(eh.e_shoff, uint64_t(eh.e_shnum) * sizeof(Shdr)))
    return bad_input(fmt::format("{}: truncated or corrupt section header table", name));
  shdrs.resize(eh.e_shnum);
  std::memcpy(shdrs.data(), b.data() + eh.e_shoff, uint64_t(eh.e_shnum) * sizeof(Shdr));
  return Status::success();
}

template struct ElfTables<Elf64_Ehdr, Elf64_Phdr, Elf64_Shdr>;
template struct ElfTables<Elf32_Ehdr, Elf32_Phdr, Elf32_Shdr>;

}  // namespace decant
