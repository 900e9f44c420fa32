// The only file that uses Capstone: decodes x86-64 code into the Insn records
// of disassembly.h. Register writes are taken from explicit write operands
// plus Capstone's implicit write list; where Capstone 4 leaves an operand's
// access unknown, a register destination is assumed written, because a
// missed write could make value tracking report a wrong syscall number.
#include "analyzer/code/disassembly.h"

#include <capstone/capstone.h>

#include <cstring>
#include <mutex>

namespace decant {

namespace {

int family(unsigned r) {
  switch (r) {
    case X86_REG_AL: case X86_REG_AH: case X86_REG_AX: case X86_REG_EAX: case X86_REG_RAX: return kRax;
    case X86_REG_CL: case X86_REG_CH: case X86_REG_CX: case X86_REG_ECX: case X86_REG_RCX: return kRcx;
    case X86_REG_DL: case X86_REG_DH: case X86_REG_DX: case X86_REG_EDX: case X86_REG_RDX: return kRdx;
    case X86_REG_BL: case X86_REG_BH: case X86_REG_BX: case X86_REG_EBX: case X86_REG_RBX: return kRbx;
    case X86_REG_SPL: case X86_REG_SP: case X86_REG_ESP: case X86_REG_RSP: return kRsp;
    case X86_REG_BPL: case X86_REG_BP: case X86_REG_EBP: case X86_REG_RBP: return kRbp;
    case X86_REG_SIL: case X86_REG_SI: case X86_REG_ESI: case X86_REG_RSI: return kRsi;
    case X86_REG_DIL: case X86_REG_DI: case X86_REG_EDI: case X86_REG_RDI: return kRdi;
    case X86_REG_R8B: case X86_REG_R8W: case X86_REG_R8D: case X86_REG_R8: return kR8;
    case X86_REG_R9B: case X86_REG_R9W: case X86_REG_R9D: case X86_REG_R9: return kR9;
    case X86_REG_R10B: case X86_REG_R10W: case X86_REG_R10D: case X86_REG_R10: return kR10;
    case X86_REG_R11B: case X86_REG_R11W: case X86_REG_R11D: case X86_REG_R11: return kR11;
    case X86_REG_R12B: case X86_REG_R12W: case X86_REG_R12D: case X86_REG_R12: return kR12;
    case X86_REG_R13B: case X86_REG_R13W: case X86_REG_R13D: case X86_REG_R13: return kR13;
    case X86_REG_R14B: case X86_REG_R14W: case X86_REG_R14D: case X86_REG_R14: return kR14;
    case X86_REG_R15B: case X86_REG_R15W: case X86_REG_R15D: case X86_REG_R15: return kR15;
    default: return kNoReg;
  }
}

// 32- or 64-bit register: a write of it defines the whole value we track.
bool full_width(unsigned r) {
  switch (r) {
    case X86_REG_EAX: case X86_REG_RAX: case X86_REG_ECX: case X86_REG_RCX: case X86_REG_EDX: case X86_REG_RDX:
    case X86_REG_EBX: case X86_REG_RBX: case X86_REG_ESP: case X86_REG_RSP: case X86_REG_EBP: case X86_REG_RBP:
    case X86_REG_ESI: case X86_REG_RSI: case X86_REG_EDI: case X86_REG_RDI: case X86_REG_R8D: case X86_REG_R8:
    case X86_REG_R9D: case X86_REG_R9: case X86_REG_R10D: case X86_REG_R10: case X86_REG_R11D: case X86_REG_R11:
    case X86_REG_R12D: case X86_REG_R12: case X86_REG_R13D: case X86_REG_R13: case X86_REG_R14D: case X86_REG_R14:
    case X86_REG_R15D: case X86_REG_R15: return true;
    default: return false;
  }
}

// [rsp + disp]: no index, no segment (a %fs: slot is thread data, not the stack).
bool stack_slot(const cs_x86_op& op) {
  return op.type == X86_OP_MEM && op.mem.base == X86_REG_RSP && op.mem.index == X86_REG_INVALID &&
         op.mem.segment == X86_REG_INVALID && (op.size == 4 || op.size == 8);
}

bool reads_only_first_operand(unsigned id) {
  switch (id) {
    case X86_INS_CMP: case X86_INS_TEST: case X86_INS_PUSH: case X86_INS_BT:
    case X86_INS_CALL: case X86_INS_JMP: return true;
    default: return false;
  }
}

// One Capstone handle per thread: handles are not thread-safe, and code
// analysis runs libraries in parallel.
struct Handle {
  csh h = 0;
  bool ok = false;
  Handle() {
    ok = cs_open(CS_ARCH_X86, CS_MODE_64, &h) == CS_ERR_OK;
    if (ok) cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);
  }
  ~Handle() {
    if (ok) cs_close(&h);
  }
};
Handle& handle() {
  thread_local Handle h;
  return h;
}

// The shapes value tracking reads (constants and registers moved, stack
// traffic, stores and loads of memory, inlined byte swaps); anything else
// stays Op::Other.
void value_shape(const cs_x86& x, unsigned id, Insn& in) {
  if ((id == X86_INS_MOV || id == X86_INS_MOVABS) && x.op_count == 2 && x.operands[0].type == X86_OP_REG) {
    const cs_x86_op& d = x.operands[0];
    const cs_x86_op& s = x.operands[1];
    if (full_width(d.reg) && s.type == X86_OP_IMM) {
      in.op = Op::MovImm;
      in.dst = static_cast<int8_t>(family(d.reg));
      in.imm = d.size == 4 ? static_cast<int64_t>(static_cast<uint32_t>(s.imm)) : s.imm;
      in.width = d.size;
    } else if (full_width(d.reg) && s.type == X86_OP_REG && full_width(s.reg)) {
      in.op = Op::MovReg;
      in.dst = static_cast<int8_t>(family(d.reg));
      in.src = static_cast<int8_t>(family(s.reg));
    } else if (full_width(d.reg) && stack_slot(s)) {
      in.op = Op::LoadStack;
      in.dst = static_cast<int8_t>(family(d.reg));
      in.disp = static_cast<int32_t>(s.mem.disp);
    } else if (s.type == X86_OP_MEM && in.ref && family(d.reg) >= 0) {
      in.op = Op::LoadMem;
      in.dst = static_cast<int8_t>(family(d.reg));
      in.width = s.size;
    }
  } else if ((id == X86_INS_MOVZX || id == X86_INS_MOVSX) && x.op_count == 2 && x.operands[0].type == X86_OP_REG &&
             x.operands[1].type == X86_OP_MEM && in.ref && family(x.operands[0].reg) >= 0) {
    in.op = Op::LoadMem;
    in.dst = static_cast<int8_t>(family(x.operands[0].reg));
    in.width = x.operands[1].size;
  } else if ((id == X86_INS_ROL || id == X86_INS_ROR) && x.op_count == 2 && x.operands[0].type == X86_OP_REG &&
             x.operands[0].size == 2 && x.operands[1].type == X86_OP_IMM && x.operands[1].imm == 8 &&
             family(x.operands[0].reg) >= 0) {
    in.op = Op::Swap16;
    in.dst = static_cast<int8_t>(family(x.operands[0].reg));
  } else if (id == X86_INS_MOV && x.op_count == 2 && stack_slot(x.operands[0]) && x.operands[1].type == X86_OP_REG &&
             full_width(x.operands[1].reg)) {
    in.op = Op::StoreStack;
    in.src = static_cast<int8_t>(family(x.operands[1].reg));
    in.disp = static_cast<int32_t>(x.operands[0].mem.disp);
    in.width = x.operands[0].size;
  } else if ((id == X86_INS_ADD || id == X86_INS_SUB) && x.op_count == 2 && x.operands[0].type == X86_OP_REG &&
             x.operands[0].reg == X86_REG_RSP && x.operands[1].type == X86_OP_IMM) {
    in.op = Op::AdjustStack;
    in.imm = id == X86_INS_ADD ? x.operands[1].imm : -x.operands[1].imm;
  } else if (id == X86_INS_PUSH && x.op_count == 1 &&
             (x.operands[0].type == X86_OP_IMM ||
              (x.operands[0].type == X86_OP_REG && x.operands[0].size == 8 && family(x.operands[0].reg) >= 0))) {
    in.op = Op::Push;
    if (x.operands[0].type == X86_OP_REG) in.src = static_cast<int8_t>(family(x.operands[0].reg));
  } else if (id == X86_INS_POP && x.op_count == 1 && x.operands[0].type == X86_OP_REG && x.operands[0].size == 8 &&
             family(x.operands[0].reg) >= 0) {
    in.op = Op::Pop;
    in.dst = static_cast<int8_t>(family(x.operands[0].reg));
  } else if ((id == X86_INS_XOR || id == X86_INS_SUB) && x.op_count == 2 && x.operands[0].type == X86_OP_REG &&
             x.operands[1].type == X86_OP_REG && x.operands[0].reg == x.operands[1].reg && full_width(x.operands[0].reg)) {
    in.op = Op::Zero;
    in.dst = static_cast<int8_t>(family(x.operands[0].reg));
  } else if (id == X86_INS_LEA && x.op_count == 2 && x.operands[0].type == X86_OP_REG && in.ref) {
    in.op = Op::Lea;
    in.dst = static_cast<int8_t>(family(x.operands[0].reg));
  } else if (id == X86_INS_MOV && x.op_count == 2 && x.operands[0].type == X86_OP_MEM &&
             x.operands[1].type == X86_OP_IMM) {
    in.op = Op::StoreImm;
    in.width = x.operands[0].size;
    in.disp = static_cast<int32_t>(x.operands[0].mem.disp);
    in.mem_base = static_cast<int8_t>(family(x.operands[0].mem.base));
    in.imm = x.operands[1].imm;
  } else if (id == X86_INS_MOV && x.op_count == 2 && x.operands[0].type == X86_OP_MEM &&
             x.operands[1].type == X86_OP_REG && family(x.operands[1].reg) >= 0) {
    in.op = Op::StoreReg;
    in.src = static_cast<int8_t>(family(x.operands[1].reg));
    in.width = x.operands[0].size;
    in.disp = static_cast<int32_t>(x.operands[0].mem.disp);
    in.mem_base = static_cast<int8_t>(family(x.operands[0].mem.base));
  }
}

void convert(const cs_insn* ci, Insn& in) {
  in.addr = ci->address;
  in.size = static_cast<uint8_t>(ci->size);
  const cs_x86& x = ci->detail->x86;
  unsigned id = ci->id;

  auto mark_write = [&](unsigned reg) {
    int f = family(reg);
    if (f >= 0) in.writes |= uint16_t(1u << f);
  };
  for (uint8_t k = 0; k < ci->detail->regs_write_count; ++k) mark_write(ci->detail->regs_write[k]);
  for (uint8_t k = 0; k < x.op_count; ++k) {
    const cs_x86_op& op = x.operands[k];
    if (op.type == X86_OP_REG) {
      bool write = (op.access & CS_AC_WRITE) != 0;
      if (k == 0 && op.access == 0 && !reads_only_first_operand(id)) write = true;
      if (write) mark_write(op.reg);
    } else if (op.type == X86_OP_IMM) {
      in.has_imm = true;
      in.imm = op.imm;
    } else if (op.type == X86_OP_MEM) {
      if (op.mem.base == X86_REG_RIP && op.mem.index == X86_REG_INVALID) in.ref = ci->address + ci->size + op.mem.disp;
      else if (op.mem.base == X86_REG_INVALID && op.mem.index == X86_REG_INVALID && op.mem.segment == X86_REG_INVALID)
        in.ref = static_cast<uint64_t>(op.mem.disp);
      if (in.ref) in.mem_size = id == X86_INS_LEA ? 0 : (op.size ? op.size : 8);
    }
  }

  if (id == X86_INS_NOP || id == X86_INS_INT3) in.padding = true;
  switch (id) {
    case X86_INS_CALL:
    case X86_INS_LCALL:
      in.flow = Flow::Call;
      in.writes |= (1u << kRax) | (1u << kRcx) | (1u << kRdx) | (1u << kRsi) | (1u << kRdi) | (1u << kR8) |
                   (1u << kR9) | (1u << kR10) | (1u << kR11);
      break;
    case X86_INS_JMP:
    case X86_INS_LJMP:
      in.flow = Flow::Jump;
      break;
    case X86_INS_RET: case X86_INS_RETF: case X86_INS_RETFQ: case X86_INS_IRET: case X86_INS_IRETD:
    case X86_INS_IRETQ: case X86_INS_SYSRET: case X86_INS_SYSEXIT:
      in.flow = Flow::Ret;
      break;
    case X86_INS_HLT: case X86_INS_UD2:
      in.flow = Flow::Stop;
      break;
    case X86_INS_SYSCALL: case X86_INS_SYSENTER:
      in.flow = Flow::Syscall;
      in.writes |= (1u << kRax) | (1u << kRcx) | (1u << kR11);
      break;
    case X86_INS_INT:
      if (x.op_count == 1 && x.operands[0].type == X86_OP_IMM && x.operands[0].imm == 0x80) {
        in.flow = Flow::Int80;
        in.writes |= 1u << kRax;
      }
      break;
    default:
      if (cs_insn_group(handle().h, ci, CS_GRP_JUMP)) in.flow = Flow::CondJump;
      break;
  }
  if (in.flow == Flow::Call || in.flow == Flow::Jump || in.flow == Flow::CondJump) {
    if (x.op_count == 1 && x.operands[0].type == X86_OP_IMM) {
      in.target = static_cast<uint64_t>(x.operands[0].imm);
      in.has_imm = false;
    } else {
      in.indirect = true;
      if (x.op_count == 1 && x.operands[0].type == X86_OP_MEM && in.ref) in.branch_mem = true;
    }
    return;
  }

  value_shape(x, id, in);
}

}  // namespace

bool is_terminator(const Insn& i) {
  return i.flow == Flow::Jump || i.flow == Flow::Ret || i.flow == Flow::Stop || i.no_return;
}

void disassemble_x86_64(const uint8_t* code, uint64_t size, uint64_t addr, std::vector<Insn>& out,
                        DisasmStats& stats) {
  Handle& h = handle();
  if (!h.ok) return;
  cs_insn* ci = cs_malloc(h.h);
  const uint8_t* p = code;
  size_t left = size;
  uint64_t a = addr;
  stats.bytes += size;
  while (left > 0) {
    if (cs_disasm_iter(h.h, &p, &left, &a, ci)) {
      Insn in;
      convert(ci, in);
      out.push_back(in);
      ++stats.instructions;
    } else {
      ++p;
      --left;
      ++a;
      ++stats.undecodable;
    }
  }
  cs_free(ci, 1);
}

std::string render_insn(const uint8_t* code, uint64_t size, uint64_t addr) {
  Handle& h = handle();
  if (!h.ok) return {};
  cs_insn* ci = nullptr;
  size_t n = cs_disasm(h.h, code, size, addr, 1, &ci);
  std::string s;
  if (n == 1) {
    s = ci->mnemonic;
    if (ci->op_str[0]) s += std::string(" ") + ci->op_str;
  }
  if (ci) cs_free(ci, n);
  return s;
}

}  // namespace decant
