// Backward value tracking (see syscall_sites.h). A worklist over (instruction,
// register or stack slot) states: cheaper than building SSA for 500k instructions, and the
// patterns compilers and glibc's assembly emit for syscall numbers are
// local — `mov $N,%eax` a few instructions before the site, on each path.
#include "analyzer/code/syscall_sites.h"

#include <algorithm>

namespace decant {

namespace {
constexpr size_t kBudget = 2048;  // states visited per query before giving up (unknown)
constexpr int kMaxStackArg = 90;  // stack parameters beyond rsp+720 at entry are not followed

bool callee_saved(int reg) {
  return reg == kRbx || reg == kRbp || reg == kR12 || reg == kR13 || reg == kR14 || reg == kR15 || reg == kRsp;
}

// Where the value is at some point: a register, or (reg == kNoReg) the stack
// slot at rsp + off as rsp is at that point.
struct Loc {
  int8_t reg = kNoReg;
  int32_t off = 0;
  bool operator<(const Loc& o) const { return reg != o.reg ? reg < o.reg : off < o.off; }
};

Loc loc_of(int code) {
  if (code >= kStackArg) return {kNoReg, 8 * (code - kStackArg)};
  return {static_cast<int8_t>(code), 0};
}

bool overlaps(int32_t a, int width, int32_t b) { return a < b + 8 && b < a + std::max(width, 1); }

// One backward step over `in` for a value in a stack slot. Returns false
// when the step decides the outcome itself (a constant, or unknown).
// Crossing a call keeps a slot at or above rsp: a compiler reloads after a
// call only what it stored there itself (Go spills register arguments this
// way around runtime calls), so the callee did not write it.
bool step_slot(const Insn& in, Loc& l, TrackedValue& out) {
  if (in.op == Op::StoreStack && in.disp == l.off) {
    l = {in.src, 0};
    return true;
  }
  if (in.op == Op::StoreImm && in.mem_base == kRsp && in.disp == l.off && in.width >= 4) {
    out.values.insert(in.imm);
    return false;
  }
  if ((in.op == Op::StoreStack || (in.op == Op::StoreImm && in.mem_base == kRsp)) &&
      overlaps(in.disp, in.width, l.off)) {
    out.unknown = true;  // a partial write of the slot
    return false;
  }
  switch (in.op) {
    case Op::AdjustStack: l.off += static_cast<int32_t>(in.imm); return true;
    case Op::Pop: l.off += 8; return true;
    case Op::Push:
      if (l.off == 0) {
        if (in.src != kNoReg) {
          l = {in.src, 0};
          return true;
        }
        if (in.has_imm) out.values.insert(in.imm);
        else out.unknown = true;
        return false;
      }
      if (l.off < 8) break;
      l.off -= 8;
      return true;
    default:
      // Below rsp a call writes its return address and the callee's frame.
      if (in.flow == Flow::Call) {
        if (l.off >= 0) return true;
        break;
      }
      if (!writes_reg(in, kRsp)) return true;
      break;  // rsp changed in a way we do not follow
  }
  out.unknown = true;
  return false;
}
}  // namespace

bool is_argument_register(int reg) {
  // SysV (rdi, rsi, rdx, rcx, r8, r9, and r10 for the kernel's fourth) plus
  // Go's register ABI (rax, rbx, rcx, rdi, rsi, r8-r11): Go passes the
  // syscall number to its wrappers in rax.
  return reg == kRdi || reg == kRsi || reg == kRdx || reg == kRcx || reg == kR8 || reg == kR9 || reg == kR10 ||
         reg == kRax || reg == kRbx || reg == kR11;
}

int caller_location(int param, Flow how) {
  // A call pushes the return address: the callee's rsp+8k is the caller's rsp+8(k-1).
  if (param >= kStackArg && how == Flow::Call) return param - 1;
  return param;
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

TrackedValue track_register(const std::vector<Insn>& insns, size_t begin, size_t end, size_t at, int where,
                            const PredecessorMap& preds) {
  TrackedValue out;
  std::vector<std::pair<size_t, Loc>> work;  // (instruction whose *entry* state we ask for, location)
  std::set<std::pair<size_t, Loc>> seen;
  auto push_preds = [&](size_t i, Loc l) {
    // Predecessors of instruction i: fall-through from i-1 and direct branches.
    bool any = false;
    if (i == begin) {
      if (l.reg != kNoReg && is_argument_register(l.reg)) out.params.insert(l.reg);
      else if (l.reg == kNoReg && l.off >= 8 && l.off % 8 == 0 && l.off / 8 <= kMaxStackArg)
        out.params.insert(kStackArg + l.off / 8);
      else out.unknown = true;
      any = true;  // a function entry may also be a loop head: keep looking
    }
    if (i > begin && !is_terminator(insns[i - 1]) && insns[i - 1].addr + insns[i - 1].size == insns[i].addr) {
      work.emplace_back(i - 1, l);
      any = true;
    }
    auto it = preds.find(insns[i].addr);
    if (it != preds.end())
      for (size_t p : it->second) {
        work.emplace_back(p, l);
        any = true;
      }
    // No way in: alignment padding after a jump is dead; anything else may
    // be the target of an indirect jump whose value we cannot know.
    if (!any && !insns[i].padding) out.unknown = true;
  };
  push_preds(at, loc_of(where));
  while (!work.empty()) {
    auto [i, l] = work.back();
    work.pop_back();
    if (!seen.insert({i, l}).second) continue;
    if (seen.size() > kBudget) {
      out.unknown = true;
      break;
    }
    const Insn& in = insns[i];
    if (l.reg == kNoReg) {
      if (step_slot(in, l, out)) push_preds(i, l);
      continue;
    }
    // Instruction i executes before the point of interest; does it define r?
    int r = l.reg;
    if (in.op == Op::MovImm && in.dst == r) {
      out.values.insert(in.imm);
      continue;
    }
    if (in.op == Op::Zero && in.dst == r) {
      out.values.insert(0);
      continue;
    }
    if (in.op == Op::MovReg && in.dst == r) {
      push_preds(i, {in.src, 0});  // mov %eax,%eax zero-extends: the same value
      continue;
    }
    if ((in.op == Op::LoadStack || in.op == Op::Pop) && in.dst == r) {
      push_preds(i, {kNoReg, in.op == Op::Pop ? 0 : in.disp});
      continue;
    }
    if (writes_reg(in, r)) {
      if (in.flow == Flow::Call && callee_saved(r)) {
        push_preds(i, l);
        continue;
      }
      out.unknown = true;
      continue;
    }
    push_preds(i, l);
  }
  return out;
}

}  // namespace decant
