// Backward value tracking of one register inside one function: what numbers
// can a register hold at a given instruction? Used for syscall numbers (rax at
// `syscall`), for numbers passed to syscall()-like functions (an argument
// register at a call) and for constant arguments of imported calls.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <vector>

#include "analyzer/code/disassembly.h"

namespace decant {

// A parameter that is not a register: kStackArg + k is the stack slot at
// rsp + 8k on function entry (k >= 1: the first stack argument is at rsp+8,
// above the return address), the way Go's ABI0 assembly takes arguments.
constexpr int kStackArg = 32;

struct TrackedValue {
  std::set<int64_t> values;  // constants seen on some path
  std::set<int> params;      // argument registers (or kStackArg + k) still holding the value at function entry
  bool unknown = false;      // some path defines it in a way we do not follow
};

// Direct-branch predecessors inside one function: target address -> indices
// of the branching instructions.
using PredecessorMap = std::map<uint64_t, std::vector<size_t>>;
PredecessorMap predecessors(const std::vector<Insn>& insns, size_t begin, size_t end);

// Value of `where` (a register, or kStackArg + k: the slot at rsp + 8k)
// just before insns[at] executes, following every path back through
// fall-through and direct branches within [begin, end). Values are followed
// through register moves and through stack slots (spills and reloads,
// pushes and pops, rsp adjusted by constants). A path that meets a
// non-constant definition, a call clobbering a caller-saved register, an
// instruction reachable only by an indirect jump, an rsp change it cannot
// follow, or the search budget is `unknown`; one that reaches `begin` with
// the value still in an argument register or an incoming stack slot records
// it in `params`.
TrackedValue track_register(const std::vector<Insn>& insns, size_t begin, size_t end, size_t at, int where,
                            const PredecessorMap& preds);

bool is_argument_register(int reg);

// Where a callee's parameter is at the caller's branch to it (`how`: Call
// pushes a return address, a tail Jump does not).
int caller_location(int param, Flow how);

}  // namespace decant
