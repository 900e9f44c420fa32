// Tests of the shared file helpers: what kind of error each failure is (bad
// input against the environment failing), with the messages unchanged.
#include <gtest/gtest.h>

#include <sys/resource.h>
#include <unistd.h>

#include "common/file_util.h"
#include "common/temp_dir.h"

namespace decant {
namespace {

TEST(ReadFile, ReadsAWholeFile) {
  TempDir t;
  auto r = read_file(t.write("a", "hello\n"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, "hello\n");
}

TEST(ReadFile, MissingFileIsBadInput) {
  TempDir t;
  auto r = read_file(t.path("missing"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::BadInput);
  EXPECT_EQ(r.error().message, t.path("missing") + ": cannot open: No such file or directory");
}

TEST(ReadFile, WrongTypeOrSizeIsBadInput) {
  TempDir t;
  auto dir = read_file(t.path(""));
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.error().kind, ErrorKind::BadInput);
  EXPECT_NE(dir.error().message.find(": is a directory"), std::string::npos) << dir.error().message;
  auto dev = read_file("/dev/null");
  ASSERT_FALSE(dev.ok());
  EXPECT_EQ(dev.error().kind, ErrorKind::BadInput);
  EXPECT_EQ(dev.error().message, "/dev/null: not a regular file");
  auto big = read_file(t.write("big", "0123456789"), 4);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.error().kind, ErrorKind::BadInput);
  EXPECT_EQ(big.error().message, t.path("big") + ": too large (10 bytes, limit 4)");
}

// Running out of file descriptors is the machine's failure, not the file's.
TEST(ReadFile, OutOfDescriptorsIsAnEnvironmentError) {
  TempDir t;
  std::string file = t.write("a", "x");
  struct rlimit old;
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &old), 0);
  struct rlimit low = old;
  low.rlim_cur = 3;  // stdin, stdout, stderr: no room for one more
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
  auto r = read_file(file);
  auto h = sha256_file(file);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &old), 0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::Environment);
  EXPECT_EQ(r.error().message, file + ": cannot open: Too many open files");
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.error().kind, ErrorKind::Environment);
}

// Reading /proc/self/mem at offset 0 fails with EIO (page 0 is never mapped):
// a real read error from a file that opened fine.
TEST(Sha256File, ReadErrorIsAnEnvironmentError) {
  auto r = sha256_file("/proc/self/mem");
  if (r.ok()) GTEST_SKIP() << "/proc/self/mem read without error here";
  EXPECT_EQ(r.error().kind, ErrorKind::Environment) << r.error().message;
  EXPECT_EQ(r.error().message, "/proc/self/mem: read error: Input/output error");
}

TEST(Sha256File, HashesAndReportsMissingFilesAsBadInput) {
  TempDir t;
  auto r = sha256_file(t.write("abc", "abc"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  auto m = sha256_file(t.path("missing"));
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().kind, ErrorKind::BadInput);
}

TEST(ErrnoKind, MissingOrForbiddenIsBadInputTheRestEnvironment) {
  for (int e : {ENOENT, ENOTDIR, EISDIR, ELOOP, ENAMETOOLONG, EACCES, EPERM})
    EXPECT_EQ(errno_kind(e), ErrorKind::BadInput) << e;
  for (int e : {EIO, ENOMEM, EMFILE, ENFILE, ENOSPC, EAGAIN})
    EXPECT_EQ(errno_kind(e), ErrorKind::Environment) << e;
}

TEST(WriteFileAtomic, RefusesToReplaceWithoutOverwrite) {
  TempDir t;
  std::string f = t.write("out", "old");
  Status s = write_file_atomic(f, "new");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().kind, ErrorKind::BadInput);
  EXPECT_EQ(*read_file(f), "old");
  ASSERT_TRUE(write_file_atomic(f, "new", Overwrite::Replace).ok());
  EXPECT_EQ(*read_file(f), "new");
}

}  // namespace
}  // namespace decant
