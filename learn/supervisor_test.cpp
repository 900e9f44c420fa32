// Tests of the learn supervisor: the command runs with the learn
// environment, background children are waited for, the timeout stops the
// command and says so, syscalls are counted under the notify filter, and the
// records directory and the supervisor's own records are as documented.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>

#include "common/file_util.h"
#include "learn/supervisor.h"

namespace decant {
namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool exists(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0;
}

SuperviseOptions sh(const std::string& script, const std::string& records) {
  SuperviseOptions o;
  o.command = {"/bin/sh", "-c", script};
  o.plan = records + "/plan";
  o.records_dir = records;
  return o;
}

TEST(RecordsDir, TemporaryOneIsRemovedAfterwards) {
  std::string path;
  {
    auto d = RecordsDir::prepare("");
    ASSERT_TRUE(d.ok()) << d.error().message;
    path = d->path();
    EXPECT_TRUE(exists(path));
    std::ofstream(path + "/shim.1.jsonl") << "{}\n";
  }
  EXPECT_FALSE(exists(path));
}

TEST(RecordsDir, GivenOneIsCreatedKeptAndMustHoldNoRecords) {
  auto tmp = RecordsDir::prepare("");
  ASSERT_TRUE(tmp.ok());
  std::string given = tmp->path() + "/keep/records";
  {
    auto d = RecordsDir::prepare(given);
    ASSERT_TRUE(d.ok()) << d.error().message;
    EXPECT_EQ(d->path(), given);
    std::ofstream(given + "/shim.1.jsonl") << "{}\n";
  }
  EXPECT_TRUE(exists(given + "/shim.1.jsonl"));  // the user's, never removed
  auto again = RecordsDir::prepare(given + "/./");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().kind, ErrorKind::BadInput);
  EXPECT_EQ(again.error().message, "learn: " + given + " already holds records; give an empty directory");
}

TEST(SyscallRecords, OneJsonLineEachNamedByArch) {
  std::map<int, ObservedSyscall> seen{{0, {10, 3}}, {161, {11, 1}}, {9999, {12, 2}}};
  EXPECT_EQ(syscall_records("x86_64", seen),
            "{\"op\":\"syscall\",\"name\":\"read\",\"nr\":0,\"pid\":10,\"count\":3}\n"
            "{\"op\":\"syscall\",\"name\":\"chroot\",\"nr\":161,\"pid\":11,\"count\":1}\n"
            "{\"op\":\"syscall\",\"name\":\"syscall_9999\",\"nr\":9999,\"pid\":12,\"count\":2}\n");
  EXPECT_EQ(syscall_records("x86_64", {}), "");
}

TEST(Supervise, RunsTheCommandWithTheLearnEnvironment) {
  auto d = RecordsDir::prepare("");
  ASSERT_TRUE(d.ok());
  auto o = sh("echo \"$DECANT_LEARN|$DECANT_PLAN|$LD_PRELOAD\" > \"$DECANT_LEARN/env\"; exit 3", d->path());
  o.shim = "/nonexistent/libdecant-shim.so";  // ld.so warns and goes on
  auto r = supervise(o);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_TRUE(WIFEXITED(r->wait_status));
  EXPECT_EQ(WEXITSTATUS(r->wait_status), 3);
  EXPECT_TRUE(r->syscalls.empty());
  EXPECT_TRUE(r->warnings.empty());
  EXPECT_EQ(slurp(d->path() + "/env"), d->path() + "|" + d->path() + "/plan|/nonexistent/libdecant-shim.so\n");
}

TEST(Supervise, WaitsForChildrenLeftInTheBackground) {
  auto d = RecordsDir::prepare("");
  ASSERT_TRUE(d.ok());
  auto r = supervise(sh("(sleep 0.3; echo late > \"$DECANT_LEARN/late\") & exit 0", d->path()));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(slurp(d->path() + "/late"), "late\n");  // written after the command itself exited
}

TEST(Supervise, TimeoutStopsTheCommandWithANote) {
  auto d = RecordsDir::prepare("");
  ASSERT_TRUE(d.ok());
  auto o = sh("exec sleep 30", d->path());
  o.timeout = 0.2;
  auto start = std::chrono::steady_clock::now();
  auto r = supervise(o);
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(r.ok());
  EXPECT_LT(took, 10);
  ASSERT_TRUE(WIFSIGNALED(r->wait_status));
  EXPECT_EQ(WTERMSIG(r->wait_status), SIGTERM);
  EXPECT_EQ(r->notes, std::vector<std::string>{"learn: --timeout 0s reached, stopping the command"});
}

TEST(Supervise, CountsSyscallsOutsideTheAllowlist) {
  Profile p;
  p.syscalls.arch = native_arch();
  p.syscalls.allow = {"read", "write", "close", "exit_group"};
  std::string warning;
  auto spec = notify_spec_for(p, &warning);
  ASSERT_TRUE(spec.ok()) << spec.error().message;
  if (!*spec) GTEST_SKIP() << warning;
  auto d = RecordsDir::prepare("");
  ASSERT_TRUE(d.ok());
  auto o = sh("exit 0", d->path());
  o.notify = **spec;
  auto r = supervise(o);
  ASSERT_TRUE(r.ok());
  if (!r->warnings.empty()) GTEST_SKIP() << r->warnings[0];
  std::set<std::string> names;
  for (const auto& [nr, s] : r->syscalls) {
    names.insert(syscall_name(p.syscalls.arch, nr));
    EXPECT_GT(s.count, 0);
    EXPECT_GT(s.first_pid, 0);
  }
  EXPECT_TRUE(names.count("execve")) << syscall_records(p.syscalls.arch, r->syscalls);
  EXPECT_FALSE(names.count("close"));  // allowed: never notified
  ASSERT_TRUE(WIFEXITED(r->wait_status));
  EXPECT_EQ(WEXITSTATUS(r->wait_status), 0);
}

TEST(NotifySpec, AnotherArchitectureIsNotObserved) {
  Profile p;
  p.syscalls.arch = native_arch() == "aarch64" ? "x86_64" : "aarch64";
  p.syscalls.allow = {"read"};
  std::string warning;
  auto spec = notify_spec_for(p, &warning);
  ASSERT_TRUE(spec.ok()) << spec.error().message;
  EXPECT_FALSE(spec->has_value());
  EXPECT_EQ(warning, "learn: profile arch " + p.syscalls.arch + " is not this machine's " + native_arch() +
                         ": syscalls not observed");
}

}  // namespace
}  // namespace decant
