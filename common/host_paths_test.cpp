// Tests of the host path helpers: execvp-like $PATH search, the cache
// directory's environment precedence, absolute paths, the shim's location.
#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <sys/stat.h>
#include <unistd.h>

#include "common/host_paths.h"
#include "common/temp_dir.h"

namespace decant {
namespace {

// Sets (or unsets, with nullopt) an environment variable for one test.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, std::optional<std::string> value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) ::setenv(name, value->c_str(), 1);
    else ::unsetenv(name);
  }
  ~ScopedEnv() {
    if (old_) ::setenv(name_, old_->c_str(), 1);
    else ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(FindExecutable, SearchesEachDirectoryInOrder) {
  TempDir t;
  std::string a = t.mkdir("a"), c = t.mkdir("c");
  t.write("a/tool", "#!/bin/sh\n", 0644);  // not executable: skipped
  std::string want = t.write("c/tool", "#!/bin/sh\n", 0755);
  t.write("c/other", "#!/bin/sh\n", 0755);
  EXPECT_EQ(find_executable("tool", a + ":" + t.dir() + "/missing:" + c), want);
  EXPECT_EQ(find_executable("nope", a + ":" + c), "");
  EXPECT_EQ(find_executable("", a + ":" + c), "");
}

TEST(FindExecutable, DirectoriesDoNotCount) {
  TempDir t;
  std::string a = t.mkdir("a");
  ::mkdir((a + "/tool").c_str(), 0755);  // searchable, so access(X_OK) alone would take it
  EXPECT_EQ(find_executable("tool", a), "");
  EXPECT_EQ(find_executable(a + "/tool", "/nonexistent"), "");
}

TEST(FindExecutable, ASlashMeansNoSearch) {
  TempDir t;
  std::string a = t.mkdir("a");
  std::string tool = t.write("a/tool", "#!/bin/sh\n", 0755);
  EXPECT_EQ(find_executable(tool, "/nonexistent"), tool);
  EXPECT_EQ(find_executable(a + "/missing", a), "");
}

TEST(FindExecutable, AnEmptyEntryIsTheCurrentDirectory) {
  TempDir t;
  std::string a = t.mkdir("a");
  t.write("a/here", "#!/bin/sh\n", 0755);
  char old[4096];
  ASSERT_NE(::getcwd(old, sizeof old), nullptr);
  ASSERT_EQ(::chdir(a.c_str()), 0);
  std::string found = find_executable("here", "/nonexistent:");
  std::string found_lead = find_executable("here", ":/nonexistent");
  ASSERT_EQ(::chdir(old), 0);
  EXPECT_EQ(found, "./here");
  EXPECT_EQ(found_lead, "./here");
}

TEST(FindExecutable, UsesPathFromTheEnvironment) {
  TempDir t;
  std::string a = t.mkdir("a");
  std::string tool = t.write("a/decant-test-tool", "#!/bin/sh\n", 0755);
  ScopedEnv path("PATH", a);
  EXPECT_EQ(find_executable("decant-test-tool"), tool);
  ScopedEnv unset("PATH", std::nullopt);
  EXPECT_EQ(find_executable("decant-test-tool"), "");
  EXPECT_EQ(find_executable("sh"), "/bin/sh");  // execvp's default path
}

TEST(CacheDir, DecantCacheThenXdgThenHome) {
  ScopedEnv d("DECANT_CACHE", "/d/cache");
  ScopedEnv x("XDG_CACHE_HOME", "/x/cache");
  ScopedEnv h("HOME", "/home/u");
  EXPECT_EQ(cache_dir(), "/d/cache");
  ::unsetenv("DECANT_CACHE");
  EXPECT_EQ(cache_dir(), "/x/cache/decant");
  ::setenv("XDG_CACHE_HOME", "relative/cache", 1);  // the XDG spec says: ignore it
  EXPECT_EQ(cache_dir(), "/home/u/.cache/decant");
  ::unsetenv("XDG_CACHE_HOME");
  EXPECT_EQ(cache_dir(), "/home/u/.cache/decant");
  ::unsetenv("HOME");
  EXPECT_EQ(cache_dir(), "/tmp/decant-cache");
}

TEST(AbsolutePath, ResolvesAgainstTheCurrentDirectoryLexically) {
  char cwd[4096];
  ASSERT_NE(::getcwd(cwd, sizeof cwd), nullptr);
  std::string here(cwd);
  EXPECT_EQ(absolute_path("/a//b/../c/"), "/a/c");
  EXPECT_EQ(absolute_path("x/./y"), (here == "/" ? "" : here) + "/x/y");
  EXPECT_EQ(absolute_path("."), here);
}

TEST(LocateShim, EnvironmentFirstThenBesideTheExecutable) {
  {
    ScopedEnv e("DECANT_SHIM", "rel/libdecant-shim.so");
    EXPECT_EQ(locate_shim(), absolute_path("rel/libdecant-shim.so"));
  }
  ScopedEnv e("DECANT_SHIM", std::nullopt);
  std::string dir = executable_dir();
  ASSERT_FALSE(dir.empty());
  std::string p = locate_shim();
  EXPECT_EQ(p.front(), '/');
  EXPECT_EQ(p.substr(p.rfind('/')), "/libdecant-shim.so");
  if (::access((dir + "/libdecant-shim.so").c_str(), R_OK) != 0 &&
      ::access((dir + "/../lib/decant/libdecant-shim.so").c_str(), R_OK) != 0 &&
      ::access((dir + "/shim/libdecant-shim.so").c_str(), R_OK) != 0) {
    EXPECT_EQ(p, dir + "/libdecant-shim.so");  // none readable: where it was looked for
  }
}

TEST(RelativePath, FromTheReportsDirectory) {
  EXPECT_EQ(relative_path("/out/vm-a", "/out"), "vm-a");
  EXPECT_EQ(relative_path("/out", "/out"), ".");
  EXPECT_EQ(relative_path("/out/vm-a/x.yaml", "/out/vm-b"), "../vm-a/x.yaml");
}

}  // namespace
}  // namespace decant
