// Reader for the code view (see code_view.h). Reads tables in place, without
// building an object model, since it runs on every library of every closure:
// it needs relocations, version indices and raw bytes that LIEF 0.9 exposes
// only partially. The identification, header and tables come from
// elf_view.h, the same bounds-checked view the validation in front of LIEF
// uses.
#include "elf/code_view.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "elf/elf_view.h"

namespace decant {

namespace {

struct Malformed {
  std::string what;
};

template <typename T>
T get(const ByteView& b, uint64_t off) {
  T v;
  if (!b.read(off, v)) throw Malformed{fmt::format("read past end at {:#x}", off)};
  return v;
}

class Parser {
 public:
  Parser(CodeView& v, const ByteView& b) : v_(v), b_(b) {}

  void run(const ElfTables64& t) {
    shdrs_ = &t.shdrs;
    sections_and_code(t);
    symbols();
    relocations();
    init_fini();
  }

 private:
  void sections_and_code(const ElfTables64& t) {
    for (const Elf64_Phdr& ph : t.phdrs) {
      if (ph.p_type != PT_LOAD) continue;
      if (!b_.contains(ph.p_offset, ph.p_filesz)) throw Malformed{"PT_LOAD past end of file"};
      v_.loads.push_back({ph.p_vaddr, ph.p_offset, ph.p_filesz, ph.p_memsz, ph.p_flags});
    }
    Elf64_Shdr shstr{};
    if (t.eh.e_shstrndx < t.shdrs.size()) shstr = t.shdrs[t.eh.e_shstrndx];
    for (const Elf64_Shdr& sh : t.shdrs) {
      CodeSection s;
      s.name = b_.str(shstr.sh_offset, shstr.sh_size, sh.sh_name);
      s.addr = sh.sh_addr;
      s.size = sh.sh_size;
      s.type = sh.sh_type;
      s.flags = sh.sh_flags;
      if (s.type != SHT_NOBITS && s.type != SHT_NULL && !b_.contains(sh.sh_offset, s.size))
        throw Malformed{fmt::format("section {} past end of file", s.name)};
      v_.sections.push_back(std::move(s));
    }
    for (auto& s : v_.sections)
      if (s.executable() && s.type == SHT_PROGBITS && s.size) v_.code.push_back({s.name, s.addr, s.size});
    if (v_.code.empty())  // section headers stripped: fall back to executable segments
      for (size_t i = 0; i < v_.loads.size(); ++i)
        if (v_.loads[i].flags & PF_X) v_.code.push_back({fmt::format("LOAD#{}", i), v_.loads[i].vaddr, v_.loads[i].filesz});
  }

  // Version names by index, from .gnu.version_d (definitions) and
  // .gnu.version_r (requirements); index 0/1 mean local/global unversioned.
  std::map<uint16_t, std::string> version_names() const {
    const auto& shdrs = *shdrs_;
    std::map<uint16_t, std::string> names;
    for (const Elf64_Shdr& sh : shdrs) {
      if (sh.sh_type != SHT_GNU_verdef && sh.sh_type != SHT_GNU_verneed) continue;
      if (sh.sh_link >= shdrs.size()) continue;
      const Elf64_Shdr& strs = shdrs[sh.sh_link];
      uint64_t off = sh.sh_offset;
      uint64_t end = sh.sh_offset + sh.sh_size;
      for (int guard = 0; guard < 4096 && off + 16 <= end; ++guard) {
        if (sh.sh_type == SHT_GNU_verdef) {
          auto vd = get<Elf64_Verdef>(b_, off);
          if (vd.vd_cnt > 0 && vd.vd_aux) {
            auto aux = get<Elf64_Verdaux>(b_, off + vd.vd_aux);
            names[vd.vd_ndx & 0x7fff] = b_.str(strs.sh_offset, strs.sh_size, aux.vda_name);
          }
          if (!vd.vd_next) break;
          off += vd.vd_next;
        } else {
          auto vn = get<Elf64_Verneed>(b_, off);
          uint64_t aoff = off + vn.vn_aux;
          for (unsigned k = 0; k < vn.vn_cnt && k < 4096; ++k) {
            auto aux = get<Elf64_Vernaux>(b_, aoff);
            names[aux.vna_other & 0x7fff] = b_.str(strs.sh_offset, strs.sh_size, aux.vna_name);
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

  // .dynsym then .symtab, with versions for .dynsym.
  void symbols() {
    const auto& shdrs = *shdrs_;
    auto versions = version_names();
    const Elf64_Shdr* versym = nullptr;
    for (auto& sh : shdrs)
      if (sh.sh_type == SHT_GNU_versym) versym = &sh;
    for (int pass = 0; pass < 2; ++pass) {
      uint32_t want = pass == 0 ? SHT_DYNSYM : SHT_SYMTAB;
      for (size_t si = 0; si < shdrs.size(); ++si) {
        const Elf64_Shdr& sh = shdrs[si];
        if (sh.sh_type != want || sh.sh_entsize != sizeof(Elf64_Sym) || sh.sh_link >= shdrs.size()) continue;
        const Elf64_Shdr& strs = shdrs[sh.sh_link];
        uint64_t n = sh.sh_size / sizeof(Elf64_Sym);
        auto& idx = symtab_index_[si];
        for (uint64_t k = 0; k < n; ++k) {
          auto sym = get<Elf64_Sym>(b_, sh.sh_offset + k * sizeof(Elf64_Sym));
          CodeSymbol cs;
          cs.name = b_.str(strs.sh_offset, strs.sh_size, sym.st_name);
          cs.value = sym.st_value;
          cs.size = sym.st_size;
          cs.type = ELF64_ST_TYPE(sym.st_info);
          cs.bind = ELF64_ST_BIND(sym.st_info);
          cs.defined = sym.st_shndx != SHN_UNDEF;
          cs.dynamic = pass == 0;
          if (pass == 0 && versym && versym->sh_size / 2 == n) {
            auto vs = get<uint16_t>(b_, versym->sh_offset + k * 2);
            cs.default_version = (vs & 0x8000) == 0;
            auto it = versions.find(vs & 0x7fff);
            if ((vs & 0x7fff) > 1 && it != versions.end()) cs.version = it->second;
          }
          idx.push_back(v_.symbols.size());
          v_.symbols.push_back(std::move(cs));
        }
      }
    }
  }

  // Every SHT_RELA section (x86-64 uses RELA only; RELA sections of an
  // executable or shared object are dynamic ones).
  void relocations() {
    for (auto& sh : *shdrs_) {
      if (sh.sh_type != SHT_RELA || sh.sh_entsize != sizeof(Elf64_Rela)) continue;
      auto symidx = symtab_index_.find(sh.sh_link);
      uint64_t n = sh.sh_size / sizeof(Elf64_Rela);
      for (uint64_t k = 0; k < n; ++k) {
        auto rel = get<Elf64_Rela>(b_, sh.sh_offset + k * sizeof(Elf64_Rela));
        CodeReloc cr;
        cr.offset = rel.r_offset;
        cr.type = ELF64_R_TYPE(rel.r_info);
        cr.addend = rel.r_addend;
        uint32_t s = ELF64_R_SYM(rel.r_info);
        if (s && symidx != symtab_index_.end() && s < symidx->second.size()) {
          const CodeSymbol& sym = v_.symbols[symidx->second[s]];
          cr.symbol = sym.name;
          cr.version = sym.version;
          cr.symbol_defined = sym.defined;
          cr.symbol_value = sym.value;
        }
        v_.relocs.push_back(std::move(cr));
      }
    }
  }

  // DT_INIT/DT_FINI, then the init/fini arrays, where the relocation at
  // each slot wins over the file bytes.
  void init_fini() {
    for (auto& sh : *shdrs_) {
      if (sh.sh_type != SHT_DYNAMIC || sh.sh_link >= shdrs_->size()) continue;
      for (uint64_t off = sh.sh_offset; off + sizeof(Elf64_Dyn) <= sh.sh_offset + sh.sh_size; off += sizeof(Elf64_Dyn)) {
        auto d = get<Elf64_Dyn>(b_, off);
        if (d.d_tag == DT_NULL) break;
        if (d.d_tag == DT_INIT || d.d_tag == DT_FINI) v_.init_fini.push_back(d.d_un.d_ptr);
      }
    }
    std::map<uint64_t, const CodeReloc*> reloc_at;
    for (auto& rel : v_.relocs) reloc_at[rel.offset] = &rel;
    for (auto& s : v_.sections) {
      if (s.type != SHT_INIT_ARRAY && s.type != SHT_FINI_ARRAY && s.type != SHT_PREINIT_ARRAY) continue;
      for (uint64_t a = s.addr; a + 8 <= s.addr + s.size; a += 8) {
        auto it = reloc_at.find(a);
        uint64_t target = 0;
        if (it != reloc_at.end() && it->second->type == R_X86_64_RELATIVE) target = it->second->addend;
        else if (it != reloc_at.end() && it->second->type == R_X86_64_64 && it->second->symbol_defined)
          target = it->second->symbol_value + it->second->addend;
        else v_.read_u64(a, target);
        if (target && target != ~0ull) v_.init_fini.push_back(target);
      }
    }
  }

  CodeView& v_;
  const ByteView& b_;
  const std::vector<Elf64_Shdr>* shdrs_ = nullptr;
  std::map<size_t, std::vector<size_t>> symtab_index_;  // section index -> indices into v_.symbols
};

Status parse(CodeView& v, const std::string& name) {
  const std::string& bytes = *v.bytes;
  ByteView b(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  auto ident = parse_elf_ident(b.data(), b.size(), name);
  if (!ident) return ident.error();
  if (!ident->is64 || !ident->little_endian)
    return bad_input(fmt::format("{}: only little-endian ELF64 code is analyzed", name));
  ElfTables64 t;
  t.read_header(b);
  v.type = t.eh.e_type;
  v.entry = t.eh.e_entry;
  if (t.eh.e_machine != EM_X86_64) return bad_input(fmt::format("{}: only x86-64 code is analyzed", name));
  Status tables = t.read_program_headers(b, name);
  if (tables) tables = t.read_section_headers(b, name);
  if (!tables) return tables;
  try {
    Parser(v, b).run(t);
  } catch (const Malformed& m) {
    return bad_input(fmt::format("{}: {}", name, m.what));
  }
  return Status::success();
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
      return reinterpret_cast<const uint8_t*>(bytes->data() + l.offset + (vaddr - l.vaddr));
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
      const char* p = bytes->data() + l.offset + (vaddr - l.vaddr);
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

Result<CodeView> parse_code_view(std::shared_ptr<const std::string> bytes, const std::string& display_name) {
  CodeView v;
  v.bytes = bytes ? std::move(bytes) : std::make_shared<const std::string>();
  Status s = parse(v, display_name);
  if (!s) return s.error();
  return v;
}

Result<CodeView> parse_code_view(std::string bytes, const std::string& display_name) {
  return parse_code_view(std::make_shared<const std::string>(std::move(bytes)), display_name);
}

Result<CodeView> read_code_view(const std::string& host_path, const std::string& display_name) {
  auto content = read_guest_file(host_path, display_name, 2ull << 30);
  if (!content) return content.error();
  return parse_code_view(std::move(*content), display_name);
}

}  // namespace decant
