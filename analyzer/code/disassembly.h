// Disassembly into a compact instruction record: only what the code analyses
// consume (control flow, constants moved into registers, addresses referenced,
// registers written). Keeping Capstone behind this one interface means the
// call graph, syscall and literal analyses are plain C++ over a vector, and
// their tests can build instruction sequences by hand.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace decant {

// General-purpose register families (rax/eax/ax/al are one family).
enum Reg : int8_t {
  kNoReg = -1, kRax = 0, kRcx, kRdx, kRbx, kRsp, kRbp, kRsi, kRdi,
  kR8, kR9, kR10, kR11, kR12, kR13, kR14, kR15
};

enum class Flow : uint8_t {
  None,      // falls through
  Call,      // call (direct when target != 0)
  Jump,      // unconditional jmp
  CondJump,  // jcc, loop, jrcxz
  Ret,
  Stop,      // hlt, ud2: never falls through
  Syscall,   // syscall / sysenter
  Int80,     // int 0x80 (i386 ABI even in 64-bit code)
};

enum class Op : uint8_t {
  Other,
  MovImm,    // dst = imm (full or 32-bit zero-extending width)
  MovReg,    // dst = src (32/64-bit)
  Zero,      // xor/sub dst,dst
  Lea,       // dst = address `ref` (rip-relative or absolute)
  StoreImm,  // [mem_base + disp] = imm, `width` bytes
  // Stack traffic, for values compilers spill around calls (Go's register
  // ABI) or pass on the stack (Go's ABI0 assembly):
  LoadStack,    // dst = [rsp + disp] (32/64-bit)
  StoreStack,   // [rsp + disp] = src, `width` bytes
  AdjustStack,  // rsp += imm (add/sub with an immediate)
  Push,         // rsp -= 8; [rsp] = src (or imm when has_imm)
  Pop,          // dst = [rsp]; rsp += 8
  // For ports that reach sin_port at run time (a default in a global,
  // byte-swapped on its way into a sockaddr):
  StoreReg,  // [mem_base + disp] (or [ref]) = src, `width` bytes; not a StoreStack
  LoadMem,   // dst = [ref] (rip-relative or absolute), `width` bytes read (mov, movzx, movsx)
  Swap16,    // rol/ror dst16, 8: htons() inlined
};

struct Insn {
  uint64_t addr = 0;
  uint64_t target = 0;   // direct branch target
  uint64_t ref = 0;      // rip-relative (or absolute) memory/lea address, 0 if none
  int64_t imm = 0;       // immediate of MovImm/StoreImm (or any imm operand)
  int32_t disp = 0;      // StoreImm / LoadStack / StoreStack displacement
  uint16_t writes = 0;   // bitmask of Reg families written
  uint8_t size = 0;
  Flow flow = Flow::None;
  Op op = Op::Other;
  int8_t dst = kNoReg, src = kNoReg;
  int8_t mem_base = kNoReg;  // StoreImm / StoreReg base register
  uint8_t width = 0;         // StoreImm / StoreStack / StoreReg / LoadMem / MovImm operand size in bytes
  uint8_t mem_size = 0;      // bytes a memory operand at `ref` reads or writes (0 for lea)
  bool indirect = false;     // branch through register or memory
  bool branch_mem = false;   // indirect through [rip+ref]: ref is the slot
  bool has_imm = false;      // some operand is an immediate (imm holds it)
  bool padding = false;      // nop or int3: alignment filler between functions
  bool no_return = false;    // a call to a function known never to return (set by the call graph)
};

struct DisasmStats {
  uint64_t instructions = 0;
  uint64_t bytes = 0;
  uint64_t undecodable = 0;  // bytes skipped because they did not decode
};

// Linear sweep over [addr, addr+size) of x86-64 code. Undecodable bytes are
// skipped one at a time (and counted) so one bad byte never hides the rest.
void disassemble_x86_64(const uint8_t* code, uint64_t size, uint64_t addr, std::vector<Insn>& out,
                        DisasmStats& stats);

// Text of one instruction at `addr` for evidence ("mov eax, 0x27"); empty
// if it does not decode.
std::string render_insn(const uint8_t* code, uint64_t size, uint64_t addr);

bool is_terminator(const Insn& i);  // never falls through to the next address
inline bool writes_reg(const Insn& i, int r) { return r >= 0 && (i.writes >> r) & 1; }

}  // namespace decant
