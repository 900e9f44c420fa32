// Schema tests for the profile contract: lossless round trips through YAML and
// JSON, strict rejection of unknown fields with their line, type errors, and
// the quoting that keeps version strings strings.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

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
  p.service = {"forking", "/run/nginx.pid", {"/run/nginx"}, "2755", 90,
               {"discover: nginx.service:9: Type=forking", "discover: nginx.service:12: TimeoutStopSec=1min 30s"}};
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
  p.enforcement.proxy = "on";
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
  for (auto change : {+[](Profile& p) { p.service.type = "simple"; }, +[](Profile& p) { p.service.pidfile = "/x"; },
                      +[](Profile& p) { p.service.runtime_directories.clear(); },
                      +[](Profile& p) { p.service.runtime_directory_mode = "0700"; },
                      +[](Profile& p) { p.service.stop_timeout = 0; },
                      +[](Profile& p) { p.service.evidence.clear(); }}) {
    b = sample();
    change(b);
    EXPECT_FALSE(a == b);
  }
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
  r = parse_profile(base + "enforcement:\n  proxy: always\n", "p");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("enforcement.proxy"), std::string::npos) << r.error().message;
  r = parse_profile(base + "enforcement:\n  proxy: off\n", "p");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->enforcement.proxy, "off");
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

// Old guests carry Latin-1 file names: paths are bytes, and every byte
// sequence must survive both formats exactly.
Profile with_non_utf8_bytes() {
  Profile p = sample();
  const std::string latin1 = "/srv/caf\xe9/data", lone = "lib\xff.so";
  p.binary.needed = {lone, "libc.so.6"};
  p.libraries[0].soname = lone;
  p.libraries[0].path = "/opt/\xe9t\xe9/" + lone;
  p.libraries[0].opened_as = "/opt/\xe9t\xe9/" + lone;
  p.missing_libraries[0].soname = "libgone\xfe.so";
  p.files.push_back({latin1, "read", false, {"static: .rodata \"" + latin1 + "\""}});
  // Not UTF-8 in subtle ways: overlong '/', a UTF-16 surrogate, a truncated
  // sequence, and a genuine U+EF80 (the escape's own range) next to a valid é.
  p.files.push_back({"/x/\xc0\xaf/\xed\xb2\x80/\xe2\x82", "read", true, {"static: \xee\xbe\x80 \xc3\xa9"}});
  p.requires_.evidence["kernel\xa0"] = {"static: \xff"};
  p.hazards[0].message = "stack of " + lone + " is executable";
  return p;
}

TEST(Profile, NonUtf8BytesRoundTripExactlyInYamlAndJson) {
  Profile p = with_non_utf8_bytes();
  for (ProfileFormat f : {ProfileFormat::Yaml, ProfileFormat::Json}) {
    std::string text;
    ASSERT_NO_THROW(text = serialize(p, f));
    EXPECT_TRUE(is_utf8(text)) << text;
    EXPECT_NE(text.find("lib\\uefff.so"), std::string::npos) << text;
    auto back = parse_profile(text, "p");
    ASSERT_TRUE(back.ok()) << back.error().message << "\n" << text;
    EXPECT_TRUE(*back == p) << serialize(*back, f);
    EXPECT_EQ(back->files[2].path, "/srv/caf\xe9/data");
    EXPECT_EQ(back->files[3].evidence[0], "static: \xee\xbe\x80 \xc3\xa9");
    EXPECT_EQ(serialize(*back, f), text);
  }
  // Any JSON tool reads the file, and sees the byte in the escape's last digits.
  auto j = nlohmann::json::parse(to_json(p));
  EXPECT_EQ(j["binary"]["needed"][0].get<std::string>(), "lib\xee\xbf\xbf.so");
}

// Any byte string but NUL (refused on reading) survives both formats.
TEST(Profile, RandomByteStringsRoundTripExactly) {
  uint32_t seed = 12345;
  auto next = [&] { return seed = seed * 1103515245u + 12345u, (seed >> 16) & 0xFF; };
  for (int round = 0; round < 200; ++round) {
    Profile p = sample();
    for (int k = 0; k < 4; ++k) {
      std::string s;
      for (size_t n = next() % 24; n > 0; --n) {
        // One byte in three from the interesting ones: the escapes' own
        // bytes (EE BE|BF xx), UTF-8 leads, a surrogate's lead.
        static const unsigned char picks[] = {0xEE, 0xBE, 0xBF, 0x80, 0xBF, 0xC3, 0xA9, 0xED, 0xF4, '\\', '"'};
        unsigned b = next() % 3 == 0 ? picks[next() % sizeof picks] : next();
        s += static_cast<char>(b ? b : 0xFF);
      }
      p.hazards[0].evidence.push_back(s);
    }
    for (ProfileFormat f : {ProfileFormat::Yaml, ProfileFormat::Json}) {
      std::string text = serialize(p, f);
      ASSERT_TRUE(is_utf8(text));
      auto back = parse_profile(text, "p");
      ASSERT_TRUE(back.ok()) << back.error().message;
      ASSERT_EQ(back->hazards[0].evidence, p.hazards[0].evidence) << text;
    }
  }
}

TEST(Profile, ValidUtf8IsWrittenAsIs) {
  Profile p = sample();
  p.source.os.pretty = "Debian GNU/Linux 11 (bullseye) \xe2\x80\x94 \xc3\xbc";  // "— ü"
  for (ProfileFormat f : {ProfileFormat::Yaml, ProfileFormat::Json}) {
    std::string text = serialize(p, f);
    EXPECT_NE(text.find("(bullseye) \xe2\x80\x94 \xc3\xbc"), std::string::npos) << text;
    EXPECT_EQ(text.find("\\uef"), std::string::npos) << text;
  }
  EXPECT_EQ(to_json(p), nlohmann::ordered_json::parse(to_json(p)).dump(2) + "\n");
}

TEST(Profile, RawLatin1BytesInAHandWrittenFileAreBytes) {
  auto r = parse_profile("apiVersion: decant/v1\nkind: Profile\nbinary: {path: /bin/x}\n"
                         "files: [{path: /srv/caf\xe9, access: read}]\n",
                         "p.yaml");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->files[0].path, "/srv/caf\xe9");
}

const std::string kBase = "apiVersion: decant/v1\nkind: Profile\nbinary:\n  path: /bin/x\n";

std::string error_of(const std::string& text) {
  auto r = parse_profile(text, "p.yaml");
  return r.ok() ? std::string("(accepted)") : r.error().message;
}

TEST(Profile, PathsAreNormalizedOnceByTheReader) {
  auto r = parse_profile(kBase + "workdir: /srv/./app/\n"
                                 "files: [{path: /var//log/x/../y/, access: write}]\n"
                                 "redirects:\n  paths: [{from: /var/log/./app/, to: /data/../srv/log}]\n",
                         "p.yaml");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->validated);
  EXPECT_EQ(r->workdir, "/srv/app");
  EXPECT_EQ(r->files[0].path, "/var/log/y");
  EXPECT_EQ(r->redirects.paths[0].from, "/var/log/app");
  EXPECT_EQ(r->redirects.paths[0].to, "/srv/log");
  EXPECT_EQ(error_of(kBase + "files:\n  - {path: /etc/../../etc/shadow, access: read}\n"),
            "p.yaml: line 6: field 'files[0].path': '/etc/../../etc/shadow' climbs above /");
  EXPECT_EQ(error_of(kBase + "redirects:\n  paths:\n    - {from: /a, to: /..}\n"),
            "p.yaml: line 7: field 'redirects.paths[0].to': '/..' climbs above /");
}

TEST(Profile, RedirectsTheShimCannotApplyAreRejected) {
  auto expect_error = [](const std::string& body, const std::string& needle) {
    std::string e = error_of(kBase + body);
    EXPECT_NE(e.find(needle), std::string::npos) << body << " -> " << e;
    EXPECT_EQ(e.find('\n'), std::string::npos) << e;
  };
  expect_error("redirects:\n  ports: [{from: 0, to: 8080}]\n", "ports must be 1-65535");
  expect_error("redirects:\n  ports: [{from: 80, to: 81}, {from: 80, to: 82}]\n", "80/tcp redirected twice");
  expect_error("redirects:\n  paths: [{from: /a, to: /b}, {from: /a/, to: /c}]\n", "'/a' redirected twice");
  expect_error("redirects:\n  identity: {uname_release: " + std::string(65, 'x') + "}\n",
               "redirects.identity.uname_release: longer than the 64 bytes");
  expect_error("redirects:\n  hosts: [{from: 10.0.0.1, to: db.example}]\n", "redirects.hosts");
  expect_error("redirects:\n  ports: [{from: 80, to: 8080, address: localhost}]\n", "not an IP literal");
  expect_error("redirects:\n  paths: [{from: /var/lib/app, to: /}]\n",
               "redirects.paths[0].to: '/' cannot be a redirect target");
  for (const char* target : {"/proc/self/environ", "/sys/kernel", "/dev/shm/x", "/srv/../proc"})
    expect_error(std::string("redirects:\n  paths: [{from: /etc/app, to: ") + target + "}]\n",
                 "which the kernel and runtime own");
  // /procfs is not /proc.
  EXPECT_EQ(error_of(kBase + "redirects:\n  paths: [{from: /etc/app, to: /procfs/app}]\n"), "(accepted)");
}

TEST(Profile, ProcessFieldsMustBeOneLineOfText) {
  auto expect_error = [](const std::string& body, const std::string& needle) {
    std::string e = error_of(kBase + body);
    EXPECT_NE(e.find(needle), std::string::npos) << body << " -> " << e;
  };
  expect_error("workdir: srv/app\n", "workdir: 'srv/app' is not absolute");
  expect_error("env: {A: \"x\\0y\"}\n", "field 'env.A': contains a NUL byte");
  expect_error("env: {A: \"x\\ny\"}\n", "env.A: contains a line break");
  expect_error("env: {\"A=B\": x}\n", "is not a variable name");
  expect_error("entrypoint: [/bin/x, \"a\\nb\"]\n", "entrypoint[1]: contains a line break");
  expect_error("entrypoint: [\"/bin/caf\xe9\"]\n", "entrypoint[0]: is not valid UTF-8");
  expect_error("user: \"www\\rdata\"\n", "user: contains a line break");
}

TEST(Profile, DeepNestingSaysSoWithLine) {
  for (const std::string& open : {std::string("["), std::string("{a: ")}) {
    std::string deep = kBase + "metadata:\n  name: ";
    std::string close = open == "[" ? "]" : "}";
    for (int i = 0; i < 3000; ++i) deep += open;
    for (int i = 0; i < 3000; ++i) deep += close;
    std::string e = error_of(deep + "\n");
    EXPECT_NE(e.find("p.yaml: line 6: nesting too deep"), std::string::npos) << e.substr(0, 200);
  }
  // In JSON the whole file is one flow collection: the line is still the deep one.
  std::string j = "{\"apiVersion\": \"decant/v1\", \"kind\": \"Profile\",\n\"binary\": {\"path\": \"/x\"},\n\"env\": ";
  j += std::string(600, '[') + std::string(600, ']') + "\n}\n\n\n";
  EXPECT_NE(error_of(j).find("p.yaml: line 3: nesting too deep"), std::string::npos) << error_of(j).substr(0, 200);
}

TEST(Profile, CompareVersions) {
  EXPECT_LT(compare_versions("2.17", "2.28"), 0);
  EXPECT_LT(compare_versions("2.9", "2.17"), 0);
  EXPECT_EQ(compare_versions("2.17", "2.17"), 0);
  EXPECT_GT(compare_versions("2.28.1", "2.28"), 0);
  EXPECT_GT(compare_versions("3.4.21", "3.4.9"), 0);
}

TEST(Profile, ServiceSectionIsReadWrittenAndChecked) {
  std::string y = to_yaml(sample());
  EXPECT_NE(y.find("service:"), std::string::npos) << y;
  EXPECT_NE(y.find("type: forking"), std::string::npos) << y;
  EXPECT_NE(y.find("runtime_directory_mode: \"2755\""), std::string::npos) << y;
  // Absent: simple; the writer still writes the section, empty.
  auto r = parse_profile(kBase, "p.yaml");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->service, ServiceInfo{});
  EXPECT_NE(to_yaml(*r).find("service: {}"), std::string::npos) << to_yaml(*r);
  r = parse_profile(kBase + "service: {type: forking, pidfile: /var/run/./x.pid, runtime_directories: [/run/x/]}\n",
                    "p.yaml");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->service.pidfile, "/var/run/x.pid");
  EXPECT_EQ(r->service.runtime_directories, std::vector<std::string>{"/run/x"});
  EXPECT_EQ(error_of(kBase + "service: {type: oneshot}\n").find("p.yaml: service.type: 'oneshot' is not one of"), 0u)
      << error_of(kBase + "service: {type: oneshot}\n");
  EXPECT_NE(error_of(kBase + "service: {pidfile: run/x.pid}\n").find("service.pidfile: 'run/x.pid' is not an absolute"),
            std::string::npos);
  EXPECT_NE(error_of(kBase + "service: {runtime_directories: [/]}\n").find("service.runtime_directories[0]"),
            std::string::npos);
  EXPECT_NE(error_of(kBase + "service: {runtime_directory_mode: \"0789\"}\n").find("not an octal mode"),
            std::string::npos);
  EXPECT_NE(error_of(kBase + "service: {typo: forking}\n").find("unknown field 'service.typo'"), std::string::npos)
      << error_of(kBase + "service: {typo: forking}\n");
  EXPECT_NE(error_of(kBase + "service: {runtime_directories: [/../x]}\n").find("climbs above /"), std::string::npos);
}

// service.stop_timeout: whole seconds up to decant-init's limit; absent and
// 0 are the default, which the writer leaves out.
TEST(Profile, ServiceStopTimeout) {
  EXPECT_NE(to_yaml(sample()).find("stop_timeout: 90\n"), std::string::npos) << to_yaml(sample());
  EXPECT_NE(to_json(sample()).find("\"stop_timeout\": 90"), std::string::npos) << to_json(sample());
  auto r = parse_profile(kBase + "service: {stop_timeout: 86400}\n", "p.yaml");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->service.stop_timeout, kMaxStopTimeout);
  r = parse_profile(kBase + "service: {stop_timeout: 0}\n", "p.yaml");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->service, ServiceInfo{});
  EXPECT_EQ(to_yaml(*r).find("stop_timeout"), std::string::npos) << to_yaml(*r);
  auto json = parse_profile(R"({"apiVersion": "decant/v1", "kind": "Profile", "binary": {"path": "/bin/x"},
                                "service": {"stop_timeout": 30}})",
                            "p.json");
  ASSERT_TRUE(json.ok()) << json.error().message;
  EXPECT_EQ(json->service.stop_timeout, 30u);
  for (const char* bad : {"86401", "-1", "1.5", "30s", "[1]"})
    EXPECT_NE(error_of(kBase + "service: {stop_timeout: " + bad + "}\n").find("service.stop_timeout"),
              std::string::npos)
        << bad << ": " << error_of(kBase + "service: {stop_timeout: " + bad + "}\n");
  Profile p = sample();
  p.service.stop_timeout = kMaxStopTimeout + 1;  // built in memory, not read
  auto checked = validate_profile(p, "x");
  ASSERT_FALSE(checked.ok());
  EXPECT_EQ(checked.error().message, "x: service.stop_timeout: 86401 is more than decant-init accepts (86400 s)");
}

}  // namespace
}  // namespace decant
