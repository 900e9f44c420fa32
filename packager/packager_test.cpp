// Unit tests of the packager that need no real guest and no root: the file
// set walk on a small fake guest built in a temp dir (symlink chains, hard
// links, holes, owners, accounts), tar determinism and round trip, the OCI
// image and runtime configs, seccomp and capability derivation, LXC policy
// text, and all-or-nothing staging.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <fstream>
#include <thread>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "analyzer/shim_needs.h"
#include "common/file_util.h"
#include "common/fs_tree.h"
#include "packager/file_set.h"
#include "packager/init_payload.h"
#include "policy/seccomp.h"
#include "packager/manifests.h"
#include "packager/oci_config.h"
#include "packager/package.h"
#include "packager/staged_output.h"
#include "packager/tar_writer.h"
#include "packager/writers.h"
#include "profiles/test_profiles.h"

namespace decant {
namespace {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/decant-packager-test.XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() { remove_tree(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

void write(const std::string& path, const std::string& text, unsigned mode = 0644) {
  ASSERT_TRUE(make_directories(path_dirname(path)).ok());
  std::ofstream(path) << text;
  ::chmod(path.c_str(), mode);
}

void symlink_at(const std::string& target, const std::string& path) {
  ASSERT_TRUE(make_directories(path_dirname(path)).ok());
  ASSERT_EQ(::symlink(target.c_str(), path.c_str()), 0);
}

// A merged-/usr guest like bullseye's: /lib -> usr/lib, the interpreter
// reached through two links, libc through its soname link.
class FakeGuest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to give fixture files other owners";
    const std::string& r = dir_.path();
    symlink_at("usr/lib", r + "/lib");
    symlink_at("usr/lib64", r + "/lib64");
    write(r + "/usr/lib/x86_64-linux-gnu/ld-2.31.so", "ld");
    write(r + "/usr/lib/x86_64-linux-gnu/libc-2.31.so", "libc");
    symlink_at("libc-2.31.so", r + "/usr/lib/x86_64-linux-gnu/libc.so.6");
    symlink_at("/lib/x86_64-linux-gnu/ld-2.31.so", r + "/usr/lib64/ld-linux-x86-64.so.2");
    write(r + "/usr/sbin/app", "app", 0755);
    write(r + "/etc/app/app.conf", "port=80\n");
    write(r + "/etc/passwd",
          "root:x:0:0:root:/root:/bin/bash\nwww-data:x:33:33::/var/www:/usr/sbin/nologin\n"
          "svc:x:120:130::/var/lib/svc:/usr/sbin/nologin\nalice:x:1000:1000::/home/alice:/bin/bash\n");
    write(r + "/etc/group", "root:x:0:\nwww-data:x:33:\nsvc:x:130:\nalice:x:1000:\n");
    ASSERT_EQ(::mkdir((r + "/var").c_str(), 0755), 0);
    ASSERT_EQ(::mkdir((r + "/var/lib").c_str(), 0755), 0);
    ASSERT_EQ(::mkdir((r + "/var/lib/svc").c_str(), 0750), 0);
    ASSERT_EQ(::chown((r + "/var/lib/svc").c_str(), 120, 130), 0);
    write(r + "/etc/app/owned", "x");
    ASSERT_EQ(::chown((r + "/etc/app/owned").c_str(), 1234, 1234), 0);

    p_.metadata.name = "app";
    p_.binary.path = "/usr/sbin/app";
    p_.binary.arch = "x86_64";
    p_.binary.linkage = "dynamic";
    p_.binary.interpreter = "/lib64/ld-linux-x86-64.so.2";
    p_.entrypoint = {"/usr/sbin/app", "-f"};
    Library libc;
    libc.soname = "libc.so.6";
    libc.path = "/usr/lib/x86_64-linux-gnu/libc-2.31.so";
    p_.libraries.push_back(libc);
    Library ld;
    ld.soname = "ld-linux-x86-64.so.2";
    ld.path = "/usr/lib/x86_64-linux-gnu/ld-2.31.so";
    p_.libraries.push_back(ld);
    p_.files.push_back({"/etc/app", "read", false, {}});
    p_.syscalls.arch = "x86_64";
  }
  Result<FileSet> collect() {
    auto root = GuestRoot::open(dir_.path());
    EXPECT_TRUE(root.ok());
    return collect_file_set(*root, p_, FileSetOptions{});
  }
  // The whole driver on this guest, from the profile as a file, into out_/out.
  Result<PackageReport> package_as(PackageFormat format, uint64_t max_bytes = kDefaultMaxImageBytes,
                                   const ShimNeeds* shim = nullptr) {
    std::string profile = out_.path() + "/profile.json";
    ::unlink(profile.c_str());
    EXPECT_TRUE(write_file_atomic(profile, to_json(p_)).ok());
    PackageOptions o;
    o.profile_path = profile;
    o.root = dir_.path();
    o.output = out_.path() + "/out";
    o.format = format;
    o.max_bytes = max_bytes;
    o.force = true;
    if (shim) o.shim = *shim;
    return package(o);
  }
  bool output_exists() const { return ::access((out_.path() + "/out").c_str(), F_OK) == 0; }
  TempDir out_;
  TempDir dir_;
  Profile p_;
};

TEST_F(FakeGuest, MinimalSetFollowsSymlinkChainsInsideTheGuest) {
  auto set = collect();
  ASSERT_TRUE(set.ok()) << set.error().message;
  const auto& e = set->entries;
  ASSERT_TRUE(e.count("/lib64"));
  EXPECT_EQ(e.at("/lib64").type, EntryType::Symlink);
  EXPECT_EQ(e.at("/lib64").target, "usr/lib64");
  ASSERT_TRUE(e.count("/usr/lib64/ld-linux-x86-64.so.2"));
  EXPECT_EQ(e.at("/usr/lib64/ld-linux-x86-64.so.2").target, "/lib/x86_64-linux-gnu/ld-2.31.so");
  EXPECT_EQ(e.at("/lib").type, EntryType::Symlink);
  EXPECT_EQ(e.at("/usr/lib/x86_64-linux-gnu/ld-2.31.so").type, EntryType::File);
  EXPECT_EQ(e.at("/usr/lib/x86_64-linux-gnu/libc.so.6").type, EntryType::Symlink);
  EXPECT_EQ(e.at("/usr/sbin/app").mode, 0755u);
  EXPECT_TRUE(e.count("/etc/app/app.conf"));
  EXPECT_EQ(e.at("/tmp").mode, 01777u);
  for (const char* d : {"/proc", "/sys", "/dev", "/run"}) EXPECT_EQ(e.at(d).type, EntryType::Directory) << d;
  // Parents sort before children, which every writer relies on.
  std::string prev;
  for (const auto& [path, entry] : e) {
    EXPECT_LT(prev, path);
    prev = path;
  }
}

// A packaged directory's links that lead out of it (a *-enabled/ entry and
// its *-available/ target) bring their targets; a dangling one stays a link.
TEST_F(FakeGuest, LinksInAPackagedDirectoryBringTheirTargets) {
  const std::string& r = dir_.path();
  write(r + "/etc/app-available/mod.conf", "LoadModule x\n");
  symlink_at("../../app-available/mod.conf", r + "/etc/app/enabled/mod.conf");
  symlink_at("/etc/app-available/gone.conf", r + "/etc/app/enabled/gone.conf");
  auto set = collect();
  ASSERT_TRUE(set.ok()) << set.error().message;
  const auto& e = set->entries;
  ASSERT_TRUE(e.count("/etc/app/enabled/mod.conf"));
  EXPECT_EQ(e.at("/etc/app/enabled/mod.conf").type, EntryType::Symlink);
  ASSERT_TRUE(e.count("/etc/app-available/mod.conf"));
  EXPECT_EQ(e.at("/etc/app-available/mod.conf").type, EntryType::File);
  ASSERT_TRUE(e.count("/etc/app/enabled/gone.conf"));
  EXPECT_EQ(e.at("/etc/app/enabled/gone.conf").type, EntryType::Symlink);
}

TEST_F(FakeGuest, OwnersAreNormalizedUnlessWrittenOrTheServices) {
  p_.user = "svc";
  p_.files.push_back({"/var/lib/svc", "write", false, {}});
  auto set = collect();
  ASSERT_TRUE(set.ok()) << set.error().message;
  EXPECT_EQ(set->uid, 120u);
  EXPECT_EQ(set->gid, 130u);
  EXPECT_EQ(set->entries.at("/etc/app/owned").uid, 0u);  // someone else's: normalized
  EXPECT_EQ(set->entries.at("/var/lib/svc").uid, 120u);
  EXPECT_EQ(set->entries.at("/var/lib/svc").mode, 0750u);
}

TEST_F(FakeGuest, SystemAccountsKeepTheirFilesAndACreatedLogsDirectoryKeepsItsOwner) {
  const std::string& r = dir_.path();
  write(r + "/etc/app/www", "x");
  ASSERT_EQ(::chown((r + "/etc/app/www").c_str(), 33, 33), 0);
  ASSERT_EQ(::mkdir((r + "/var/log").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((r + "/var/log/app").c_str(), 02750), 0);
  ASSERT_EQ(::chown((r + "/var/log/app").c_str(), 33, 4), 0);
  ASSERT_EQ(::chmod((r + "/var/log/app").c_str(), 02750), 0);
  p_.user = "www-data";
  p_.files.push_back({"/var/log/app/error.log", "write", false, {}});  // the app creates it
  auto set = collect();
  ASSERT_TRUE(set.ok()) << set.error().message;
  EXPECT_EQ(set->entries.at("/etc/app/www").uid, 33u);
  EXPECT_EQ(set->entries.at("/etc/app/owned").uid, 0u);  // a person's, not in the minimal passwd
  ASSERT_TRUE(set->entries.count("/var/log/app"));
  EXPECT_EQ(set->entries.at("/var/log/app").uid, 33u);
  EXPECT_EQ(set->entries.at("/var/log/app").gid, 4u);
  EXPECT_EQ(set->entries.at("/var/log/app").mode, 02750u);
  EXPECT_TRUE(set->access_warnings.empty());
  EXPECT_FALSE(root_needs_dac_override(*set, p_));
}

// An optional log or pid file the guest does not have yet: its directory
// travels as the guest had it, found through the guest's links; a runtime
// mount point or a directory the guest lacks brings nothing.
TEST_F(FakeGuest, AnOptionalWrittenFileBringsItsDirectory) {
  const std::string& r = dir_.path();
  ASSERT_EQ(::mkdir((r + "/var/log").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((r + "/var/log/opt").c_str(), 0750), 0);
  ASSERT_EQ(::chown((r + "/var/log/opt").c_str(), 33, 4), 0);
  ASSERT_EQ(::mkdir((r + "/srv").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((r + "/srv/real").c_str(), 0700), 0);
  ASSERT_EQ(::chown((r + "/srv/real").c_str(), 33, 33), 0);
  symlink_at("real", r + "/srv/alias");
  ASSERT_EQ(::mkdir((r + "/run").c_str(), 0755), 0);
  symlink_at("/run", r + "/var/run");
  p_.user = "www-data";
  p_.files.push_back({"/var/log/opt/app.log", "write", true, {}});
  p_.files.push_back({"/srv/alias/spool.db", "write", true, {}});
  p_.files.push_back({"/var/run/app.pid", "write", true, {}});
  p_.files.push_back({"/var/nothing/here.log", "write", true, {}});
  p_.files.push_back({"/var/log/opt/read-only.conf", "read", true, {}});
  auto set = collect();
  ASSERT_TRUE(set.ok()) << set.error().message;
  const auto& e = set->entries;
  ASSERT_TRUE(e.count("/var/log/opt"));
  EXPECT_EQ(e.at("/var/log/opt").type, EntryType::Directory);
  EXPECT_EQ(e.at("/var/log/opt").uid, 33u);
  EXPECT_EQ(e.at("/var/log/opt").gid, 4u);
  ASSERT_TRUE(e.count("/srv/real"));
  EXPECT_EQ(e.at("/srv/real").uid, 33u);
  EXPECT_EQ(e.at("/srv/real").mode, 0700u);
  ASSERT_TRUE(e.count("/srv/alias"));
  EXPECT_EQ(e.at("/srv/alias").type, EntryType::Symlink);
  EXPECT_FALSE(e.count("/var/nothing"));
  EXPECT_FALSE(e.count("/var/log/opt/app.log"));
}

TEST_F(FakeGuest, WriteAccessIsCheckedAndFixedMinimally) {
  const std::string& r = dir_.path();
  ASSERT_EQ(::mkdir((r + "/var/log").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((r + "/var/log/app").c_str(), 0750), 0);
  ASSERT_EQ(::chown((r + "/var/log/app").c_str(), 33, 33), 0);
  p_.files.push_back({"/var/log/app/error.log", "write", false, {}});
  // root (which drops to www-data later) cannot write www-data's directory
  // without CAP_DAC_OVERRIDE: granted, the owner stays.
  auto set = collect();
  ASSERT_TRUE(set.ok()) << set.error().message;
  EXPECT_TRUE(root_needs_dac_override(*set, p_));
  ASSERT_EQ(set->access_warnings.size(), 1u);
  EXPECT_NE(set->access_warnings[0].find("/var/log/app (owner 33:33, mode 0750)"), std::string::npos)
      << set->access_warnings[0];
  EXPECT_EQ(set->entries.at("/var/log/app").uid, 33u);
  std::vector<std::string> w;
  SpecOptions o;
  auto spec = make_image_spec(p_, *set, o, w);
  ASSERT_TRUE(spec.ok());
  EXPECT_NE(std::find(spec->capabilities.begin(), spec->capabilities.end(), "CAP_DAC_OVERRIDE"),
            spec->capabilities.end());
  EXPECT_NE(std::find(w.begin(), w.end(), set->access_warnings[0]), w.end());
  // Another user gets that one directory instead of a capability.
  p_.user = "svc";
  set = collect();
  ASSERT_TRUE(set.ok()) << set.error().message;
  EXPECT_FALSE(root_needs_dac_override(*set, p_));
  ASSERT_EQ(set->access_warnings.size(), 1u);
  EXPECT_EQ(set->entries.at("/var/log/app").uid, 120u);
  EXPECT_TRUE(can_write(*set, "/var/log/app/error.log", 120, 130));
  EXPECT_FALSE(can_write(*set, "/etc/app/app.conf", 120, 130));
  EXPECT_TRUE(can_write(*set, "/var/lib/svc/", 120, 130));
  EXPECT_TRUE(can_write(*set, "/nowhere/yet/x", 120, 130));  // its directory is created for the service
}

TEST(FileSet, LiteralPathsAreWholeNulTerminatedStrings) {
  std::string bytes("\0/etc/host.conf\0xx/etc/not-a-start\0/etc/gai.conf\0/etc/\0/etc/dir/\0/etc/%s.conf\0"
                    "/etc/host.conf\0/etc/services",
                    106);
  EXPECT_EQ(literal_paths(bytes, "/etc/"), (std::vector<std::string>{"/etc/gai.conf", "/etc/host.conf"}));
}

TEST_F(FakeGuest, EtcFilesTheClosureNamesTravelButNotSecretsOrGeneratedOnes) {
  const std::string& r = dir_.path();
  std::string libc("libc\0/etc/host.conf\0/etc/shadow\0/etc/passwd\0/etc/missing\0/etc/localtime\0", 72);
  write(r + "/usr/lib/x86_64-linux-gnu/libc-2.31.so", libc);
  write(r + "/etc/host.conf", "multi on\n");
  write(r + "/etc/shadow", "root:*:1::::::\n", 0640);
  write(r + "/usr/share/zoneinfo/Etc/UTC", "TZif2");
  symlink_at("/usr/share/zoneinfo/Etc/UTC", r + "/etc/localtime");
  auto set = collect();
  ASSERT_TRUE(set.ok()) << set.error().message;
  EXPECT_TRUE(set->entries.count("/etc/host.conf"));
  EXPECT_FALSE(set->entries.count("/etc/shadow"));
  EXPECT_FALSE(set->entries.count("/etc/missing"));
  EXPECT_TRUE(set->entries.at("/etc/passwd").content.has_value());  // still the generated one
  EXPECT_EQ(set->entries.at("/etc/localtime").type, EntryType::Symlink);
  EXPECT_TRUE(set->entries.count("/usr/share/zoneinfo/Etc/UTC"));  // and its target
}

TEST_F(FakeGuest, SystemModeStateDirectoriesAreVolumes) {
  const std::string& r = dir_.path();
  write(r + "/var/log/app/app.log", "old log");
  write(r + "/var/spool/cron/x", "job");
  auto root = GuestRoot::open(r);
  FileSetOptions fo;
  fo.mode = PackageMode::System;
  auto set = collect_file_set(*root, p_, fo);
  ASSERT_TRUE(set.ok()) << set.error().message;
  SpecOptions o;
  o.mode = "system";
  std::vector<std::string> w;
  auto spec = make_image_spec(p_, *set, o, w);
  ASSERT_TRUE(spec.ok());
  std::vector<std::string> dirs;
  for (const auto& v : spec->writable) dirs.push_back(v.path);
  EXPECT_EQ(dirs, (std::vector<std::string>{"/var/lib", "/var/log", "/var/spool"}));  // what the guest has
  o.mode = "minimal";
  spec = make_image_spec(p_, *set, o, w);
  EXPECT_TRUE(spec->writable.empty());
}

TEST_F(FakeGuest, AccountsKeepSystemUsersAndTheServiceButNotPeople) {
  p_.user = "svc";
  auto set = collect();
  ASSERT_TRUE(set.ok());
  const std::string& passwd = *set->entries.at("/etc/passwd").content;
  EXPECT_NE(passwd.find("www-data:x:33"), std::string::npos);
  EXPECT_NE(passwd.find("svc:x:120:130"), std::string::npos);
  EXPECT_EQ(passwd.find("alice"), std::string::npos);
  EXPECT_EQ(set->entries.at("/etc/group").content->find("alice"), std::string::npos);
}

TEST_F(FakeGuest, HostsResolvesTheContainersHostname) {
  p_.metadata.name = "mysvc";
  auto set = collect();
  ASSERT_TRUE(set.ok());
  EXPECT_NE(set->entries.at("/etc/hosts").content->find("127.0.1.1\tmysvc\n"), std::string::npos);
  p_.redirects.identity.hostname = "vm-42";
  set = collect();
  ASSERT_TRUE(set.ok());
  EXPECT_NE(set->entries.at("/etc/hosts").content->find("127.0.1.1\tvm-42\n"), std::string::npos);
  EXPECT_EQ(container_hostname(p_), "vm-42");
}

TEST_F(FakeGuest, UnknownUserIsBadInput) {
  p_.user = "nobody-here";
  auto set = collect();
  ASSERT_FALSE(set.ok());
  EXPECT_NE(set.error().message.find("nobody-here"), std::string::npos);
}

TEST_F(FakeGuest, MissingFilesAreNamedUnlessOptionalOrWritten) {
  p_.files.push_back({"/etc/app/missing.conf", "read", false, {}});
  p_.files.push_back({"/etc/app/other.conf", "read", false, {}});
  auto set = collect();
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.error().kind, ErrorKind::BadInput);
  EXPECT_NE(set.error().message.find("/etc/app/missing.conf"), std::string::npos);
  EXPECT_NE(set.error().message.find("/etc/app/other.conf"), std::string::npos);
  p_.files.pop_back();
  p_.files.back().optional = true;
  p_.files.push_back({"/var/lib/svc/created-later", "write", false, {}});
  set = collect();
  ASSERT_TRUE(set.ok()) << set.error().message;
  EXPECT_EQ(set->notes.size(), 2u);
}

TEST_F(FakeGuest, SharedInodesBecomeHardLinksToTheFirstPath) {
  const std::string& r = dir_.path();
  ASSERT_EQ(::link((r + "/etc/app/app.conf").c_str(), (r + "/etc/app/z-link.conf").c_str()), 0);
  auto set = collect();
  ASSERT_TRUE(set.ok());
  EXPECT_EQ(set->entries.at("/etc/app/app.conf").type, EntryType::File);
  EXPECT_EQ(set->entries.at("/etc/app/z-link.conf").type, EntryType::Hardlink);
  EXPECT_EQ(set->entries.at("/etc/app/z-link.conf").target, "/etc/app/app.conf");
}

TEST_F(FakeGuest, SystemModeDropsCachesLogsAndBootButKeepsMountPoints) {
  const std::string& r = dir_.path();
  write(r + "/boot/vmlinuz", "kernel");
  write(r + "/var/log/app/app.log", "old log");
  write(r + "/var/cache/apt/archives/x.deb", "deb");
  write(r + "/usr/lib/modules/5.10/m.ko", "ko");
  auto root = GuestRoot::open(r);
  FileSetOptions o;
  o.mode = PackageMode::System;
  auto set = collect_file_set(*root, p_, o);
  ASSERT_TRUE(set.ok()) << set.error().message;
  const auto& e = set->entries;
  EXPECT_TRUE(e.count("/boot"));
  EXPECT_FALSE(e.count("/boot/vmlinuz"));
  EXPECT_TRUE(e.count("/var/log/app"));
  EXPECT_TRUE(e.count("/var/log/app/app.log"));  // the VM's state, kept (docs/packaging.md "modes")
  EXPECT_FALSE(e.count("/var/cache/apt/archives"));
  EXPECT_FALSE(e.count("/usr/lib/modules"));
  EXPECT_TRUE(e.count("/etc/passwd"));
  EXPECT_FALSE(e.at("/etc/passwd").content.has_value());  // the guest's own, not generated
  EXPECT_EQ(e.at("/etc/app/owned").uid, 1234u);          // system mode keeps owners
}

TEST(TarWriter, SameSetGivesSameBytesAndRoundTripsHolesAndXattrs) {
  TempDir dir;
  const std::string& d = dir.path();
  // A 1 MiB file with one data block in the middle.
  std::string sparse = d + "/sparse";
  int fd = ::open(sparse.c_str(), O_CREAT | O_WRONLY, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::pwrite(fd, "data", 4, 512 * 1024), 4);
  ASSERT_EQ(::ftruncate(fd, 1 << 20), 0);
  ::close(fd);
  bool xattrs = ::setxattr(sparse.c_str(), "user.decant", "v", 1, 0) == 0;

  FileSet set;
  set.add_inline("/etc/hello", "hello\n");
  auto root = GuestRoot::open(d);
  ASSERT_TRUE(add_guest_path(*root, "/sparse", false, set, PackageMode::Minimal, GuestUser{}).ok());
  EXPECT_FALSE(set.entries.at("/sparse").sparse.empty());
  auto a = write_layer_tar(set, d + "/a.tar", 0);
  auto b = write_layer_tar(set, d + "/b.tar", 0);
  ASSERT_TRUE(a.ok()) << a.error().message;
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(a->digest, b->digest);
  auto c = write_layer_tar(set, d + "/c.tar", 1700000000);
  ASSERT_TRUE(c.ok());
  EXPECT_NE(a->digest, c->digest);  // the mtime is part of the content
  EXPECT_LT(a->size, 256u * 1024);  // the hole is not stored

  auto gz1 = compress_file(d + "/a.tar", d + "/a.tar.gz", Compression::Gzip);
  auto gz2 = compress_file(d + "/b.tar", d + "/b.tar.gz", Compression::Gzip);
  ASSERT_TRUE(gz1.ok() && gz2.ok());
  EXPECT_EQ(gz1->digest, gz2->digest);

  ASSERT_EQ(::mkdir((d + "/out").c_str(), 0755), 0);
  ASSERT_TRUE(extract_tar(d + "/a.tar.gz", d + "/out").ok());
  struct stat st;
  ASSERT_EQ(::stat((d + "/out/sparse").c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 1 << 20);
  EXPECT_EQ(st.st_mtime, 0);
  auto content = read_file(d + "/out/sparse");
  ASSERT_TRUE(content.ok());
  EXPECT_EQ(content->substr(512 * 1024, 4), "data");
  EXPECT_EQ(*read_file(d + "/out/etc/hello"), "hello\n");
  if (xattrs) {
    char v[8] = {0};
    EXPECT_EQ(::getxattr((d + "/out/sparse").c_str(), "user.decant", v, sizeof v), 1);
  }
}

TEST(Seccomp, NoAllowlistMeansNoFilterAndAWarning) {
  Profile p = test_server_profile();
  std::vector<std::string> warnings;
  EXPECT_TRUE(oci_seccomp(p, false, warnings).is_null());
  EXPECT_EQ(warnings.size(), 1u);
  p.syscalls.allow = {"read"};
  p.enforcement.seccomp.mode = "off";
  warnings.clear();
  EXPECT_TRUE(oci_seccomp(p, false, warnings).is_null());
  EXPECT_TRUE(warnings.empty());
}

TEST(Seccomp, EnforceIsErrnoWithTheAllowlistPlusExecve) {
  Profile p = test_server_profile();
  p.syscalls.allow = {"write", "read"};
  std::vector<std::string> warnings;
  auto s = oci_seccomp(p, false, warnings);
  EXPECT_EQ(s["defaultAction"], "SCMP_ACT_ERRNO");
  EXPECT_EQ(s["defaultErrnoRet"], 1);
  EXPECT_EQ(s["architectures"], nlohmann::json({"SCMP_ARCH_X86_64"}));
  ASSERT_EQ(s["syscalls"].size(), 2u);
  EXPECT_EQ(s["syscalls"][0]["names"], nlohmann::json({"execve", "read", "write"}));
  // Rule 1: what crun/runc call after loading the filter, minus what rule 0 has.
  auto runtime = s["syscalls"][1]["names"].get<std::vector<std::string>>();
  for (const char* n : {"setresgid", "setresuid", "capset", "prctl", "setgroups", "close_range", "futex"})
    EXPECT_NE(std::find(runtime.begin(), runtime.end(), n), runtime.end()) << n;
  for (const char* n : {"read", "write", "execve"})
    EXPECT_EQ(std::find(runtime.begin(), runtime.end(), n), runtime.end()) << n;
  EXPECT_FALSE(s["syscalls"][1].contains("args"));
  p.enforcement.seccomp.default_action = "kill";
  EXPECT_EQ(oci_seccomp(p, false, warnings)["defaultAction"], "SCMP_ACT_KILL_PROCESS");
  p.enforcement.seccomp.mode = "log";
  EXPECT_EQ(oci_seccomp(p, false, warnings)["defaultAction"], "SCMP_ACT_LOG");
}

TEST(Seccomp, ShimCallsAreAllowedOnlyWithTheShimTag) {
  Profile p = test_server_profile();
  p.syscalls.allow = {"read"};
  std::vector<std::string> warnings;
  auto s = oci_seccomp(p, true, warnings);
  ASSERT_EQ(s["syscalls"].size(), 3u);
  EXPECT_EQ(s["syscalls"][1]["args"][0]["index"], 5);
  EXPECT_EQ(s["syscalls"][1]["args"][0]["value"].get<uint64_t>(), 0x6465636e74736868ULL);
}

TEST(Capabilities, FromPortsSyscallsAndFileCaps) {
  Profile p = test_server_profile();
  p.syscalls.allow = {"setuid", "setgroups", "read"};
  std::vector<std::string> w;
  auto caps = needed_capabilities(p, "", {{80, "tcp"}}, w);
  EXPECT_EQ(caps, (std::vector<std::string>{"CAP_NET_BIND_SERVICE", "CAP_SETGID", "CAP_SETUID"}));
  p.redirects.ports.push_back({80, 8080, "tcp", ""});  // the shim binds 8080 instead
  caps = needed_capabilities(p, "", {{8080, "tcp"}}, w);
  EXPECT_EQ(caps, (std::vector<std::string>{"CAP_SETGID", "CAP_SETUID"}));
  // vfs_cap_data revision 2 with CAP_NET_RAW (13) permitted.
  std::string xattr(20, '\0');
  uint32_t magic = 0x02000001, permitted = 1u << 13;
  std::memcpy(&xattr[0], &magic, 4);
  std::memcpy(&xattr[4], &permitted, 4);
  p.syscalls.allow = {"read"};
  caps = needed_capabilities(p, xattr, {}, w);
  EXPECT_EQ(caps, (std::vector<std::string>{"CAP_NET_RAW"}));
  EXPECT_TRUE(w.empty());
  // A low port only guessed (medium, not published) still needs the bind
  // capability: sshd's default 22 failed with EACCES without it.
  ListenFact guessed;
  guessed.port = 22;
  guessed.confidence = "medium";
  p.network.listen.push_back(guessed);
  caps = needed_capabilities(p, "", {}, w);
  EXPECT_EQ(caps, (std::vector<std::string>{"CAP_NET_BIND_SERVICE"}));
  // Switching uid and sending signals: its children of another uid are
  // signalled (sshd's privilege-separated child), which needs CAP_KILL.
  p.syscalls.allow = {"setresuid", "kill"};
  caps = needed_capabilities(p, "", {}, w);
  EXPECT_EQ(caps, (std::vector<std::string>{"CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETUID"}));
  p.syscalls.allow = {"kill"};  // same uid throughout: no CAP_KILL
  caps = needed_capabilities(p, "", {}, w);
  EXPECT_EQ(caps, (std::vector<std::string>{"CAP_NET_BIND_SERVICE"}));
}

// The manifests carry the same settings as the OCI config, every string
// quoted so YAML 1.1 readers keep "no" and "101:101" as strings.
ImageSpec manifest_spec() {
  ImageSpec s;
  s.name = "Redis_Server";
  s.entrypoint = {"/usr/bin/redis-server"};
  s.cmd = {"/etc/redis/redis.conf", "--daemonize", "no"};
  s.env = {"A=1", "B=x=y"};
  s.uid = 101;
  s.gid = 101;
  s.workdir = "/var/lib/redis";
  s.ports = {{53, "udp"}, {6379, "tcp"}};
  s.writable = {{"/run", "files: /run/redis (write)"}, {"/var/lib/redis", "files: /var/lib/redis (write)"}};
  s.scratch_dirs = {"/run", "/tmp"};
  s.capabilities = {"CAP_NET_BIND_SERVICE"};
  s.seccomp = nlohmann::json::object();
  return s;
}

TEST(Manifests, KubernetesDeploymentServiceAndClaims) {
  EXPECT_EQ(k8s_name("Redis_Server@1"), "redis-server-1");
  EXPECT_EQ(k8s_name("--"), "service");
  EXPECT_EQ(k8s_name(std::string(80, 'a')).size(), 63u);
  std::string text = k8s_manifest(manifest_spec(), "decant/redis:latest", "decant/redis-server.json");
  EXPECT_EQ(text, k8s_manifest(manifest_spec(), "decant/redis:latest", "decant/redis-server.json"));
  std::vector<YAML::Node> docs = YAML::LoadAll(text);
  ASSERT_EQ(docs.size(), 4u);  // Deployment, Service, two claims
  EXPECT_EQ(docs[0]["kind"].as<std::string>(), "Deployment");
  EXPECT_EQ(docs[0]["metadata"]["name"].as<std::string>(), "redis-server");
  YAML::Node pod = docs[0]["spec"]["template"]["spec"];
  EXPECT_EQ(pod["securityContext"]["seccompProfile"]["localhostProfile"].as<std::string>(), "decant/redis-server.json");
  YAML::Node c = pod["containers"][0];
  EXPECT_EQ(c["image"].as<std::string>(), "decant/redis:latest");
  EXPECT_EQ(c["args"][2].as<std::string>(), "no");
  EXPECT_NE(text.find("\"no\""), std::string::npos);  // quoted: YAML 1.1 reads a bare no as false
  EXPECT_EQ(c["env"][1]["value"].as<std::string>(), "x=y");
  EXPECT_EQ(c["ports"][0]["protocol"].as<std::string>(), "UDP");
  EXPECT_EQ(c["securityContext"]["runAsUser"].as<int>(), 101);
  EXPECT_TRUE(c["securityContext"]["readOnlyRootFilesystem"].as<bool>());
  EXPECT_FALSE(c["securityContext"]["allowPrivilegeEscalation"].as<bool>());
  EXPECT_EQ(c["securityContext"]["capabilities"]["drop"][0].as<std::string>(), "ALL");
  EXPECT_EQ(c["securityContext"]["capabilities"]["add"][0].as<std::string>(), "NET_BIND_SERVICE");
  // /run is a writable volume, so it gets no second (tmpfs) volume; /tmp does.
  ASSERT_EQ(c["volumeMounts"].size(), 3u);
  EXPECT_EQ(c["volumeMounts"][2]["mountPath"].as<std::string>(), "/tmp");
  EXPECT_EQ(pod["volumes"][0]["persistentVolumeClaim"]["claimName"].as<std::string>(), "redis-server-data-0");
  EXPECT_EQ(docs[1]["kind"].as<std::string>(), "Service");
  EXPECT_EQ(docs[1]["spec"]["ports"][1]["port"].as<int>(), 6379);
  EXPECT_EQ(docs[2]["kind"].as<std::string>(), "PersistentVolumeClaim");
  EXPECT_EQ(docs[3]["metadata"]["annotations"]["decant.io/path"].as<std::string>(), "/var/lib/redis");
  ImageSpec bare = manifest_spec();
  bare.ports.clear();
  bare.writable.clear();
  EXPECT_EQ(YAML::LoadAll(k8s_manifest(bare, "i", "")).size(), 1u);  // no Service, no claims
  EXPECT_EQ(k8s_manifest(bare, "i", "").find("seccompProfile"), std::string::npos);
}

TEST(Manifests, ComposeHasTheSameSettings) {
  std::string text = compose_manifest(manifest_spec(), "decant/redis:latest", "seccomp.json");
  YAML::Node svc = YAML::Load(text)["services"]["redis-server"];
  ASSERT_TRUE(svc.IsMap()) << text;
  EXPECT_EQ(svc["user"].as<std::string>(), "101:101");
  EXPECT_NE(text.find("\"101:101\""), std::string::npos);  // quoted: YAML 1.1 reads 101:101 as base 60
  EXPECT_EQ(svc["command"][2].as<std::string>(), "no");
  EXPECT_TRUE(svc["read_only"].as<bool>());
  EXPECT_EQ(svc["ports"][1].as<std::string>(), "6379:6379/tcp");
  EXPECT_EQ(svc["security_opt"][1].as<std::string>(), "seccomp=seccomp.json");
  EXPECT_EQ(svc["volumes"][1].as<std::string>(), "data-1:/var/lib/redis");
  ASSERT_EQ(svc["tmpfs"].size(), 1u);
  EXPECT_EQ(svc["tmpfs"][0].as<std::string>(), "/tmp");
  EXPECT_TRUE(YAML::Load(text)["volumes"]["data-1"].IsDefined());
}

// The unit's TimeoutStopSec= reaches the runtimes as decant-init's
// --stop-timeout plus a margin, so the init's SIGKILL of the service comes
// first; without one, neither manifest names a grace (their defaults).
TEST(Manifests, StopGraceFollowsTheInitsStopTimeout) {
  ImageSpec s = manifest_spec();
  s.entrypoint = {"/.decant/init", "--type=forking", "--pidfile=/run/r.pid", "--stop-timeout=90", "--caps=", "--",
                  "/usr/bin/redis-server"};
  YAML::Node pod = YAML::LoadAll(k8s_manifest(s, "i", ""))[0]["spec"]["template"]["spec"];
  EXPECT_EQ(pod["terminationGracePeriodSeconds"].as<int>(), 90 + kStopGraceMargin);
  std::string compose = compose_manifest(s, "i", "");
  EXPECT_EQ(YAML::Load(compose)["services"]["redis-server"]["stop_grace_period"].as<std::string>(),
            fmt::format("{}s", 90 + kStopGraceMargin));
  EXPECT_NE(compose.find("stop_grace_period: \"95s\""), std::string::npos) << compose;
  for (const ImageSpec& none : {manifest_spec(), [] {
         ImageSpec t = manifest_spec();
         t.entrypoint = {"/.decant/init", "--caps=", "--", "/usr/bin/redis-server", "--stop-timeout=5"};
         return t;
       }()}) {
    EXPECT_EQ(k8s_manifest(none, "i", "").find("terminationGracePeriodSeconds"), std::string::npos);
    EXPECT_EQ(compose_manifest(none, "i", "").find("stop_grace_period"), std::string::npos);
  }
}

// decant-init's options as init_parse_args reads them: both spellings, up
// to "--" or the command; the service's own arguments are not the init's.
TEST(InitArgs, StopTimeoutIsReadFromTheInitsOptions) {
  using V = std::vector<std::string>;
  EXPECT_EQ(init_stop_timeout(V{"/.decant/init", "--stop-timeout=30", "--", "/bin/d"}), 30);
  EXPECT_EQ(init_stop_timeout(V{"/.decant/init", "--pidfile", "/run/d.pid", "--stop-timeout", "7", "--", "/bin/d"}), 7);
  EXPECT_EQ(init_stop_timeout(V{"/.decant/init", "--caps=", "--", "/bin/d", "--stop-timeout=30"}), 0);
  EXPECT_EQ(init_stop_timeout(V{"/.decant/init", "/bin/d", "--stop-timeout=30"}), 0);
  EXPECT_EQ(init_stop_timeout(V{"/bin/d", "--stop-timeout=30"}), 0);  // no init
  EXPECT_EQ(init_stop_timeout(V{"/.decant/init", "--stop-timeout=x", "--", "/bin/d"}), 0);
  EXPECT_EQ(init_stop_timeout(V{}), 0);
  EXPECT_EQ(runtime_stop_grace(V{"/.decant/init", "--stop-timeout=86400", "--", "/bin/d"}), 86400 + kStopGraceMargin);
  EXPECT_EQ(runtime_stop_grace(V{"/.decant/init", "--", "/bin/d"}), 0);
}

TEST(ImageSpec, PortsAfterRedirectsWritableDirsAndEnv) {
  Profile p = test_server_profile();
  p.redirects.ports.push_back({80, 8080, "tcp", ""});
  p.redirects.paths.push_back({"/var/log/srv", "/data/log"});
  p.files.push_back({"/var/log/srv/access.log", "write", false, {}});  // covered by the redirect
  p.files.push_back({"/var/lib/srv", "write", false, {}});
  p.files.push_back({"/var/lib/srv/db", "write", false, {}});  // nested: covered by /var/lib/srv
  p.files.push_back({"/var/cache/srv//spool/", "write", false, {}});  // a directory, not in the guest yet
  p.syscalls.allow = {"read"};
  FileSet files;
  files.add_directory("/var/lib/srv");
  files.add_inline("/var/lib/srv/db", "");
  SpecOptions o;
  o.preload_shim = true;
  o.plan = true;
  std::vector<std::string> w;
  auto s = make_image_spec(p, files, o, w);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->ports, (std::vector<std::pair<uint16_t, std::string>>{{8080, "tcp"}}));
  ASSERT_EQ(s->writable.size(), 3u);
  EXPECT_EQ(s->writable[0].path, "/data/log");
  EXPECT_EQ(s->writable[1].path, "/var/cache/srv/spool");  // not its parent
  EXPECT_EQ(s->writable[2].path, "/var/lib/srv");
  EXPECT_TRUE(s->service_capabilities.empty());  // 80 is redirected to 8080
  // What the runtime grants is the service's plus what /.decant/init needs.
  EXPECT_EQ(s->capabilities, init_capabilities(p));
  EXPECT_EQ(s->entrypoint, std::vector<std::string>{"/usr/sbin/srv"});
  EXPECT_EQ(s->cmd, std::vector<std::string>{"-D"});
  EXPECT_NE(std::find(s->env.begin(), s->env.end(), "LD_PRELOAD=/.decant/libdecant-shim.so"), s->env.end());
  EXPECT_NE(std::find(s->env.begin(), s->env.end(), "DECANT_PLAN=/.decant/plan"), s->env.end());

  auto cfg = image_config(*s, "x86_64", "sha256:00", 0);
  EXPECT_EQ(cfg["architecture"], "amd64");
  EXPECT_EQ(cfg["created"], "1970-01-01T00:00:00Z");
  EXPECT_TRUE(cfg["config"]["ExposedPorts"].contains("8080/tcp"));
  EXPECT_TRUE(cfg["config"]["Volumes"].contains("/data/log"));
  EXPECT_EQ(cfg["config"]["User"], "0:0");

  auto rt = runtime_config(*s, RuntimeConfigOptions{});
  EXPECT_EQ(rt["root"]["readonly"], true);
  EXPECT_EQ(rt["process"]["noNewPrivileges"], true);
  EXPECT_EQ(rt["process"]["args"], nlohmann::json({"/usr/sbin/srv", "-D"}));
  bool has_net = false;
  for (const auto& ns : rt["linux"]["namespaces"]) has_net |= ns["type"] == "network";
  EXPECT_FALSE(has_net);
  RuntimeConfigOptions priv;
  priv.network_namespace = true;
  EXPECT_EQ(runtime_config(*s, priv)["linux"]["namespaces"].size(), 5u);
}

TEST(Lxc, SeccompPolicyIsVersion2Allowlist) {
  Profile p = test_server_profile();
  EXPECT_EQ(*lxc_seccomp_policy(p, {}, false), "");
  std::string text = *lxc_seccomp_policy(p, {"accept4", "read"}, false);
  EXPECT_EQ(text.substr(0, 29), "2\nallowlist errno 1\n[x86_64]\n");
  EXPECT_NE(text.find("\naccept4\n"), std::string::npos);
  EXPECT_NE(text.find("\nchdir\n"), std::string::npos);  // lxc-start's own, after the filter
  EXPECT_EQ(text.find("\nreadlinkat\n"), std::string::npos);
  EXPECT_NE(lxc_seccomp_policy(p, {"read"}, true)->find("\nreadlinkat\n"), std::string::npos);  // the shim's
  p.enforcement.seccomp.default_action = "kill";
  EXPECT_EQ(lxc_seccomp_policy(p, {"read"}, false)->substr(0, 26), "2\nallowlist kill\n[x86_64]\n");
}

// Issue 14: a line break in an env value or an argument used to be written
// raw into the LXC config, adding keys of the profile's choosing.
TEST_F(FakeGuest, LxcRefusesALineBreakInAnEnvValueAndWritesNothing) {
  p_.env["GREETING"] = "hi\nlxc.mount.entry = / host-root none rbind,rw";
  auto r = package_as(PackageFormat::Lxc);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::BadInput);
  EXPECT_NE(r.error().message.find("env.GREETING"), std::string::npos) << r.error().message;
  EXPECT_EQ(r.error().message.find('\n'), std::string::npos);  // one line, the value is not echoed
  EXPECT_FALSE(output_exists());
  // The profile reader refuses it for every format (validate_profile); the
  // LXC writer's own check (Lxc.ConfigRefuses...) is the second line.
  auto oci = package_as(PackageFormat::OciDir);
  ASSERT_FALSE(oci.ok());
  EXPECT_NE(oci.error().message.find("env.GREETING"), std::string::npos) << oci.error().message;
}

TEST_F(FakeGuest, LxcConfigHasOnlyItsOwnKeysForCleanValues) {
  p_.env["GREETING"] = "hello world";
  p_.redirects.paths.push_back({"/var/log/app", "/data/my logs"});
  auto r = package_as(PackageFormat::Lxc);
  ASSERT_TRUE(r.ok()) << r.error().message;
  auto cfg = read_file(out_.path() + "/out/config");
  ASSERT_TRUE(cfg.ok());
  EXPECT_NE(cfg->find("lxc.environment = GREETING=hello world\n"), std::string::npos);
  // A blank in a mount path takes fstab's escape instead of splitting the entry.
  EXPECT_NE(cfg->find("lxc.mount.entry = tmpfs data/my\\040logs tmpfs "), std::string::npos) << *cfg;
  size_t mounts = 0;
  for (size_t i = 0; (i = cfg->find("lxc.mount.entry", i)) != std::string::npos; ++i) ++mounts;
  EXPECT_EQ(mounts, 1u);
}

TEST_F(FakeGuest, LxcMetadataEscapesControlCharactersInStrings) {
  // Line breaks are refused by the profile reader; other control characters
  // reach the writer and must not break metadata.yaml's structure.
  p_.metadata.name = "app\x01expiry_date: 1\x02\"";
  auto r = package_as(PackageFormat::Lxc);
  ASSERT_TRUE(r.ok()) << r.error().message;
  auto meta = read_file(out_.path() + "/out/metadata.yaml");
  ASSERT_TRUE(meta.ok());
  EXPECT_EQ(meta->find("\nexpiry_date: 1"), std::string::npos) << *meta;  // no key of its own
  EXPECT_EQ(meta->find('\x01'), std::string::npos) << *meta;             // escaped, not raw
  YAML::Node y = YAML::Load(*meta);
  EXPECT_EQ(y["properties"]["name"].as<std::string>(), p_.metadata.name);
  EXPECT_EQ(y["expiry_date"].as<int>(), 0);
}

TEST(Lxc, ConfigRefusesControlCharactersInEveryValueNamingTheField) {
  Profile base = test_server_profile();
  std::vector<std::string> w;
  auto spec_of = [&](const Profile& p) {
    FileSet files;
    auto s = make_image_spec(p, files, SpecOptions{}, w);
    EXPECT_TRUE(s.ok());
    return *s;
  };
  ASSERT_TRUE(lxc_config(spec_of(base), base, w).ok());
  struct Case {
    std::string field;
    std::function<void(Profile&)> edit;
  };
  std::vector<Case> cases = {
      {"env.X", [](Profile& p) { p.env["X"] = "1\nlxc.apparmor.profile = unconfined"; }},
      {"entrypoint[1]", [](Profile& p) { p.entrypoint[1] = "-D\nlxc.cap.keep = sys_admin"; }},
      {"entrypoint[0]", [](Profile& p) { p.entrypoint[0] = "/usr/sbin/srv\r"; }},
      {"workdir", [](Profile& p) { p.workdir = std::string("/srv\0x", 6); }},
      {"binary.path", [](Profile& p) { p.binary.path = "/usr/sbin/srv\nlxc.cap.keep = sys_admin"; }},
      {"binary.arch", [](Profile& p) { p.binary.arch = "x86_64\nlxc.cap.keep = sys_admin"; }},
      {"writable directory", [](Profile& p) { p.redirects.paths.push_back({"/var/log", "/data\nlxc.x = y"}); }},
      {"env.K?EY", [](Profile& p) { p.env["K\nEY"] = "v"; }},  // the field name is not echoed raw either
  };
  for (const auto& c : cases) {
    Profile p = base;
    c.edit(p);
    auto cfg = lxc_config(spec_of(p), p, w);
    ASSERT_FALSE(cfg.ok()) << c.field;
    EXPECT_EQ(cfg.error().kind, ErrorKind::BadInput);
    EXPECT_NE(cfg.error().message.find(c.field), std::string::npos) << cfg.error().message;
    EXPECT_EQ(cfg.error().message.find_first_of(std::string("\n\r\0", 3)), std::string::npos) << c.field;
  }
  // A tab is not a line break: LXC keeps it inside the value.
  Profile tab = base;
  tab.env["T"] = "a\tb";
  EXPECT_TRUE(lxc_config(spec_of(tab), tab, w).ok());
}

TEST(Lxc, SeccompPolicyRefusesALineBreakInANameOrTheArch) {
  Profile p = test_server_profile();
  auto bad = lxc_seccomp_policy(p, {"read", "write\n[all]\nmount"}, false);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("syscalls.allow[1]"), std::string::npos) << bad.error().message;
  p.syscalls.arch = "x86_64]\n[all";
  bad = lxc_seccomp_policy(p, {"read"}, false);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("syscalls.arch"), std::string::npos);
}

// Issue 14: holes used to be read, zero by zero (a 1 TiB sparse file did not
// package in 120 s). Now only the data is read; ctest's timeout for this
// binary (60 s) is the generous bound.
TEST(TarWriter, OneTebibyteSparseFileIsReadOnlyWhereItHasData) {
  TempDir dir;
  const std::string& d = dir.path();
  const uint64_t tib = 1ull << 40;
  std::string big = d + "/big.img";
  int fd = ::open(big.c_str(), O_CREAT | O_WRONLY, 0644);
  ASSERT_GE(fd, 0);
  if (::ftruncate(fd, static_cast<off_t>(tib)) != 0) {
    ::close(fd);
    GTEST_SKIP() << "this filesystem cannot hold a 1 TiB sparse file";
  }
  ASSERT_EQ(::pwrite(fd, "head", 4, 0), 4);
  ASSERT_EQ(::pwrite(fd, "middle", 6, static_cast<off_t>(tib / 2)), 6);
  ASSERT_EQ(::pwrite(fd, "tail", 4, static_cast<off_t>(tib - 4)), 4);
  ::close(fd);

  FileSet set;
  auto root = GuestRoot::open(d);
  ASSERT_TRUE(add_guest_path(*root, "/big.img", false, set, PackageMode::Minimal, GuestUser{}).ok());
  ASSERT_GE(set.entries.at("/big.img").sparse.size(), 3u);
  auto a = write_layer_tar(set, d + "/a.tar", 0);
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_LT(a->size, 1u << 20);  // the data blocks and headers, not the holes
  auto b = write_layer_tar(set, d + "/b.tar", 0);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(a->digest, b->digest);

  ASSERT_EQ(::mkdir((d + "/out").c_str(), 0755), 0);
  ASSERT_TRUE(extract_tar(d + "/a.tar", d + "/out").ok());
  struct stat st;
  ASSERT_EQ(::stat((d + "/out/big.img").c_str(), &st), 0);
  EXPECT_EQ(static_cast<uint64_t>(st.st_size), tib);
  EXPECT_LT(static_cast<uint64_t>(st.st_blocks) * 512, 64u << 20);
  fd = ::open((d + "/out/big.img").c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  char buf[8] = {0};
  EXPECT_EQ(::pread(fd, buf, 4, 0), 4);
  EXPECT_EQ(std::string(buf, 4), "head");
  EXPECT_EQ(::pread(fd, buf, 6, static_cast<off_t>(tib / 2)), 6);
  EXPECT_EQ(std::string(buf, 6), "middle");
  EXPECT_EQ(::pread(fd, buf, 4, static_cast<off_t>(tib - 4)), 4);
  EXPECT_EQ(std::string(buf, 4), "tail");
  EXPECT_EQ(::pread(fd, buf, 4, static_cast<off_t>(tib / 4)), 4);
  EXPECT_EQ(std::string(buf, 4), std::string(4, '\0'));
  ::close(fd);
}

// Issue 14: the apparent size is bounded, since podman and umoci unpack a
// hole as written zeros; the bound is an option.
TEST_F(FakeGuest, ImageOverTheSizeBoundIsRefusedNamingTheLargestFile) {
  const std::string& r = dir_.path();
  ASSERT_EQ(::mkdir((r + "/srv").c_str(), 0755), 0);
  int fd = ::open((r + "/srv/disk.img").c_str(), O_CREAT | O_WRONLY, 0644);
  ASSERT_GE(fd, 0);
  if (::ftruncate(fd, static_cast<off_t>(1ull << 40)) != 0) {
    ::close(fd);
    GTEST_SKIP() << "this filesystem cannot hold a 1 TiB sparse file";
  }
  ASSERT_EQ(::pwrite(fd, "x", 1, 4096), 1);
  ::close(fd);
  p_.files.push_back({"/srv/disk.img", "read", false, {}});
  auto refused = package_as(PackageFormat::OciDir);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, ErrorKind::BadInput);
  EXPECT_NE(refused.error().message.find("/srv/disk.img"), std::string::npos) << refused.error().message;
  EXPECT_NE(refused.error().message.find("64.0 GiB limit"), std::string::npos) << refused.error().message;
  EXPECT_NE(refused.error().message.find("--max-size"), std::string::npos);
  EXPECT_FALSE(output_exists());
  auto raised = package_as(PackageFormat::Bundle, 2ull << 40);
  ASSERT_TRUE(raised.ok()) << raised.error().message;
  struct stat st;
  ASSERT_EQ(::stat((out_.path() + "/out/rootfs/srv/disk.img").c_str(), &st), 0);
  EXPECT_EQ(static_cast<uint64_t>(st.st_size), 1ull << 40);
}

TEST(Package, ParseSize) {
  uint64_t v = 0;
  EXPECT_TRUE(parse_size("100", v));
  EXPECT_EQ(v, 100u);
  EXPECT_TRUE(parse_size("64G", v));
  EXPECT_EQ(v, 64ull << 30);
  EXPECT_TRUE(parse_size("2t", v));
  EXPECT_EQ(v, 2ull << 40);
  for (const char* bad : {"", "G", "1.5G", "10GB", "-1", "99999999999999999999", "20000000000T"})
    EXPECT_FALSE(parse_size(bad, v)) << bad;
}

// Issue 8: with the shim, /.decant/seccomp.bpf is the filter the plan
// carries (compiled once, by the plan compiler), byte for byte.
TEST_F(FakeGuest, SeccompBpfIsThePlansFilter) {
  p_.syscalls.allow = {"read", "write", "exit_group"};
  ShimNeeds shim;
  shim.host_path = dir_.path() + "/usr/sbin/app";  // any host file stands in for the shim here
  auto r = package_as(PackageFormat::Bundle, kDefaultMaxImageBytes, &shim);
  ASSERT_TRUE(r.ok()) << r.error().message;
  auto bpf = read_file(out_.path() + "/out/rootfs/.decant/seccomp.bpf");
  auto plan = read_file(out_.path() + "/out/rootfs/.decant/plan");
  ASSERT_TRUE(bpf.ok() && plan.ok());
  ASSERT_FALSE(bpf->empty());
  EXPECT_NE(plan->find("\nseccomp enforce x86_64 " + to_hex(bpf->data(), bpf->size()) + "\n"), std::string::npos)
      << *plan;
  // Without the shim there is no plan, and the packager compiles the same filter itself.
  auto alone = package_as(PackageFormat::Bundle);
  ASSERT_TRUE(alone.ok()) << alone.error().message;
  EXPECT_EQ(*read_file(out_.path() + "/out/rootfs/.decant/seccomp.bpf"), *bpf);
}

// Issue 12: a static service gets no shim but the plan still goes in the
// image for the init's seccomp proxy, with DECANT_PLAN, the proxy's calls
// in the allowlist and, for a service user that is not root, CAP_SYS_PTRACE
// for decant-init; `proxy: off` keeps all of that out.
TEST_F(FakeGuest, StaticServiceGetsThePlanForTheInitsProxy) {
  p_.binary.linkage = "static";
  p_.binary.interpreter.clear();
  p_.libraries.clear();
  p_.user = "www-data";
  p_.syscalls.allow = {"read", "write", "exit_group"};
  p_.redirects.paths.push_back({"/srv/legacy", "/srv/new"});
  ShimNeeds shim;
  shim.host_path = dir_.path() + "/usr/sbin/app";
  auto r = package_as(PackageFormat::Bundle, kDefaultMaxImageBytes, &shim);
  ASSERT_TRUE(r.ok()) << r.error().message;
  std::string out = out_.path() + "/out";
  auto plan = read_file(out + "/rootfs/.decant/plan");
  ASSERT_TRUE(plan.ok()) << "no plan for the proxy";
  EXPECT_NE(plan->find("\nproxy auto\n"), std::string::npos) << *plan;
  EXPECT_NE(access((out + "/rootfs/.decant/libdecant-shim.so").c_str(), F_OK), 0);
  auto config = nlohmann::json::parse(*read_file(out + "/config.json"));
  auto env = config["process"]["env"].get<std::vector<std::string>>();
  EXPECT_NE(std::find(env.begin(), env.end(), "DECANT_PLAN=/.decant/plan"), env.end());
  EXPECT_EQ(std::find(env.begin(), env.end(), "LD_PRELOAD=/.decant/libdecant-shim.so"), env.end());
  auto caps = config["process"]["capabilities"]["bounding"].get<std::vector<std::string>>();
  EXPECT_NE(std::find(caps.begin(), caps.end(), "CAP_SYS_PTRACE"), caps.end());
  auto names = config["linux"]["seccomp"]["syscalls"][0]["names"].get<std::vector<std::string>>();
  for (const char* n : {"seccomp", "process_vm_readv", "pidfd_getfd", "sendmsg"})
    EXPECT_NE(std::find(names.begin(), names.end(), n), names.end()) << n;

  p_.enforcement.proxy = "off";
  auto off = package_as(PackageFormat::Bundle, kDefaultMaxImageBytes, &shim);
  ASSERT_TRUE(off.ok()) << off.error().message;
  EXPECT_NE(access((out + "/rootfs/.decant/plan").c_str(), F_OK), 0);
  config = nlohmann::json::parse(*read_file(out + "/config.json"));
  caps = config["process"]["capabilities"]["bounding"].get<std::vector<std::string>>();
  EXPECT_EQ(std::find(caps.begin(), caps.end(), "CAP_SYS_PTRACE"), caps.end());
  names = config["linux"]["seccomp"]["syscalls"][0]["names"].get<std::vector<std::string>>();
  EXPECT_EQ(std::find(names.begin(), names.end(), "process_vm_readv"), names.end());
}

TEST(InitCapabilities, PtraceOnlyForTheProxyWithAServiceOfAnotherUid) {
  Profile p;
  p.binary.linkage = "static";
  p.user = "www-data";
  auto has = [](const std::vector<std::string>& v) {
    return std::find(v.begin(), v.end(), "CAP_SYS_PTRACE") != v.end();
  };
  EXPECT_TRUE(has(init_capabilities(p)));
  p.user = "root";
  EXPECT_FALSE(has(init_capabilities(p)));  // same uid, caps a subset of the init's
  p.syscalls.allow = {"read", "setresuid"};
  EXPECT_TRUE(has(init_capabilities(p)));  // a root daemon with workers of another uid
  p.syscalls.allow.clear();
  p.user = "www-data";
  p.binary.linkage = "dynamic";
  EXPECT_FALSE(has(init_capabilities(p)));  // the shim redirects, no proxy
  p.hazards.push_back({"raw-syscall", "warning", "inline syscall instructions", {}});
  EXPECT_TRUE(has(init_capabilities(p)));
  p.enforcement.proxy = "off";
  EXPECT_FALSE(has(init_capabilities(p)));
}

// The init signals the service (forwarding, the stop): a service that ends
// up under another uid, by its user or by switching itself (named -u bind),
// needs CAP_KILL in the init, or SIGTERM never reaches it.
TEST(InitCapabilities, KillForAServiceOfAnotherUid) {
  Profile p;
  auto has = [](const std::vector<std::string>& v) { return std::find(v.begin(), v.end(), "CAP_KILL") != v.end(); };
  p.user = "root";
  EXPECT_FALSE(has(init_capabilities(p)));
  p.syscalls.allow = {"read", "setuid"};
  EXPECT_TRUE(has(init_capabilities(p)));
  p.syscalls.allow.clear();
  p.user = "bind";
  EXPECT_TRUE(has(init_capabilities(p)));
}

// Issue 14: missing libraries used to package silently.
TEST_F(FakeGuest, MissingLibrariesAreWarnedOneLineEach) {
  p_.missing_libraries.push_back({"libfoo.so.1", {"/usr/sbin/app"}});
  p_.missing_libraries.push_back({"libbar.so.2", {"/usr/sbin/app", "libfoo.so.1"}});
  auto r = package_as(PackageFormat::OciDir);
  ASSERT_TRUE(r.ok()) << r.error().message;
  std::vector<std::string> missing;
  for (const auto& w : r->warnings)
    if (w.find("missing from the guest") != std::string::npos) missing.push_back(w);
  ASSERT_EQ(missing.size(), 2u);
  EXPECT_NE(missing[0].find("libfoo.so.1"), std::string::npos);
  EXPECT_NE(missing[1].find("libbar.so.2"), std::string::npos);
  EXPECT_NE(missing[1].find("needed by /usr/sbin/app, libfoo.so.1"), std::string::npos);
}

// Issue 14: every rule was compared with every other (100k redirects took
// 29 s to package). 100k path redirects, 300k written files, 100k port
// rules: the pairwise version needs minutes, past this binary's 60 s ctest
// timeout; the set lookups need about a second.
TEST(ImageSpec, ManyRedirectsAndWrittenFilesAreNotQuadratic) {
  Profile p = test_server_profile();
  const int n = 100000;
  for (int i = 0; i < n; ++i) {
    p.redirects.paths.push_back({fmt::format("/srv/in{}", i), fmt::format("/data/d{:06}", i)});
    p.files.push_back({fmt::format("/srv/in{}/f", i), "write", false, {}});           // redirected
    p.files.push_back({fmt::format("/var/lib/w{:06}/f", i), "write", false, {}});     // its own dir
    p.files.push_back({fmt::format("/var/lib/w{:06}/sub/f", i), "write", false, {}});  // nested in it
    p.redirects.ports.push_back({static_cast<uint16_t>(1000 + i % 9000), static_cast<uint16_t>(20000 + i % 40000),
                                 "tcp", ""});
  }
  p.network.listen.push_back({1007, "tcp", "0.0.0.0", "high", {}});
  FileSet files;
  std::vector<std::string> w;
  auto s = make_image_spec(p, files, SpecOptions{}, w);
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(s->writable.size(), 2u * n);
  EXPECT_EQ(s->writable.front().path, "/data/d000000");
  EXPECT_EQ(s->writable.back().path, fmt::format("/var/lib/w{:06}", n - 1));
  for (const auto& d : s->writable) EXPECT_EQ(d.path.find("/sub"), std::string::npos) << d.path;
  // 1007 has eleven rules (i = 7, 9007, ..., 99007); the last one (to 39007) wins.
  auto has = [&](uint16_t port) {
    return std::binary_search(s->ports.begin(), s->ports.end(), std::make_pair(port, std::string("tcp")));
  };
  EXPECT_TRUE(has(39007));
  EXPECT_FALSE(has(1007));
  EXPECT_EQ(s->ports.size(), 40001u);  // the rules' 40000 targets (1007's among them) and 80, which no rule names
}

TEST(StagedOutput, RefusesExistingAndLeavesNothingBehind) {
  TempDir dir;
  std::string out = dir.path() + "/out";
  ASSERT_EQ(::mkdir(out.c_str(), 0755), 0);
  auto refused = StagedOutput::create(out, false);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("--force"), std::string::npos);
  std::string scratch;
  {
    auto staged = StagedOutput::create(dir.path() + "/other", false);
    ASSERT_TRUE(staged.ok());
    scratch = staged->scratch();
    write(scratch + "/x", "half-written");
  }  // dropped without commit: an error path
  EXPECT_NE(::access(scratch.c_str(), F_OK), 0);
  EXPECT_NE(::access((dir.path() + "/other").c_str(), F_OK), 0);
  {
    auto staged = StagedOutput::create(out, true);
    ASSERT_TRUE(staged.ok());
    ASSERT_EQ(::mkdir((staged->scratch() + "/new").c_str(), 0755), 0);
    write(staged->scratch() + "/new/marker", "new");
    ASSERT_TRUE(staged->commit(staged->scratch() + "/new").ok());
  }
  EXPECT_EQ(*read_file(out + "/marker"), "new");
  auto listing = GuestRoot::open(dir.path())->list_directory("/");
  EXPECT_EQ(*listing, std::vector<std::string>{"out"});
}

// Issue 10: every image starts with /.decant/init, which follows a forking
// daemon, creates what the VM's init and tmpfiles.d created under /run,
// seeds empty volumes and drops to the service's user, groups and
// capabilities; the runtime starts it as root with what it needs for that.
TEST_F(FakeGuest, InitWrapsTheEntrypointWithTheServiceSectionAndGuestData) {
  const std::string& r = dir_.path();
  p_.user = "svc";
  p_.service = {"forking", "/run/app.pid", {"/run/app"}, "2750", 0, {}};
  p_.syscalls.allow = {"read", "write"};
  p_.files.push_back({"/var/lib/svc", "write", false, {}});
  p_.files.push_back({"/var/lib/svc/state", "read", false, {}});
  write(r + "/etc/group", "root:x:0:\nadm:x:4:alice,svc\nwww-data:x:33:\nsvc:x:130:\nalice:x:1000:\n");
  write(r + "/var/lib/svc/state", "s");
  ASSERT_EQ(::chown((r + "/var/lib/svc/state").c_str(), 120, 130), 0);
  ASSERT_EQ(::mkdir((r + "/run").c_str(), 0755), 0);
  symlink_at("/run", r + "/var/run");
  write(r + "/usr/lib/tmpfiles.d/app.conf",
        "# comment\nd /run/app-t 0750 svc svc -\nd /var/run/app-v - - - -\nL /run/lnk - - - - y\n"
        "d /tmp/notrun 0755 root root -\nd /run/%t/x 0755 - - -\nd /run/who 0755 nobody-here - -\n");
  write(r + "/usr/lib/tmpfiles.d/masked.conf", "d /run/masked 0755 - - -\n");
  write(r + "/etc/tmpfiles.d/masked.conf", "");
  auto rep = package_as(PackageFormat::Bundle);
  ASSERT_TRUE(rep.ok()) << rep.error().message;
  std::string out = out_.path() + "/out";
  auto config = nlohmann::json::parse(*read_file(out + "/config.json"));
  std::vector<std::string> want = {"/.decant/init", "--type=forking", "--pidfile=/run/app.pid", "--user=120:130",
                                   "--groups=4,130", "--caps=", "--syslog=/dev/log", "--setup=/.decant/init.setup",
                                   "--", "/usr/sbin/app", "-f"};
  EXPECT_EQ(config["process"]["args"].get<std::vector<std::string>>(), want);
  EXPECT_EQ(config["process"]["user"]["uid"], 0);
  auto caps = config["process"]["capabilities"]["bounding"].get<std::vector<std::string>>();
  EXPECT_EQ(caps, (std::vector<std::string>{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_KILL", "CAP_SETGID", "CAP_SETUID"}));
  auto names = config["linux"]["seccomp"]["syscalls"][0]["names"].get<std::vector<std::string>>();
  for (const char* n : {"signalfd4", "setresuid", "capset", "wait4", "bind", "read"})
    EXPECT_NE(std::find(names.begin(), names.end(), n), names.end()) << n;

  struct stat st;
  ASSERT_EQ(::stat((out + "/rootfs/.decant/init").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0755u);
  std::string setup = *read_file(out + "/rootfs/.decant/init.setup");
  for (const char* line : {"\ndir 2750 120 130 /run/app\n", "\ndir 0750 120 130 /run/app-t\n",
                           "\ndir 0755 0 0 /run/app-v\n", "\ndir 0750 120 130 /var/lib/svc\n", "\nseed /var/lib/svc\n"})
    EXPECT_NE(setup.find(line), std::string::npos) << line << " not in\n" << setup;
  for (const char* absent : {"masked", "notrun", "lnk", "%t", "/run/who"})
    EXPECT_EQ(setup.find(absent), std::string::npos) << absent << " in\n" << setup;
  // The volume's content travels as its seed: every runtime starts it empty
  // and the init fills it, so they all behave alike.
  ASSERT_EQ(::stat((out + "/rootfs/.decant/seed/var/lib/svc/state").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 120u);
  EXPECT_NE(::access((out + "/rootfs/var/lib/svc/state").c_str(), F_OK), 0);
  EXPECT_NE(::access((out + "/volumes/var/lib/svc/state").c_str(), F_OK), 0);
  char link[64] = {0};
  ASSERT_GT(::readlink((out + "/rootfs/var/run").c_str(), link, sizeof link - 1), 0);
  EXPECT_STREQ(link, "/run");
}

TEST_F(FakeGuest, InitTracksTheServiceItselfWhenSimpleAndStaysRootForRoot) {
  p_.syscalls.allow = {"read"};
  auto rep = package_as(PackageFormat::Bundle);
  ASSERT_TRUE(rep.ok()) << rep.error().message;
  auto config = nlohmann::json::parse(*read_file(out_.path() + "/out/config.json"));
  std::vector<std::string> want = {"/.decant/init", "--caps=", "--syslog=/dev/log", "--", "/usr/sbin/app", "-f"};
  EXPECT_EQ(config["process"]["args"].get<std::vector<std::string>>(), want);
  auto caps = config["process"]["capabilities"]["bounding"].get<std::vector<std::string>>();
  EXPECT_EQ(caps, (std::vector<std::string>{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER"}));
}

// service.stop_timeout (the unit's TimeoutStopSec=) becomes decant-init's
// --stop-timeout, in the form init/args.c parses.
TEST_F(FakeGuest, InitGetsTheServicesStopTimeout) {
  p_.syscalls.allow = {"read"};
  p_.service.stop_timeout = 90;
  auto rep = package_as(PackageFormat::Bundle);
  ASSERT_TRUE(rep.ok()) << rep.error().message;
  auto config = nlohmann::json::parse(*read_file(out_.path() + "/out/config.json"));
  std::vector<std::string> want = {"/.decant/init", "--stop-timeout=90", "--caps=", "--syslog=/dev/log", "--",
                                   "/usr/sbin/app", "-f"};
  EXPECT_EQ(config["process"]["args"].get<std::vector<std::string>>(), want);
  EXPECT_EQ(rep->spec.entrypoint[1], "--stop-timeout=90");
  EXPECT_EQ(runtime_stop_grace(rep->spec.entrypoint), 90 + kStopGraceMargin);
}

TEST(InitSyscalls, AreKnownToLibseccompAndAllowedOnlyWithTheInit) {
  Profile p = test_server_profile();
  p.syscalls.allow = {"read"};
  SeccompSpec spec;
  spec.arch = "x86_64";
  spec.allow = init_own_syscalls();
  EXPECT_TRUE(compile_seccomp_bpf(spec).ok());
  std::vector<std::string> w;
  EXPECT_EQ(oci_seccomp(p, false, w)["syscalls"][0]["names"].size(), 2u);  // read, execve
  EXPECT_GT(oci_seccomp(p, false, w, true)["syscalls"][0]["names"].size(), 50u);
}

}  // namespace
}  // namespace decant
