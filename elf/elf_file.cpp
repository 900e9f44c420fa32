// Implementation of the ELF reader (see elf_file.h). The bounds checks here
// exist because LIEF 0.9 trusts header fields: a truncated or corrupt table
// would otherwise make it read out of bounds or allocate absurd amounts.
#include "elf/elf_file.h"

#include <cerrno>
#include <cstring>
#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <type_traits>

#include <fmt/format.h>

#include "elf/elf_lief.h"
#include "common/file_util.h"

namespace decant {

namespace {

constexpr uint64_t kMaxElfSize = 2ull << 30;
constexpr uint64_t kMaxSegmentSectionPairs = 1ull << 22;
// Above this many section relocations LIEF's quadratic parse takes > ~0.1 s.
constexpr uint64_t kMaxSectionRelocations = 4096;

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

// Validates the dynamic section: every table it points to must lie in the
// file-backed part of a PT_LOAD segment, every string offset inside DT_STRSZ.
// ld.so would fault on such a binary; LIEF instead returns empty or garbage
// names, which would turn into a silently wrong profile.
// Requires: the program header table and its segments lie inside the file.
template <typename Ehdr, typename Phdr, typename Dyn>
Status validate_dynamic(const std::vector<uint8_t>& b, const Ehdr& eh, const std::string& name) {
  const uint64_t size = b.size();
  std::vector<Phdr> loads, dynamics;
  for (unsigned i = 0; i < eh.e_phnum; ++i) {
    Phdr ph;
    read_at(b, eh.e_phoff + uint64_t(i) * sizeof(Phdr), ph);
    if (ph.p_type == PT_LOAD) loads.push_back(ph);
    if (ph.p_type == PT_DYNAMIC) dynamics.push_back(ph);
  }
  // File offset of [addr, addr+len) when it is file-backed in one PT_LOAD.
  auto file_offset = [&](uint64_t addr, uint64_t len, uint64_t& off) {
    for (const Phdr& ph : loads) {
      if (addr < ph.p_vaddr) continue;
      uint64_t rel = addr - ph.p_vaddr;
      if (range_ok(rel, len, ph.p_filesz)) {
        off = ph.p_offset + rel;
        return true;
      }
    }
    return false;
  };
  auto corrupt = [&](const char* what) {
    return bad_input(fmt::format("{}: corrupt dynamic section ({})", name, what));
  };
  for (const Phdr& dyn : dynamics) {
    struct Tag {
      bool present = false;
      uint64_t value = 0;
    };
    Tag strtab, strsz, verneednum, verdefnum;
    std::vector<uint64_t> string_offsets;
    // Tables ld.so or LIEF read through a (start, size) pair of tags.
    struct Table {
      int64_t addr_tag, size_tag;
      const char* what;
      Tag addr, len;
    } tables[] = {
        {DT_RELA, DT_RELASZ, "DT_RELA table outside the file", {}, {}},
        {DT_REL, DT_RELSZ, "DT_REL table outside the file", {}, {}},
        {DT_JMPREL, DT_PLTRELSZ, "DT_JMPREL table outside the file", {}, {}},
        {DT_RELR, DT_RELRSZ, "DT_RELR table outside the file", {}, {}},
        {DT_INIT_ARRAY, DT_INIT_ARRAYSZ, "DT_INIT_ARRAY outside the file", {}, {}},
        {DT_FINI_ARRAY, DT_FINI_ARRAYSZ, "DT_FINI_ARRAY outside the file", {}, {}},
        {DT_PREINIT_ARRAY, DT_PREINIT_ARRAYSZ, "DT_PREINIT_ARRAY outside the file", {}, {}},
    };
    // Tables whose size comes from elsewhere: at least their start must map.
    struct Pointer {
      int64_t tag;
      uint64_t min_len;
      const char* what;
      Tag addr;
    } pointers[] = {
        {DT_SYMTAB, 1, "DT_SYMTAB outside the file", {}},
        {DT_HASH, 8, "DT_HASH outside the file", {}},
        {DT_GNU_HASH, 16, "DT_GNU_HASH outside the file", {}},
        {DT_VERSYM, 2, "DT_VERSYM outside the file", {}},
        {DT_VERNEED, 16, "DT_VERNEED outside the file", {}},
        {DT_VERDEF, 20, "DT_VERDEF outside the file", {}},
    };
    for (uint64_t i = 0; i < dyn.p_filesz / sizeof(Dyn); ++i) {
      Dyn d;
      read_at(b, dyn.p_offset + i * sizeof(Dyn), d);
      const int64_t tag = d.d_tag;
      const uint64_t val = d.d_un.d_val;
      if (tag == DT_NULL) break;
      if (tag == DT_STRTAB) strtab = {true, val};
      if (tag == DT_STRSZ) strsz = {true, val};
      if (tag == DT_VERNEEDNUM) verneednum = {true, val};
      if (tag == DT_VERDEFNUM) verdefnum = {true, val};
      if (tag == DT_NEEDED || tag == DT_SONAME || tag == DT_RPATH || tag == DT_RUNPATH) string_offsets.push_back(val);
      for (Table& t : tables) {
        if (tag == t.addr_tag) t.addr = {true, val};
        if (tag == t.size_tag) t.len = {true, val};
      }
      for (Pointer& p : pointers)
        if (tag == p.tag) p.addr = {true, val};
    }
    uint64_t off = 0;
    if (!string_offsets.empty() && !strtab.present) return corrupt("string entries without DT_STRTAB");
    if (strtab.present) {
      uint64_t len = strsz.present ? strsz.value : 1;
      if (len == 0 || !file_offset(strtab.value, len, off)) return corrupt("DT_STRTAB outside the file");
      for (uint64_t s : string_offsets) {
        if (s >= len) return corrupt("string offset beyond DT_STRSZ");
        if (!std::memchr(b.data() + off + s, '\0', len - s)) return corrupt("unterminated string");
      }
    }
    for (const Table& t : tables) {
      if (t.len.present && t.len.value > size) return corrupt(t.what);
      if (t.addr.present && t.len.present && t.len.value > 0 && !file_offset(t.addr.value, t.len.value, off))
        return corrupt(t.what);
    }
    for (const Pointer& p : pointers)
      if (p.addr.present && !file_offset(p.addr.value, p.min_len, off)) return corrupt(p.what);
    if (verneednum.value > size / 16) return corrupt("DT_VERNEEDNUM larger than the file");
    if (verdefnum.value > size / 20) return corrupt("DT_VERDEFNUM larger than the file");
    for (const Pointer& p : pointers) {
      if (!p.addr.present) continue;
      const uint64_t word = sizeof(Ehdr) == sizeof(Elf64_Ehdr) ? 8 : 4;
      if (p.tag == DT_HASH) {
        uint32_t nbucket = 0, nchain = 0;
        file_offset(p.addr.value, 8, off);
        read_at(b, off, nbucket);
        read_at(b, off + 4, nchain);
        if (!file_offset(p.addr.value, 8 + 4 * (uint64_t(nbucket) + nchain), off))
          return corrupt("DT_HASH table extends past end of file");
      } else if (p.tag == DT_GNU_HASH) {
        uint32_t nbuckets = 0, maskwords = 0;
        file_offset(p.addr.value, 16, off);
        read_at(b, off, nbuckets);
        read_at(b, off + 8, maskwords);
        if (!file_offset(p.addr.value, 16 + word * maskwords + 4 * uint64_t(nbuckets), off))
          return corrupt("DT_GNU_HASH table extends past end of file");
      } else if (p.tag == DT_VERNEED) {
        // Walked as ld.so walks it (vn_next/vna_next, not the counts), so the
        // version names decant reports are the ones ld.so would check.
        // One budget for all entries: two entries sharing one auxiliary
        // chain must not multiply the work (ours, then LIEF's).
        uint64_t addr = p.addr.value, budget = size / 16;
        for (;;) {
          Elf64_Verneed vn;  // same layout in ELF32
          if (budget-- == 0) return corrupt("DT_VERNEED chain longer than the file");
          if (!file_offset(addr, sizeof vn, off)) return corrupt("DT_VERNEED entry outside the file");
          read_at(b, off, vn);
          if (!strtab.present || vn.vn_file >= (strsz.present ? strsz.value : 1))
            return corrupt("DT_VERNEED file name beyond DT_STRSZ");
          uint64_t aux = addr + vn.vn_aux;
          for (uint16_t j = 0; j < vn.vn_cnt; ++j) {
            Elf64_Vernaux va;
            if (budget-- == 0) return corrupt("DT_VERNEED chain longer than the file");
            if (!file_offset(aux, sizeof va, off)) return corrupt("DT_VERNEED auxiliary entry outside the file");
            read_at(b, off, va);
            if (va.vna_name >= (strsz.present ? strsz.value : 1))
              return corrupt("DT_VERNEED version name beyond DT_STRSZ");
            if (va.vna_next == 0) break;
            aux += va.vna_next;
          }
          if (vn.vn_next == 0) break;
          addr += vn.vn_next;
        }
      } else if (p.tag == DT_VERDEF) {
        // Same walk for version definitions: LIEF allocates a name per
        // auxiliary entry, so shared chains must not multiply either.
        uint64_t addr = p.addr.value, budget = size / 8;
        for (uint64_t n = 0; n < verdefnum.value; ++n) {
          Elf64_Verdef vd;  // same layout in ELF32
          if (budget-- == 0) return corrupt("DT_VERDEF chain longer than the file");
          if (!file_offset(addr, sizeof vd, off)) return corrupt("DT_VERDEF entry outside the file");
          read_at(b, off, vd);
          uint64_t aux = addr + vd.vd_aux;
          for (uint16_t j = 0; j < vd.vd_cnt; ++j) {
            Elf64_Verdaux va;
            if (budget-- == 0) return corrupt("DT_VERDEF chain longer than the file");
            if (!file_offset(aux, sizeof va, off)) return corrupt("DT_VERDEF auxiliary entry outside the file");
            read_at(b, off, va);
            if (!strtab.present || va.vda_name >= (strsz.present ? strsz.value : 1))
              return corrupt("DT_VERDEF version name beyond DT_STRSZ");
            if (va.vda_next == 0) break;
            aux += va.vda_next;
          }
          if (vd.vd_next == 0) break;
          addr += vd.vd_next;
        }
      }
    }
  }
  return Status::success();
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
    // The kernel refuses to exec a program header table over 64 KiB; LIEF's
    // cost grows with segments x sections, so a bigger one is a way to hang it.
    if (uint64_t(eh.e_phnum) * sizeof(Phdr) > 65536)
      return bad_input(fmt::format("{}: corrupt program header table ({} entries)", name, eh.e_phnum));
    for (unsigned i = 0; i < eh.e_phnum; ++i) {
      Phdr ph;
      read_at(b, eh.e_phoff + uint64_t(i) * sizeof(Phdr), ph);
      // Every segment with content, whatever its type: LIEF grows its copy of
      // the file to cover each segment, so one past the end costs gigabytes.
      if (ph.p_filesz > 0 || ph.p_type == PT_LOAD || ph.p_type == PT_DYNAMIC || ph.p_type == PT_INTERP ||
          ph.p_type == PT_NOTE) {
        if (!range_ok(ph.p_offset, ph.p_filesz, size))
          return bad_input(fmt::format("{}: truncated ELF (segment {} extends past end of file)", name, i));
      }
      if (ph.p_type == PT_INTERP) {
        if (ph.p_filesz == 0 || ph.p_filesz > 4096 || b[ph.p_offset + ph.p_filesz - 1] != '\0')
          return bad_input(fmt::format("{}: corrupt PT_INTERP segment", name));
      }
      if (ph.p_type == PT_NOTE) {
        // Each note's name and descriptor, padded to the segment alignment,
        // must fit in the segment; LIEF otherwise drops the notes after a bad one.
        const uint64_t align = ph.p_align == 8 ? 8 : 4;
        auto pad = [align](uint64_t n) { return (n + align - 1) / align * align; };
        uint64_t at = 0;
        while (at + 12 <= ph.p_filesz) {
          uint32_t namesz = 0, descsz = 0;
          read_at(b, ph.p_offset + at, namesz);
          read_at(b, ph.p_offset + at + 4, descsz);
          uint64_t len = pad(12 + uint64_t(namesz)) + descsz;  // as glibc's ELF_NOTE_NEXT_OFFSET
          if (len > ph.p_filesz - at) return bad_input(fmt::format("{}: corrupt note in segment {}", name, i));
          at += pad(len);
        }
      }
      if (ph.p_type == PT_DYNAMIC && ph.p_filesz % (sizeof(Ehdr) == sizeof(Elf64_Ehdr) ? 16 : 8) != 0)
        return bad_input(fmt::format("{}: corrupt PT_DYNAMIC segment size", name));
    }
    using Dyn = std::conditional_t<sizeof(Ehdr) == sizeof(Elf64_Ehdr), Elf64_Dyn, Elf32_Dyn>;
    Status dyn = validate_dynamic<Ehdr, Phdr, Dyn>(b, eh, name);
    if (!dyn) return dyn;
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
      if (sh.sh_type != SHT_NOBITS && (sh.sh_type != SHT_NULL || sh.sh_size > 0) &&
          !range_ok(sh.sh_offset, sh.sh_size, size))
        return bad_input(fmt::format("{}: truncated ELF (section {} extends past end of file)", name, i));
      if (sh.sh_link >= eh.e_shnum && sh.sh_type != SHT_NULL)
        return bad_input(fmt::format("{}: corrupt section header {} (bad link)", name, i));
      if ((sh.sh_type == SHT_SYMTAB || sh.sh_type == SHT_DYNSYM) &&
          (sh.sh_entsize == 0 || sh.sh_entsize > 64))
        return bad_input(fmt::format("{}: corrupt symbol table in section {}", name, i));
    }
    // LIEF matches every segment against every section with an address.
    // Real binaries have tens of each; millions of pairs only come from
    // crafted tables and cost LIEF seconds and gigabytes.
    uint64_t placed = 0;
    for (unsigned i = 0; i < eh.e_shnum; ++i) {
      Shdr sh;
      read_at(b, eh.e_shoff + uint64_t(i) * sizeof(Shdr), sh);
      if (sh.sh_addr != 0) ++placed;
    }
    if (placed * eh.e_phnum > kMaxSegmentSectionPairs)
      return bad_input(fmt::format("{}: corrupt ELF ({} segments and {} sections with addresses)", name,
                                   eh.e_phnum, placed));
  } else if (eh.e_shoff != 0 && eh.e_shstrndx != SHN_UNDEF) {
    return bad_input(fmt::format("{}: corrupt section header table (extended numbering unsupported)", name));
  }
  return Status::success();
}

// Number of entries in SHT_REL/SHT_RELA sections. LIEF 0.9 parses them, when
// it found no dynamic relocations, with a quadratic duplicate check: a static
// binary linked with --emit-relocs has tens of thousands and would take
// minutes. decant never reads relocations, so such sections are hidden from
// LIEF (see mask_section_relocations) rather than rejected.
template <typename Ehdr, typename Shdr>
uint64_t section_relocation_entries(const std::vector<uint8_t>& b) {
  Ehdr eh;
  read_at(b, 0, eh);
  uint64_t n = 0;
  for (unsigned i = 0; i < eh.e_shnum; ++i) {
    Shdr sh;
    read_at(b, eh.e_shoff + uint64_t(i) * sizeof(Shdr), sh);
    if (sh.sh_type == SHT_REL || sh.sh_type == SHT_RELA) n += sh.sh_size / (sizeof(Shdr) == sizeof(Elf64_Shdr) ? 16 : 8);
  }
  return n;
}

// Requires: validate_tables() accepted b.
template <typename Ehdr, typename Shdr>
std::vector<uint8_t> mask_section_relocations(const std::vector<uint8_t>& b) {
  std::vector<uint8_t> out = b;
  Ehdr eh;
  read_at(b, 0, eh);
  for (unsigned i = 0; i < eh.e_shnum; ++i) {
    uint64_t at = eh.e_shoff + uint64_t(i) * sizeof(Shdr);
    Shdr sh;
    read_at(b, at, sh);
    if (sh.sh_type != SHT_REL && sh.sh_type != SHT_RELA) continue;
    sh.sh_type = SHT_PROGBITS;
    std::memcpy(out.data() + at, &sh, sizeof sh);
  }
  return out;
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
  uint64_t relocs = ident->is64 ? section_relocation_entries<Elf64_Ehdr, Elf64_Shdr>(bytes)
                                 : section_relocation_entries<Elf32_Ehdr, Elf32_Shdr>(bytes);
  auto info = relocs > kMaxSectionRelocations
                  ? extract_with_lief(ident->is64 ? mask_section_relocations<Elf64_Ehdr, Elf64_Shdr>(bytes)
                                                  : mask_section_relocations<Elf32_Ehdr, Elf32_Shdr>(bytes),
                                      *ident, name)
                  : extract_with_lief(bytes, *ident, name);
  // Hashed here, while the bytes are in memory, so no stage reads the file again for it.
  if (info) info->sha256 = sha256_hex(bytes.data(), bytes.size());
  return info;
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
