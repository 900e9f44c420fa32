// Implementation of the ELF reader (see elf_file.h). The bounds checks here
// exist because LIEF 0.9 trusts header fields: a truncated or corrupt table
// would otherwise make it read out of bounds or allocate absurd amounts.
#include "elf/elf_file.h"

#include <cerrno>
#include <cstring>
#include <elf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <type_traits>

#include <fmt/format.h>

#include "elf/elf_lief.h"
#include "elf/elf_view.h"
#include "common/file_util.h"

namespace decant {

namespace {

constexpr uint64_t kMaxElfSize = 2ull << 30;
constexpr uint64_t kMaxSegmentSectionPairs = 1ull << 22;
// Above this many section relocations LIEF's quadratic parse (the reference
// reader, elf_lief.cpp) takes > ~0.1 s.
constexpr uint64_t kMaxSectionRelocations = 4096;

// File offset of [addr, addr+len) when it is file-backed in one PT_LOAD.
template <typename Phdr>
bool load_offset(const std::vector<Phdr>& loads, uint64_t addr, uint64_t len, uint64_t& off) {
  for (const Phdr& ph : loads) {
    if (addr < ph.p_vaddr) continue;
    uint64_t rel = addr - ph.p_vaddr;
    if (rel <= ph.p_filesz && len <= ph.p_filesz - rel) {
      off = ph.p_offset + rel;
      return true;
    }
  }
  return false;
}

struct Tag {
  bool present = false;
  uint64_t value = 0;
};

// The tags of one PT_DYNAMIC segment that validation looks at.
struct DynamicTags {
  Tag strtab, strsz, verneednum, verdefnum;
  std::vector<uint64_t> string_offsets;
  // Tables ld.so or LIEF read through a (start, size) pair of tags.
  struct Table {
    int64_t addr_tag, size_tag;
    const char* what;
    Tag addr, len;
  } tables[7] = {
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
  } pointers[6] = {
      {DT_SYMTAB, 1, "DT_SYMTAB outside the file", {}},
      {DT_HASH, 8, "DT_HASH outside the file", {}},
      {DT_GNU_HASH, 16, "DT_GNU_HASH outside the file", {}},
      {DT_VERSYM, 2, "DT_VERSYM outside the file", {}},
      {DT_VERNEED, 16, "DT_VERNEED outside the file", {}},
      {DT_VERDEF, 20, "DT_VERDEF outside the file", {}},
  };
  uint64_t strsz_or_1() const { return strsz.present ? strsz.value : 1; }
};

// Requires: the segment lies inside the file.
template <typename Phdr, typename Dyn>
DynamicTags read_dynamic_tags(const ByteView& b, const Phdr& dyn) {
  DynamicTags t;
  for (uint64_t i = 0; i < dyn.p_filesz / sizeof(Dyn); ++i) {
    Dyn d;
    b.read(dyn.p_offset + i * sizeof(Dyn), d);
    const int64_t tag = d.d_tag;
    const uint64_t val = d.d_un.d_val;
    if (tag == DT_NULL) break;
    if (tag == DT_STRTAB) t.strtab = {true, val};
    if (tag == DT_STRSZ) t.strsz = {true, val};
    if (tag == DT_VERNEEDNUM) t.verneednum = {true, val};
    if (tag == DT_VERDEFNUM) t.verdefnum = {true, val};
    if (tag == DT_NEEDED || tag == DT_SONAME || tag == DT_RPATH || tag == DT_RUNPATH) t.string_offsets.push_back(val);
    for (auto& table : t.tables) {
      if (tag == table.addr_tag) table.addr = {true, val};
      if (tag == table.size_tag) table.len = {true, val};
    }
    for (auto& p : t.pointers)
      if (tag == p.tag) p.addr = {true, val};
  }
  return t;
}

// Checks one dynamic segment's tags against the PT_LOAD segments.
template <typename Phdr>
class DynamicCheck {
 public:
  DynamicCheck(const ByteView& b, const std::vector<Phdr>& loads, const DynamicTags& t, bool is64,
               const std::string& name)
      : b_(b), loads_(loads), t_(t), is64_(is64), name_(name) {}

  Status run() {
    Status s = strings_and_tables();
    for (const auto& p : t_.pointers) {
      if (!s || !p.addr.present) continue;
      if (p.tag == DT_HASH || p.tag == DT_GNU_HASH) s = hash_table(p.tag, p.addr.value);
      else if (p.tag == DT_VERNEED) s = verneed_chain(p.addr.value);
      else if (p.tag == DT_VERDEF) s = verdef_chain(p.addr.value);
    }
    return s;
  }

 private:
  Status corrupt(const char* what) const {
    return bad_input(fmt::format("{}: corrupt dynamic section ({})", name_, what));
  }
  bool mapped(uint64_t addr, uint64_t len, uint64_t& off) const { return load_offset(loads_, addr, len, off); }

  Status strings_and_tables() const {
    const uint64_t size = b_.size();
    uint64_t off = 0;
    if (!t_.string_offsets.empty() && !t_.strtab.present) return corrupt("string entries without DT_STRTAB");
    if (t_.strtab.present) {
      uint64_t len = t_.strsz_or_1();
      if (len == 0 || !mapped(t_.strtab.value, len, off)) return corrupt("DT_STRTAB outside the file");
      for (uint64_t s : t_.string_offsets) {
        if (s >= len) return corrupt("string offset beyond DT_STRSZ");
        if (!std::memchr(b_.data() + off + s, '\0', len - s)) return corrupt("unterminated string");
      }
    }
    for (const auto& t : t_.tables) {
      if (t.len.present && t.len.value > size) return corrupt(t.what);
      if (t.addr.present && t.len.present && t.len.value > 0 && !mapped(t.addr.value, t.len.value, off))
        return corrupt(t.what);
    }
    for (const auto& p : t_.pointers)
      if (p.addr.present && !mapped(p.addr.value, p.min_len, off)) return corrupt(p.what);
    if (t_.verneednum.value > size / 16) return corrupt("DT_VERNEEDNUM larger than the file");
    if (t_.verdefnum.value > size / 20) return corrupt("DT_VERDEFNUM larger than the file");
    return Status::success();
  }

  Status hash_table(int64_t tag, uint64_t addr) const {
    uint64_t off = 0;
    if (tag == DT_HASH) {
      uint32_t nbucket = 0, nchain = 0;
      mapped(addr, 8, off);
      b_.read(off, nbucket);
      b_.read(off + 4, nchain);
      if (!mapped(addr, 8 + 4 * (uint64_t(nbucket) + nchain), off))
        return corrupt("DT_HASH table extends past end of file");
    } else {
      const uint64_t word = is64_ ? 8 : 4;
      uint32_t nbuckets = 0, maskwords = 0;
      mapped(addr, 16, off);
      b_.read(off, nbuckets);
      b_.read(off + 8, maskwords);
      if (!mapped(addr, 16 + word * maskwords + 4 * uint64_t(nbuckets), off))
        return corrupt("DT_GNU_HASH table extends past end of file");
    }
    return Status::success();
  }

  // Walked as ld.so walks it (vn_next/vna_next, not the counts), so the
  // version names decant reports are the ones ld.so would check. One budget
  // for all entries: two entries sharing one auxiliary chain must not
  // multiply the work (ours, then LIEF's).
  Status verneed_chain(uint64_t addr) const {
    uint64_t off = 0, budget = b_.size() / 16;
    for (;;) {
      Elf64_Verneed vn;  // same layout in ELF32
      if (budget-- == 0) return corrupt("DT_VERNEED chain longer than the file");
      if (!mapped(addr, sizeof vn, off)) return corrupt("DT_VERNEED entry outside the file");
      b_.read(off, vn);
      if (!t_.strtab.present || vn.vn_file >= t_.strsz_or_1()) return corrupt("DT_VERNEED file name beyond DT_STRSZ");
      uint64_t aux = addr + vn.vn_aux;
      for (uint16_t j = 0; j < vn.vn_cnt; ++j) {
        Elf64_Vernaux va;
        if (budget-- == 0) return corrupt("DT_VERNEED chain longer than the file");
        if (!mapped(aux, sizeof va, off)) return corrupt("DT_VERNEED auxiliary entry outside the file");
        b_.read(off, va);
        if (va.vna_name >= t_.strsz_or_1()) return corrupt("DT_VERNEED version name beyond DT_STRSZ");
        if (va.vna_next == 0) break;
        aux += va.vna_next;
      }
      if (vn.vn_next == 0) break;
      addr += vn.vn_next;
    }
    return Status::success();
  }

  // Same walk for version definitions: LIEF allocates a name per auxiliary
  // entry, so shared chains must not multiply either.
  Status verdef_chain(uint64_t addr) const {
    uint64_t off = 0, budget = b_.size() / 8;
    for (uint64_t n = 0; n < t_.verdefnum.value; ++n) {
      Elf64_Verdef vd;  // same layout in ELF32
      if (budget-- == 0) return corrupt("DT_VERDEF chain longer than the file");
      if (!mapped(addr, sizeof vd, off)) return corrupt("DT_VERDEF entry outside the file");
      b_.read(off, vd);
      uint64_t aux = addr + vd.vd_aux;
      for (uint16_t j = 0; j < vd.vd_cnt; ++j) {
        Elf64_Verdaux va;
        if (budget-- == 0) return corrupt("DT_VERDEF chain longer than the file");
        if (!mapped(aux, sizeof va, off)) return corrupt("DT_VERDEF auxiliary entry outside the file");
        b_.read(off, va);
        if (!t_.strtab.present || va.vda_name >= t_.strsz_or_1())
          return corrupt("DT_VERDEF version name beyond DT_STRSZ");
        if (va.vda_next == 0) break;
        aux += va.vda_next;
      }
      if (vd.vd_next == 0) break;
      addr += vd.vd_next;
    }
    return Status::success();
  }

  const ByteView& b_;
  const std::vector<Phdr>& loads_;
  const DynamicTags& t_;
  bool is64_;
  const std::string& name_;
};

// Validates the dynamic section: every table it points to must lie in the
// file-backed part of a PT_LOAD segment, every string offset inside DT_STRSZ.
// ld.so would fault on such a binary; LIEF instead returns empty or garbage
// names, which would turn into a silently wrong profile.
// Requires: the program header table and its segments lie inside the file.
template <typename Tables>
Status validate_dynamic(const ByteView& b, const Tables& t, const std::string& name) {
  using Phdr = typename decltype(t.phdrs)::value_type;
  constexpr bool is64 = sizeof(Phdr) == sizeof(Elf64_Phdr);
  using Dyn = std::conditional_t<is64, Elf64_Dyn, Elf32_Dyn>;
  std::vector<Phdr> loads;
  for (const Phdr& ph : t.phdrs)
    if (ph.p_type == PT_LOAD) loads.push_back(ph);
  for (const Phdr& dyn : t.phdrs) {
    if (dyn.p_type != PT_DYNAMIC) continue;
    DynamicTags tags = read_dynamic_tags<Phdr, Dyn>(b, dyn);
    Status s = DynamicCheck<Phdr>(b, loads, tags, is64, name).run();
    if (!s) return s;
  }
  return Status::success();
}

// Each note's name and descriptor, padded to the segment alignment, must fit
// in the segment; LIEF otherwise drops the notes after a bad one.
template <typename Phdr>
bool notes_fit(const ByteView& b, const Phdr& ph) {
  const uint64_t align = ph.p_align == 8 ? 8 : 4;
  auto pad = [align](uint64_t n) { return (n + align - 1) / align * align; };
  uint64_t at = 0;
  while (at + 12 <= ph.p_filesz) {
    uint32_t namesz = 0, descsz = 0;
    b.read(ph.p_offset + at, namesz);
    b.read(ph.p_offset + at + 4, descsz);
    uint64_t len = pad(12 + uint64_t(namesz)) + descsz;  // as glibc's ELF_NOTE_NEXT_OFFSET
    if (len > ph.p_filesz - at) return false;
    at += pad(len);
  }
  return true;
}

// Validates the program headers and what they point to: everything LIEF
// will index must lie inside the file.
template <typename Tables>
Status validate_segments(const ByteView& b, Tables& t, const std::string& name) {
  using Phdr = typename decltype(t.phdrs)::value_type;
  const auto& eh = t.eh;
  Status read = t.read_program_headers(b, name);
  if (!read) return read;
  // The kernel refuses to exec a program header table over 64 KiB; LIEF's
  // cost grows with segments x sections, so a bigger one is a way to hang it.
  if (uint64_t(eh.e_phnum) * sizeof(Phdr) > 65536)
    return bad_input(fmt::format("{}: corrupt program header table ({} entries)", name, eh.e_phnum));
  for (unsigned i = 0; i < t.phdrs.size(); ++i) {
    const Phdr& ph = t.phdrs[i];
    // Every segment with content, whatever its type: LIEF grows its copy of
    // the file to cover each segment, so one past the end costs gigabytes.
    if (ph.p_filesz > 0 || ph.p_type == PT_LOAD || ph.p_type == PT_DYNAMIC || ph.p_type == PT_INTERP ||
        ph.p_type == PT_NOTE) {
      if (!b.contains(ph.p_offset, ph.p_filesz))
        return bad_input(fmt::format("{}: truncated ELF (segment {} extends past end of file)", name, i));
    }
    if (ph.p_type == PT_INTERP) {
      if (ph.p_filesz == 0 || ph.p_filesz > 4096 || b.data()[ph.p_offset + ph.p_filesz - 1] != '\0')
        return bad_input(fmt::format("{}: corrupt PT_INTERP segment", name));
    }
    if (ph.p_type == PT_NOTE && !notes_fit(b, ph)) return bad_input(fmt::format("{}: corrupt note in segment {}", name, i));
    if (ph.p_type == PT_DYNAMIC && ph.p_filesz % (sizeof(Phdr) == sizeof(Elf64_Phdr) ? 16 : 8) != 0)
      return bad_input(fmt::format("{}: corrupt PT_DYNAMIC segment size", name));
  }
  return validate_dynamic(b, t, name);
}

// Validates the section headers the same way.
template <typename Tables>
Status validate_sections(const ByteView& b, Tables& t, const std::string& name) {
  using Shdr = typename decltype(t.shdrs)::value_type;
  const auto& eh = t.eh;
  if (eh.e_shnum == 0) {
    if (eh.e_shoff != 0 && eh.e_shstrndx != SHN_UNDEF)
      return bad_input(fmt::format("{}: corrupt section header table (extended numbering unsupported)", name));
    return Status::success();
  }
  Status read = t.read_section_headers(b, name);
  if (!read) return read;
  if (eh.e_shstrndx != SHN_UNDEF && eh.e_shstrndx >= eh.e_shnum)
    return bad_input(fmt::format("{}: corrupt section header string table index", name));
  uint64_t placed = 0;
  for (unsigned i = 0; i < t.shdrs.size(); ++i) {
    const Shdr& sh = t.shdrs[i];
    if (sh.sh_type != SHT_NOBITS && (sh.sh_type != SHT_NULL || sh.sh_size > 0) && !b.contains(sh.sh_offset, sh.sh_size))
      return bad_input(fmt::format("{}: truncated ELF (section {} extends past end of file)", name, i));
    if (sh.sh_link >= eh.e_shnum && sh.sh_type != SHT_NULL)
      return bad_input(fmt::format("{}: corrupt section header {} (bad link)", name, i));
    if ((sh.sh_type == SHT_SYMTAB || sh.sh_type == SHT_DYNSYM) && (sh.sh_entsize == 0 || sh.sh_entsize > 64))
      return bad_input(fmt::format("{}: corrupt symbol table in section {}", name, i));
    if (sh.sh_addr != 0) ++placed;
  }
  // LIEF matches every segment against every section with an address.
  // Real binaries have tens of each; millions of pairs only come from
  // crafted tables and cost LIEF seconds and gigabytes.
  if (placed * eh.e_phnum > kMaxSegmentSectionPairs)
    return bad_input(fmt::format("{}: corrupt ELF ({} segments and {} sections with addresses)", name, eh.e_phnum,
                                 placed));
  return Status::success();
}

// Number of entries in SHT_REL/SHT_RELA sections. LIEF 0.9 parses them, when
// it found no dynamic relocations, with a quadratic duplicate check: a static
// binary linked with --emit-relocs has tens of thousands and would take
// minutes. decant never reads relocations through LIEF, so such sections are
// hidden from it (masked below) rather than rejected.
template <typename Tables>
uint64_t section_relocation_entries(const Tables& t) {
  constexpr uint64_t rela = sizeof(t.eh) == sizeof(Elf64_Ehdr) ? 16 : 8;
  uint64_t n = 0;
  for (const auto& sh : t.shdrs)
    if (sh.sh_type == SHT_REL || sh.sh_type == SHT_RELA) n += sh.sh_size / rela;
  return n;
}

// The bytes LIEF parses: the file, with relocation sections retyped to
// SHT_PROGBITS when there are too many of them.
// Requires: validate_sections() accepted t.
template <typename Tables>
std::vector<uint8_t> lief_input(const ByteView& b, const Tables& t) {
  std::vector<uint8_t> out(b.data(), b.data() + b.size());
  if (section_relocation_entries(t) <= kMaxSectionRelocations) return out;
  for (size_t i = 0; i < t.shdrs.size(); ++i) {
    auto sh = t.shdrs[i];
    if (sh.sh_type != SHT_REL && sh.sh_type != SHT_RELA) continue;
    sh.sh_type = SHT_PROGBITS;
    std::memcpy(out.data() + t.eh.e_shoff + i * sizeof sh, &sh, sizeof sh);
  }
  return out;
}

void split_path_list(const std::string& s, std::vector<std::string>& out) {
  size_t i = 0;
  while (i <= s.size()) {
    size_t j = s.find(':', i);
    if (j == std::string::npos) j = s.size();
    // ld.so treats an empty element as the current directory; keep it as ".".
    out.push_back(j > i ? s.substr(i, j - i) : std::string("."));
    i = j + 1;
  }
}

// NT_GNU_ABI_TAG and NT_GNU_BUILD_ID of one PT_NOTE segment, walked with the
// padding notes_fit() checked. Later notes win, as in the LIEF reader.
template <typename Phdr>
void read_notes(const ByteView& b, const Phdr& ph, ElfInfo& info) {
  const uint64_t align = ph.p_align == 8 ? 8 : 4;
  auto pad = [align](uint64_t n) { return (n + align - 1) / align * align; };
  for (uint64_t at = 0; at + 12 <= ph.p_filesz;) {
    uint32_t namesz = 0, descsz = 0, type = 0;
    b.read(ph.p_offset + at, namesz);
    b.read(ph.p_offset + at + 4, descsz);
    b.read(ph.p_offset + at + 8, type);
    const uint64_t name_off = ph.p_offset + at + 12, desc_off = ph.p_offset + pad(at + 12 + uint64_t(namesz));
    const uint8_t* desc = b.data() + desc_off;
    if (b.str(name_off, namesz, 0) == "GNU" && b.contains(desc_off, descsz)) {
      if (type == NT_GNU_ABI_TAG && descsz >= 16) {
        uint32_t w[4];
        std::memcpy(w, desc, 16);
        static const char* oses[] = {"Linux", "GNU", "Solaris2", "FreeBSD"};
        info.abi_tag_os = w[0] < 4 ? oses[w[0]] : "unknown";
        info.abi_tag_kernel = fmt::format("{}.{}.{}", w[1], w[2], w[3]);
      } else if (type == NT_GNU_BUILD_ID) {
        info.build_id = to_hex(desc, descsz);
      }
    }
    at += pad(pad(12 + uint64_t(namesz)) + descsz);
  }
}

// DT_VERNEED entries (DT_VERNEEDNUM of them, each with vn_cnt auxiliary
// entries), along the chain verneed_chain() validated.
template <typename Phdr>
void read_version_needs(const ByteView& b, const std::vector<Phdr>& loads, uint64_t addr, uint64_t count,
                        uint64_t str_off, uint64_t str_len, ElfInfo& info) {
  uint64_t off = 0;
  for (uint64_t n = 0; n < count; ++n) {
    Elf64_Verneed vn;  // same layout in ELF32
    if (!load_offset(loads, addr, sizeof vn, off) || !b.read(off, vn)) return;
    ElfVersionNeed need;
    need.file = b.str(str_off, str_len, vn.vn_file);
    uint64_t aux = addr + vn.vn_aux;
    for (uint16_t j = 0; j < vn.vn_cnt && vn.vn_aux != 0; ++j) {
      Elf64_Vernaux va;
      if (!load_offset(loads, aux, sizeof va, off) || !b.read(off, va)) break;
      need.versions.push_back(b.str(str_off, str_len, va.vna_name));
      if (va.vna_next == 0) break;
      aux += va.vna_next;
    }
    info.version_needs.push_back(std::move(need));
    if (vn.vn_next == 0) break;
    addr += vn.vn_next;
  }
}

// The first PT_DYNAMIC segment's entries up to DT_NULL: names, search paths,
// flags and version needs. Requires: validate_dynamic() accepted it, so the
// string table and the version chain lie in the file.
template <typename Phdr, typename Dyn>
void read_dynamic(const ByteView& b, const std::vector<Phdr>& loads, const Phdr& dyn, ElfInfo& info) {
  const DynamicTags tags = read_dynamic_tags<Phdr, Dyn>(b, dyn);
  uint64_t str_off = 0, verneed = 0;
  const uint64_t str_len = tags.strsz_or_1();
  const bool strings = tags.strtab.present && load_offset(loads, tags.strtab.value, str_len, str_off);
  auto str = [&](uint64_t idx) { return strings ? b.str(str_off, str_len, idx) : std::string(); };
  bool has_verneed = false;
  for (uint64_t i = 0; i < dyn.p_filesz / sizeof(Dyn); ++i) {
    Dyn d;
    b.read(dyn.p_offset + i * sizeof(Dyn), d);
    const int64_t tag = d.d_tag;
    const uint64_t val = d.d_un.d_val;
    if (tag == DT_NULL) break;
    if (tag == DT_NEEDED) info.needed.push_back(str(val));
    else if (tag == DT_SONAME) info.soname = str(val);
    else if (tag == DT_RPATH) info.has_rpath_tag = true, split_path_list(str(val), info.rpath);
    else if (tag == DT_RUNPATH) info.has_runpath_tag = true, split_path_list(str(val), info.runpath);
    else if (tag == DT_TEXTREL) info.textrel = true;
    else if (tag == DT_FLAGS && (val & DF_TEXTREL)) info.textrel = true;
    else if (tag == DT_FLAGS_1) {
      if (val & DF_1_NODEFLIB) info.nodeflib = true;
      if (val & 0x08000000ull /* DF_1_PIE */) info.df1_pie = true;
    } else if (tag == DT_VERNEED) {
      has_verneed = true;
      verneed = val;
    }
  }
  if (has_verneed && tags.verneednum.present && strings)
    read_version_needs(b, loads, verneed, tags.verneednum.value, str_off, str_len, info);
}

// The facts ElfInfo holds, read from the validated tables without parsing
// the rest of the file (symbols, relocations, sections' contents): what a
// closure needs from each of hundreds of libraries.
template <typename Tables>
ElfInfo extract_facts(const ByteView& b, const Tables& t, const ElfIdent& ident) {
  using Phdr = typename decltype(t.phdrs)::value_type;
  using Dyn = std::conditional_t<sizeof(Phdr) == sizeof(Elf64_Phdr), Elf64_Dyn, Elf32_Dyn>;
  ElfInfo info;
  info.ident = ident;
  info.size = b.size();
  std::vector<Phdr> loads;
  const Phdr* dynamic = nullptr;
  bool interp = false;
  for (const Phdr& ph : t.phdrs) {
    if (ph.p_type == PT_LOAD) loads.push_back(ph);
    if (ph.p_type == PT_DYNAMIC && !dynamic) dynamic = &ph;
    if (ph.p_type == PT_INTERP && !interp) {
      interp = true;
      info.interpreter = b.str(ph.p_offset, ph.p_filesz, 0);
    }
    if (ph.p_type == PT_GNU_STACK) {
      info.has_gnu_stack = true;
      info.gnu_stack_flags = ph.p_flags;
      info.stack_executable = (ph.p_flags & PF_X) != 0;
    }
    if (ph.p_type == PT_NOTE) read_notes(b, ph, info);
  }
  if (dynamic) read_dynamic<Phdr, Dyn>(b, loads, *dynamic, info);
  return info;
}

// Validates the tables (the order decides which error a doubly broken file
// gets), then extracts the structure from them, or through LIEF (the
// reference the header reader is checked against).
template <typename Tables>
Result<ElfInfo> validate_and_extract(const ByteView& b, const ElfIdent& ident, const std::string& name,
                                     ElfExtractor lief) {
  Tables t;
  t.read_header(b);
  if (t.eh.e_phnum > 0) {
    Status s = validate_segments(b, t, name);
    if (!s) return s.error();
  } else if (t.eh.e_type == ET_EXEC || t.eh.e_type == ET_DYN) {
    return bad_input(fmt::format("{}: corrupt ELF (executable without program headers)", name));
  }
  Status s = validate_sections(b, t, name);
  if (!s) return s.error();
  if (ident.type != ET_EXEC && ident.type != ET_DYN)
    return bad_input(fmt::format("{}: ELF file is not an executable or shared library (type {})", name, ident.type));
  if (lief) return lief(lief_input(b, t), ident, name);
  return extract_facts(b, t, ident);
}

Result<ElfInfo> read_elf_view(const ByteView& b, const std::string& name, bool hash, ElfExtractor lief = nullptr) {
  auto ident = parse_elf_ident(b.data(), b.size(), name);
  if (!ident) return ident.error();
  if (!ident->little_endian)
    return bad_input(fmt::format("{}: big-endian ELF ({}) is not supported", name, machine_name(ident->machine)));
  auto info = ident->is64 ? validate_and_extract<ElfTables64>(b, *ident, name, lief)
                          : validate_and_extract<ElfTables32>(b, *ident, name, lief);
  // Hashed here, while the bytes are in memory, so no stage reads the file again for it.
  if (info && hash) info->sha256 = sha256_hex(b.data(), b.size());
  return info;
}

// A read-only private mapping of a guest file, unmapped when it goes. Only
// the pages the header reader touches are read from disk.
struct Mapping {
  void* addr = MAP_FAILED;
  uint64_t size = 0;
  ~Mapping() {
    if (addr != MAP_FAILED) ::munmap(addr, size);
  }
};

// read_elf() in ElfRead::Headers mode: the same checks and messages as
// read_guest_file() for what is not a readable regular file.
Result<ElfInfo> read_elf_headers(const std::string& host_path, const std::string& name) {
  int fd = ::open(host_path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  struct stat st;
  if (fd < 0 || ::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || uint64_t(st.st_size) > kMaxElfSize) {
    if (fd >= 0) ::close(fd);
    // Rare: let the whole-file reader produce its exact message.
    auto content = read_guest_file(host_path, name, kMaxElfSize);
    if (!content) return content.error();
    return read_elf_view(ByteView(reinterpret_cast<const uint8_t*>(content->data()), content->size()), name, false);
  }
  Mapping m;
  m.size = static_cast<uint64_t>(st.st_size);
  if (m.size > 0) m.addr = ::mmap(nullptr, m.size, PROT_READ, MAP_PRIVATE, fd, 0);
  int e = errno;
  ::close(fd);
  if (m.size > 0 && m.addr == MAP_FAILED)
    return errno_error(e, fmt::format("{}: cannot map: {}", name, std::strerror(e)));
  const uint8_t* data = m.size > 0 ? static_cast<const uint8_t*>(m.addr) : nullptr;
  return read_elf_view(ByteView(data, m.size), name, false);
}

}  // namespace

Result<ElfIdent> read_elf_ident(const std::string& host_path, const std::string& display_name) {
  int fd = ::open(host_path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    int e = errno;
    return errno_error(e, fmt::format("{}: cannot open: {}", display_name, std::strerror(e)));
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return bad_input(fmt::format("{}: not a regular file", display_name));
  }
  uint8_t buf[sizeof(Elf64_Ehdr)];
  ssize_t n = ::pread(fd, buf, sizeof buf, 0);
  ::close(fd);
  if (n < 0) {
    int e = errno;
    return errno_error(e, fmt::format("{}: read error: {}", display_name, std::strerror(e)));
  }
  return parse_elf_ident(buf, static_cast<size_t>(n), display_name);
}

Result<ElfInfo> read_elf_bytes(const std::vector<uint8_t>& bytes, const std::string& name) {
  return read_elf_view(ByteView(bytes.data(), bytes.size()), name, true);
}

Result<ElfInfo> read_elf_bytes_via(const std::vector<uint8_t>& bytes, const std::string& name, ElfExtractor extract) {
  return read_elf_view(ByteView(bytes.data(), bytes.size()), name, true, extract);
}

Result<ElfInfo> read_elf(const std::string& host_path, const std::string& display_name, ElfRead mode) {
  if (mode == ElfRead::Headers) return read_elf_headers(host_path, display_name);
  auto content = read_guest_file(host_path, display_name, kMaxElfSize);
  if (!content) return content.error();
  auto bytes = std::make_shared<const std::string>(std::move(*content));
  auto info = read_elf_view(ByteView(reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size()), display_name,
                            true);
  if (info) info->bytes = std::move(bytes);
  return info;
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
