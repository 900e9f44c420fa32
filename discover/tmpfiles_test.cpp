// Unit tests of the tmpfiles.d reader: which lines are runtime directories
// (types, modifiers, specifiers, /var/run, quoting), and a fake guest's
// directories with overrides, masks, the merged /usr and duplicate paths.
#include "discover/tmpfiles.h"

#include <gtest/gtest.h>

#include "guest/test_tree.h"

namespace decant {
namespace {

using Strings = std::vector<std::string>;

Strings paths_of(const std::vector<TmpfilesDirectory>& dirs) {
  Strings out;
  for (const auto& d : dirs) out.push_back(d.path);
  return out;
}

TEST(Tmpfiles, DirectoryTypesBelowRun) {
  auto d = parse_tmpfiles_runtime_dirs(
      "# comment\n\n"
      "d /run/named 0775 root bind - -\n"
      "  D /var/run/a 0700 - -\n"
      "v /run/v\nq /run/q\nQ /run/qq\n"
      "f /run/file 0644 root root - x\n"
      "L /run/link - - - - /x\n"
      "e /run/clean - - - 1d\n"
      "d /var/log/x 0750 www-data www-data -\n"
      "d /run 0755\n"
      "d relative/x\n"
      "d\n",
      "/usr/lib/tmpfiles.d/t.conf");
  EXPECT_EQ(paths_of(d), (Strings{"/run/named", "/run/a", "/run/v", "/run/q", "/run/qq"}));
  ASSERT_FALSE(d.empty());
  EXPECT_EQ(d[0].file, "/usr/lib/tmpfiles.d/t.conf");
  EXPECT_EQ(d[0].line, 3);
  EXPECT_EQ(d[0].text, "d /run/named 0775 root bind - -");
  EXPECT_EQ(d[0].mode, "0775");
  EXPECT_EQ(d[0].user, "root");
  EXPECT_EQ(d[0].group, "bind");
  EXPECT_EQ(d[1].type, 'D');
  EXPECT_EQ(d[1].text, "D /var/run/a 0700 - -");
  EXPECT_EQ(d[2].mode, "-");
  EXPECT_EQ(d[2].group, "-");
}

TEST(Tmpfiles, ModifiersSpecifiersAndQuotes) {
  auto d = parse_tmpfiles_runtime_dirs(
      "d! /run/boot\n"
      "d- /run/maybe\n"
      "D!- /run/both\n"
      "d!! /run/twice\n"
      "d* /run/star\n"
      "d %t/spec 0755\n"
      "d %t/100%% 0755\n"
      "d /run/%H 0755\n"
      "d /run/%m\n"
      "d %S/not-run\n"
      "d \"/run/with space\" 0755\n"
      "d /run/a/../b\n"
      "d /run//c/./d/\n"
      "d \"/run/open\n",
      "f.conf");
  EXPECT_EQ(paths_of(d), (Strings{"/run/boot", "/run/maybe", "/run/both", "/run/spec", "/run/100%",
                                  "/run/with space", "/run/c/d"}));
  ASSERT_EQ(d.size(), 7u);
  EXPECT_TRUE(d[0].boot_only);
  EXPECT_FALSE(d[1].boot_only);
  EXPECT_TRUE(d[2].boot_only);
}

TEST(Tmpfiles, GuestOverridesMasksAndOrder) {
  TestTree t;
  t.write("/usr/lib/tmpfiles.d/named.conf", "d /run/named 0775 root bind - -\n");
  t.symlink("usr/lib", "/lib");  // merged /usr: read once, as /usr/lib
  t.write("/usr/lib/tmpfiles.d/over.conf", "d /run/vendor\n");
  t.write("/etc/tmpfiles.d/over.conf", "d /run/admin 0700 - -\n");
  t.write("/usr/lib/tmpfiles.d/masked.conf", "d /run/masked\n");
  t.symlink("/dev/null", "/etc/tmpfiles.d/masked.conf");
  t.write("/usr/local/lib/tmpfiles.d/a-first.conf", "d /run/dup 0700\nd /run/local\n");
  t.write("/run/tmpfiles.d/b-second.conf", "d /run/dup 0755\n");
  t.write("/usr/lib/tmpfiles.d/.hidden.conf", "d /run/hidden\n");
  t.write("/usr/lib/tmpfiles.d/notconf", "d /run/notconf\n");
  auto root = GuestRoot::open(t.root());
  ASSERT_TRUE(root.ok());
  auto d = guest_tmpfiles_runtime_dirs(*root);
  EXPECT_EQ(paths_of(d), (Strings{"/run/dup", "/run/local", "/run/named", "/run/admin"}));
  ASSERT_EQ(d.size(), 4u);
  EXPECT_EQ(d[0].file, "/usr/local/lib/tmpfiles.d/a-first.conf");
  EXPECT_EQ(d[0].mode, "0700");
  EXPECT_EQ(d[2].file, "/usr/lib/tmpfiles.d/named.conf");
  EXPECT_TRUE(d[2].shadowed.empty());
  EXPECT_EQ(d[3].file, "/etc/tmpfiles.d/over.conf");
  EXPECT_EQ(d[3].shadowed, (Strings{"/usr/lib/tmpfiles.d/over.conf"}));
}

TEST(Tmpfiles, UnmergedLibIsReadToo) {
  TestTree t;
  t.write("/lib/tmpfiles.d/old.conf", "d /var/run/old 0755 daemon daemon -\n");
  t.mkdir("/usr/lib/tmpfiles.d");
  auto root = GuestRoot::open(t.root());
  ASSERT_TRUE(root.ok());
  auto d = guest_tmpfiles_runtime_dirs(*root);
  ASSERT_EQ(paths_of(d), (Strings{"/run/old"}));
  EXPECT_EQ(d[0].file, "/lib/tmpfiles.d/old.conf");
}

}  // namespace
}  // namespace decant
