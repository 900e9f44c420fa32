// Unit tests of object summaries, the cache format and the syscall table,
// on corpus binaries built with the project.
#include "analyzer/code/code_analysis.h"

#include <unistd.h>

#include <map>

#include <gtest/gtest.h>

#include "analyzer/code/code_cache.h"
#include "analyzer/code/summarize.h"
#include "guest/test_tree.h"

namespace decant {
namespace {

std::optional<ObjectSummary> summary_of(const std::string& name) {
  std::string path = std::string(DECANT_CORPUS_DIR) + "/" + name;
  if (access(path.c_str(), R_OK) != 0) return std::nullopt;
  auto v = read_code_view(path, name);
  if (!v) return std::nullopt;
  return summarize_object(*v);
}

TEST(SyscallTable, NamesFromLibseccomp) {
  EXPECT_EQ(syscall_name_x86_64(0), "read");
  EXPECT_EQ(syscall_name_x86_64(110), "getppid");
  EXPECT_EQ(syscall_number_x86_64("getppid"), 110);
  EXPECT_EQ(syscall_name_x86_64(100000), "");
}

TEST(ObjectSummary, RawsysInlineSyscallAndSyscallArguments) {
  auto s = summary_of("legacy_rawsys");
  if (!s) GTEST_SKIP() << "corpus not built";
  ASSERT_TRUE(s->error.empty()) << s->error;
  bool inline_getppid = false;
  std::set<int64_t> syscall_args;
  for (auto& f : s->functions) {
    for (auto& u : f.syscalls)
      if (u.number == 110) inline_getppid = true;
    for (auto& c : f.import_args)
      if (s->imports[c.import].name == "syscall") syscall_args.insert(c.values.begin(), c.values.end());
  }
  EXPECT_TRUE(inline_getppid);
  EXPECT_TRUE(syscall_args.count(39));   // SYS_getpid
  EXPECT_TRUE(syscall_args.count(186));  // SYS_gettid
}

TEST(ObjectSummary, ForkdPortAndPaths) {
  auto s = summary_of("legacy_forkd");
  if (!s) GTEST_SKIP() << "corpus not built";
  bool port = false, conf = false, log = false;
  for (auto& l : s->literals) {
    if (l.kind == LiteralRef::Port && l.value == "7070" && l.hint == "listen" && l.confidence == "high") port = true;
    if (l.kind == LiteralRef::Path && l.value == "/etc/legacy/forkd.conf" && l.hint == "read") conf = true;
    if (l.kind == LiteralRef::Path && l.value == "/var/log/legacy/forkd.log" && l.hint == "write") log = true;
  }
  EXPECT_TRUE(port);
  EXPECT_TRUE(conf);
  EXPECT_TRUE(log);
}

// Defaults held in globals reach sin_port at run time: through a setter
// that byte-swaps its argument (listen_port, assigned 2121 at start) and
// inline (admin_port, initialized 8022). reply_code never reaches a
// sockaddr.
TEST(ObjectSummary, TunabledDefaultPortsThroughGlobals) {
  auto s = summary_of("legacy_tunabled");
  if (!s) GTEST_SKIP() << "corpus not built";
  std::map<std::string, std::string> defaults;
  for (auto& l : s->literals)
    if (l.kind == LiteralRef::DefaultPort) defaults[l.value] = l.evidence;
  ASSERT_EQ(defaults.size(), 2u);
  ASSERT_TRUE(defaults.count("2121"));
  EXPECT_NE(defaults["2121"].find("passed at"), std::string::npos) << defaults["2121"];
  ASSERT_TRUE(defaults.count("8022"));
  EXPECT_NE(defaults["8022"].find("stored to sockaddr sin_port byte-swapped"), std::string::npos) << defaults["8022"];
  for (auto& l : s->literals) EXPECT_FALSE(l.kind == LiteralRef::Port && l.value == "220");
}

TEST(CodeCache, RoundTripsAndRejectsCorruptEntries) {
  auto s = summary_of("legacy_client");
  if (!s) GTEST_SKIP() << "corpus not built";
  s->sha256 = "abc";
  std::string text = summary_to_json(*s);
  auto back = summary_from_json(text);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->functions.size(), s->functions.size());
  EXPECT_EQ(back->imports.size(), s->imports.size());
  EXPECT_EQ(back->literals.size(), s->literals.size());
  EXPECT_EQ(summary_to_json(*back), text);
  EXPECT_FALSE(summary_from_json("{").has_value());
  EXPECT_FALSE(summary_from_json("{\"version\": 1}").has_value());
  // An out-of-range call index must not be trusted.
  std::string bad = text;
  auto pos = bad.find("\"c\":[");
  if (pos != std::string::npos) {
    bad.insert(pos + 5, "999999999,");
    EXPECT_FALSE(summary_from_json(bad).has_value());
  }
}

// Each object is read from disk once: code analysis summarizes the bytes
// read_elf() read for the closure. Emptying the file after the closure was
// resolved would otherwise make it "not analyzed".
TEST(CodeAnalysis, SummarizesTheBytesTheClosureRead) {
  std::string path = std::string(DECANT_CORPUS_DIR) + "/legacy_rawsys";
  if (access(path.c_str(), R_OK) != 0) GTEST_SKIP() << "corpus not built";
  TestTree t;
  t.mkdir("/usr/bin");
  ASSERT_EQ(t.sh("cp '" + path + "' \"$T/usr/bin/prog\""), 0);
  auto root = GuestRoot::open(t.root());
  ASSERT_TRUE(root.ok());
  ElfCache cache;
  auto elf = cache.get(*root, "/usr/bin/prog");
  ASSERT_TRUE(elf.ok()) << elf.error().message;
  ASSERT_TRUE((*elf)->bytes);
  EXPECT_EQ((*elf)->bytes->size(), (*elf)->size);
  Closure closure = resolve_closure(*root, "/usr/bin/prog", "/usr/bin/prog", *elf, cache);
  t.write("/usr/bin/prog", "");
  Profile p;
  p.binary.path = "/usr/bin/prog";
  CodeOptions options;
  options.use_cache = false;
  options.threads = 1;
  CodeStats stats;
  ASSERT_TRUE(analyze_code(*root, closure, p, options, &stats).ok());
  for (auto& h : p.hazards) EXPECT_NE(h.id, "code-not-analyzed") << h.evidence.front();
  EXPECT_GT(stats.instructions, 0u);
}

}  // namespace
}  // namespace decant
