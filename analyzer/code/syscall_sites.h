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

struct TrackedValue {
  std::set<int64_t> values;  // constants seen on some path
  std::set<int> params;      // argument registers still holding the value at function entry
  bool unknown = false;      // some path defines it in a way we do not follow
};

// Direct-branch predecessors inside one function: target address -> indices
// of the branching instructions.
using PredecessorMap = std::map<uint64_t, std::vector<size_t>>;
PredecessorMap predecessors(const std::vector<Insn>& insns, size_t begin, size_t end);

// Value of `reg` just before insns[at] executes, following every path back
// through fall-through and direct branches within [begin, end). A path that
// meets a non-constant definition, a call clobbering a caller-saved register,
// an instruction reachable only by an indirect jump, or the search budget is
// `unknown`; one that reaches `begin` with the value still in an argument
// register records that register in `params`.
TrackedValue track_register(const std::vector<Insn>& insns, size_t begin, size_t end, size_t at, int reg,
                            const PredecessorMap& preds);

bool is_argument_register(int reg);

}  // namespace decant
