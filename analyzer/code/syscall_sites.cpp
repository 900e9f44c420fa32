// Backward value tracking (see syscall_sites.h). A worklist over (instruction,
// register) states: cheaper than building SSA for 500k instructions, and the
// patterns compilers and glibc's assembly emit for syscall numbers are
// local — `mov $N,%eax` a few instructions before the site, on each path.
#include "analyzer/code/syscall_sites.h"

#include <algorithm>

namespace decant {

namespace {
constexpr size_t kBudget = 2048;  // states visited per query before giving up (unknown)

bool callee_saved(int reg) {
  return reg == kRbx || reg == kRbp || reg == kR12 || reg == kR13 || reg == kR14 || reg == kR15 || reg == kRsp;
}
}  // namespace

bool is_argument_register(int reg) {
  return reg == kRdi || reg == kRsi || reg == kRdx || reg == kRcx || reg == kR8 || reg == kR9 || reg == kR10;
}

PredecessorMap predecessors(const std::vector<Insn>& insns, size_t begin, size_t end) {
  PredecessorMap preds;
  if (begin >= end) return preds;
  uint64_t lo = insns[begin].addr, hi = insns[end - 1].addr + insns[end - 1].size;
  for (size_t i = begin; i < end; ++i) {
    const Insn& in = insns[i];
    if ((in.flow == Flow::Jump || in.flow == Flow::CondJump) && !in.indirect && in.target >= lo && in.target < hi)
      preds[in.target].push_back(i);
  }
  return preds;
}

TrackedValue track_register(const std::vector<Insn>& insns, size_t begin, size_t end, size_t at, int reg,
                            const PredecessorMap& preds) {
  TrackedValue out;
  std::vector<std::pair<size_t, int>> work;  // (instruction whose *entry* state we ask for, register)
  std::set<std::pair<size_t, int>> seen;
  auto push_preds = [&](size_t i, int r) {
    // Predecessors of instruction i: fall-through from i-1 and direct branches.
    bool any = false;
    if (i == begin) {
      if (is_argument_register(r)) out.params.insert(r);
      else out.unknown = true;
      any = true;  // a function entry may also be a loop head: keep looking
    }
    if (i > begin && !is_terminator(insns[i - 1]) && insns[i - 1].addr + insns[i - 1].size == insns[i].addr) {
      work.emplace_back(i - 1, r);
      any = true;
    }
    auto it = preds.find(insns[i].addr);
    if (it != preds.end())
      for (size_t p : it->second) {
        work.emplace_back(p, r);
        any = true;
      }
    // No way in: alignment padding after a jump is dead; anything else may
    // be the target of an indirect jump whose value we cannot know.
    if (!any && !insns[i].padding) out.unknown = true;
  };
  push_preds(at, reg);
  while (!work.empty()) {
    auto [i, r] = work.back();
    work.pop_back();
    if (!seen.insert({i, r}).second) continue;
    if (seen.size() > kBudget) {
      out.unknown = true;
      break;
    }
    const Insn& in = insns[i];
    // Instruction i executes before the point of interest; does it define r?
    if (in.op == Op::MovImm && in.dst == r) {
      out.values.insert(in.imm);
      continue;
    }
    if (in.op == Op::Zero && in.dst == r) {
      out.values.insert(0);
      continue;
    }
    if (in.op == Op::MovReg && in.dst == r) {
      if (in.src == r) {  // mov %eax,%eax: zero-extends, same value
        push_preds(i, r);
        continue;
      }
      push_preds(i, in.src);
      continue;
    }
    if (writes_reg(in, r)) {
      if (in.flow == Flow::Call && callee_saved(r)) {
        push_preds(i, r);
        continue;
      }
      out.unknown = true;
      continue;
    }
    push_preds(i, r);
  }
  return out;
}

}  // namespace decant
