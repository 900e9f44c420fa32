// Unit tests of the shim's pure core (plan.c): lexical normalization,
// longest-prefix matching on component boundaries, port and host lookups,
// and strict plan parsing. These run without preloading anything.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "plan.h"

namespace {

std::string norm(const char* cwd, const char* path) {
  char out[SHIM_PATH_MAX];
  long n = shim_normalize(cwd, path, out, sizeof out);
  return n < 0 ? std::string("<too long>") : std::string(out, static_cast<size_t>(n));
}

struct Parsed {
  std::string text;  // owns the storage the plan points into
  std::vector<char> arena;
  shim_plan plan{};
  int rc = -1;
  std::string err;
};

Parsed parse(const std::string& text) {
  Parsed p;
  p.text = text;
  p.text.push_back('\0');  // the parser needs one writable byte past the end
  p.arena.resize(shim_plan_arena_bytes(p.text.data(), text.size()));
  char err[256] = "";
  p.rc = shim_plan_parse(&p.text[0], text.size(), p.arena.data(), p.arena.size(), &p.plan, err, sizeof err);
  p.err = err;
  return p;
}

std::string map(const shim_plan& plan, const std::string& path) {
  const shim_path_rule* r = shim_match_path(&plan, path.c_str(), path.size());
  if (!r) return "<none>";
  char out[SHIM_PATH_MAX];
  long n = shim_apply_path_rule(r, path.c_str(), path.size(), out, sizeof out);
  return n < 0 ? "<too long>" : std::string(out);
}

TEST(Normalize, CollapsesDotsAndSlashes) {
  EXPECT_EQ(norm(nullptr, "/var//log/./app.log"), "/var/log/app.log");
  EXPECT_EQ(norm(nullptr, "/var/log/../lib/x"), "/var/lib/x");
  EXPECT_EQ(norm(nullptr, "/../../etc"), "/etc");
  EXPECT_EQ(norm(nullptr, "/"), "/");
  EXPECT_EQ(norm(nullptr, "/.."), "/");
  EXPECT_EQ(norm(nullptr, "/a/b/.."), "/a");
}

TEST(Normalize, ResolvesRelativeAgainstCwd) {
  EXPECT_EQ(norm("/srv/app", "log/x.log"), "/srv/app/log/x.log");
  EXPECT_EQ(norm("/srv/app", "../etc/conf"), "/srv/etc/conf");
  EXPECT_EQ(norm("/srv/app", "."), "/srv/app");
  EXPECT_EQ(norm("/", ".."), "/");
  EXPECT_EQ(norm("/srv/app/", "./a/../b"), "/srv/app/b");
}

TEST(Normalize, KeepsTrailingSlash) {
  EXPECT_EQ(norm(nullptr, "/var/log/"), "/var/log/");
  EXPECT_EQ(norm("/x", "y/"), "/x/y/");
}

TEST(Normalize, RefusesWhatDoesNotFit) {
  std::string longp = "/" + std::string(SHIM_PATH_MAX, 'a');
  EXPECT_EQ(norm(nullptr, longp.c_str()), "<too long>");
}

TEST(Normalize, CleanDetection) {
  EXPECT_TRUE(shim_path_is_clean("/"));
  EXPECT_TRUE(shim_path_is_clean("/var/log/app.log"));
  EXPECT_TRUE(shim_path_is_clean("/var/.hidden/..x"));
  EXPECT_FALSE(shim_path_is_clean("var/log"));
  EXPECT_FALSE(shim_path_is_clean("/var//log"));
  EXPECT_FALSE(shim_path_is_clean("/var/./log"));
  EXPECT_FALSE(shim_path_is_clean("/var/log/.."));
  EXPECT_FALSE(shim_path_is_clean("/var/log/"));
}

TEST(Match, LongestPrefixOnComponentBoundaries) {
  auto p = parse(
      "decant-plan 1\n"
      "path /var/log /data/log\n"
      "path /var/log/app /data/app-logs\n"
      "path /etc/redhat-release /decant/identity/redhat-release\n"
      "end\n");
  ASSERT_EQ(p.rc, 0) << p.err;
  EXPECT_EQ(map(p.plan, "/var/log/app/x.log"), "/data/app-logs/x.log");
  EXPECT_EQ(map(p.plan, "/var/log/app"), "/data/app-logs");
  EXPECT_EQ(map(p.plan, "/var/log/application.log"), "/data/log/application.log");
  EXPECT_EQ(map(p.plan, "/var/log/"), "/data/log/");
  EXPECT_EQ(map(p.plan, "/var/logs"), "<none>");
  EXPECT_EQ(map(p.plan, "/var"), "<none>");
  EXPECT_EQ(map(p.plan, "/etc/redhat-release"), "/decant/identity/redhat-release");
  EXPECT_EQ(map(p.plan, "/etc/redhat-release.bak"), "<none>");
}

TEST(Match, RootRulesAndRootTargets) {
  auto p = parse("decant-plan 1\npath / /guest\nend\n");
  ASSERT_EQ(p.rc, 0) << p.err;
  EXPECT_EQ(map(p.plan, "/etc/passwd"), "/guest/etc/passwd");
  EXPECT_EQ(map(p.plan, "/"), "/guest/");
  auto q = parse("decant-plan 1\npath /chroot /\nend\n");
  ASSERT_EQ(q.rc, 0) << q.err;
  EXPECT_EQ(map(q.plan, "/chroot/etc"), "/etc");
  EXPECT_EQ(map(q.plan, "/chroot"), "/");
}

TEST(Plan, PortsHostsUnameSeccomp) {
  auto p = parse(
      "# comment\n"
      "decant-plan 1\n"
      "port tcp 21 2121\n"
      "port udp 53 5353 127.0.0.1\n"
      "host db.legacy.internal 127.0.0.1\n"
      "host 10.1.2.3 127.0.0.2\n"
      "uname release 3.10.0-1160.el7.x86_64\n"
      "uname version #1%20SMP%20Wed\n"
      "seccomp enforce x86_64 0600000000000000\n"
      "end\n");
  ASSERT_EQ(p.rc, 0) << p.err;
  ASSERT_EQ(p.plan.n_ports, 2u);
  EXPECT_EQ(shim_match_port(&p.plan, SHIM_TCP, 21)->to, 2121);
  EXPECT_EQ(shim_match_port(&p.plan, SHIM_UDP, 21), nullptr);
  EXPECT_EQ(shim_match_port(&p.plan, SHIM_UDP, 53)->addr_family, AF_INET);
  EXPECT_EQ(shim_match_port_target(&p.plan, SHIM_TCP, 2121)->from, 21);
  ASSERT_NE(shim_match_host(&p.plan, "DB.Legacy.Internal."), nullptr);
  EXPECT_STREQ(shim_match_host(&p.plan, "db.legacy.internal")->to, "127.0.0.1");
  EXPECT_EQ(shim_match_host(&p.plan, "db.legacy.internal.x"), nullptr);
  EXPECT_EQ(shim_match_host(&p.plan, "10.1.2.3"), nullptr);  // literal rules act on connect
  unsigned char a[4];
  inet_pton(AF_INET, "10.1.2.3", a);
  ASSERT_NE(shim_match_addr(&p.plan, AF_INET, a, 0), nullptr);
  inet_pton(AF_INET, "127.0.0.2", a);
  ASSERT_NE(shim_match_addr(&p.plan, AF_INET, a, 1), nullptr);
  EXPECT_STREQ(p.plan.uname_release, "3.10.0-1160.el7.x86_64");
  EXPECT_STREQ(p.plan.uname_version, "#1 SMP Wed");
  EXPECT_EQ(p.plan.seccomp_mode, SHIM_SECCOMP_ENFORCE);
  EXPECT_EQ(p.plan.bpf_len, 8u);
  EXPECT_EQ(p.plan.bpf[0], 6);
}

TEST(Plan, RejectsMalformedInput) {
  const char* bad[] = {
      "",
      "decant-plan 2\nend\n",
      "decant-plan 1\n",                                // truncated
      "decant-plan 1\npath /a\nend\n",                  // field count
      "decant-plan 1\npath a /b\nend\n",                // relative
      "decant-plan 1\npath /a/../b /c\nend\n",          // not normalized
      "decant-plan 1\nport sctp 1 2\nend\n",
      "decant-plan 1\nport tcp 0 2\nend\n",
      "decant-plan 1\nport tcp 1 65536\nend\n",
      "decant-plan 1\nport tcp 1 2 not-an-ip\nend\n",
      "decant-plan 1\nhost 10.0.0.1 db.example\nend\n",  // literal needs literal
      "decant-plan 1\nuname colour blue\nend\n",
      "decant-plan 1\nseccomp enforce x86_64 060000\nend\n",  // not whole instructions
      "decant-plan 1\nseccomp enforce x86_64\nend\n",
      "decant-plan 1\nseccomp maybe x86_64 0600000000000000\nend\n",
      "decant-plan 1\nfrobnicate\nend\n",
      "decant-plan 1\npath /a%zz /b\nend\n",
      "decant-plan 1\npath /a%00 /b\nend\n",
      "decant-plan 1\nend\npath /a /b\n",
  };
  for (const char* t : bad) {
    auto p = parse(t);
    EXPECT_EQ(p.rc, -1) << "accepted: " << t;
    EXPECT_FALSE(p.err.empty()) << t;
  }
}

TEST(Plan, ErrorsNameTheLine) {
  auto p = parse("decant-plan 1\n\npath /a\nend\n");
  EXPECT_EQ(p.rc, -1);
  EXPECT_EQ(p.err.rfind("line 3: ", 0), 0u) << p.err;
}

TEST(Plan, EmptyPlanIsValid) {
  auto p = parse("decant-plan 1\nseccomp off x86_64\nend\n");
  ASSERT_EQ(p.rc, 0) << p.err;
  EXPECT_EQ(p.plan.n_paths, 0u);
  EXPECT_EQ(p.plan.seccomp_mode, SHIM_SECCOMP_OFF);
}

}  // namespace

namespace {

// Rule order after parsing is longest from first, stable among equal
// lengths (the earlier line wins), and sorting many rules is not quadratic:
// 300000 rules of two lengths used to take minutes with an insertion sort.
TEST(PlanParse, SortsPathRulesStablyAndFast) {
  auto p = parse("decant-plan 1\npath /a /first\npath /a/b /ab\npath /a /second\npath /x/y/z /xyz\nend\n");
  ASSERT_EQ(p.rc, 0) << p.err;
  ASSERT_EQ(p.plan.n_paths, 4u);
  EXPECT_STREQ(p.plan.paths[0].from, "/x/y/z");
  EXPECT_STREQ(p.plan.paths[1].from, "/a/b");
  EXPECT_STREQ(p.plan.paths[2].to, "/first");
  EXPECT_STREQ(p.plan.paths[3].to, "/second");
  EXPECT_EQ(map(p.plan, "/a/c"), "/first/c");

  std::string big = "decant-plan 1\n";
  for (int i = 0; i < 150000; i++) big += "path /a /s\n";
  for (int i = 0; i < 150000; i++) big += "path /ab /l\n";
  big += "end\n";
  auto start = std::chrono::steady_clock::now();
  auto q = parse(big);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(q.rc, 0) << q.err;
  ASSERT_EQ(q.plan.n_paths, 300000u);
  for (size_t i = 1; i < q.plan.n_paths; i++) ASSERT_GE(q.plan.paths[i - 1].from_len, q.plan.paths[i].from_len);
  EXPECT_LT(ms, 5000) << "parsing 300000 path rules took " << ms << " ms";
}

}  // namespace

namespace {

// shim_map_path is the mapping the shim's pathmap.c and the proxy's
// supervisor share: relative paths against a base, unmatched paths left to
// the caller (0), rewrites that do not fit refused (-2).
TEST(PlanParse, MapPathIsTheSharedMapping) {
  auto p = parse("decant-plan 1\npath /opt/app /srv/app\nend\n");
  ASSERT_EQ(p.rc, 0) << p.err;
  char out[SHIM_PATH_MAX], scratch[SHIM_PATH_MAX];
  ASSERT_GT(shim_map_path(&p.plan, "/opt", "app/x/../y", out, scratch), 0);
  EXPECT_STREQ(out, "/srv/app/y");
  EXPECT_GT(shim_map_path(&p.plan, nullptr, "/opt/./app", out, scratch), 0);
  EXPECT_STREQ(out, "/srv/app");
  EXPECT_EQ(shim_map_path(&p.plan, "/", "opt/application", out, scratch), 0);
  EXPECT_EQ(shim_map_path(&p.plan, nullptr, "/etc/passwd", out, scratch), 0);
  auto longer = parse("decant-plan 1\npath /a /a/much/longer/target\nend\n");
  ASSERT_EQ(longer.rc, 0) << longer.err;
  std::string deep = "/a/" + std::string(SHIM_PATH_MAX - 10, 'x');  // normalizes, cannot be rewritten
  EXPECT_EQ(shim_map_path(&longer.plan, nullptr, deep.c_str(), out, scratch), -2);
}

// The proxy directive is the init's; the shim parses and keeps it.
TEST(PlanParse, ProxyDirective) {
  EXPECT_EQ(parse("decant-plan 1\nproxy on\nend\n").plan.proxy_mode, SHIM_PROXY_ON);
  EXPECT_EQ(parse("decant-plan 1\nproxy auto\nend\n").plan.proxy_mode, SHIM_PROXY_AUTO);
  EXPECT_EQ(parse("decant-plan 1\nend\n").plan.proxy_mode, SHIM_PROXY_OFF);
  EXPECT_NE(parse("decant-plan 1\nproxy maybe\nend\n").rc, 0);
}

}  // namespace
