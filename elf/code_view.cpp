// Reader for the code view (see code_view.h). A small ELF64 parser of its own
// rather than LIEF: it needs relocations, version indices and raw bytes that
// LIEF 0.9 exposes only partially, and it runs on every library of every
// closure, so it reads tables in place without building an object model.
#include "elf/code_view.h"

#include <algorithm>
#include <cstring>
#include <elf.h>

#include <fmt/format.h>

#include "common/file_util.h"

namespace decant {

namespace {

struct Malformed {
  std::string what;
};

class Reader {
 public:
  explicit Reader(const std::string& b) : b_(b) {}
  template <typename T>
  T get(uint64_t off) const {
    T v;
    if (off > b_.size() || b_.size() - off < sizeof(T)) throw Malformed{fmt::format("read past end at {:#x}", off)};
    std::memcpy(&v, b_.data() + off, sizeof(T));
    return v;
  }
  bool in_file(uint64_t off, uint64_t len) const { return off <= b_.size() && len <= b_.size() - off; }
  std::string str(uint64_t table_off, uint64_t table_size, uint64_t idx) const {
    if (idx >= table_size || !in_file(table_off, table_size)) return {};
    const char* s = b_.data() + table_off + idx;
    size_t max = table_size - idx;
    return std::string(s, strnlen(s, max));
  }

 private:
  const std::string& b_;
};

// Version names by index, from .gnu.version_d (definitions) and
// .gnu.version_r (requirements); index 0/1 mean local/global unversioned.
std::map<uint16_t, std::string> read_version_names(const Reader& r, const std::vector<CodeSection>& secs,
                                                   const std::vector<Elf64_Shdr>& shdrs) {
  std::map<uint16_t, std::string> names;
  for (size_t i = 0; i < secs.size(); ++i) {
    const Elf64_Shdr& sh = shdrs[i];
    if (sh.sh_type != SHT_GNU_verdef && sh.sh_type != SHT_GNU_verneed) continue;
    if (sh.sh_link >= shdrs.size()) continue;
    const Elf64_Shdr& strs = shdrs[sh.sh_link];
    uint64_t off = sh.sh_offset;
    uint64_t end = sh.sh_offset + sh.sh_size;
    for (int guard = 0; guard < 4096 && off + 16 <= end; ++guard) {
      if (sh.sh_type == SHT_GNU_verdef) {
        auto vd = r.get<Elf64_Verdef>(off);
        if (vd.vd_cnt > 0 && vd.vd_aux) {
          auto aux = r.get<Elf64_Verdaux>(off + vd.vd_aux);
          names[vd.vd_ndx & 0x7fff] = r.str(strs.sh_offset, strs.sh_size, aux.vda_name);
        }
        if (!vd.vd_next) break;
        off += vd.vd_next;
      } else {
        auto vn = r.get<Elf64_Verneed>(off);
        uint64_t aoff = off + vn.vn_aux;
        for (unsigned k = 0; k < vn.vn_cnt && k < 4096; ++k) {
          auto aux = r.get<Elf64_Vernaux>(aoff);
          names[aux.vna_other & 0x7fff] = r.str(strs.sh_offset, strs.sh_size, aux.vna_name);
          if (!aux.vna_next) break;
          aoff += aux.vna_next;
        }
        if (!vn.vn_next) break;
        off += vn.vn_next;
      }
    }
  }
  return names;
}

void parse(CodeView& v, const std::string& name) {
  Reader r(v.bytes);
  if (v.bytes.size() < sizeof(Elf64_Ehdr) || std::memcmp(v.bytes.data(), ELFMAG, SELFMAG) != 0)
    throw Malformed{"not an ELF file"};
  if (v.bytes[EI_CLASS] != ELFCLASS64 || v.bytes[EI_DATA] != ELFDATA2LSB) {
    v.is64 = false;
    throw Malformed{"only little-endian ELF64 code is analyzed"};
  }
  auto eh = r.get<Elf64_Ehdr>(0);
  v.machine = eh.e_machine;
  v.type = eh.e_type;
  v.entry = eh.e_entry;
  if (eh.e_machine != EM_X86_64) throw Malformed{"only x86-64 code is analyzed"};

  if (eh.e_phnum && eh.e_phentsize != sizeof(Elf64_Phdr)) throw Malformed{"bad program header size"};
  for (unsigned i = 0; i < eh.e_phnum; ++i) {
    auto ph = r.get<Elf64_Phdr>(eh.e_phoff + uint64_t(i) * sizeof(Elf64_Phdr));
    if (ph.p_type != PT_LOAD) continue;
    if (!r.in_file(ph.p_offset, ph.p_filesz)) throw Malformed{"PT_LOAD past end of file"};
    v.loads.push_back({ph.p_vaddr, ph.p_offset, ph.p_filesz, ph.p_memsz, ph.p_flags});
  }

  std::vector<Elf64_Shdr> shdrs;
  if (eh.e_shnum && eh.e_shentsize != sizeof(Elf64_Shdr)) throw Malformed{"bad section header size"};
  for (unsigned i = 0; i < eh.e_shnum; ++i) shdrs.push_back(r.get<Elf64_Shdr>(eh.e_shoff + uint64_t(i) * sizeof(Elf64_Shdr)));
  Elf64_Shdr shstr{};
  if (eh.e_shstrndx < shdrs.size()) shstr = shdrs[eh.e_shstrndx];
  for (auto& sh : shdrs) {
    CodeSection s;
    s.name = r.str(shstr.sh_offset, shstr.sh_size, sh.sh_name);
    s.addr = sh.sh_addr;
    s.offset = sh.sh_offset;
    s.size = sh.sh_size;
    s.type = sh.sh_type;
    s.flags = sh.sh_flags;
    if (s.type != SHT_NOBITS && s.type != SHT_NULL && !r.in_file(s.offset, s.size))
      throw Malformed{fmt::format("section {} past end of file", s.name)};
    v.sections.push_back(std::move(s));
  }

  for (auto& s : v.sections)
    if (s.executable() && s.type == SHT_PROGBITS && s.size) v.code.push_back({s.name, s.addr, s.size, s.offset});
  if (v.code.empty())  // section headers stripped: fall back to executable segments
    for (size_t i = 0; i < v.loads.size(); ++i)
      if (v.loads[i].flags & PF_X)
        v.code.push_back({fmt::format("LOAD#{}", i), v.loads[i].vaddr, v.loads[i].filesz, v.loads[i].offset});

  // Symbols with versions.
  auto versions = read_version_names(r, v.sections, shdrs);
  const Elf64_Shdr* versym = nullptr;
  for (auto& sh : shdrs)
    if (sh.sh_type == SHT_GNU_versym) versym = &sh;
  std::map<size_t, std::vector<size_t>> symtab_index;  // section index -> indices into v.symbols
  for (int pass = 0; pass < 2; ++pass) {
    uint32_t want = pass == 0 ? SHT_DYNSYM : SHT_SYMTAB;
    for (size_t si = 0; si < shdrs.size(); ++si) {
      const Elf64_Shdr& sh = shdrs[si];
      if (sh.sh_type != want || sh.sh_entsize != sizeof(Elf64_Sym) || sh.sh_link >= shdrs.size()) continue;
      const Elf64_Shdr& strs = shdrs[sh.sh_link];
      uint64_t n = sh.sh_size / sizeof(Elf64_Sym);
      auto& idx = symtab_index[si];
      for (uint64_t k = 0; k < n; ++k) {
        auto sym = r.get<Elf64_Sym>(sh.sh_offset + k * sizeof(Elf64_Sym));
        CodeSymbol cs;
        cs.name = r.str(strs.sh_offset, strs.sh_size, sym.st_name);
        cs.value = sym.st_value;
        cs.size = sym.st_size;
        cs.type = ELF64_ST_TYPE(sym.st_info);
        cs.bind = ELF64_ST_BIND(sym.st_info);
        cs.defined = sym.st_shndx != SHN_UNDEF;
        cs.dynamic = pass == 0;
        if (pass == 0 && versym && versym->sh_size / 2 == n) {
          auto vs = r.get<uint16_t>(versym->sh_offset + k * 2);
          cs.default_version = (vs & 0x8000) == 0;
          auto it = versions.find(vs & 0x7fff);
          if ((vs & 0x7fff) > 1 && it != versions.end()) cs.version = it->second;
        }
        idx.push_back(v.symbols.size());
        v.symbols.push_back(std::move(cs));
      }
    }
  }

  // Relocations (x86-64 uses RELA only).
  for (auto& sh : shdrs) {
    if (sh.sh_type != SHT_RELA || sh.sh_entsize != sizeof(Elf64_Rela)) continue;
    auto symidx = symtab_index.find(sh.sh_link);
    uint64_t n = sh.sh_size / sizeof(Elf64_Rela);
    for (uint64_t k = 0; k < n; ++k) {
      auto rel = r.get<Elf64_Rela>(sh.sh_offset + k * sizeof(Elf64_Rela));
      CodeReloc cr;
      cr.offset = rel.r_offset;
      cr.type = ELF64_R_TYPE(rel.r_info);
      cr.addend = rel.r_addend;
      uint32_t s = ELF64_R_SYM(rel.r_info);
      if (s && symidx != symtab_index.end() && s < symidx->second.size()) {
        const CodeSymbol& sym = v.symbols[symidx->second[s]];
        cr.symbol = sym.name;
        cr.version = sym.version;
        cr.symbol_defined = sym.defined;
        cr.symbol_value = sym.value;
      }
      v.relocs.push_back(std::move(cr));
    }
  }
  // Static relocations in ET_REL are not expected here; RELA sections of an
  // executable are dynamic ones.

  // Dynamic section: soname, needed, DT_INIT/DT_FINI.
  for (auto& sh : shdrs) {
    if (sh.sh_type != SHT_DYNAMIC || sh.sh_link >= shdrs.size()) continue;
    const Elf64_Shdr& strs = shdrs[sh.sh_link];
    for (uint64_t off = sh.sh_offset; off + sizeof(Elf64_Dyn) <= sh.sh_offset + sh.sh_size; off += sizeof(Elf64_Dyn)) {
      auto d = r.get<Elf64_Dyn>(off);
      if (d.d_tag == DT_NULL) break;
      if (d.d_tag == DT_INIT || d.d_tag == DT_FINI) v.init_fini.push_back(d.d_un.d_ptr);
      if (d.d_tag == DT_SONAME) v.soname = r.str(strs.sh_offset, strs.sh_size, d.d_un.d_val);
      if (d.d_tag == DT_NEEDED) v.needed.push_back(r.str(strs.sh_offset, strs.sh_size, d.d_un.d_val));
    }
  }
  // Init/fini arrays: the relocation at each slot wins over the file bytes.
  std::map<uint64_t, const CodeReloc*> reloc_at;
  for (auto& rel : v.relocs) reloc_at[rel.offset] = &rel;
  for (auto& s : v.sections) {
    if (s.type != SHT_INIT_ARRAY && s.type != SHT_FINI_ARRAY && s.type != SHT_PREINIT_ARRAY) continue;
    for (uint64_t a = s.addr; a + 8 <= s.addr + s.size; a += 8) {
      auto it = reloc_at.find(a);
      uint64_t target = 0;
      if (it != reloc_at.end() && it->second->type == R_X86_64_RELATIVE) target = it->second->addend;
      else if (it != reloc_at.end() && it->second->type == R_X86_64_64 && it->second->symbol_defined)
        target = it->second->symbol_value + it->second->addend;
      else v.read_u64(a, target);
      if (target && target != ~0ull) v.init_fini.push_back(target);
    }
  }
  (void)name;
}

}  // namespace

bool CodeSection::executable() const { return (flags & SHF_EXECINSTR) && (flags & SHF_ALLOC); }

bool CodeView::is_code(uint64_t addr) const {
  for (auto& c : code)
    if (addr >= c.addr && addr - c.addr < c.size) return true;
  return false;
}

const uint8_t* CodeView::at(uint64_t vaddr, uint64_t len) const {
  for (auto& l : loads) {
    if (vaddr >= l.vaddr && vaddr - l.vaddr < l.filesz && len <= l.filesz - (vaddr - l.vaddr))
      return reinterpret_cast<const uint8_t*>(bytes.data() + l.offset + (vaddr - l.vaddr));
  }
  return nullptr;
}

bool CodeView::read_u64(uint64_t vaddr, uint64_t& out) const {
  const uint8_t* p = at(vaddr, 8);
  if (!p) return false;
  std::memcpy(&out, p, 8);
  return true;
}

std::string CodeView::c_string(uint64_t vaddr, size_t max_len) const {
  for (auto& l : loads) {
    if (vaddr >= l.vaddr && vaddr - l.vaddr < l.filesz) {
      const char* p = bytes.data() + l.offset + (vaddr - l.vaddr);
      size_t avail = std::min<uint64_t>(l.filesz - (vaddr - l.vaddr), max_len);
      size_t n = strnlen(p, avail);
      if (n == avail) return {};
      return std::string(p, n);
    }
  }
  return {};
}

std::vector<const CodeSection*> CodeView::rodata() const {
  std::vector<const CodeSection*> out;
  for (auto& s : sections)
    if ((s.flags & SHF_ALLOC) && !(s.flags & SHF_WRITE) && !(s.flags & SHF_EXECINSTR) && s.type == SHT_PROGBITS &&
        s.name.compare(0, 7, ".rodata") == 0)
      out.push_back(&s);
  return out;
}

const CodeSection* CodeView::section_at(uint64_t vaddr) const {
  for (auto& s : sections)
    if ((s.flags & SHF_ALLOC) && vaddr >= s.addr && vaddr - s.addr < s.size) return &s;
  return nullptr;
}

Result<CodeView> parse_code_view(std::string bytes, const std::string& display_name) {
  CodeView v;
  v.bytes = std::move(bytes);
  try {
    parse(v, display_name);
  } catch (const Malformed& m) {
    return bad_input(fmt::format("{}: {}", display_name, m.what));
  }
  return v;
}

Result<CodeView> read_code_view(const std::string& host_path, const std::string& display_name) {
  auto content = read_file(host_path, 2ull << 30);
  if (!content) return bad_input(fmt::format("{}: {}", display_name, content.error().message));
  return parse_code_view(std::move(*content), display_name);
}

}  // namespace decant
