// Tests of the plan compiler and the learn-record merge: a compiled plan
// must parse with the shim's own parser (shim/plan.c) into the rules the
// profile describes, bad profiles are rejected naming the field, and learn
// records land in the profile with observed: evidence.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <vector>

#include "packager/plan.h"
#include "packager/plan_learn.h"
#include "packager/seccomp.h"
#include "shim/plan.h"

namespace decant {
namespace {

Profile base() {
  Profile p;
  p.metadata.name = "t";
  p.binary.path = "/usr/sbin/t";
  p.binary.arch = "x86_64";
  p.syscalls.arch = "x86_64";
  return p;
}

struct ShimView {
  std::string text;
  std::vector<char> arena;
  shim_plan plan{};
};

// Parses a compiled plan exactly as the shim does.
void shim_parse(const std::string& text, ShimView& v) {
  v.text = text + '\0';
  v.arena.resize(shim_plan_arena_bytes(v.text.data(), text.size()));
  char err[256] = "";
  ASSERT_EQ(shim_plan_parse(&v.text[0], text.size(), v.arena.data(), v.arena.size(), &v.plan, err, sizeof err), 0)
      << err << "\n" << text;
}

TEST(Plan, CompilesEveryRedirectForTheShim) {
  Profile p = base();
  p.redirects.paths = {{"/var/log/app/", "/data/log"}, {"/var/log", "/data/varlog"}, {"/opt/my app", "/srv/my app"}};
  p.redirects.ports = {{21, 2121, "tcp", ""}, {53, 5353, "udp", "127.0.0.1"}};
  p.redirects.hosts = {{"db.legacy.internal", "10.0.0.5"}, {"10.1.1.1", "127.0.0.1"}};
  p.redirects.identity.uname_release = "3.10.0-1160.el7.x86_64";
  p.redirects.identity.uname_version = "#1 SMP Mon Oct 19 16:18:59 UTC 2020";
  p.redirects.identity.hostname = "db01";
  p.syscalls.allow = {"read", "write", "exit_group"};
  auto c = compile_plan(p);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->seccomp_mode, "enforce");
  EXPECT_GT(c->bpf_instructions, 3u);
  ShimView v;
  shim_parse(c->text, v);
  ASSERT_EQ(v.plan.n_paths, 3u);
  EXPECT_STREQ(v.plan.paths[0].from, "/var/log/app");  // longest first, trailing slash dropped
  EXPECT_STREQ(v.plan.paths[2].from, "/var/log");
  const shim_path_rule* r = shim_match_path(&v.plan, "/opt/my app/x", 13);
  ASSERT_NE(r, nullptr);
  EXPECT_STREQ(r->to, "/srv/my app");  // spaces survive the encoding
  EXPECT_EQ(shim_match_port(&v.plan, SHIM_TCP, 21)->to, 2121);
  EXPECT_EQ(shim_match_port(&v.plan, SHIM_UDP, 53)->addr_family, AF_INET);
  EXPECT_STREQ(shim_match_host(&v.plan, "db.legacy.internal")->to, "10.0.0.5");
  EXPECT_STREQ(v.plan.uname_version, "#1 SMP Mon Oct 19 16:18:59 UTC 2020");
  EXPECT_STREQ(v.plan.uname_nodename, "db01");
  EXPECT_EQ(v.plan.seccomp_mode, SHIM_SECCOMP_ENFORCE);
  EXPECT_EQ(v.plan.bpf_len, c->bpf_instructions * 8);
}

TEST(Plan, RejectsWhatTheShimCouldNotApply) {
  auto expect_bad = [](Profile p, const std::string& needle) {
    auto c = compile_plan(p);
    ASSERT_FALSE(c.ok()) << needle;
    EXPECT_NE(c.error().message.find(needle), std::string::npos) << c.error().message;
    EXPECT_EQ(c.error().kind, ErrorKind::BadInput);
  };
  Profile p = base();
  p.redirects.hosts = {{"10.0.0.1", "db.example"}};
  expect_bad(p, "redirects.hosts");
  p = base();
  p.redirects.paths = {{"/a", "/b"}, {"/a/", "/c"}};
  expect_bad(p, "redirected twice");
  p = base();
  p.redirects.identity.uname_release = std::string(65, 'x');
  expect_bad(p, "redirects.identity.uname_release");
  p = base();
  p.redirects.ports = {{80, 8080, "tcp", "localhost"}};
  expect_bad(p, "not an IP literal");
  p = base();
  p.syscalls.allow = {"read", "not_a_syscall"};
  expect_bad(p, "not_a_syscall");
  p = base();
  p.syscalls.allow = {"read"};
  p.enforcement.seccomp.errno_name = "EWHATEVER";
  expect_bad(p, "EWHATEVER");
}

TEST(Plan, EmptyAllowlistOrLearnModeMeansNoFilter) {
  Profile p = base();
  auto c = compile_plan(p);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->seccomp_mode, "off");
  ASSERT_EQ(c->warnings.size(), 1u);
  EXPECT_NE(c->warnings[0].find("syscalls.allow is empty"), std::string::npos);
  p.syscalls.allow = {"read"};
  PlanOptions learn;
  learn.learn = true;
  c = compile_plan(p, learn);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->seccomp_mode, "off");
  EXPECT_EQ(c->bpf_instructions, 0u);
  ShimView v;
  shim_parse(c->text, v);
  EXPECT_EQ(v.plan.bpf_len, 0u);
}

TEST(Plan, LogAndKillModesCompile) {
  for (auto [mode, action] : {std::pair<const char*, const char*>{"log", "errno"}, {"enforce", "kill"}}) {
    Profile p = base();
    p.syscalls.allow = {"read", "write"};
    p.enforcement.seccomp.mode = mode;
    p.enforcement.seccomp.default_action = action;
    auto c = compile_plan(p);
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_EQ(c->seccomp_mode, mode);
    ShimView v;
    shim_parse(c->text, v);
    EXPECT_GT(v.plan.bpf_len, 0u);
  }
}

TEST(Seccomp, BpfIsWholeInstructionsAndArchAware) {
  SeccompSpec s;
  s.arch = "x86_64";
  s.allow = {"read", "write", "openat", "close"};
  auto bpf = compile_seccomp_bpf(s);
  ASSERT_TRUE(bpf.ok()) << bpf.error().message;
  EXPECT_EQ(bpf->size() % 8, 0u);
  s.arch = "aarch64";
  auto other = compile_seccomp_bpf(s);
  ASSERT_TRUE(other.ok()) << other.error().message;
  EXPECT_NE(*bpf, *other);
  s.arch = "pdp11";
  EXPECT_FALSE(compile_seccomp_bpf(s).ok());
  EXPECT_EQ(syscall_name("x86_64", 0), "read");
  EXPECT_EQ(errno_from_name("EPERM"), 1);
}

TEST(Learn, MergesRecordsWithObservedEvidence) {
  Profile p = base();
  p.files.push_back({"/etc/app.conf", "read", false, {"static: .rodata"}});
  p.network.connect.push_back({"db.legacy.internal", 5432, "tcp", "medium", {"static: x"}});
  p.syscalls.allow = {"read", "write"};
  std::vector<std::string> lines = {
      R"({"op":"start","exe":"/usr/sbin/t","ppid":1,"pid":10})",
      R"({"op":"open","access":"read","path":"/etc/app.conf","errno":0,"pid":10})",
      R"({"op":"open","access":"write","path":"/etc/app.conf","errno":0,"pid":10})",
      R"({"op":"open","access":"write","path":"/var/log/t.log","target":"/data/t.log","errno":0,"pid":10})",
      R"({"op":"open","access":"read","path":"/etc/missing","errno":2,"pid":11})",
      R"({"op":"stat","access":"stat","path":"/etc/probe","errno":0,"pid":10})",
      R"({"op":"open","access":"read","path":"/opt/caf\u00e9","errno":0,"pid":10})",
      R"({"op":"listen","family":"inet","proto":"tcp","address":"0.0.0.0","port":21,"errno":0,"pid":10})",
      R"({"op":"resolve","api":"getaddrinfo","host":"db.legacy.internal","address":"10.0.0.5","errno":0,"pid":10})",
      R"({"op":"connect","family":"inet","proto":"tcp","address":"10.0.0.5","port":5432,"errno":0,"pid":10})",
      R"({"op":"bind","access":"write","path":"/run/t.sock","errno":0,"pid":10})",
      R"({"op":"syscall","name":"chroot","nr":161,"pid":10,"count":1})",
      R"({"op":"syscall","name":"read","nr":0,"pid":10,"count":1})",
      R"({"op":"open","access":"read","path":"/trunc)",
  };
  LearnSummary s;
  merge_learn_lines(lines, p, s);
  EXPECT_EQ(s.processes, 2u);
  EXPECT_EQ(s.warnings.size(), 1u);  // the truncated line
  auto file = [&](const std::string& path) -> const FileFact* {
    for (const auto& f : p.files)
      if (f.path == path) return &f;
    return nullptr;
  };
  ASSERT_NE(file("/etc/app.conf"), nullptr);
  EXPECT_EQ(file("/etc/app.conf")->access, "write");
  EXPECT_EQ(file("/etc/app.conf")->evidence.size(), 3u);
  ASSERT_NE(file("/var/log/t.log"), nullptr);
  EXPECT_EQ(file("/var/log/t.log")->evidence[0], "observed: open (write) in learn mode");
  ASSERT_NE(file("/etc/missing"), nullptr);
  EXPECT_TRUE(file("/etc/missing")->optional);
  EXPECT_EQ(file("/etc/probe"), nullptr);  // stat probes are not file facts
  EXPECT_NE(file("/opt/caf\xe9"), nullptr);  // bytes come back as bytes
  ASSERT_NE(file("/run/t.sock"), nullptr);
  ASSERT_EQ(p.network.listen.size(), 1u);
  EXPECT_EQ(p.network.listen[0].port, 21);
  EXPECT_EQ(p.network.listen[0].evidence[0], "observed: listen() on 0.0.0.0:21/tcp in learn mode");
  ASSERT_EQ(p.network.connect.size(), 1u);  // matched the static fact through the resolved name
  EXPECT_EQ(p.network.connect[0].confidence, "high");
  EXPECT_EQ(p.network.connect[0].evidence.size(), 2u);
  EXPECT_EQ(s.analyzer_misses, std::vector<std::string>{"chroot"});
  EXPECT_EQ(p.syscalls.allow, (std::vector<std::string>{"chroot", "read", "write"}));
  EXPECT_EQ(p.syscalls.evidence["chroot"][0], "observed: learn mode (seccomp user notification)");
}

}  // namespace
}  // namespace decant
