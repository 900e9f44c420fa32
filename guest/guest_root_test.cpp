// Unit tests for GuestRoot on temp-dir fake guests: absolute symlinks stay in
// the guest, ".." cannot climb out, loops end with an error, globbing.
#include <gtest/gtest.h>

#include "guest/guest_root.h"
#include "guest/memory_guest.h"
#include "guest/test_tree.h"

namespace decant {
namespace {

TEST(GuestRoot, AbsoluteSymlinkResolvesInsideTheGuest) {
  TestTree t;
  t.write("/lib/x86_64-linux-gnu/ld-2.31.so", "guest loader");
  t.symlink("/lib/x86_64-linux-gnu/ld-2.31.so", "/lib64/ld-linux-x86-64.so.2");
  auto root = GuestRoot::open(t.root());
  ASSERT_TRUE(root.ok());
  auto r = root->resolve("/lib64/ld-linux-x86-64.so.2");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, "/lib/x86_64-linux-gnu/ld-2.31.so");
  auto content = root->read_file("/lib64/ld-linux-x86-64.so.2");
  ASSERT_TRUE(content.ok());
  EXPECT_EQ(*content, "guest loader");
}

TEST(GuestRoot, DotDotCannotClimbOutOfTheRoot) {
  TestTree t;
  t.write("/etc/passwd", "guest passwd");
  t.symlink("../../../../../../etc/passwd", "/var/lib/escape");
  auto root = GuestRoot::open(t.root());
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(*root->resolve("/var/lib/escape"), "/etc/passwd");
  EXPECT_EQ(*root->read_file("/var/lib/escape"), "guest passwd");
  EXPECT_EQ(*root->resolve("/../../etc/./passwd"), "/etc/passwd");
}

TEST(GuestRoot, RelativeSymlinksAndDirectoryLinks) {
  TestTree t;
  t.write("/usr/lib/x86_64-linux-gnu/libfoo.so.1.2.3", "x");
  t.symlink("libfoo.so.1.2.3", "/usr/lib/x86_64-linux-gnu/libfoo.so.1");
  t.symlink("usr/lib", "/lib");  // merged-usr style
  auto root = GuestRoot::open(t.root());
  EXPECT_EQ(*root->resolve("/lib/x86_64-linux-gnu/libfoo.so.1"), "/usr/lib/x86_64-linux-gnu/libfoo.so.1.2.3");
  EXPECT_EQ(*root->resolve("/lib/x86_64-linux-gnu/libfoo.so.1", false), "/usr/lib/x86_64-linux-gnu/libfoo.so.1");
  // ".." after a directory symlink is taken in the link's target, like the kernel.
  EXPECT_EQ(*root->resolve("/lib/x86_64-linux-gnu/../x86_64-linux-gnu/libfoo.so.1.2.3"),
            "/usr/lib/x86_64-linux-gnu/libfoo.so.1.2.3");
}

TEST(GuestRoot, ReportsEverySymlinkCrossed) {
  TestTree t;
  t.write("/usr/lib/x86_64-linux-gnu/libfoo.so.1.2.3", "x");
  t.symlink("libfoo.so.1.2.3", "/usr/lib/x86_64-linux-gnu/libfoo.so.1");
  t.symlink("usr/lib", "/lib");
  auto root = GuestRoot::open(t.root());
  std::vector<std::string> links;
  auto r = root->resolve("/lib/x86_64-linux-gnu/libfoo.so.1", true, &links);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(links, (std::vector<std::string>{"/lib", "/usr/lib/x86_64-linux-gnu/libfoo.so.1"}));
}

TEST(GuestRoot, SymlinkLoopsFail) {
  TestTree t;
  t.symlink("/b", "/a");
  t.symlink("/a", "/b");
  t.symlink("self", "/dir/self");
  auto root = GuestRoot::open(t.root());
  auto r = root->resolve("/a");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("Too many levels of symbolic links"), std::string::npos) << r.error().message;
  EXPECT_FALSE(root->resolve("/dir/self/x").ok());
  EXPECT_FALSE(root->exists("/a"));
}

TEST(GuestRoot, MissingAndNotADirectory) {
  TestTree t;
  t.write("/etc/file", "x");
  auto root = GuestRoot::open(t.root());
  auto r = root->resolve("/etc/missing");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "/etc/missing: No such file or directory");
  r = root->resolve("/etc/file/below");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "/etc/file/below: Not a directory");
  EXPECT_FALSE(GuestRoot::open(t.host("/etc/file")).ok());
  EXPECT_FALSE(GuestRoot::open(t.host("/nope")).ok());
}

TEST(GuestRoot, NeverReadsTheHostsLib) {
  TestTree t;
  t.symlink("/lib/x86_64-linux-gnu/libc.so.6", "/libc-link");
  auto root = GuestRoot::open(t.root());
  // The host has this file; the guest does not.
  EXPECT_FALSE(root->exists("/libc-link"));
  EXPECT_FALSE(root->exists("/lib/x86_64-linux-gnu/libc.so.6"));
}

TEST(GuestRoot, GlobMatchesInsideTheGuestSorted) {
  TestTree t;
  t.write("/etc/ld.so.conf.d/b.conf", "");
  t.write("/etc/ld.so.conf.d/a.conf", "");
  t.write("/etc/ld.so.conf.d/.hidden.conf", "");
  t.write("/etc/ld.so.conf.d/c.txt", "");
  auto root = GuestRoot::open(t.root());
  auto m = root->glob("/etc/ld.so.conf.d/*.conf");
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0], "/etc/ld.so.conf.d/a.conf");
  EXPECT_EQ(m[1], "/etc/ld.so.conf.d/b.conf");
  EXPECT_EQ(root->glob("/etc/*/a.conf").size(), 1u);
  EXPECT_TRUE(root->glob("/nope/*.conf").empty());
}

// resolve() keeps the walked path incrementally (rebuilding it per
// component made a deep tree, as a hostile archive makes one, cubic): ".."
// after a relative symlink in a deep path must still pop the right parts.
TEST(GuestRoot, DeepPathsWithLinksAndDotDot) {
  auto fs = std::make_shared<MemoryGuest>();
  std::string deep;
  for (int i = 0; i < 300; ++i) deep += "/d" + std::to_string(i);
  fs->add_file(deep + "/file", "deep");
  fs->add_symlink("../d299/file", deep + "/link");
  fs->add_symlink("/etc", deep + "/abs");
  fs->add_file("/etc/x", "x");
  GuestRoot root(fs);
  EXPECT_EQ(*root.read_file(deep + "/file"), "deep");
  EXPECT_EQ(*root.resolve(deep + "/link"), deep + "/file");
  EXPECT_EQ(*root.resolve(deep + "/abs/x"), "/etc/x");
  EXPECT_EQ(*root.resolve(deep + "/abs/../" + deep.substr(1) + "/./file"), deep + "/file");
}

}  // namespace
}  // namespace decant
