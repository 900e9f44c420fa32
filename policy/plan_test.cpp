// Tests of the plan compiler: a compiled plan must parse with the shim's own
// parser (shim/plan.c) into the rules the profile describes, and bad
// profiles are rejected naming the field.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <vector>

#include "policy/plan.h"
#include "policy/seccomp.h"
#include "shim/plan.h"
#include "profiles/test_profiles.h"

namespace decant {
namespace {

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
  Profile p = test_profile();
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

// enforcement.proxy reaches the init through the plan: auto means the proxy
// only for what LD_PRELOAD cannot reach, on makes it mandatory.
TEST(Plan, ProxyModeFollowsTheBinary) {
  auto mode = [](const Profile& p) {
    auto c = compile_plan(p);
    EXPECT_TRUE(c.ok()) << c.error().message;
    ShimView v;
    shim_parse(c->text, v);
    return v.plan.proxy_mode;
  };
  Profile p = test_profile();
  p.binary.linkage = "dynamic";
  EXPECT_EQ(mode(p), SHIM_PROXY_OFF);
  p.hazards.push_back({"raw-syscall", "warning", "inline syscall", {}});
  EXPECT_EQ(mode(p), SHIM_PROXY_AUTO);
  p.hazards.clear();
  p.binary.linkage = "static";
  EXPECT_EQ(mode(p), SHIM_PROXY_AUTO);
  p.enforcement.proxy = "off";
  EXPECT_EQ(mode(p), SHIM_PROXY_OFF);
  p.binary.linkage = "dynamic";
  p.enforcement.proxy = "on";
  EXPECT_EQ(mode(p), SHIM_PROXY_ON);
}

TEST(Plan, RejectsWhatTheShimCouldNotApply) {
  auto expect_bad = [](Profile p, const std::string& needle) {
    auto c = compile_plan(p);
    ASSERT_FALSE(c.ok()) << needle;
    EXPECT_NE(c.error().message.find(needle), std::string::npos) << c.error().message;
    EXPECT_EQ(c.error().kind, ErrorKind::BadInput);
  };
  Profile p = test_profile();
  p.redirects.hosts = {{"10.0.0.1", "db.example"}};
  expect_bad(p, "redirects.hosts");
  p = test_profile();
  p.redirects.paths = {{"/a", "/b"}, {"/a/", "/c"}};
  expect_bad(p, "redirected twice");
  p = test_profile();
  p.redirects.identity.uname_release = std::string(65, 'x');
  expect_bad(p, "redirects.identity.uname_release");
  p = test_profile();
  p.redirects.ports = {{80, 8080, "tcp", "localhost"}};
  expect_bad(p, "not an IP literal");
  p = test_profile();
  p.syscalls.allow = {"read", "not_a_syscall"};
  expect_bad(p, "not_a_syscall");
  p = test_profile();
  p.syscalls.allow = {"read"};
  p.enforcement.seccomp.errno_name = "EWHATEVER";
  expect_bad(p, "EWHATEVER");
}

TEST(Plan, EmptyAllowlistOrLearnModeMeansNoFilter) {
  Profile p = test_profile();
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
    Profile p = test_profile();
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

}  // namespace
}  // namespace decant
