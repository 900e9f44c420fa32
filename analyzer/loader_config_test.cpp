// Unit tests for reading the guest loader's configuration: ld.so.conf syntax
// and includes, and the system directories embedded in ld.so.
#include <gtest/gtest.h>

#include "analyzer/loader_config.h"
#include "guest/test_tree.h"

namespace decant {
namespace {

TEST(LoaderConfig, ParsesLinesCommentsIncludesAndTypes) {
  std::vector<std::string> dirs, includes;
  parse_ld_so_conf("# comment\n/usr/local/lib  \n\ninclude /etc/ld.so.conf.d/*.conf\n"
                   "include rel/*.conf other.conf\nhwcap 1 nosegneg\n/opt/old/lib=libc5\n/opt/x/lib/ # trailing\n",
                   "/etc", dirs, includes);
  EXPECT_EQ(dirs, (std::vector<std::string>{"/usr/local/lib", "/opt/old/lib", "/opt/x/lib"}));
  EXPECT_EQ(includes,
            (std::vector<std::string>{"/etc/ld.so.conf.d/*.conf", "/etc/rel/*.conf", "/etc/other.conf"}));
}

TEST(LoaderConfig, FollowsIncludesInOrderAndSurvivesIncludeLoops) {
  TestTree t;
  t.write("/etc/ld.so.conf", "/first\ninclude /etc/ld.so.conf.d/*.conf\n/last\n");
  t.write("/etc/ld.so.conf.d/b.conf", "/from-b\n");
  t.write("/etc/ld.so.conf.d/a.conf", "/from-a\ninclude /etc/ld.so.conf\n");
  auto root = GuestRoot::open(t.root());
  LoaderConfig cfg = load_loader_config(*root, "", true, 62 /* EM_X86_64 */);
  EXPECT_EQ(cfg.ld_so_conf_dirs, (std::vector<std::string>{"/first", "/from-a", "/from-b", "/last"}));
}

TEST(LoaderConfig, KeepsTheFirstOfRepeatedDirectories) {
  TestTree t;
  t.write("/etc/ld.so.conf", "/a\n/b\ninclude /etc/ld.so.conf.d/*.conf\n/a\n");
  t.write("/etc/ld.so.conf.d/x.conf", "/b\n/c\n/a\n");
  auto root = GuestRoot::open(t.root());
  LoaderConfig cfg = load_loader_config(*root, "", true, 62);
  EXPECT_EQ(cfg.ld_so_conf_dirs, (std::vector<std::string>{"/a", "/b", "/c"}));
  EXPECT_TRUE(cfg.limits.empty());
}

// Issue 14: 16 MiB of ld.so.conf.d made every library search walk millions
// of directories. What is read is bounded, and the bound is reported.
TEST(LoaderConfig, BoundsOversizedConfigurationAndSaysSo) {
  TestTree t;
  t.write("/etc/ld.so.conf", "/first\ninclude /etc/ld.so.conf.d/*.conf\n");
  for (int f = 0; f < 16; ++f) {  // 16 files of ~1 MiB of distinct directories
    std::string text;
    for (int d = 0; text.size() < (1 << 20) - 32; ++d) text += "/dir/" + std::to_string(f) + "/" + std::to_string(d) + "\n";
    t.write("/etc/ld.so.conf.d/" + std::to_string(100 + f) + ".conf", text);
  }
  t.write("/etc/ld.so.conf.d/000-huge.conf", std::string(2 << 20, '#'));  // one file over the per-file bound
  auto root = GuestRoot::open(t.root());
  LoaderConfig cfg = load_loader_config(*root, "", true, 62);
  EXPECT_EQ(cfg.ld_so_conf_dirs.size(), 1024u);
  EXPECT_EQ(cfg.ld_so_conf_dirs.front(), "/first");
  EXPECT_LE(cfg.ld_so_conf_files.size(), 5u);  // 4 MiB in all
  ASSERT_FALSE(cfg.limits.empty());
  std::string all;
  for (auto& l : cfg.limits) all += l + "\n";
  EXPECT_NE(all.find("more than 1024 directories"), std::string::npos) << all;
  EXPECT_NE(all.find("exceed"), std::string::npos) << all;
  EXPECT_NE(all.find("/etc/ld.so.conf.d/000-huge.conf not read"), std::string::npos) << all;
}

TEST(LoaderConfig, BoundsIncludePatterns) {
  TestTree t;
  std::string text;
  for (int i = 0; i < 1000; ++i) text += "include /etc/ld.so.conf.d/*.conf\n";  // one pattern, globbed once
  for (int i = 0; i < 300; ++i) text += "include /nowhere/" + std::to_string(i) + "/*.conf\n";
  text += "/last\n";
  t.write("/etc/ld.so.conf", text);
  t.write("/etc/ld.so.conf.d/a.conf", "/a\n");
  auto root = GuestRoot::open(t.root());
  LoaderConfig cfg = load_loader_config(*root, "", true, 62);
  EXPECT_EQ(cfg.ld_so_conf_dirs, (std::vector<std::string>{"/a", "/last"}));
  ASSERT_EQ(cfg.limits.size(), 1u);
  EXPECT_NE(cfg.limits[0].find("more than 256 include patterns"), std::string::npos) << cfg.limits[0];
}

TEST(LoaderConfig, ScansSystemDirsFromLoaderBytes) {
  std::string bytes("junk\0/lib/x86_64-linux-gnu/\0/usr/lib/x86_64-linux-gnu/\0/lib/\0/usr/lib/\0more", 76);
  auto dirs = scan_system_dirs(bytes);
  EXPECT_EQ(dirs, (std::vector<std::string>{"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib", "/usr/lib"}));
  std::string rhel("x\0/lib64/\0/usr/lib64/\0y", 23);
  EXPECT_EQ(scan_system_dirs(rhel), (std::vector<std::string>{"/lib64", "/usr/lib64"}));
  EXPECT_TRUE(scan_system_dirs(std::string("/lib/\0nothing", 13)).empty());
}

TEST(LoaderConfig, ReadsTheHostLoader) {
  auto root = GuestRoot::open("/");
  LoaderConfig cfg = load_loader_config(*root, "/lib64/ld-linux-x86-64.so.2", true, 62);
  ASSERT_FALSE(cfg.system_dirs.empty());
  EXPECT_EQ(cfg.system_dirs_source, "interpreter /lib64/ld-linux-x86-64.so.2");
  EXPECT_EQ(cfg.lib_dst, cfg.system_dirs.front().substr(1));
  EXPECT_EQ(cfg.platform, "x86_64");
}

}  // namespace
}  // namespace decant
