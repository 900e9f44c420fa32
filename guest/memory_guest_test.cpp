// Tests of the GuestFs seam: GuestRoot's resolution, reading and globbing
// run on a disk guest and on a MemoryGuest built alike, and must answer the
// same (messages included), so tests written against the fake hold on disk.
#include <gtest/gtest.h>

#include <memory>

#include "guest/guest_root.h"
#include "guest/memory_guest.h"
#include "guest/test_tree.h"

namespace decant {
namespace {

// Builds one guest tree either on disk or in memory.
class Backend {
 public:
  virtual ~Backend() = default;
  virtual void write(const std::string& path, const std::string& content) = 0;
  virtual void mkdir(const std::string& path) = 0;
  virtual void symlink(const std::string& target, const std::string& link) = 0;
  virtual GuestRoot root() = 0;
};

class DiskBackend : public Backend {
 public:
  void write(const std::string& p, const std::string& c) override { t_.write(p, c); }
  void mkdir(const std::string& p) override { t_.mkdir(p); }
  void symlink(const std::string& target, const std::string& link) override { t_.symlink(target, link); }
  GuestRoot root() override { return *GuestRoot::open(t_.root()); }

 private:
  TestTree t_;
};

class MemoryBackend : public Backend {
 public:
  void write(const std::string& p, const std::string& c) override { fs_->add_file(p, c); }
  void mkdir(const std::string& p) override { fs_->add_directory(p); }
  void symlink(const std::string& target, const std::string& link) override { fs_->add_symlink(target, link); }
  GuestRoot root() override { return GuestRoot(fs_); }

 private:
  std::shared_ptr<MemoryGuest> fs_ = std::make_shared<MemoryGuest>();
};

class BothGuests : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    if (std::string(GetParam()) == "disk") b_ = std::make_unique<DiskBackend>();
    else b_ = std::make_unique<MemoryBackend>();
  }
  Backend& b() { return *b_; }

 private:
  std::unique_ptr<Backend> b_;
};

INSTANTIATE_TEST_SUITE_P(GuestFs, BothGuests, ::testing::Values("disk", "memory"),
                         [](const auto& info) { return std::string(info.param); });

TEST_P(BothGuests, SymlinksResolveInsideTheGuest) {
  b().write("/usr/lib/x86_64-linux-gnu/ld-2.31.so", "loader");
  b().symlink("usr/lib", "/lib");
  b().symlink("/lib/x86_64-linux-gnu/ld-2.31.so", "/lib64/ld-linux-x86-64.so.2");
  b().symlink("../../../../etc/passwd", "/var/lib/escape");
  b().write("/etc/passwd", "root:x:0:0::/root:/bin/sh\n");
  GuestRoot root = b().root();
  std::vector<std::string> links;
  auto r = root.resolve("/lib64/ld-linux-x86-64.so.2", true, &links);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, "/usr/lib/x86_64-linux-gnu/ld-2.31.so");
  EXPECT_EQ(links, (std::vector<std::string>{"/lib64/ld-linux-x86-64.so.2", "/lib"}));
  EXPECT_EQ(*root.resolve("/lib64/ld-linux-x86-64.so.2", false), "/lib64/ld-linux-x86-64.so.2");
  EXPECT_EQ(*root.read_file("/lib64/ld-linux-x86-64.so.2"), "loader");
  EXPECT_EQ(*root.resolve("/var/lib/escape"), "/etc/passwd");
  EXPECT_EQ(*root.resolve("/lib/x86_64-linux-gnu/../../../etc/./passwd"), "/etc/passwd");
}

TEST_P(BothGuests, ErrorsNameTheGuestPathWithTheKernelsWords) {
  b().write("/etc/file", "0123456789");
  b().mkdir("/etc/dir");
  b().symlink("/b", "/a");
  b().symlink("/a", "/b");
  GuestRoot root = b().root();
  auto missing = root.resolve("/etc/missing");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message, "/etc/missing: No such file or directory");
  EXPECT_EQ(missing.error().kind, ErrorKind::BadInput);
  EXPECT_EQ(root.resolve("/etc/file/below").error().message, "/etc/file/below: Not a directory");
  EXPECT_EQ(root.resolve("/a").error().message, "/a: Too many levels of symbolic links");
  EXPECT_EQ(root.read_file("/etc/dir").error().message, "/etc/dir: is a directory");
  EXPECT_EQ(root.read_file("/etc/../etc/file", 4).error().message,
            "/etc/../etc/file: too large (10 bytes, limit 4)");
  EXPECT_EQ(root.list_directory("/etc/file").error().message, "/etc/file: Not a directory");
  EXPECT_FALSE(root.exists("/b"));
}

TEST_P(BothGuests, StatFollowsLinksAndReportsTypesAndSizes) {
  b().write("/usr/bin/tool", "12345");
  b().symlink("tool", "/usr/bin/alias");
  b().mkdir("/var/empty");
  GuestRoot root = b().root();
  auto st = root.stat("/usr/bin/alias");
  ASSERT_TRUE(st.ok());
  EXPECT_TRUE(S_ISREG(st->st_mode));
  EXPECT_EQ(st->st_size, 5);
  EXPECT_TRUE(root.is_regular_file("/usr/bin/alias"));
  EXPECT_TRUE(root.is_directory("/var/empty"));
  EXPECT_TRUE(root.is_directory("/"));
  EXPECT_FALSE(root.is_directory("/usr/bin/tool"));
}

TEST_P(BothGuests, ListsAndGlobsSorted) {
  b().write("/etc/ld.so.conf.d/b.conf", "");
  b().write("/etc/ld.so.conf.d/a.conf", "");
  b().write("/etc/ld.so.conf.d/.hidden.conf", "");
  b().write("/etc/ld.so.conf.d/c.txt", "");
  b().write("/etc/ld.so.conf.d-old/z.conf", "");  // a sibling sharing the prefix
  b().symlink("ld.so.conf.d", "/etc/conf-link");
  GuestRoot root = b().root();
  auto names = root.list_directory("/etc/conf-link");
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, (std::vector<std::string>{".hidden.conf", "a.conf", "b.conf", "c.txt"}));
  EXPECT_EQ(root.glob("/etc/ld.so.conf.d/*.conf"),
            (std::vector<std::string>{"/etc/ld.so.conf.d/a.conf", "/etc/ld.so.conf.d/b.conf"}));
  EXPECT_EQ(root.glob("/etc/*/a.conf"),
            (std::vector<std::string>{"/etc/conf-link/a.conf", "/etc/ld.so.conf.d/a.conf"}));
  EXPECT_EQ(root.glob("/etc/ld.so.conf.d/.*.conf"), std::vector<std::string>{"/etc/ld.so.conf.d/.hidden.conf"});
  EXPECT_TRUE(root.glob("/nope/*.conf").empty());
}

TEST(MemoryGuest, HasNoHostPaths) {
  auto fs = std::make_shared<MemoryGuest>();
  fs->add_file("/bin/sh", "x", 0755);
  GuestRoot root(fs);
  EXPECT_EQ(root.host_root(), "");
  EXPECT_FALSE(root.is_host());
  EXPECT_EQ(root.host_path("/bin/sh"), "");
  EXPECT_EQ(root.stat("/bin/sh")->st_mode & 07777, 0755u);
}

TEST(MemoryGuest, XattrsAreReadThroughLinks) {
  auto fs = std::make_shared<MemoryGuest>();
  fs->add_file("/usr/bin/ping", "x", 0755);
  fs->set_xattr("/usr/bin/ping", "security.capability", std::string("\x01\x00\x00\x02", 4));
  fs->add_symlink("/usr/bin/ping", "/bin/ping");
  GuestRoot root(fs);
  EXPECT_EQ(root.get_xattr("/bin/ping", "security.capability"), std::string("\x01\x00\x00\x02", 4));
  EXPECT_EQ(root.get_xattr("/bin/ping", "user.other"), "");
  EXPECT_EQ(root.get_xattr("/missing", "security.capability"), "");
}

TEST(MemoryGuest, LaterChangesAreSeenAndReplacingADirectoryDropsItsTree) {
  auto fs = std::make_shared<MemoryGuest>();
  fs->add_file("/opt/app/conf/a", "1");
  GuestRoot root(fs);
  EXPECT_TRUE(root.exists("/opt/app/conf/a"));
  fs->add_file("/opt/app", "now a file");
  EXPECT_FALSE(root.exists("/opt/app/conf/a"));
  EXPECT_EQ(root.resolve("/opt/app/conf").error().message, "/opt/app/conf: Not a directory");
  EXPECT_EQ(*root.list_directory("/opt"), std::vector<std::string>{"app"});
}

// A guest whose disk fails under one path: the fake makes the failure
// reachable, and GuestRoot must report it as the machine's, not the user's.
class FailingGuest : public MemoryGuest {
 public:
  int lstat(const std::string& path, struct stat* st) const override {
    return path == "/srv/bad" ? EIO : MemoryGuest::lstat(path, st);
  }
};

TEST(MemoryGuest, IoErrorsAreEnvironmentErrorsMissingFilesBadInput) {
  auto fs = std::make_shared<FailingGuest>();
  fs->add_file("/srv/bad/file", "x");
  GuestRoot root(fs);
  auto r = root.read_file("/srv/bad/file");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::Environment);
  EXPECT_EQ(r.error().message, "/srv/bad/file: Input/output error");
  auto missing = root.read_file("/srv/missing");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, ErrorKind::BadInput);
}

}  // namespace
}  // namespace decant
