// Unit tests of backward value tracking on hand-built instruction sequences.
#include "analyzer/code/syscall_sites.h"

#include <gtest/gtest.h>

namespace decant {
namespace {

// A tiny assembler for the shapes the tracker understands.
struct Seq {
  std::vector<Insn> v;
  uint64_t next = 0x1000;
  Insn& add(uint8_t size = 4) {
    Insn i;
    i.addr = next;
    i.size = size;
    next += size;
    v.push_back(i);
    return v.back();
  }
  void mov_imm(int reg, int64_t imm) {
    Insn& i = add(5);
    i.op = Op::MovImm;
    i.dst = static_cast<int8_t>(reg);
    i.imm = imm;
    i.writes = uint16_t(1u << reg);
  }
  void mov_reg(int dst, int src) {
    Insn& i = add(3);
    i.op = Op::MovReg;
    i.dst = static_cast<int8_t>(dst);
    i.src = static_cast<int8_t>(src);
    i.writes = uint16_t(1u << dst);
  }
  void call() {
    Insn& i = add(5);
    i.flow = Flow::Call;
    i.target = 0x9000;
    i.writes = (1u << kRax) | (1u << kRdi) | (1u << kRsi);
  }
  size_t jump(Flow f, uint64_t target) {
    Insn& i = add(2);
    i.flow = f;
    i.target = target;
    return v.size() - 1;
  }
  size_t syscall() {
    Insn& i = add(2);
    i.flow = Flow::Syscall;
    i.writes = (1u << kRax) | (1u << kRcx) | (1u << kR11);
    return v.size() - 1;
  }
  void store_stack(int32_t disp, int src, uint8_t width = 8) {
    Insn& i = add(5);
    i.op = Op::StoreStack;
    i.disp = disp;
    i.src = static_cast<int8_t>(src);
    i.width = width;
  }
  void load_stack(int dst, int32_t disp) {
    Insn& i = add(5);
    i.op = Op::LoadStack;
    i.dst = static_cast<int8_t>(dst);
    i.disp = disp;
    i.writes = uint16_t(1u << dst);
  }
  void adjust_stack(int64_t delta) {
    Insn& i = add(4);
    i.op = Op::AdjustStack;
    i.imm = delta;
    i.writes = uint16_t(1u << kRsp);
  }
  void push(int src) {
    Insn& i = add(1);
    i.op = Op::Push;
    i.src = static_cast<int8_t>(src);
    i.writes = uint16_t(1u << kRsp);
  }
  void pop(int dst) {
    Insn& i = add(1);
    i.op = Op::Pop;
    i.dst = static_cast<int8_t>(dst);
    i.writes = uint16_t((1u << kRsp) | (1u << dst));
  }
  TrackedValue at(size_t idx, int reg = kRax) {
    return track_register(v, 0, v.size(), idx, reg, predecessors(v, 0, v.size()));
  }
};

TEST(SyscallSites, ConstantRightBeforeSyscall) {
  Seq s;
  s.mov_imm(kRax, 39);
  size_t site = s.syscall();
  auto t = s.at(site);
  EXPECT_EQ(t.values, (std::set<int64_t>{39}));
  EXPECT_FALSE(t.unknown);
}

TEST(SyscallSites, MovesThroughOtherRegisters) {
  Seq s;
  s.mov_imm(kRsi, 231);
  s.mov_reg(kRax, kRsi);
  size_t site = s.syscall();
  EXPECT_EQ(s.at(site).values, (std::set<int64_t>{231}));
}

TEST(SyscallSites, TwoPathsGiveTwoNumbers) {
  // mov $1,%eax; jcc L; mov $2,%eax; L: syscall
  Seq s;
  s.mov_imm(kRax, 1);
  size_t jcc = s.jump(Flow::CondJump, 0);
  s.mov_imm(kRax, 2);
  size_t site = s.syscall();
  s.v[jcc].target = s.v[site].addr;
  auto t = s.at(site);
  EXPECT_EQ(t.values, (std::set<int64_t>{1, 2}));
  EXPECT_FALSE(t.unknown);
}

TEST(SyscallSites, ArgumentRegisterAtEntryIsAParameter) {
  Seq s;  // syscall(): mov %rdi,%rax; syscall
  s.mov_reg(kRax, kRdi);
  size_t site = s.syscall();
  auto t = s.at(site);
  EXPECT_TRUE(t.values.empty());
  EXPECT_EQ(t.params, (std::set<int>{kRdi}));
}

TEST(SyscallSites, CallClobbersCallerSavedRegisters) {
  Seq s;
  s.mov_imm(kRax, 39);
  s.call();
  size_t site = s.syscall();
  EXPECT_TRUE(s.at(site).unknown);
}

TEST(SyscallSites, CalleeSavedRegisterSurvivesCalls) {
  Seq s;
  s.mov_imm(kRbx, 60);
  s.call();
  s.mov_reg(kRax, kRbx);
  size_t site = s.syscall();
  auto t = s.at(site);
  EXPECT_EQ(t.values, (std::set<int64_t>{60}));
  EXPECT_FALSE(t.unknown);
}

TEST(SyscallSites, CodeReachedOnlyIndirectlyIsUnknown) {
  Seq s;
  s.mov_imm(kRax, 1);
  s.jump(Flow::Jump, 0x5000);  // unconditional: the syscall below has no direct predecessor
  size_t site = s.syscall();
  EXPECT_TRUE(s.at(site).unknown);
}

TEST(SyscallSites, PaddingAfterAJumpIsDead) {
  Seq s;  // jmp L; nop; L2: syscall  with L2 also reached from a jcc that set eax
  s.mov_imm(kRax, 60);
  size_t jcc = s.jump(Flow::CondJump, 0);
  s.jump(Flow::Jump, 0x5000);
  Insn& nop = s.add(1);
  nop.padding = true;
  size_t site = s.syscall();
  s.v[jcc].target = s.v[site].addr;
  auto t = s.at(site);
  EXPECT_EQ(t.values, (std::set<int64_t>{60}));
  EXPECT_FALSE(t.unknown);
}

// Go's syscall.Syscall: the number arrives in rax (register ABI), is
// spilled around the call to runtime.entersyscall and reloaded.
TEST(SyscallSites, SpilledAroundACallAndReloaded) {
  Seq s;
  s.adjust_stack(-0x68);
  s.store_stack(0x40, kRax);
  s.call();
  s.load_stack(kRax, 0x40);
  size_t site = s.syscall();
  auto t = s.at(site);
  EXPECT_FALSE(t.unknown);
  EXPECT_EQ(t.params, (std::set<int>{kRax}));
}

// Go's ABI0 assembly (syscall.rawSyscallNoError): the number is the first
// stack argument, above the return address; a frame adjustment moves it.
TEST(SyscallSites, StackArgumentAtEntryIsAParameter) {
  Seq s;
  s.load_stack(kRax, 8);
  size_t site = s.syscall();
  EXPECT_EQ(s.at(site).params, (std::set<int>{kStackArg + 1}));
  Seq f;
  f.adjust_stack(-0x28);
  f.load_stack(kRax, 0x30);
  site = f.syscall();
  auto t = f.at(site);
  EXPECT_FALSE(t.unknown);
  EXPECT_EQ(t.params, (std::set<int>{kStackArg + 1}));
}

// The caller of such a function stores the number at rsp+0 before the call.
TEST(SyscallSites, StackArgumentResolvedAtTheCall) {
  Seq s;
  s.mov_imm(kRax, 102);
  s.store_stack(0, kRax);
  s.call();
  size_t call = s.v.size() - 1;
  auto t = s.at(call, caller_location(kStackArg + 1, Flow::Call));
  EXPECT_EQ(t.values, (std::set<int64_t>{102}));
  EXPECT_FALSE(t.unknown);
  EXPECT_EQ(caller_location(kStackArg + 1, Flow::Jump), kStackArg + 1);
  EXPECT_EQ(caller_location(kRax, Flow::Call), kRax);
}

TEST(SyscallSites, PushedAndPopped) {
  Seq s;
  s.mov_imm(kRbx, 7);
  s.push(kRbx);
  s.pop(kRax);
  size_t site = s.syscall();
  EXPECT_EQ(s.at(site).values, (std::set<int64_t>{7}));
}

TEST(SyscallSites, SlotOverwrittenOrStackMovedIsUnknown) {
  Seq s;  // a 4-byte store into the upper half of the spilled slot
  s.store_stack(0x40, kRax);
  s.store_stack(0x44, kRcx, 4);
  s.load_stack(kRax, 0x40);
  size_t site = s.syscall();
  EXPECT_TRUE(s.at(site).unknown);
  Seq m;  // rsp realigned (and $-16): the slot cannot be followed
  m.store_stack(0x40, kRax);
  Insn& a = m.add(4);
  a.writes = uint16_t(1u << kRsp);
  m.load_stack(kRax, 0x40);
  site = m.syscall();
  EXPECT_TRUE(m.at(site).unknown);
}

}  // namespace
}  // namespace decant
