// Unit tests of the code view reader and the disassembler on bad input and
// on real corpus binaries.
#include "elf/code_view.h"

#include <elf.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "analyzer/code/disassembly.h"
#include "elf/eh_frame.h"
#include "elf/elf_file.h"

namespace decant {
namespace {

TEST(CodeView, RejectsNonElfWithoutCrashing) {
  EXPECT_FALSE(parse_code_view("", "empty").ok());
  EXPECT_FALSE(parse_code_view("hello world, not an elf", "text").ok());
  std::string truncated = "\x7f" "ELF\x02\x01\x01";
  EXPECT_FALSE(parse_code_view(truncated, "truncated").ok());
}

TEST(CodeView, RejectsCorruptTablesWithoutCrashing) {
  Elf64_Ehdr eh{};
  memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_ident[EI_VERSION] = EV_CURRENT;
  eh.e_type = ET_DYN;
  eh.e_machine = EM_X86_64;
  eh.e_phoff = 1ull << 40;  // far past the end
  eh.e_phnum = 3;
  eh.e_phentsize = sizeof(Elf64_Phdr);
  std::string bytes(reinterpret_cast<const char*>(&eh), sizeof eh);
  auto v = parse_code_view(bytes, "corrupt");
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.error().message.find("corrupt"), std::string::npos);
}

// docs/errors.md: messages name guest paths, never the host directory the
// guest lives in.
TEST(CodeView, ErrorsNameTheGuestPath) {
  auto v = read_code_view("/nonexistent-decant-host-root/usr/sbin/daemon", "/usr/sbin/daemon");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().message.find("nonexistent-decant-host-root"), std::string::npos) << v.error().message;
  EXPECT_EQ(v.error().message.rfind("/usr/sbin/daemon: ", 0), 0u) << v.error().message;
  auto ident = read_elf_ident("/nonexistent-decant-host-root/usr/sbin/daemon", "/usr/sbin/daemon");
  ASSERT_FALSE(ident.ok());
  EXPECT_EQ(ident.error().message.rfind("/usr/sbin/daemon: ", 0), 0u) << ident.error().message;
  auto elf = read_elf("/nonexistent-decant-host-root/usr/sbin/daemon", "/usr/sbin/daemon");
  ASSERT_FALSE(elf.ok());
  EXPECT_EQ(elf.error().message.rfind("/usr/sbin/daemon: ", 0), 0u) << elf.error().message;
}

TEST(CodeView, ReadsCorpusBinary) {
  std::string path = std::string(DECANT_CORPUS_DIR) + "/legacy_rawsys";
  if (access(path.c_str(), R_OK) != 0) GTEST_SKIP() << "corpus not built: " << path;
  auto v = read_code_view(path, "legacy_rawsys");
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_FALSE(v->code.empty());
  EXPECT_TRUE(v->is_code(v->entry));
  bool has_syscall_import = false;
  for (auto& r : v->relocs)
    if (r.symbol == "syscall") has_syscall_import = true;
  EXPECT_TRUE(has_syscall_import);
}

// One CIE (augmentation "zR", FDE pointers pc-relative sdata4) and one FDE
// whose pc_begin is 0x2000, in a section mapped at 0x1000.
std::vector<uint8_t> tiny_eh_frame() {
  std::vector<uint8_t> b = {13, 0, 0, 0, 0, 0, 0, 0, 1, 'z', 'R', 0, 1, 0x78, 0x10, 1, 0x1b};
  uint32_t pc = 0x2000 - (0x1000 + 25);
  std::vector<uint8_t> fde = {13, 0, 0, 0, 21, 0, 0, 0, uint8_t(pc), uint8_t(pc >> 8), uint8_t(pc >> 16),
                              uint8_t(pc >> 24), 0x10, 0, 0, 0, 0};
  b.insert(b.end(), fde.begin(), fde.end());
  b.insert(b.end(), {0, 0, 0, 0});
  return b;
}

TEST(EhFrame, FindsFdeStarts) {
  auto b = tiny_eh_frame();
  EXPECT_EQ(eh_frame_fde_starts(b.data(), b.size(), 0x1000, false), (std::vector<uint64_t>{0x2000}));
}

TEST(EhFrame, TruncatedOrCorruptRecordsEndTheWalkSafely) {
  auto b = tiny_eh_frame();
  for (size_t n = 0; n < b.size(); ++n) {
    std::vector<uint8_t> cut(b.begin(), b.begin() + n);  // exact size: ASan sees any overread
    auto starts = eh_frame_fde_starts(cut.data(), cut.size(), 0x1000, false);
    EXPECT_LE(starts.size(), 1u);
  }
  b[0] = 0xff;  // CIE length past the end
  EXPECT_TRUE(eh_frame_fde_starts(b.data(), b.size(), 0x1000, false).empty());
  EXPECT_TRUE(eh_frame_fde_starts(nullptr, 0, 0x1000, false).empty());
}

TEST(Disassembly, DecodesSyscallShapes) {
  // mov $0x6e,%eax; syscall; call *0x10(%rip); ret; nop
  const uint8_t code[] = {0xb8, 0x6e, 0x00, 0x00, 0x00, 0x0f, 0x05, 0xff, 0x15, 0x10, 0x00, 0x00, 0x00, 0xc3, 0x90};
  std::vector<Insn> out;
  DisasmStats stats;
  disassemble_x86_64(code, sizeof code, 0x1000, out, stats);
  ASSERT_EQ(out.size(), 5u);
  EXPECT_EQ(out[0].op, Op::MovImm);
  EXPECT_EQ(out[0].dst, kRax);
  EXPECT_EQ(out[0].imm, 0x6e);
  EXPECT_EQ(out[1].flow, Flow::Syscall);
  EXPECT_EQ(out[2].flow, Flow::Call);
  EXPECT_TRUE(out[2].branch_mem);
  EXPECT_EQ(out[2].ref, 0x1007u + 6 + 0x10);
  EXPECT_EQ(out[3].flow, Flow::Ret);
  EXPECT_TRUE(out[4].padding);
  EXPECT_EQ(stats.instructions, 5u);
}

TEST(Disassembly, SkipsUndecodableBytes) {
  const uint8_t code[] = {0x06, 0x07, 0x0f, 0x05};  // push es, pop es: invalid in 64-bit mode
  std::vector<Insn> out;
  DisasmStats stats;
  disassemble_x86_64(code, sizeof code, 0, out, stats);
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out.back().flow, Flow::Syscall);
  EXPECT_EQ(out.back().addr, 2u);
  EXPECT_EQ(stats.undecodable, 2u);
}

}  // namespace
}  // namespace decant
