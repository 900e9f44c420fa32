// Summary building, the call graph: edges inside the object and out of it
// through PLT stubs and GOT slots, from direct branches, address-taking
// instructions, data references and switch jump tables; functions that never
// return; and the exports and roots (entry, init/fini, IRELATIVE resolvers,
// data) the closure-wide walk starts from. A function that can fall off its
// end gets an edge to the next one.
#include <algorithm>
#include <tuple>

#include "analyzer/code/summary_builder.h"

namespace decant {

namespace {

constexpr uint64_t kVsyscallBase = 0xffffffffff600000ull;
bool is_vsyscall(uint64_t a) { return a == kVsyscallBase || a == kVsyscallBase + 0x400 || a == kVsyscallBase + 0x800; }

}  // namespace

void SummaryBuilder::edge_to_slot(FunctionSummary& fn, uint64_t slot_addr, bool& resolved) {
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
bool SummaryBuilder::noreturn_name(const std::string& n) {
  static const std::set<std::string> names{
      "abort", "exit", "_exit", "_Exit", "__stack_chk_fail", "__stack_chk_fail_local", "__assert_fail",
      "__assert_perror_fail", "__fortify_fail", "__chk_fail", "__libc_fatal", "err", "errx", "verr", "verrx",
      "pthread_exit", "longjmp", "siglongjmp", "_longjmp", "__longjmp_chk", "__cxa_throw", "__cxa_rethrow",
      "_Unwind_Resume", "__cxa_bad_cast", "__cxa_bad_typeid", "__cxa_throw_bad_array_new_length",
      "quick_exit", "__libc_longjmp", "__libc_siglongjmp", "_dl_signal_error", "__malloc_assert"};
  return names.count(n) > 0;
}

bool SummaryBuilder::calls_noreturn(const Insn& in) const {
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

void SummaryBuilder::find_noreturn() {
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

void SummaryBuilder::build_edges() {
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
void SummaryBuilder::add_jump_table_edges(size_t f, FunctionSummary& fn) {
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

void SummaryBuilder::collect_exports_and_roots() {
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

}  // namespace decant
