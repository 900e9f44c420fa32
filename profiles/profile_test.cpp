// Schema tests for the profile contract: lossless round trips through YAML and
// JSON, strict rejection of unknown fields with their line, type errors, and
// the quoting that keeps version strings strings.
#include <gtest/gtest.h>

#include "profiles/profile.h"

namespace decant {
namespace {

Profile sample() {
  Profile p;
  p.metadata = {"nginx", "decant 0.1.0"};
  p.source.root = "/srv/vms/web01";
  p.source.os = {"debian", "11", "Debian GNU/Linux 11 (bullseye)"};
  p.source.libc = {"glibc", "2.31", "/lib/x86_64-linux-gnu/libc-2.31.so"};
  p.binary.path = "/usr/sbin/nginx";
  p.binary.arch = "x86_64";
  p.binary.elf_class = "elf64";
  p.binary.linkage = "dynamic";
  p.binary.pie = true;
  p.binary.interpreter = "/lib64/ld-linux-x86-64.so.2";
  p.binary.sha256 = std::string(64, 'a');
  p.binary.build_id = "0123";
  p.binary.size = 1234567;
  p.binary.needed = {"libpcre.so.3", "libc.so.6"};
  p.binary.rpath = {"/opt/x/lib"};
  p.entrypoint = {"/usr/sbin/nginx", "-g", "daemon off;"};
  p.user = "www-data";
  p.workdir = "/";
  p.env = {{"LANG", "C"}, {"YES", "no"}};
  p.requires_.glibc = "2.30";
  p.requires_.kernel = "3.2.0";
  p.requires_.versions = {{"GLIBC", "2.30"}, {"GLIBCXX", "3.4.21"}};
  p.requires_.evidence = {{"GLIBC", {"static: /usr/sbin/nginx needs GLIBC_2.30"}}};
  p.libraries.push_back({"libpcre.so.3", "/lib/x86_64-linux-gnu/libpcre.so.3.13.3", "/lib/x86_64-linux-gnu/libpcre.so.3",
                         {"/usr/sbin/nginx"}, "ld.so.conf", {"static: DT_NEEDED"}});
  p.missing_libraries.push_back({"libgone.so.1", {"/usr/sbin/nginx"}});
  p.files.push_back({"/etc/nginx/nginx.conf", "read", false, {"static: .rodata \"/etc/nginx/nginx.conf\""}});
  p.files.push_back({"/var/log/nginx", "write", true, {"config: x"}});
  p.network.apis = {"bind", "listen"};
  p.network.listen.push_back({80, "tcp", "0.0.0.0", "high", {"config: listen 80"}});
  p.network.connect.push_back({"db.legacy.internal", 5432, "tcp", "medium", {"static: x"}});
  p.syscalls.arch = "x86_64";
  p.syscalls.allow = {"accept4", "bind", "brk"};
  p.syscalls.unresolved_sites = 3;
  p.syscalls.evidence = {{"bind", {"libc.so.6:bind <- nginx import"}}};
  p.hazards.push_back({"execstack", "warning", "stack is executable", {"static: PT_GNU_STACK flags RWE"}});
  p.redirects.paths.push_back({"/var/log/nginx", "/data/log/nginx"});
  p.redirects.ports.push_back({80, 8080, "tcp", ""});
  p.redirects.hosts.push_back({"db.legacy.internal", "10.0.0.5"});
  p.redirects.identity.uname_release = "4.19.0-27-amd64";
  p.enforcement.seccomp = {"log", "kill", "EACCES"};
  return p;
}

TEST(Profile, YamlRoundTripIsLossless) {
  Profile p = sample();
  auto back = parse_profile(to_yaml(p), "test.yaml");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_TRUE(*back == p) << to_yaml(*back);
  EXPECT_EQ(to_yaml(*back), to_yaml(p));
}

TEST(Profile, JsonRoundTripIsLossless) {
  Profile p = sample();
  auto back = parse_profile(to_json(p), "test.json");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_TRUE(*back == p);
  EXPECT_EQ(to_json(*back), to_json(p));
}

TEST(Profile, EqualityNoticesEveryChange) {
  Profile a = sample(), b = sample();
  b.redirects.identity.hostname = "x";
  EXPECT_FALSE(a == b);
  b = sample();
  b.binary.runpath = {"/x"};
  EXPECT_FALSE(a == b);
  b = sample();
  b.libraries[0].opened_as = "/lib/libpcre.so.3";
  EXPECT_FALSE(a == b);
}

TEST(Profile, VersionsStayStringsInYaml) {
  std::string y = to_yaml(sample());
  EXPECT_NE(y.find("glibc: \"2.30\""), std::string::npos) << y;
  EXPECT_NE(y.find("YES: \"no\""), std::string::npos) << y;
  EXPECT_NE(y.find("version: \"11\""), std::string::npos) << y;
}

TEST(Profile, UnknownTopLevelFieldIsRejectedWithLine) {
  std::string y = "apiVersion: decant/v1\nkind: Profile\nbinary:\n  path: /bin/x\nlibrarys: []\n";
  auto r = parse_profile(y, "p.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "p.yaml: line 5: unknown field 'librarys'");
}

TEST(Profile, UnknownNestedFieldIsRejectedWithPathAndLine) {
  std::string y =
      "apiVersion: decant/v1\nkind: Profile\nbinary:\n  path: /bin/x\nredirects:\n  ports:\n"
      "    - {from: 80, to: 8080}\n    - {from: 21, too: 2121}\n";
  auto r = parse_profile(y, "p.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("line 8"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("unknown field 'redirects.ports[1].too'"), std::string::npos) << r.error().message;
}

TEST(Profile, UnknownFieldInJsonHasLine) {
  std::string j = "{\n \"apiVersion\": \"decant/v1\",\n \"kind\": \"Profile\",\n \"binary\": {\"path\": \"/x\"},\n"
                  " \"extra\": 1\n}\n";
  auto r = parse_profile(j, "p.json");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "p.json: line 5: unknown field 'extra'");
}

TEST(Profile, TypeAndRangeErrors) {
  std::string base = "apiVersion: decant/v1\nkind: Profile\nbinary:\n  path: /bin/x\n";
  auto r = parse_profile(base + "redirects:\n  ports: [{from: 80, to: 70000}]\n", "p");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("out of range"), std::string::npos) << r.error().message;
  r = parse_profile(base + "binary2: 1\n", "p");
  ASSERT_FALSE(r.ok());
  r = parse_profile(base + "binary:\n  path: [a]\n", "p");
  ASSERT_FALSE(r.ok());
  r = parse_profile(base + "enforcement:\n  seccomp: {mode: strict}\n", "p");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("mode"), std::string::npos);
  r = parse_profile("apiVersion: decant/v2\nkind: Profile\nbinary: {path: /x}\n", "p");
  ASSERT_FALSE(r.ok());
  r = parse_profile("kind: Profile\n", "p");
  ASSERT_FALSE(r.ok());
  r = parse_profile("[1, 2", "p");
  ASSERT_FALSE(r.ok());
  r = parse_profile("", "p");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "p: empty profile");
}

TEST(Profile, CompareVersions) {
  EXPECT_LT(compare_versions("2.17", "2.28"), 0);
  EXPECT_LT(compare_versions("2.9", "2.17"), 0);
  EXPECT_EQ(compare_versions("2.17", "2.17"), 0);
  EXPECT_GT(compare_versions("2.28.1", "2.28"), 0);
  EXPECT_GT(compare_versions("3.4.21", "3.4.9"), 0);
}

}  // namespace
}  // namespace decant
