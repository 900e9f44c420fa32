// Summary building, first steps (summary_builder.h): linear-sweep disassembly
// of every executable range, GOT slots from relocations, PLT stubs, and
// function recovery. Function starts are: defined STT_FUNC/STT_GNU_IFUNC
// symbols of .dynsym and .symtab, the entry point, DT_INIT/DT_FINI and the
// init/fini arrays, code addresses stored in data (relocations, or raw
// pointers in non-PIE files), direct call targets, code addresses taken by
// lea and the pc_begin of every .eh_frame FDE (the compiler's own
// boundaries). Every instruction belongs to the nearest start at or below it,
// so code the recovery misses is attributed to its predecessor (more
// reachable, never less).
#include <algorithm>

#include "analyzer/code/summary_builder.h"
#include "elf/eh_frame.h"

namespace decant {

void SummaryBuilder::disassemble() {
  std::vector<CodeRange> ranges = v_.code;
  std::sort(ranges.begin(), ranges.end(), [](auto& a, auto& b) { return a.addr < b.addr; });
  DisasmStats stats;
  uint64_t covered = 0;
  for (auto& r : ranges) {
    if (r.addr + r.size <= covered) continue;  // overlapping segments
    const uint8_t* p = v_.at(r.addr, r.size);
    if (!p) continue;
    disassemble_x86_64(p, r.size, r.addr, insns_, stats);
    covered = r.addr + r.size;
    if (r.name.compare(0, 4, ".plt") == 0) plt_ranges_.push_back(r);
  }
  s_.instructions = stats.instructions;
  s_.code_bytes = stats.bytes;
}

uint32_t SummaryBuilder::import_index(const std::string& name, const std::string& version) {
  ImportRef key{name, version};
  auto it = import_ids_.find(key);
  if (it != import_ids_.end()) return it->second;
  uint32_t id = static_cast<uint32_t>(s_.imports.size());
  s_.imports.push_back(key);
  import_ids_[key] = id;
  return id;
}

void SummaryBuilder::index_relocations() {
  for (auto& r : v_.relocs) {
    switch (r.type) {
      case R_X86_64_JUMP_SLOT:
      case R_X86_64_GLOB_DAT:
      case R_X86_64_64: {
        if (!r.symbol.empty()) slots_[r.offset].import = import_index(r.symbol, r.version);
        else if (r.type == R_X86_64_64) slots_[r.offset].local = static_cast<uint64_t>(r.addend);
        if (r.type == R_X86_64_JUMP_SLOT) break;  // reached through the PLT stub
        DataSlot d{r.offset, 0, slots_[r.offset].import};
        if (r.symbol.empty()) d.local = static_cast<uint64_t>(r.addend);
        else if (r.symbol_defined) d.local = r.symbol_value + r.addend;
        data_slots_.push_back(d);
        // Non-PIE files: a pointer to a function stored in data is
        // reachable as soon as the object is loaded (no data items there).
        if (r.type == R_X86_64_64) {
          if (!r.symbol.empty() && !r.symbol_defined) data_imports_.insert(slots_[r.offset].import);
          else data_code_.push_back(d.local);
        }
        break;
      }
      case R_X86_64_RELATIVE:
        slots_[r.offset].local = static_cast<uint64_t>(r.addend);
        data_code_.push_back(static_cast<uint64_t>(r.addend));
        data_slots_.push_back({r.offset, static_cast<uint64_t>(r.addend), -1});
        break;
      case R_X86_64_IRELATIVE:
        slots_[r.offset].local = static_cast<uint64_t>(r.addend);
        data_code_.push_back(static_cast<uint64_t>(r.addend));
        irelative_.push_back(static_cast<uint64_t>(r.addend));  // the resolver runs at load time
        break;
      case R_X86_64_COPY:
        // The program's copy of a library variable starts as the library's
        // bytes: whatever the library's item points to is live.
        if (!r.symbol.empty()) copy_imports_.insert(import_index(r.symbol, r.version));
        break;
      default:
        break;
    }
  }
  if (v_.type == ET_EXEC) {
    // No relocations for pointers in a non-PIE file: scan data for code addresses.
    for (auto& sec : v_.sections) {
      if (!(sec.flags & SHF_ALLOC) || (sec.flags & SHF_EXECINSTR) || sec.type == SHT_NOBITS) continue;
      for (uint64_t a = (sec.addr + 7) & ~7ull; a + 8 <= sec.addr + sec.size; a += 8) {
        uint64_t val;
        if (v_.read_u64(a, val) && v_.is_code(val)) data_code_.push_back(val);
      }
    }
  }
}

SlotTarget SummaryBuilder::slot(uint64_t addr) const {
  auto it = slots_.find(addr);
  if (it != slots_.end()) return it->second;
  SlotTarget t;
  uint64_t val;
  if (v_.type == ET_EXEC && v_.read_u64(addr, val) && v_.is_code(val)) t.local = val;
  return t;
}

void SummaryBuilder::find_plt_stubs() {
  for (size_t i = 0; i < insns_.size(); ++i) {
    const Insn& in = insns_[i];
    if (in.flow != Flow::Jump || !in.branch_mem) continue;
    bool in_plt = false;
    for (auto& r : plt_ranges_)
      if (in.addr >= r.addr && in.addr < r.addr + r.size) in_plt = true;
    if (!in_plt) continue;
    stubs_[in.addr] = in.ref;
    // endbr64 (or another lead-in) right before the jump belongs to the stub.
    if (i > 0 && insns_[i - 1].flow == Flow::None && insns_[i - 1].addr + insns_[i - 1].size == in.addr &&
        insns_[i - 1].size == 4)
      stubs_[insns_[i - 1].addr] = in.ref;
  }
}

void SummaryBuilder::add_start(uint64_t a) {
  if (v_.is_code(a) && !stubs_.count(a)) starts_.insert(a);
}

void SummaryBuilder::collect_starts() {
  for (auto& r : v_.code) starts_.insert(r.addr);
  for (auto& sym : v_.symbols)
    if (sym.defined && (sym.type == STT_FUNC || sym.type == STT_GNU_IFUNC) && sym.value) {
      add_start(sym.value);
      auto& name = names_[sym.value];
      // Prefer exported names, then the shortest local one.
      if (name.empty() || (sym.dynamic && sym.bind != STB_LOCAL && !name_dynamic_[sym.value]) ||
          (sym.dynamic == name_dynamic_[sym.value] && sym.name.size() < name.size() && !sym.name.empty())) {
        name = sym.name;
        name_dynamic_[sym.value] = sym.dynamic && sym.bind != STB_LOCAL;
      }
    }
  add_start(v_.entry);
  for (uint64_t a : v_.init_fini) add_start(a);
  for (uint64_t a : data_code_) add_start(a);
  for (auto& in : insns_) {
    if (in.flow == Flow::Call && !in.indirect) add_start(in.target);
    if (in.op == Op::Lea && v_.is_code(in.ref)) add_start(in.ref);
    if (v_.type == ET_EXEC && in.has_imm && in.imm > 0) add_start(static_cast<uint64_t>(in.imm));
  }
  for (auto& [stub, slot_addr] : stubs_) {
    SlotTarget t = slot(slot_addr);
    if (t.import < 0 && t.local) add_start(t.local);
  }
  collect_fde_starts();
}

// The start address (pc_begin) of every FDE in .eh_frame (elf/eh_frame.h):
// the compiler's own function boundaries, also in stripped objects. Without
// them a function only ever reached by a tail jump is absorbed by its
// predecessor (crtstuff's frame_dummy, an init_array entry, swallowed the
// first function of every stripped library).
void SummaryBuilder::collect_fde_starts() {
  const CodeSection* eh = nullptr;
  for (auto& sec : v_.sections)
    if (sec.name == ".eh_frame" && sec.type == SHT_PROGBITS && sec.addr) eh = &sec;
  if (!eh || eh->size < 8 || eh->size > (1ull << 30)) return;
  const uint8_t* base = v_.at(eh->addr, eh->size);
  if (!base) return;
  for (uint64_t pc : eh_frame_fde_starts(base, eh->size, eh->addr, v_.type == ET_EXEC)) add_start(pc);
}

void SummaryBuilder::assign_functions() {
  std::vector<uint64_t> starts(starts_.begin(), starts_.end());
  s_.functions.resize(starts.size());
  first_.assign(starts.size() + 1, insns_.size());
  size_t k = 0;
  for (size_t f = 0; f < starts.size(); ++f) {
    s_.functions[f].addr = starts[f];
    auto n = names_.find(starts[f]);
    if (n != names_.end()) s_.functions[f].name = n->second;
    while (k < insns_.size() && insns_[k].addr < starts[f]) ++k;
    first_[f] = k;
  }
  first_[starts.size()] = insns_.size();
  starts_vec_ = std::move(starts);
}

int64_t SummaryBuilder::function_of(uint64_t addr) const {
  auto it = std::upper_bound(starts_vec_.begin(), starts_vec_.end(), addr);
  if (it == starts_vec_.begin()) return -1;
  return (it - starts_vec_.begin()) - 1;
}

}  // namespace decant
