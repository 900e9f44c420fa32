// Unit tests of analyzer/config/: the include reader (forms, globs,
// *-enabled symlinks, cycles, depth, missing files, symlinks that try to
// leave the guest), the seeds (command line, dpkg database, source
// siblings, files no package owns) and the facts (modules, writable paths,
// directories) on fake guests in temp directories, and the bounds that keep
// a hostile guest's configuration from making the reading endless or huge.
#include "analyzer/config/config_tree.h"

#include <algorithm>

#include <gtest/gtest.h>

#include "analyzer/config/config_facts.h"
#include "analyzer/config/config_sources.h"
#include "guest/memory_guest.h"
#include "guest/test_tree.h"

namespace decant {
namespace {

std::vector<std::string> paths_of(const ConfigTree& t) {
  std::vector<std::string> out;
  for (auto& f : t.files) out.push_back(f.path);
  return out;
}

bool has(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

const ConfigFile* file_named(const ConfigTree& t, const std::string& path) {
  for (auto& f : t.files)
    if (f.path == path) return &f;
  return nullptr;
}

TEST(IncludeTargets, GenericForms) {
  using V = std::vector<std::string>;
  EXPECT_EQ(include_targets("include /etc/squid/conf.d/*"), V{"/etc/squid/conf.d/*"});
  EXPECT_EQ(include_targets("IncludeOptional mods-enabled/*.load"), V{"mods-enabled/*.load"});
  EXPECT_EQ(include_targets("Include ports.conf"), V{"ports.conf"});
  EXPECT_EQ(include_targets("include \"/etc/bind/named.conf.options\";"), V{"/etc/bind/named.conf.options"});
  EXPECT_EQ(include_targets("include /etc/nginx/sites-enabled/*;"), V{"/etc/nginx/sites-enabled/*"});
  EXPECT_EQ(include_targets("!includedir /etc/mysql/conf.d/"), V{"/etc/mysql/conf.d/"});
  EXPECT_EQ(include_targets("!include /etc/x.cnf"), V{"/etc/x.cnf"});
  EXPECT_EQ(include_targets(".include /etc/pulse/x.pa"), V{"/etc/pulse/x.pa"});
  EXPECT_EQ(include_targets("$IncludeConfig /etc/rsyslog.d/*.conf"), V{"/etc/rsyslog.d/*.conf"});
  EXPECT_EQ(include_targets("include(file=\"/etc/rsyslog.d/*.conf\" mode=\"optional\")"), V{"/etc/rsyslog.d/*.conf"});
  EXPECT_EQ(include_targets("include_shell \"cat /etc/a.conf /etc/b.conf\""), (V{"/etc/a.conf", "/etc/b.conf"}));
  // Another command is never run; the *-enabled directory it names is read.
  EXPECT_EQ(include_targets("include_shell \"/usr/share/lighttpd/include-conf-enabled.pl\""), V{"conf-enabled"});
  EXPECT_EQ(include_targets("include_shell \"/usr/share/lighttpd/create-mime.conf.pl\""), V{});
  EXPECT_EQ(include_shell_program("include_shell \"/usr/share/lighttpd/use-ipv6.pl \" + server.port"),
            "/usr/share/lighttpd/use-ipv6.pl");
  EXPECT_EQ(include_shell_program("include_shell \"/usr/share/lighttpd/create-mime.conf.pl\""),
            "/usr/share/lighttpd/create-mime.conf.pl");
  EXPECT_EQ(include_shell_program("include_shell \"cat /etc/a.conf\""), "");  // an include
  EXPECT_EQ(include_shell_program("include \"/etc/a.conf\""), "");
  EXPECT_TRUE(include_targets("included_files 3").empty());
  EXPECT_TRUE(include_targets("Include").empty());
}

TEST(StripComment, HashAfterBlankOnly) {
  EXPECT_EQ(strip_config_comment("  # all comment"), "");
  EXPECT_EQ(strip_config_comment("; ini comment"), "");
  EXPECT_EQ(strip_config_comment("port 80 # the web"), "port 80");
  EXPECT_EQ(strip_config_comment("color #fff\"#x\""), "color");
  EXPECT_EQ(strip_config_comment("a=\"x #y\""), "a=\"x #y\"");
  EXPECT_EQ(strip_config_comment("url=http://h/#frag"), "url=http://h/#frag");
}

class ConfigTreeTest : public ::testing::Test {
 protected:
  GuestRoot root() {
    auto r = GuestRoot::open(t.root());
    EXPECT_TRUE(r);
    return *r;
  }
  TestTree t;
};

TEST_F(ConfigTreeTest, EnabledSymlinksGlobsAndRelativeIncludes) {
  t.write("/etc/web/web.conf", "Include ports.conf\nIncludeOptional mods-enabled/*.load\nInclude conf.d\n");
  t.write("/etc/web/ports.conf", "Listen 80\n");
  t.write("/etc/web/mods-available/a.load", "LoadModule a /usr/lib/web/a.so\n");
  t.write("/etc/web/mods-available/b.load", "LoadModule b /usr/lib/web/b.so\n");
  t.symlink("../mods-available/a.load", "/etc/web/mods-enabled/a.load");
  t.write("/etc/web/conf.d/x.conf", "Include sub/y.conf\n");  // relative to the top config's directory
  t.write("/etc/web/sub/y.conf", "y\n");
  t.write("/etc/web/conf.d/x.conf~", "backup\n");
  auto tree = read_config_tree(root(), {{"/etc/web/web.conf", "dpkg: web.conffiles"}});
  auto paths = paths_of(tree);
  EXPECT_EQ(paths, (std::vector<std::string>{"/etc/web/web.conf", "/etc/web/ports.conf", "/etc/web/mods-enabled/a.load",
                                             "/etc/web/conf.d/x.conf", "/etc/web/sub/y.conf"}));
  const ConfigFile* a = file_named(tree, "/etc/web/mods-enabled/a.load");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->canonical, "/etc/web/mods-available/a.load");
  EXPECT_EQ(a->evidence, "config: /etc/web/web.conf:2: IncludeOptional mods-enabled/*.load");
  EXPECT_EQ(a->depth, 1);
  EXPECT_EQ(file_named(tree, "/etc/web/web.conf")->evidence, "dpkg: web.conffiles");
}

TEST_F(ConfigTreeTest, CyclesEndAndDepthIsBounded) {
  t.write("/etc/a.conf", "include /etc/b.conf\n");
  t.write("/etc/b.conf", "include /etc/a.conf\ninclude /etc/b.conf\n");
  auto tree = read_config_tree(root(), {{"/etc/a.conf", "seed"}});
  EXPECT_EQ(paths_of(tree), (std::vector<std::string>{"/etc/a.conf", "/etc/b.conf"}));
  // A chain longer than the bound stops there, with a note.
  for (int i = 0; i < 6; ++i) t.write("/etc/chain" + std::to_string(i), "include /etc/chain" + std::to_string(i + 1) + "\n");
  ConfigLimits limits;
  limits.max_depth = 3;
  auto chain = read_config_tree(root(), {{"/etc/chain0", "seed"}}, limits);
  EXPECT_EQ(chain.files.size(), 4u);
  ASSERT_FALSE(chain.notes.empty());
  EXPECT_NE(chain.notes[0].find("depth 3"), std::string::npos) << chain.notes[0];
  limits.max_depth = 8;
  limits.max_files = 2;
  EXPECT_EQ(read_config_tree(root(), {{"/etc/chain0", "seed"}}, limits).files.size(), 2u);
}

TEST_F(ConfigTreeTest, MissingIncludesAreNotesNotErrors) {
  t.write("/etc/a.conf", "include /etc/none.conf\ninclude /etc/none.d/*.conf\nport 1\n");
  auto tree = read_config_tree(root(), {{"/etc/a.conf", "seed"}, {"/etc/absent.conf", "seed"}});
  EXPECT_EQ(paths_of(tree), std::vector<std::string>{"/etc/a.conf"});
  EXPECT_GE(tree.notes.size(), 2u);
}

TEST_F(ConfigTreeTest, SymlinksNeverLeaveTheGuest) {
  // Absolute and climbing targets resolve inside the guest root; the host's
  // files are never read.
  t.write("/etc/app/app.conf", "include /etc/app/evil.conf\ninclude /etc/app/up.conf\ninclude /etc/app/loop.conf\n");
  t.symlink("/etc/hostname-only-on-host", "/etc/app/evil.conf");
  t.symlink("../../../../../../../../etc/guest-secret", "/etc/app/up.conf");
  t.write("/etc/guest-secret", "inside the guest\n");
  t.symlink("loop.conf", "/etc/app/loop.conf");
  auto tree = read_config_tree(root(), {{"/etc/app/app.conf", "seed"}});
  EXPECT_EQ(paths_of(tree), (std::vector<std::string>{"/etc/app/app.conf", "/etc/app/up.conf"}));
  EXPECT_EQ(file_named(tree, "/etc/app/up.conf")->canonical, "/etc/guest-secret");
  EXPECT_EQ(file_named(tree, "/etc/app/up.conf")->text, "inside the guest\n");
}

TEST_F(ConfigTreeTest, SeedsFromCommandLineDpkgAndSiblings) {
  t.write("/usr/sbin/webd", "\x7f" "ELF");
  t.write("/var/lib/dpkg/info/web-bin.list", "/.\n/usr\n/usr/sbin\n/usr/sbin/webd\n");
  t.write("/var/lib/dpkg/info/web.list", "/etc\n/etc/web\n/etc/web/web.conf\n/etc/web/mods-available/a.load\n"
                                         "/etc/init.d/web\n");
  t.write("/var/lib/dpkg/info/web.conffiles", "/etc/web/web.conf\n/etc/init.d/web\n");
  t.write("/var/lib/dpkg/status", "Package: web-bin\nStatus: install ok installed\nSource: web (1.0)\n\n"
                                  "Package: web\nStatus: install ok installed\n\n");
  t.write("/etc/web/web.conf", "x\n");
  t.write("/etc/web/generated.conf", "written by postinst\n");
  t.write("/etc/web/mods-available/a.load", "a\n");
  t.write("/etc/init.d/web", "#!/bin/sh\n");
  t.write("/srv/alt.conf", "alt\n");
  // The siblings' tree only for a program whose code names its place (the
  // server's compiled-in root), not for every binary of the source package.
  auto unnamed = config_seeds(root(), "/usr/sbin/webd", {"/usr/sbin/webd"}, {"/usr/share/web/x"});
  EXPECT_TRUE(unnamed.empty());
  auto seeds = config_seeds(root(), "/usr/sbin/webd", {"/usr/sbin/webd", "-f", "/srv/alt.conf"}, {"/etc/web"});
  std::vector<std::string> paths, evidence;
  for (auto& s : seeds) {
    paths.push_back(s.path);
    evidence.push_back(s.evidence);
  }
  EXPECT_EQ(paths, (std::vector<std::string>{"/srv/alt.conf", "/etc/web/web.conf", "/etc/web/generated.conf"}));
  EXPECT_EQ(evidence[0], "config: command line: -f /srv/alt.conf");
  EXPECT_EQ(evidence[1], "dpkg: web.conffiles");
  EXPECT_EQ(evidence[2], "dpkg: in /etc/web (a directory of web), owned by no package");
  auto index = dpkg_index(root());
  EXPECT_EQ(owning_package(root(), *index, "/sbin/webd"), "web-bin");  // across the /usr merge
  auto eq = config_seeds(root(), "/usr/sbin/webd", {"/usr/sbin/webd", "--config=/srv/alt.conf"}, {});
  ASSERT_FALSE(eq.empty());
  EXPECT_EQ(eq[0].evidence, "config: command line: --config=/srv/alt.conf");
}

TEST_F(ConfigTreeTest, FactsModulesWritablePathsAndDirectories) {
  t.write("/usr/lib/web/a.so", std::string("\x7f" "ELF", 4) + "rest");
  t.write("/usr/lib/web/mod_bee.so", std::string("\x7f" "ELF", 4) + "rest");
  t.write("/usr/lib/web/notes.txt", "not a module");
  t.write("/var/www/html/index.html", "hi");
  t.mkdir("/var/log/web");
  t.mkdir("/usr/share/doc");
  t.write("/etc/web/web.conf",
          "LoadModule a /usr/lib/web/a.so\n"
          "server.modules = ( \"bee\" )\n"
          "DocumentRoot \"/var/www/html\"\n"
          "ErrorLog /var/log/web/error.log\n"
          "CustomLog ${LOG_DIR}/access.log combined\n"
          "0 string exec\\ /usr/lib/web/notes.txt text/plain\n"
          "PidFile /run/web.pid\n"
          "<Directory /usr/share>\n"
          "Alias /icons/ \"/usr/share/doc/\"\n"
          "Listen 8080\n");
  auto tree = read_config_tree(root(), {{"/etc/web/web.conf", "seed"}});
  auto facts = extract_config_facts(root(), tree, {});
  std::vector<std::string> modules;
  for (auto& m : facts.modules) modules.push_back(m.path);
  ASSERT_EQ(modules, (std::vector<std::string>{"/usr/lib/web/a.so", "/usr/lib/web/mod_bee.so"}));
  EXPECT_EQ(facts.modules[0].evidence, "config: /etc/web/web.conf:1: LoadModule a /usr/lib/web/a.so");
  std::map<std::string, std::string> access;
  for (auto& p : facts.paths) access[p.path] = p.access;
  EXPECT_EQ(access["/var/www/html"], "read");
  EXPECT_EQ(access["/var/log/web/error.log"], "write");
  EXPECT_EQ(access.count("/run/web.pid"), 0u);  // /run is not in this guest: nothing to make writable
  EXPECT_EQ(access.count("/usr/share"), 0u);    // too general to package whole
  EXPECT_EQ(access["/usr/share/doc"], "read");
  EXPECT_EQ(access.count("/access.log"), 0u);              // ${LOG_DIR} is unknown here
  EXPECT_EQ(access.count("/usr/lib/web/notes.txt"), 0u);  // a data table's line is no directive
  Profile p;
  p.binary.path = "/usr/sbin/webd";
  add_config_facts(tree, facts, true, p);
  ASSERT_FALSE(p.files.empty());
  EXPECT_EQ(p.files[0].path, "/etc/web/web.conf");
  EXPECT_EQ(p.files[0].access, "read");
  ASSERT_EQ(p.network.listen.size(), 1u);
  EXPECT_EQ(p.network.listen[0].port, 8080);
  EXPECT_EQ(p.network.listen[0].confidence, "high");
  Profile q;
  add_config_facts(tree, facts, false, q);  // a program that only connects: no listen ports from config
  EXPECT_TRUE(q.network.listen.empty());
}

// The commands include_shell runs at each start are programs of the
// service, with the shell that runs them; their other words are no paths.
TEST_F(ConfigTreeTest, IncludeShellCommandsAreProgramsOfTheService) {
  t.write("/usr/share/web/use-ipv6.pl", "#!/usr/bin/perl\nprint 1;\n");
  t.write("/usr/share/web/conf.pl", "#!/usr/bin/perl\n");
  t.write("/bin/sh", std::string("\x7f" "ELF", 4) + "rest");
  t.write("/etc/web/mime.conf", "x\n");
  t.write("/etc/web/web.conf",
          "include_shell \"/usr/share/web/use-ipv6.pl \" + server.port\n"
          "include_shell \"/usr/share/web/conf.pl /etc/web/mime.conf\"\n"
          "include_shell \"/usr/share/web/missing.pl\"\n"
          "include_shell \"cat /etc/web/mime.conf\"\n");
  auto tree = read_config_tree(root(), {{"/etc/web/web.conf", "seed"}});
  auto facts = extract_config_facts(root(), tree, {});
  std::map<std::string, std::string> access;
  for (auto& f : facts.paths) access[f.path] = f.access;
  EXPECT_EQ(access["/usr/share/web/use-ipv6.pl"], "exec");
  EXPECT_EQ(access["/usr/share/web/conf.pl"], "exec");
  EXPECT_EQ(access["/bin/sh"], "exec");
  EXPECT_EQ(access.count("/usr/share/web/missing.pl"), 0u);
  EXPECT_EQ(access.count("/etc/web/mime.conf"), 0u);  // the cat's file is an include of the tree, not a fact
  EXPECT_EQ(paths_of(tree), (std::vector<std::string>{"/etc/web/web.conf", "/etc/web/mime.conf"}));
  Profile p;
  p.binary.path = "/usr/sbin/webd";
  p.files.push_back({"/bin/sh", "read", false, {"code: a literal"}});
  add_config_facts(tree, facts, false, p);
  auto sh = std::find_if(p.files.begin(), p.files.end(), [](const FileFact& f) { return f.path == "/bin/sh"; });
  ASSERT_NE(sh, p.files.end());
  EXPECT_EQ(sh->access, "exec");  // a read file the configuration runs becomes exec
}

// A maintainer hook among the conffiles is packaged, but neither followed
// nor read for facts: its paths are commands, not the daemon's settings.
TEST_F(ConfigTreeTest, ScriptsArePackagedNotParsed) {
  t.write("/etc/app/hook", "#!/bin/sh\ninclude /etc/app/other.conf\ncp /etc/resolv.conf /var/lib/app/x\nPORT=99\n");
  t.write("/etc/app/other.conf", "x\n");
  t.mkdir("/var/lib/app");
  auto tree = read_config_tree(root(), {{"/etc/app/hook", "dpkg: app.conffiles"}});
  EXPECT_EQ(paths_of(tree), std::vector<std::string>{"/etc/app/hook"});
  auto facts = extract_config_facts(root(), tree, {});
  EXPECT_TRUE(facts.paths.empty());
  Profile p;
  add_config_facts(tree, facts, true, p);
  EXPECT_TRUE(p.network.listen.empty());
  ASSERT_EQ(p.files.size(), 1u);
  EXPECT_EQ(p.files[0].evidence[0], "dpkg: app.conffiles");
}

// Bounds added with tests/fuzz/config_fuzz.cpp, on reading the reader: it
// had bounds per file, on files and on depth, but none on what they
// add up to. Each test below read everything before its bound existed.

TEST_F(ConfigTreeTest, TotalBytesAreBounded) {
  // 20 files just under 1 MiB each: 20 MiB held, over the 16 MiB default.
  std::string big(1000000, 'x');
  std::string top;
  for (int i = 0; i < 20; ++i) {
    t.write("/etc/big/f" + std::to_string(i) + ".conf", big + "\n");
    top += "include /etc/big/f" + std::to_string(i) + ".conf\n";
  }
  t.write("/etc/big.conf", top);
  auto tree = read_config_tree(root(), {{"/etc/big.conf", "seed"}});
  uint64_t bytes = 0;
  for (auto& f : tree.files) bytes += f.text.size();
  EXPECT_LE(bytes, ConfigLimits{}.max_total_bytes);
  EXPECT_EQ(tree.files.size(), 17u);  // the top file and 16 of the 20
  bool noted = false;
  for (auto& n : tree.notes) noted |= n.find("bytes of configuration") != std::string::npos;
  EXPECT_TRUE(noted);
}

TEST(ConfigTreeBounds, DistinctIncludePatternsAreBounded) {
  auto fs = std::make_shared<MemoryGuest>();  // 300 files: faster in memory than on disk
  std::string top;
  for (int i = 0; i < 300; ++i) {
    fs->add_file("/etc/many/f" + std::to_string(i) + ".conf", "x\n");
    top += "include /etc/many/f" + std::to_string(i) + ".conf\n";
  }
  // A line repeated is one pattern, expanded once.
  for (int i = 0; i < 1000; ++i) top += "include /etc/many/f0.conf\n";
  fs->add_file("/etc/many.conf", top);
  auto tree = read_config_tree(GuestRoot(fs), {{"/etc/many.conf", "seed"}});
  EXPECT_EQ(tree.files.size(), 256u);  // the seed is a pattern too
  bool noted = false;
  for (auto& n : tree.notes) noted |= n.find("more than 256 include patterns") != std::string::npos;
  EXPECT_TRUE(noted);
}

TEST_F(ConfigTreeTest, GlobsThroughSymlinkLoopsAreBounded) {
  // Ten links to their own directory: each wildcard component tries ten
  // times the paths of the one before.
  t.write("/etc/loop/x.conf", "x\n");
  for (int i = 0; i < 10; ++i) t.symlink(".", "/etc/loop/l" + std::to_string(i));
  t.write("/etc/top.conf", "include /etc/loop/*/*/*/*/x.conf\ninclude /etc/loop/l1/*/x.conf\n");
  auto tree = read_config_tree(root(), {{"/etc/top.conf", "seed"}});
  EXPECT_EQ(paths_of(tree), (std::vector<std::string>{"/etc/top.conf", "/etc/loop/l1/l0/x.conf"}));
  bool noted = false;
  for (auto& n : tree.notes) noted |= n.find("more than 3 wildcard components") != std::string::npos;
  EXPECT_TRUE(noted);
  // All globs together follow at most max_glob_matches paths.
  ConfigLimits limits;
  limits.max_glob_matches = 5;
  auto few = read_config_tree(root(), {{"/etc/loop/*/*", "seed"}}, limits);
  EXPECT_EQ(few.files.size(), 1u);
  ASSERT_FALSE(few.notes.empty());
  EXPECT_NE(few.notes[0].find("only 5 glob matches"), std::string::npos) << few.notes[0];
}

TEST_F(ConfigTreeTest, DirectoriesListedAreBounded) {
  for (int i = 0; i < 5; ++i) t.write("/etc/d/s" + std::to_string(i) + "/a.conf", "x\n");
  ConfigLimits limits;
  limits.max_dirs = 3;  // /etc/d and two of its five
  auto tree = read_config_tree(root(), {{"/etc/d", "seed"}}, limits);
  EXPECT_EQ(tree.files.size(), 2u);
  ASSERT_FALSE(tree.notes.empty());
  EXPECT_NE(tree.notes[0].find("more than 3 directories"), std::string::npos) << tree.notes[0];
}

// dpkg_index kept a guest not on disk by its address: the next guest
// allocated there got the freed one's index, and every guest stayed cached.
TEST(DpkgIndex, GuestsWithoutANameAreNotCachedByAddress) {
  for (int i = 0; i < 3; ++i) {
    auto fs = std::make_shared<MemoryGuest>();
    std::string package = "pkg" + std::to_string(i);
    fs->add_file("/var/lib/dpkg/info/" + package + ".list", "/usr/sbin/d\n");
    fs->add_file("/usr/sbin/d", "\x7f" "ELF");
    GuestRoot root(fs);
    EXPECT_EQ(owning_package(root, *dpkg_index(root), "/usr/sbin/d"), package);
  }
}

}  // namespace
}  // namespace decant
