// Builds the per-object summary (object_summary.h): linear-sweep disassembly
// of every executable section, function recovery, and the edges of the call
// graph inside the object and out of it through PLT stubs and GOT slots.
//
// Function starts are: defined STT_FUNC/STT_GNU_IFUNC symbols of .dynsym and
// .symtab, the entry point, DT_INIT/DT_FINI and the init/fini arrays, code
// addresses stored in data (relocations, or raw pointers in non-PIE files),
// direct call targets, code addresses taken by lea and the pc_begin of every
// .eh_frame FDE (the compiler's own boundaries). Every instruction
// belongs to the nearest start at or below it, so code the recovery misses is
// attributed to its predecessor (more reachable, never less), and a function
// that can fall off its end gets an edge to the next one. Data holding
// pointers is cut into items (DataItem) so that a table's functions become
// reachable only with the code that uses the table.
#include <algorithm>
#include <elf.h>
#include <map>
#include <set>

#include <fmt/format.h>

#include "analyzer/code/object_summary.h"
#include "analyzer/code/syscall_sites.h"

namespace decant {

namespace {

constexpr uint64_t kVsyscallBase = 0xffffffffff600000ull;
bool is_vsyscall(uint64_t a) { return a == kVsyscallBase || a == kVsyscallBase + 0x400 || a == kVsyscallBase + 0x800; }

// Where a GOT slot leads: an imported symbol (resolved in the global scope at
// run time) or a local address (RELATIVE/IRELATIVE, or a constant slot).
struct SlotTarget {
  int64_t import = -1;
  uint64_t local = 0;
};

class Builder {
 public:
  Builder(const CodeView& v, ObjectSummary& s) : v_(v), s_(s) {}

  void run() {
    disassemble();
    index_relocations();
    find_plt_stubs();
    collect_starts();
    assign_functions();
    build_data_items();
    build_edges();
    resolve_syscall_numbers();
    propagate_number_params();
    collect_exports_and_roots();
    extract_literals(v_, insns_, first_, s_);
  }

 private:
  void disassemble() {
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

  uint32_t import_index(const std::string& name, const std::string& version) {
    ImportRef key{name, version};
    auto it = import_ids_.find(key);
    if (it != import_ids_.end()) return it->second;
    uint32_t id = static_cast<uint32_t>(s_.imports.size());
    s_.imports.push_back(key);
    import_ids_[key] = id;
    return id;
  }

  void index_relocations() {
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

  SlotTarget slot(uint64_t addr) const {
    auto it = slots_.find(addr);
    if (it != slots_.end()) return it->second;
    SlotTarget t;
    uint64_t val;
    if (v_.type == ET_EXEC && v_.read_u64(addr, val) && v_.is_code(val)) t.local = val;
    return t;
  }

  void find_plt_stubs() {
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

  void add_start(uint64_t a) {
    if (v_.is_code(a) && !stubs_.count(a)) starts_.insert(a);
  }

  void collect_starts() {
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

  // The start address (pc_begin) of every FDE in .eh_frame: the compiler's
  // own function boundaries, also in stripped objects. Without them a
  // function only ever reached by a tail jump is absorbed by its
  // predecessor (crtstuff's frame_dummy, an init_array entry, swallowed the
  // first function of every stripped library). Malformed or unusual records
  // (indirect or data-relative encodings) are skipped: a start fewer only
  // merges code, it never loses any.
  void collect_fde_starts() {
    const CodeSection* eh = nullptr;
    for (auto& sec : v_.sections)
      if (sec.name == ".eh_frame" && sec.type == SHT_PROGBITS && sec.addr) eh = &sec;
    if (!eh || eh->size < 8 || eh->size > (1ull << 30)) return;
    const uint8_t* base = v_.at(eh->addr, eh->size);
    if (!base) return;
    const uint64_t size = eh->size;
    auto u32 = [&](uint64_t o) {
      uint32_t x = 0;
      for (int k = 3; k >= 0; --k) x = (x << 8) | base[o + k];
      return x;
    };
    auto uleb = [&](uint64_t& o, uint64_t end) -> bool {
      for (int shift = 0; o < end && shift < 64; shift += 7)
        if (!(base[o++] & 0x80)) return true;
      return false;
    };
    // Reads a pointer with `enc` at offset o (advancing it); false if the
    // encoding is not one this resolves to an address.
    auto pointer = [&](uint64_t& o, uint64_t end, uint8_t enc, uint64_t* out) -> bool {
      uint64_t field = eh->addr + o;
      int64_t v = 0;
      switch (enc & 0x0f) {
        case 0x00:
        case 0x04:
        case 0x0c:
          if (o + 8 > end) return false;
          for (int k = 7; k >= 0; --k) v = (v << 8) | base[o + k];
          o += 8;
          break;
        case 0x03:
          if (o + 4 > end) return false;
          v = u32(o);
          o += 4;
          break;
        case 0x0b:
          if (o + 4 > end) return false;
          v = static_cast<int32_t>(u32(o));
          o += 4;
          break;
        default:
          return false;
      }
      if ((enc & 0x70) == 0x10) v += static_cast<int64_t>(field);
      else if ((enc & 0x70) != 0 || v_.type != ET_EXEC) return false;  // absolute values need relocating in a DSO
      if (enc & 0x80) return false;                                     // indirect
      *out = static_cast<uint64_t>(v);
      return true;
    };
    std::map<uint64_t, uint8_t> cie_encoding;  // CIE offset -> FDE pointer encoding
    uint64_t o = 0;
    for (int guard = 0; guard < 4000000 && o + 8 <= size; ++guard) {
      uint64_t len = u32(o);
      if (len == 0) break;
      if (len == 0xffffffffu) return;  // 64-bit DWARF: not produced for x86-64 .eh_frame
      uint64_t start = o, end = o + 4 + len;
      if (end > size || len < 4) return;
      uint64_t id_at = o + 4;
      uint32_t id = u32(id_at);
      uint64_t p = id_at + 4;
      if (id == 0) {  // CIE
        uint8_t enc = 0;  // DW_EH_PE_absptr unless 'R' says otherwise
        if (p >= end) return;
        uint8_t version = base[p++];
        std::string aug;
        while (p < end && base[p]) aug += static_cast<char>(base[p++]);
        ++p;
        bool ok = p < end && aug.find("eh") == std::string::npos && uleb(p, end) && uleb(p, end);  // alignment factors
        if (ok) {
          if (version == 1) ++p;
          else ok = uleb(p, end);
        }
        if (ok && !aug.empty() && aug[0] == 'z') {
          ok = uleb(p, end);
          for (size_t k = 1; ok && k < aug.size(); ++k) {
            if (p >= end) ok = false;
            else if (aug[k] == 'R') enc = base[p++];
            else if (aug[k] == 'L') ++p;
            else if (aug[k] == 'P') {  // personality pointer: skipped, by its size
              uint8_t f = base[p++] & 0x0f;
              if (f == 0x00 || f == 0x04 || f == 0x0c) p += 8;
              else if (f == 0x03 || f == 0x0b) p += 4;
              else if (f == 0x02 || f == 0x0a) p += 2;
              else ok = false;
            } else if (aug[k] != 'S' && aug[k] != 'B') {
              ok = false;
            }
          }
        }
        if (ok) cie_encoding[start] = enc;
      } else {  // FDE: id is the distance back to its CIE
        if (id <= id_at) {
          auto cie = cie_encoding.find(id_at - id);
          uint64_t pc = 0;
          if (cie != cie_encoding.end() && cie->second != 0xff && pointer(p, end, cie->second, &pc) && pc)
            add_start(pc);
        }
      }
      o = end;
    }
  }

  void assign_functions() {
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

  int64_t function_of(uint64_t addr) const {
    auto it = std::upper_bound(starts_vec_.begin(), starts_vec_.end(), addr);
    if (it == starts_vec_.begin()) return -1;
    return (it - starts_vec_.begin()) - 1;
  }

  // --- Data items (object_summary.h: DataItem) ---------------------------
  // Only for relocatable objects (PIE, shared libraries): there every
  // pointer in data carries a relocation, so the graph of who points where
  // is complete. Non-PIE files keep the load-time rule.
  bool use_items() const { return v_.type != ET_EXEC; }

  bool in_data(uint64_t a) const {
    auto r = std::upper_bound(regions_.begin(), regions_.end(), std::make_pair(a, UINT64_MAX));
    return r != regions_.begin() && a < std::prev(r)->second && !v_.is_code(a);
  }

  int64_t raw_item_of(uint64_t a) const {
    if (!in_data(a)) return -1;
    auto it = std::upper_bound(bounds_.begin(), bounds_.end(), a);
    if (it == bounds_.begin()) return -1;
    return (it - bounds_.begin()) - 1;
  }

  // Pointer slots in [lo, hi), as indices into data_slots_ (sorted by address).
  std::pair<size_t, size_t> slots_in(uint64_t lo, uint64_t hi) const {
    auto cmp = [](const DataSlot& d, uint64_t a) { return d.at < a; };
    size_t b = std::lower_bound(data_slots_.begin(), data_slots_.end(), lo, cmp) - data_slots_.begin();
    size_t e = std::lower_bound(data_slots_.begin(), data_slots_.end(), hi, cmp) - data_slots_.begin();
    return {b, std::max(b, e)};
  }

  // Would splitting at `a` (an address code takes with lea) cut an array
  // whose base is `prev`? Yes when the pointer slots after `a` repeat those
  // after `prev` at the same relative offsets: then `a` may be &table[k],
  // and code indexing the table from its base must keep the entries past it.
  bool looks_like_array_interior(uint64_t prev, uint64_t a, uint64_t next) const {
    uint64_t len = std::min(a - prev, next - a);
    auto [b1, e1] = slots_in(prev, prev + len);
    auto [b2, e2] = slots_in(a, a + len);
    if (e1 - b1 != e2 - b2) return false;
    if (b1 == e1) return false;  // no pointers before `a`: nothing to lose
    for (size_t k = 0; k < e1 - b1; ++k)
      if (data_slots_[b1 + k].at - prev != data_slots_[b2 + k].at - a) return false;
    return true;
  }

  void build_data_items() {
    if (!use_items()) return;
    for (auto& sec : v_.sections)
      if ((sec.flags & SHF_ALLOC) && !(sec.flags & SHF_EXECINSTR) && sec.size && sec.type != SHT_NULL &&
          sec.addr + sec.size > sec.addr)
        regions_.push_back({sec.addr, sec.addr + sec.size});
    if (v_.sections.empty())
      for (auto& l : v_.loads)
        if (!(l.flags & PF_X) && l.memsz && l.vaddr + l.memsz > l.vaddr) regions_.push_back({l.vaddr, l.vaddr + l.memsz});
    std::sort(regions_.begin(), regions_.end());
    std::sort(data_slots_.begin(), data_slots_.end(), [](auto& x, auto& y) { return x.at < y.at; });
    data_slots_.erase(std::remove_if(data_slots_.begin(), data_slots_.end(), [&](auto& d) { return !in_data(d.at); }),
                      data_slots_.end());

    // Hard starts: where one object certainly begins.
    std::set<uint64_t> starts;
    for (auto& [lo, hi] : regions_) starts.insert({lo, hi});
    for (auto& sec : v_.sections)  // each GOT slot is its own item: code loads slots one by one
      if ((sec.name == ".got" || sec.name == ".got.plt") && sec.size < (64u << 20))
        for (uint64_t a = sec.addr; a < sec.addr + sec.size; a += 8) starts.insert(a);
    for (auto& sym : v_.symbols)
      if (sym.defined && (sym.type == STT_OBJECT || sym.type == STT_COMMON) && sym.value) {
        starts.insert(sym.value);
        if (sym.size && sym.value + sym.size > sym.value) starts.insert(sym.value + sym.size);
      }
    for (auto& d : data_slots_)  // an address stored in data is the start of what it points to
      if (d.local && in_data(d.local)) starts.insert(d.local);
    // Soft starts: addresses code takes with lea, unless they look like the
    // inside of an array (looks_like_array_interior).
    std::set<uint64_t> leas;
    for (auto& in : insns_)
      if (in.op == Op::Lea && in_data(in.ref) && !starts.count(in.ref)) leas.insert(in.ref);
    std::set<uint64_t> all = starts;
    all.insert(leas.begin(), leas.end());
    for (uint64_t a : leas) {
      auto prev = std::prev(starts.upper_bound(a));
      auto next = all.upper_bound(a);
      if (next == all.end() || a - *prev > (1u << 20)) continue;
      if (!looks_like_array_interior(*prev, a, *next)) starts.insert(a);
    }
    bounds_.assign(starts.begin(), starts.end());

    slot_item_.resize(data_slots_.size());
    for (size_t k = 0; k < data_slots_.size(); ++k) slot_item_[k] = raw_item_of(data_slots_[k].at);
    for (size_t k = 0; k < data_slots_.size(); ++k) {
      int64_t r = slot_item_[k];
      if (r < 0) continue;
      if (!compact_.count(r)) {
        compact_[r] = static_cast<uint32_t>(s_.items.size());
        s_.items.push_back({bounds_[r], {}, {}, {}});
      }
      add_slot_edges(s_.items[compact_[r]], k);
    }
    for (auto& [r, c] : compact_) finish_item(s_.items[c]);
  }

  // Adds the edges of data_slots_[k] to `item`; item targets are raw item
  // numbers until finish_item() maps them.
  void add_slot_edges(DataItem& item, size_t k) {
    const DataSlot& d = data_slots_[k];
    if (d.import >= 0) item.imports.push_back(static_cast<uint32_t>(d.import));
    if (d.local && v_.is_code(d.local)) {
      int64_t f = function_of(d.local);
      if (f >= 0) item.functions.push_back(static_cast<uint32_t>(f));
    } else if (d.local) {
      int64_t t = raw_item_of(d.local);
      if (t >= 0 && t != slot_item_[k]) item.items.push_back(static_cast<uint32_t>(t));
    }
  }

  void finish_item(DataItem& item) {
    std::vector<uint32_t> mapped;
    for (uint32_t t : item.items) {
      auto c = compact_.find(t);
      if (c != compact_.end()) mapped.push_back(c->second);
    }
    item.items = std::move(mapped);
    for (auto* v : {&item.functions, &item.items, &item.imports}) {
      std::sort(v->begin(), v->end());
      v->erase(std::unique(v->begin(), v->end()), v->end());
    }
  }

  // Code referring to data address `a`: a lea takes an address that may be
  // indexed or passed on, so the whole item is used; a load or store
  // touches exactly its operand's bytes, so only the slots inside them.
  void refer_to_data(FunctionSummary& fn, const Insn& in) {
    uint64_t a = in.ref;
    if (!use_items() || !in_data(a)) return;
    if (in.mem_size == 0) {
      int64_t r = raw_item_of(a);
      if (r < 0) return;
      anchored_.insert(r);
      auto c = compact_.find(r);
      if (c != compact_.end()) fn.data.push_back(c->second);
      return;
    }
    auto [b, e] = slots_in(a, a + in.mem_size);
    if (b == e) return;
    for (size_t k = b; k < e; ++k) seen_slots_.insert(k);
    auto key = std::make_pair(a, static_cast<uint64_t>(in.mem_size));
    auto it = precise_.find(key);
    if (it == precise_.end()) {
      DataItem item{a, {}, {}, {}};
      for (size_t k = b; k < e; ++k) add_slot_edges(item, k);
      finish_item(item);
      it = precise_.emplace(key, static_cast<uint32_t>(s_.items.size())).first;
      s_.items.push_back(std::move(item));
    }
    fn.data.push_back(it->second);
  }

  void edge_to_slot(FunctionSummary& fn, uint64_t slot_addr, bool& resolved) {
    SlotTarget t = slot(slot_addr);
    resolved = false;
    if (t.import >= 0) {
      fn.imports.push_back(static_cast<uint32_t>(t.import));
      resolved = true;
    } else if (t.local && v_.is_code(t.local)) {
      int64_t g = function_of(t.local);
      if (g >= 0) fn.calls.push_back(static_cast<uint32_t>(g));
      resolved = true;
    }
  }

  // Functions that cannot return: known C library names, and local code
  // with neither a return nor a jump out of itself (computed to a fixpoint
  // so that wrappers of abort() qualify too).
  static bool noreturn_name(const std::string& n) {
    static const std::set<std::string> names{
        "abort", "exit", "_exit", "_Exit", "__stack_chk_fail", "__stack_chk_fail_local", "__assert_fail",
        "__assert_perror_fail", "__fortify_fail", "__chk_fail", "__libc_fatal", "err", "errx", "verr", "verrx",
        "pthread_exit", "longjmp", "siglongjmp", "_longjmp", "__longjmp_chk", "__cxa_throw", "__cxa_rethrow",
        "_Unwind_Resume", "__cxa_bad_cast", "__cxa_bad_typeid", "__cxa_throw_bad_array_new_length",
        "quick_exit", "__libc_longjmp", "__libc_siglongjmp", "_dl_signal_error", "__malloc_assert"};
    return names.count(n) > 0;
  }

  bool calls_noreturn(const Insn& in) const {
    if (in.flow != Flow::Call || in.indirect) return false;
    auto stub = stubs_.find(in.target);
    if (stub != stubs_.end()) {
      SlotTarget t = slot(stub->second);
      if (t.import >= 0) return noreturn_name(s_.imports[t.import].name);
      return false;
    }
    auto it = std::lower_bound(starts_vec_.begin(), starts_vec_.end(), in.target);
    if (it == starts_vec_.end() || *it != in.target) return false;
    return noreturn_[it - starts_vec_.begin()];
  }

  void find_noreturn() {
    size_t n = s_.functions.size();
    noreturn_.assign(n, false);
    for (size_t f = 0; f < n; ++f) noreturn_[f] = noreturn_name(s_.functions[f].name);
    for (int round = 0; round < 3; ++round) {
      bool changed = false;
      for (size_t f = 0; f < n; ++f) {
        if (noreturn_[f] || first_[f] == first_[f + 1]) continue;
        bool may_return = false;
        uint64_t lo = s_.functions[f].addr;
        uint64_t hi = insns_[first_[f + 1] - 1].addr + insns_[first_[f + 1] - 1].size;
        size_t last = first_[f + 1];
        while (last > first_[f] && insns_[last - 1].padding) --last;
        for (size_t i = first_[f]; i < last && !may_return; ++i) {
          const Insn& in = insns_[i];
          if (in.flow == Flow::Ret) may_return = true;
          if ((in.flow == Flow::Jump || in.flow == Flow::CondJump) && (in.indirect || in.target < lo || in.target >= hi))
            may_return = true;
        }
        if (last > first_[f] && !is_terminator(insns_[last - 1]) && !calls_noreturn(insns_[last - 1])) may_return = true;
        if (!may_return) {
          noreturn_[f] = true;
          changed = true;
        }
      }
      if (!changed) break;
    }
    for (auto& in : insns_)
      if (calls_noreturn(in)) in.no_return = true;
  }

  void build_edges() {
    find_noreturn();
    for (size_t f = 0; f < s_.functions.size(); ++f) {
      FunctionSummary& fn = s_.functions[f];
      for (size_t i = first_[f]; i < first_[f + 1]; ++i) {
        const Insn& in = insns_[i];
        bool branch = in.flow == Flow::Call || in.flow == Flow::Jump || in.flow == Flow::CondJump;
        if (branch && !in.indirect) {
          if (is_vsyscall(in.target)) fn.vsyscall.push_back(in.addr);
          auto stub = stubs_.find(in.target);
          bool done = false;
          if (stub != stubs_.end()) edge_to_slot(fn, stub->second, done);
          if (!done && v_.is_code(in.target)) {
            int64_t g = function_of(in.target);
            if (g >= 0 && static_cast<size_t>(g) != f) fn.calls.push_back(static_cast<uint32_t>(g));
          }
        } else if (in.ref) {
          bool done = false;
          edge_to_slot(fn, in.ref, done);  // call *slot, jmp *slot, mov slot,%reg: all use the function
          if (!done && in.op == Op::Lea && v_.is_code(in.ref)) {
            int64_t g = function_of(in.ref);
            if (g >= 0 && static_cast<size_t>(g) != f) fn.calls.push_back(static_cast<uint32_t>(g));
          }
        }
        if (in.ref) refer_to_data(fn, in);
        if (in.has_imm) {
          uint64_t imm = static_cast<uint64_t>(in.imm);
          if (is_vsyscall(imm)) fn.vsyscall.push_back(in.addr);
          if (v_.type == ET_EXEC && v_.is_code(imm)) {
            int64_t g = function_of(imm);
            if (g >= 0 && static_cast<size_t>(g) != f) fn.calls.push_back(static_cast<uint32_t>(g));
          }
        }
        if (in.flow == Flow::Syscall || in.flow == Flow::Int80) fn.raw_sites.push_back(in.addr);
      }
      add_jump_table_edges(f, fn);
      // Falling off the end continues in the next function. Alignment
      // padding after the last real instruction does not count, and neither
      // does a final call to a function that never returns.
      size_t last = first_[f + 1];
      while (last > first_[f] && insns_[last - 1].padding) --last;
      if (last > first_[f] && f + 1 < s_.functions.size()) {
        const Insn& end = insns_[last - 1];
        bool contiguous = insns_[first_[f + 1] - 1].addr + insns_[first_[f + 1] - 1].size == s_.functions[f + 1].addr;
        if (!is_terminator(end) && contiguous && !calls_noreturn(end))
          fn.calls.push_back(static_cast<uint32_t>(f + 1));
      }
      std::sort(fn.calls.begin(), fn.calls.end());
      fn.calls.erase(std::unique(fn.calls.begin(), fn.calls.end()), fn.calls.end());
      std::sort(fn.imports.begin(), fn.imports.end());
      fn.imports.erase(std::unique(fn.imports.begin(), fn.imports.end()), fn.imports.end());
      std::sort(fn.data.begin(), fn.data.end());
      fn.data.erase(std::unique(fn.data.begin(), fn.data.end()), fn.data.end());
    }
  }

  // A switch's jump table (`lea T(%rip),%r; movslq (%r,%i,4),%i; add %r,%i;
  // jmp *%i`: 32-bit offsets from T) may send control to a block outside the
  // function's range, e.g. a case the compiler moved to a .cold part that
  // has an FDE of its own. In a function with a register-indirect jump, every
  // table such a lea names is read while its entries land in code, and each
  // entry outside the function is an edge. Reading too far only adds edges.
  void add_jump_table_edges(size_t f, FunctionSummary& fn) {
    bool jumps_indirect = false;
    for (size_t i = first_[f]; i < first_[f + 1]; ++i)
      if (insns_[i].flow == Flow::Jump && insns_[i].indirect && !insns_[i].branch_mem) jumps_indirect = true;
    if (!jumps_indirect) return;
    if (referenced_.empty())
      for (auto& x : insns_)
        if (x.ref) referenced_.insert(x.ref);
    for (size_t i = first_[f]; i < first_[f + 1]; ++i) {
      const Insn& in = insns_[i];
      if (in.op != Op::Lea || !in.ref || v_.is_code(in.ref)) continue;
      for (uint64_t k = 0; k < 4096; ++k) {
        if (k && referenced_.count(in.ref + 4 * k)) break;  // the next table (or other data) starts
        const uint8_t* e = v_.at(in.ref + 4 * k, 4);
        if (!e) break;
        int32_t off = static_cast<int32_t>(uint32_t(e[0]) | uint32_t(e[1]) << 8 | uint32_t(e[2]) << 16 | uint32_t(e[3]) << 24);
        uint64_t t = in.ref + static_cast<int64_t>(off);
        if (!v_.is_code(t)) break;
        int64_t g = function_of(t);
        if (g >= 0 && static_cast<size_t>(g) != f) fn.calls.push_back(static_cast<uint32_t>(g));
      }
    }
  }

  const PredecessorMap& preds_of(size_t f) {
    auto it = pred_cache_.find(f);
    if (it != pred_cache_.end()) return it->second;
    return pred_cache_[f] = predecessors(insns_, first_[f], first_[f + 1]);
  }

  // Records the outcome of tracking a syscall number into fn.
  void record(FunctionSummary& fn, const TrackedValue& tv, uint64_t site) {
    for (int64_t v : tv.values) {
      if (v >= 0 && v < 4096) fn.syscalls.push_back({static_cast<int>(v), site});
      else fn.unresolved.push_back(site);
    }
    for (int p : tv.params) {
      if (fn.number_param == kNoReg) fn.number_param = static_cast<int8_t>(p);
      else if (fn.number_param != p) fn.unresolved.push_back(site);
    }
    if (tv.unknown) fn.unresolved.push_back(site);
  }

  void resolve_syscall_numbers() {
    for (size_t f = 0; f < s_.functions.size(); ++f) {
      FunctionSummary& fn = s_.functions[f];
      for (size_t i = first_[f]; i < first_[f + 1]; ++i) {
        const Insn& in = insns_[i];
        if (in.flow == Flow::Syscall) {
          record(fn, track_register(insns_, first_[f], first_[f + 1], i, kRax, preds_of(f)), in.addr);
        } else if (in.flow == Flow::Int80) {
          fn.unresolved.push_back(in.addr);  // i386 numbers in 64-bit code: not mapped
        } else if (in.flow == Flow::Call) {
          // Constant first arguments of imported calls (for syscall() across objects).
          int64_t imp = -1;
          if (!in.indirect) {
            auto stub = stubs_.find(in.target);
            if (stub != stubs_.end()) imp = slot(stub->second).import;
          } else if (in.branch_mem) {
            imp = slot(in.ref).import;
          }
          if (imp < 0) continue;
          TrackedValue tv = track_register(insns_, first_[f], first_[f + 1], i, kRdi, preds_of(f));
          if (tv.values.empty() || tv.unknown || !tv.params.empty()) continue;
          ImportArgCall call{static_cast<uint32_t>(imp), in.addr, {}};
          for (int64_t v : tv.values)
            if (v >= 0 && v < 65536) call.values.push_back(v);  // syscall numbers, ports for htons()
          if (call.values.size() == tv.values.size()) fn.import_args.push_back(std::move(call));
        }
      }
    }
  }

  // A local function taking the syscall number as an argument (syscall()
  // itself, glibc's internal helpers): resolve the argument at its callers,
  // which may in turn pass it on from their own arguments.
  void propagate_number_params() {
    for (int round = 0; round < 4; ++round) {
      bool changed = false;
      for (size_t f = 0; f < s_.functions.size(); ++f) {
        for (size_t i = first_[f]; i < first_[f + 1]; ++i) {
          const Insn& in = insns_[i];
          if (in.flow != Flow::Call && in.flow != Flow::Jump) continue;
          if (in.indirect || !v_.is_code(in.target)) continue;
          int64_t g = function_of(in.target);
          if (g < 0 || static_cast<size_t>(g) == f || s_.functions[g].addr != in.target) continue;
          int reg = s_.functions[g].number_param;
          if (reg == kNoReg) continue;
          if (!handled_.insert({in.addr, reg}).second) continue;
          TrackedValue tv = track_register(insns_, first_[f], first_[f + 1], i, reg, preds_of(f));
          record(s_.functions[f], tv, in.addr);
          changed = true;
        }
      }
      if (!changed) break;
    }
  }

  void collect_exports_and_roots() {
    std::set<std::tuple<std::string, std::string>> seen;
    for (auto& sym : v_.symbols) {
      if (!sym.dynamic || !sym.defined || sym.bind == STB_LOCAL) continue;
      if (sym.type != STT_FUNC && sym.type != STT_GNU_IFUNC) continue;
      int64_t f = function_of(sym.value);
      if (f < 0 || !v_.is_code(sym.value)) continue;
      if (!seen.insert({sym.name, sym.version}).second) continue;
      s_.exports.push_back({sym.name, sym.version, sym.default_version, static_cast<uint32_t>(f)});
    }
    std::set<uint32_t> roots;
    auto root = [&](uint64_t a) {
      if (!v_.is_code(a)) return;
      int64_t f = function_of(a);
      if (f >= 0) roots.insert(static_cast<uint32_t>(f));
    };
    for (uint64_t a : v_.init_fini) root(a);
    for (uint64_t a : irelative_) root(a);
    if (v_.is_code(v_.entry)) {
      int64_t f = function_of(v_.entry);
      if (f >= 0) s_.entry_function = f;
    }
    std::set<uint32_t> root_imports(copy_imports_.begin(), copy_imports_.end());
    if (!use_items()) {
      for (uint64_t a : data_code_) root(a);
      root_imports.insert(data_imports_.begin(), data_imports_.end());
    } else {
      collect_data_roots(roots, root_imports);
    }
    s_.roots.assign(roots.begin(), roots.end());
    s_.root_imports.assign(root_imports.begin(), root_imports.end());
  }

  // Exported data, and the pointer slots nothing visible refers to: those
  // are read by someone we cannot see (ld.so, the unwinder, __start_SECTION
  // loops, dlsym), so they stay reachable from load time.
  void collect_data_roots(std::set<uint32_t>& roots, std::set<uint32_t>& root_imports) {
    std::set<std::tuple<std::string, std::string>> seen;
    for (auto& sym : v_.symbols) {
      if (!sym.dynamic || !sym.defined || sym.bind == STB_LOCAL) continue;
      if (sym.type != STT_OBJECT && sym.type != STT_COMMON) continue;
      int64_t r = raw_item_of(sym.value);
      if (r < 0) continue;
      anchored_.insert(r);
      auto c = compact_.find(r);
      if (c == compact_.end() || !seen.insert({sym.name, sym.version}).second) continue;
      s_.data_exports.push_back({sym.name, sym.version, sym.default_version, c->second});
    }
    // Visible slots: inside an item code takes the address of or an export
    // names, read by a load, or inside an item a visible slot points to.
    std::map<int64_t, std::pair<size_t, size_t>> item_slots;
    for (size_t k = 0; k < data_slots_.size(); ++k) {
      if (slot_item_[k] < 0) continue;
      auto& range = item_slots.try_emplace(slot_item_[k], k, k).first->second;
      range.second = k + 1;
    }
    std::set<int64_t> visible_items;
    std::vector<size_t> work;
    auto see_item = [&](int64_t r) {
      if (!visible_items.insert(r).second) return;
      auto it = item_slots.find(r);
      if (it == item_slots.end()) return;
      for (size_t k = it->second.first; k < it->second.second; ++k)
        if (seen_slots_.insert(k).second) work.push_back(k);
    };
    for (size_t k : seen_slots_) work.push_back(k);
    for (int64_t r : anchored_) see_item(r);
    while (!work.empty()) {
      size_t k = work.back();
      work.pop_back();
      const DataSlot& d = data_slots_[k];
      if (d.local && !v_.is_code(d.local)) {
        int64_t t = raw_item_of(d.local);
        if (t >= 0) see_item(t);
      }
    }
    // The rest, grouped by item: roots.
    std::map<int64_t, DataItem> unseen;
    for (size_t k = 0; k < data_slots_.size(); ++k) {
      if (slot_item_[k] < 0 || seen_slots_.count(k)) continue;
      auto& item = unseen.try_emplace(slot_item_[k], DataItem{bounds_[slot_item_[k]], {}, {}, {}}).first->second;
      add_slot_edges(item, k);
    }
    for (auto& [r, item] : unseen) {
      finish_item(item);
      s_.root_items.push_back(static_cast<uint32_t>(s_.items.size()));
      s_.items.push_back(std::move(item));
    }
    // Personality routines are found by the unwinder through .eh_frame,
    // which refers to their pointer slot without a relocation.
    for (auto& item : s_.items) {
      for (uint32_t f : item.functions)
        if (s_.functions[f].name.find("_personality") != std::string::npos) roots.insert(f);
      for (uint32_t i : item.imports)
        if (s_.imports[i].name.find("_personality") != std::string::npos) root_imports.insert(i);
    }
  }

  const CodeView& v_;
  ObjectSummary& s_;
  std::vector<Insn> insns_;
  std::vector<CodeRange> plt_ranges_;
  std::map<uint64_t, SlotTarget> slots_;
  std::map<uint64_t, uint64_t> stubs_;  // stub address -> GOT slot
  // A pointer-sized relocation in data: to a local address, an import, or both.
  struct DataSlot {
    uint64_t at = 0;
    uint64_t local = 0;
    int64_t import = -1;
  };
  std::vector<uint64_t> data_code_;  // code addresses stored in data: function starts
  std::set<uint32_t> data_imports_;
  std::vector<DataSlot> data_slots_;
  std::vector<uint64_t> irelative_;
  std::set<uint32_t> copy_imports_;
  std::vector<std::pair<uint64_t, uint64_t>> regions_;  // allocated non-code address ranges, sorted
  std::vector<uint64_t> bounds_;                        // item starts (and region ends), sorted
  std::map<int64_t, uint32_t> compact_;                 // raw item -> index into s_.items
  std::vector<int64_t> slot_item_;                      // data_slots_[k] -> raw item
  std::set<int64_t> anchored_;                          // raw items code or an export refers to
  std::set<size_t> seen_slots_;                         // slots a load reads (then: every visible slot)
  std::map<std::pair<uint64_t, uint64_t>, uint32_t> precise_;  // (address, size) of a load -> item
  std::set<uint64_t> starts_;
  std::set<uint64_t> referenced_;  // every rip-relative address code names (jump-table bounds)
  std::vector<uint64_t> starts_vec_;
  std::map<uint64_t, std::string> names_;
  std::map<uint64_t, bool> name_dynamic_;
  std::vector<size_t> first_;
  std::map<ImportRef, uint32_t> import_ids_;
  std::map<size_t, PredecessorMap> pred_cache_;
  std::vector<bool> noreturn_;
  std::set<std::pair<uint64_t, int>> handled_;
};

}  // namespace

std::string ObjectSummary::function_name(uint32_t f) const {
  if (f >= functions.size()) return "?";
  if (!functions[f].name.empty()) return functions[f].name;
  return fmt::format("fn_{:x}", functions[f].addr);
}

ObjectSummary summarize_object(const CodeView& view) {
  ObjectSummary s;
  try {
    Builder(view, s).run();
  } catch (const std::exception& e) {
    s = ObjectSummary{};
    s.error = e.what();
  }
  return s;
}

}  // namespace decant
