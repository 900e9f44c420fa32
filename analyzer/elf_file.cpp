// Implementation of the ELF reader (see elf_file.h). The bounds checks here
// exist because LIEF 0.9 trusts header fields: a truncated or corrupt table
// would otherwise make it read out of bounds or allocate absurd amounts.
#include "analyzer/elf_file.h"

#include <cerrno>
#include <cstring>
#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "analyzer/elf_lief.h"
#include "common/file_util.h"

namespace decant {

namespace {

constexpr uint64_t kMaxElfSize = 2ull << 30;

template <typename T>
bool read_at(const std::vector<uint8_t>& b, uint64_t off, T& out) {
  if (off > b.size() || b.size() - off < sizeof(T)) return false;
  std::memcpy(&out, b.data() + off, sizeof(T));
  return true;
}

bool range_ok(uint64_t off, uint64_t len, uint64_t size) { return off <= size && len <= size - off; }

Result<ElfIdent> parse_ident(const uint8_t* p, size_t n, const std::string& name) {
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

// Validates the header tables against the file size: everything LIEF will
// index must lie inside the file.
template <typename Ehdr, typename Phdr, typename Shdr>
Status validate_tables(const std::vector<uint8_t>& b, const std::string& name) {
  Ehdr eh;
  read_at(b, 0, eh);
  const uint64_t size = b.size();
  if (eh.e_phnum > 0) {
    if (eh.e_phentsize != sizeof(Phdr))
      return bad_input(fmt::format("{}: corrupt program header table (entry size {})", name, eh.e_phentsize));
    if (!range_ok(eh.e_phoff, uint64_t(eh.e_phnum) * sizeof(Phdr), size))
      return bad_input(fmt::format("{}: truncated or corrupt program header table", name));
    for (unsigned i = 0; i < eh.e_phnum; ++i) {
      Phdr ph;
      read_at(b, eh.e_phoff + uint64_t(i) * sizeof(Phdr), ph);
      if (ph.p_type == PT_LOAD || ph.p_type == PT_DYNAMIC || ph.p_type == PT_INTERP || ph.p_type == PT_NOTE) {
        if (!range_ok(ph.p_offset, ph.p_filesz, size))
          return bad_input(fmt::format("{}: truncated ELF (segment {} extends past end of file)", name, i));
      }
      if (ph.p_type == PT_INTERP) {
        if (ph.p_filesz == 0 || ph.p_filesz > 4096 || b[ph.p_offset + ph.p_filesz - 1] != '\0')
          return bad_input(fmt::format("{}: corrupt PT_INTERP segment", name));
      }
      if (ph.p_type == PT_DYNAMIC && ph.p_filesz % (sizeof(Ehdr) == sizeof(Elf64_Ehdr) ? 16 : 8) != 0)
        return bad_input(fmt::format("{}: corrupt PT_DYNAMIC segment size", name));
    }
  } else if (eh.e_type == ET_EXEC || eh.e_type == ET_DYN) {
    return bad_input(fmt::format("{}: corrupt ELF (executable without program headers)", name));
  }
  if (eh.e_shnum > 0) {
    if (eh.e_shentsize != sizeof(Shdr))
      return bad_input(fmt::format("{}: corrupt section header table (entry size {})", name, eh.e_shentsize));
    if (!range_ok(eh.e_shoff, uint64_t(eh.e_shnum) * sizeof(Shdr), size))
      return bad_input(fmt::format("{}: truncated or corrupt section header table", name));
    if (eh.e_shstrndx != SHN_UNDEF && eh.e_shstrndx >= eh.e_shnum)
      return bad_input(fmt::format("{}: corrupt section header string table index", name));
    for (unsigned i = 0; i < eh.e_shnum; ++i) {
      Shdr sh;
      read_at(b, eh.e_shoff + uint64_t(i) * sizeof(Shdr), sh);
      if (sh.sh_type != SHT_NOBITS && sh.sh_type != SHT_NULL && !range_ok(sh.sh_offset, sh.sh_size, size))
        return bad_input(fmt::format("{}: truncated ELF (section {} extends past end of file)", name, i));
      if (sh.sh_link >= eh.e_shnum && sh.sh_type != SHT_NULL)
        return bad_input(fmt::format("{}: corrupt section header {} (bad link)", name, i));
      if ((sh.sh_type == SHT_SYMTAB || sh.sh_type == SHT_DYNSYM) &&
          (sh.sh_entsize == 0 || sh.sh_entsize > 64))
        return bad_input(fmt::format("{}: corrupt symbol table in section {}", name, i));
    }
  } else if (eh.e_shoff != 0 && eh.e_shstrndx != SHN_UNDEF) {
    return bad_input(fmt::format("{}: corrupt section header table (extended numbering unsupported)", name));
  }
  return Status::success();
}

}  // namespace

Result<ElfIdent> read_elf_ident(const std::string& host_path) {
  int fd = ::open(host_path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return bad_input(fmt::format("{}: cannot open: {}", host_path, std::strerror(errno)));
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return bad_input(fmt::format("{}: not a regular file", host_path));
  }
  uint8_t buf[sizeof(Elf64_Ehdr)];
  ssize_t n = ::pread(fd, buf, sizeof buf, 0);
  ::close(fd);
  if (n < 0) return bad_input(fmt::format("{}: read error: {}", host_path, std::strerror(errno)));
  return parse_ident(buf, static_cast<size_t>(n), host_path);
}

Result<ElfInfo> read_elf_bytes(const std::vector<uint8_t>& bytes, const std::string& name) {
  auto ident = parse_ident(bytes.data(), bytes.size(), name);
  if (!ident) return ident.error();
  if (!ident->little_endian)
    return bad_input(fmt::format("{}: big-endian ELF ({}) is not supported", name, machine_name(ident->machine)));
  Status valid = ident->is64 ? validate_tables<Elf64_Ehdr, Elf64_Phdr, Elf64_Shdr>(bytes, name)
                             : validate_tables<Elf32_Ehdr, Elf32_Phdr, Elf32_Shdr>(bytes, name);
  if (!valid) return valid.error();
  if (ident->type != ET_EXEC && ident->type != ET_DYN)
    return bad_input(fmt::format("{}: ELF file is not an executable or shared library (type {})", name, ident->type));
  return extract_with_lief(bytes, *ident, name);
}

Result<ElfInfo> read_elf(const std::string& host_path, const std::string& display_name) {
  auto content = read_file(host_path, kMaxElfSize);
  if (!content) {
    std::string msg = content.error().message;
    if (msg.compare(0, host_path.size(), host_path) == 0) msg = display_name + msg.substr(host_path.size());
    return bad_input(msg);
  }
  std::vector<uint8_t> bytes(content->begin(), content->end());
  return read_elf_bytes(bytes, display_name);
}

std::string machine_name(uint16_t machine) {
  switch (machine) {
    case EM_X86_64: return "x86_64";
    case EM_386: return "i386";
    case EM_AARCH64: return "aarch64";
    case EM_ARM: return "arm";
    case EM_PPC64: return "ppc64";
    case EM_PPC: return "ppc";
    case EM_S390: return "s390x";
    case EM_RISCV: return "riscv64";
    case EM_MIPS: return "mips";
    case EM_SPARCV9: return "sparc64";
    case EM_IA_64: return "ia64";
    default: return fmt::format("em-{}", machine);
  }
}

}  // namespace decant
