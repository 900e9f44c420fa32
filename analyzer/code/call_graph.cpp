// Builds the per-object summary (object_summary.h): linear-sweep disassembly
// of every executable section, function recovery, and the edges of the call
// graph inside the object and out of it through PLT stubs and GOT slots.
//
// Function starts are: defined STT_FUNC/STT_GNU_IFUNC symbols of .dynsym and
// .symtab, the entry point, DT_INIT/DT_FINI and the init/fini arrays, code
// addresses stored in data (relocations, or raw pointers in non-PIE files),
// direct call targets and code addresses taken by lea. Every instruction
// belongs to the nearest start at or below it, so code the recovery misses is
// attributed to its predecessor (more reachable, never less), and a function
// that can fall off its end gets an edge to the next one.
#include <algorithm>
#include <elf.h>
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
        case R_X86_64_64:
          if (!r.symbol.empty()) slots_[r.offset].import = import_index(r.symbol, r.version);
          else if (r.type == R_X86_64_64) slots_[r.offset].local = static_cast<uint64_t>(r.addend);
          // A pointer to a function stored in data: reachable as soon as the
          // object is loaded (the address-taken rule, docs/code-analysis.md).
          if (r.type == R_X86_64_64) {
            if (!r.symbol.empty() && !r.symbol_defined) data_imports_.insert(slots_[r.offset].import);
            else if (!r.symbol.empty()) data_code_.push_back(r.symbol_value + r.addend);
            else data_code_.push_back(r.addend);
          }
          break;
        case R_X86_64_RELATIVE:
          slots_[r.offset].local = static_cast<uint64_t>(r.addend);
          data_code_.push_back(static_cast<uint64_t>(r.addend));
          break;
        case R_X86_64_IRELATIVE:
          slots_[r.offset].local = static_cast<uint64_t>(r.addend);
          data_code_.push_back(static_cast<uint64_t>(r.addend));  // the resolver runs at load time
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
    for (uint64_t a : data_code_) root(a);
    if (v_.is_code(v_.entry)) {
      int64_t f = function_of(v_.entry);
      if (f >= 0) s_.entry_function = f;
    }
    s_.roots.assign(roots.begin(), roots.end());
    s_.root_imports.assign(data_imports_.begin(), data_imports_.end());
  }

  const CodeView& v_;
  ObjectSummary& s_;
  std::vector<Insn> insns_;
  std::vector<CodeRange> plt_ranges_;
  std::map<uint64_t, SlotTarget> slots_;
  std::map<uint64_t, uint64_t> stubs_;  // stub address -> GOT slot
  std::vector<uint64_t> data_code_;
  std::set<uint32_t> data_imports_;
  std::set<uint64_t> starts_;
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
