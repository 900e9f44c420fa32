// Tests of the learn-record merge: records the shim wrote in learn mode land
// in the profile with observed: evidence.
#include <gtest/gtest.h>

#include <fstream>

#include "common/temp_dir.h"
#include "learn/merge_observed.h"
#include "profiles/test_profiles.h"

namespace decant {
namespace {

TEST(Learn, MergesRecordsWithObservedEvidence) {
  Profile p = test_profile();
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

// A learned Latin-1 path is bytes in the profile, and the profile written
// with it must read back to the same bytes (it used to abort decant learn).
TEST(Learn, LearnedNonUtf8PathSurvivesTheProfileWriters) {
  Profile p = test_profile();
  LearnSummary s;
  merge_learn_lines({R"({"op":"open","access":"read","path":"/srv/caf\u00e9/\u00ff","errno":0,"pid":10})"}, p, s);
  ASSERT_EQ(p.files.size(), 1u);
  EXPECT_EQ(p.files[0].path, "/srv/caf\xe9/\xff");
  for (ProfileFormat f : {ProfileFormat::Yaml, ProfileFormat::Json}) {
    std::string text;
    ASSERT_NO_THROW(text = serialize(p, f));
    auto back = parse_profile(text, "learned");
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(back->files[0].path, "/srv/caf\xe9/\xff");
  }
}

// Every *.jsonl file of the directory, one record a line; a last line
// without its newline (a process killed mid-write) still counts.
TEST(Learn, MergesEveryRecordFileOfADirectory) {
  TempDir d;
  d.write("shim.10.jsonl",
          "{\"op\":\"open\",\"access\":\"read\",\"path\":\"/etc/a\",\"errno\":0,\"pid\":10}\n\n"
          "{\"op\":\"open\",\"access\":\"read\",\"path\":\"/etc/b\",\"errno\":0,\"pid\":10}");
  d.write("supervisor.jsonl", "{\"op\":\"syscall\",\"name\":\"chroot\",\"nr\":161,\"pid\":11,\"count\":1}\n");
  d.write("plan", "{\"op\":\"open\",\"access\":\"read\",\"path\":\"/not/a/record\",\"pid\":12}\n");
  Profile p = test_profile();
  auto s = merge_learn_dir(d.dir(), p);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->records, 3u);
  EXPECT_EQ(s->processes, 2u);
  EXPECT_TRUE(s->warnings.empty());
  ASSERT_EQ(p.files.size(), 2u);
  EXPECT_EQ(p.files[0].path, "/etc/a");
  EXPECT_EQ(p.files[1].path, "/etc/b");
  EXPECT_EQ(p.syscalls.allow, std::vector<std::string>{"chroot"});
}

// What the static profile lacked, split by whether the app found it: a
// library outside the closure, a file it opened, a port, and (separately)
// files it looked for in vain. The container's own trees, the program,
// "/", files below a writable directory and the closure itself are none.
TEST(Learn, ReportsWhatTheStaticProfileLacked) {
  Profile p = test_profile();
  p.binary.path = "/usr/sbin/t";
  p.libraries.push_back({"libc.so.6", "/lib/x86_64-linux-gnu/libc.so.6", "", {"/usr/sbin/t"}, "default", {}});
  p.files.push_back({"/etc/t", "read", false, {"static: .rodata"}});
  p.files.push_back({"/var/lib/t", "write", false, {"static: .rodata"}});
  p.network.listen.push_back({22, "tcp", "", "medium", {"config: default"}});
  std::vector<std::string> lines = {
      R"({"op":"open","access":"read","path":"/etc/t/","errno":0,"pid":1})",
      R"({"op":"open","access":"read","path":"/lib/x86_64-linux-gnu/libc.so.6","errno":0,"pid":1})",
      R"({"op":"dlopen","access":"read","path":"/usr/lib/x86_64-linux-gnu/libfoo.so.1","errno":0,"pid":1})",
      R"({"op":"open","access":"read","path":"/etc/hosts.allow","errno":0,"pid":1})",
      R"({"op":"open","access":"read","path":"/usr/lib/ssl/openssl.cnf","errno":2,"pid":1})",
      R"({"op":"open","access":"read","path":"/etc/denied","errno":13,"pid":1})",
      R"({"op":"open","access":"write","path":"/var/lib/t/state","errno":0,"pid":1})",
      R"({"op":"open","access":"read","path":"/proc/self/fd","errno":0,"pid":1})",
      R"({"op":"open","access":"read","path":"/dev/null","errno":0,"pid":1})",
      R"({"op":"opendir","access":"read","path":"/","errno":0,"pid":1})",
      R"({"op":"exec","access":"exec","path":"/usr/sbin/t","errno":0,"pid":2})",
      R"({"op":"listen","family":"inet","proto":"tcp","address":"0.0.0.0","port":22,"errno":0,"pid":1})",
      R"({"op":"bind","family":"inet","proto":"udp","address":"0.0.0.0","port":514,"errno":0,"pid":1})",
  };
  LearnSummary s;
  merge_learn_lines(lines, p, s);
  EXPECT_EQ(s.opened_unlisted, (std::vector<std::string>{"library /usr/lib/x86_64-linux-gnu/libfoo.so.1",
                                                          "file /etc/hosts.allow (read)", "port 514/udp"}));
  EXPECT_EQ(s.absent_unlisted, std::vector<std::string>{"file /usr/lib/ssl/openssl.cnf (read)"});
  for (const auto& f : p.files) {
    EXPECT_NE(f.path.rfind("/proc", 0), 0u) << f.path;
    EXPECT_NE(f.path.rfind("/dev", 0), 0u) << f.path;
    EXPECT_NE(f.path, "/lib/x86_64-linux-gnu/libc.so.6");  // a library, not a file
    EXPECT_NE(f.path, "/etc/t/");
  }
  EXPECT_EQ(p.network.listen[0].confidence, "high");  // the guess, seen bound
}

}  // namespace
}  // namespace decant
