// Summary building, syscall numbers: the number in rax at each syscall
// instruction, constant first arguments of imported calls (for syscall()
// across objects), and numbers passed to local syscall()-like functions,
// resolved at their callers (syscall_sites.h does the value tracking).
#include "analyzer/code/summary_builder.h"

namespace decant {

const PredecessorMap& SummaryBuilder::preds_of(size_t f) {
  auto it = pred_cache_.find(f);
  if (it != pred_cache_.end()) return it->second;
  return pred_cache_[f] = predecessors(insns_, first_[f], first_[f + 1]);
}

// Records the outcome of tracking a syscall number into fn.
void SummaryBuilder::record(FunctionSummary& fn, const TrackedValue& tv, uint64_t site) {
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

void SummaryBuilder::resolve_syscall_numbers() {
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
void SummaryBuilder::propagate_number_params() {
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
        TrackedValue tv = track_register(insns_, first_[f], first_[f + 1], i, caller_location(reg, in.flow), preds_of(f));
        record(s_.functions[f], tv, in.addr);
        changed = true;
      }
    }
    if (!changed) break;
  }
}

}  // namespace decant
