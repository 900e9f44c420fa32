// Unit tests of `decant run`'s policy check: the config decant's packager
// writes for a profile passes; each way a hand-made config asks for more
// (capabilities, host mounts, escaping volume paths, no seccomp, a host
// namespace, hooks, device nodes, ...) is refused in one line naming the
// setting. Also: paths taken from an artifact never leave it.
#include <gtest/gtest.h>

#include <cstdlib>
#include <functional>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/fs_tree.h"
#include "common/file_util.h"
#include "packager/file_set.h"
#include "packager/oci_config.h"
#include "packager/staged_output.h"
#include "profiles/profile.h"
#include "run/artifact.h"
#include "run/config_check.h"
#include "profiles/test_profiles.h"

namespace decant {
namespace {

using nlohmann::json;

Profile service_profile() {
  Profile p = test_server_profile();
  p.syscalls.allow = {"read", "write", "setuid"};
  p.redirects.paths.push_back({"/var/log/srv", "/data/log"});
  return p;
}

// A bundle as decant package lays it out: rootfs/ with /.decant/profile.json,
// volumes/data/log, and the config the packager's functions write.
class ConfigCheck : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/decant-config-check.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    base = tmpl;
    Profile p = service_profile();
    ASSERT_TRUE(make_directories(base + "/rootfs/.decant").ok());
    ASSERT_TRUE(make_directories(base + "/volumes/data/log").ok());
    ASSERT_TRUE(write_file_atomic(base + "/rootfs/.decant/profile.json", to_json(p), Overwrite::Replace).ok());
    config = packaged(p, true);
  }
  void TearDown() override { remove_tree(base); }

  static json packaged(const Profile& p, bool shim) {
    FileSet files;
    files.entries[p.binary.path] = FileEntry{};
    SpecOptions so;
    so.preload_shim = shim;
    std::vector<std::string> warnings;
    auto spec = make_image_spec(p, files, so, warnings);
    EXPECT_TRUE(spec.ok());
    RuntimeConfigOptions ro;
    ro.network_namespace = true;
    return runtime_config(*spec, ro);
  }

  // The check's message for config after change, "" when it passes.
  std::string refusal(const std::function<void(json&)>& change) {
    json c = config;
    change(c);
    Status s = check_runtime_config(c, base, "bundle");
    if (s) return "";
    EXPECT_EQ(s.error().kind, ErrorKind::BadInput);
    EXPECT_EQ(s.error().message.find('\n'), std::string::npos);
    EXPECT_NE(s.error().message.find("--trust-bundle"), std::string::npos) << s.error().message;
    return s.error().message;
  }

  std::string base;
  json config;
};

json host_bind(const std::string& dest, const std::string& src) {
  return {{"destination", dest}, {"type", "bind"}, {"source", src}, {"options", {"rbind", "rw", "nosuid", "nodev"}}};
}

TEST_F(ConfigCheck, WhatDecantWritesPasses) {
  EXPECT_EQ(refusal([](json&) {}), "");
  config = packaged(service_profile(), false);  // --no-shim: the filter without the shim's rule
  EXPECT_EQ(refusal([](json&) {}), "");
  EXPECT_TRUE(config["mounts"].dump().find("volumes/data/log") != std::string::npos);
}

TEST_F(ConfigCheck, RefusesCapabilitiesBeyondThePolicy) {
  std::string m = refusal([](json& c) { c["process"]["capabilities"]["bounding"].push_back("CAP_SYS_ADMIN"); });
  EXPECT_NE(m.find("process.capabilities.bounding: CAP_SYS_ADMIN"), std::string::npos) << m;
  EXPECT_NE(m.find("CAP_NET_BIND_SERVICE, CAP_SETUID"), std::string::npos) << m;  // what it would grant
  m = refusal([](json& c) { c["process"]["capabilities"]["ambient"] = {"CAP_SYS_PTRACE"}; });
  EXPECT_NE(m.find("process.capabilities.ambient: CAP_SYS_PTRACE"), std::string::npos) << m;
  m = refusal([](json& c) { c["process"]["capabilities"].erase("permitted"); });
  EXPECT_NE(m.find("process.capabilities.permitted: missing"), std::string::npos) << m;
  m = refusal([](json& c) { c["process"].erase("capabilities"); });
  EXPECT_NE(m.find("process.capabilities: missing"), std::string::npos) << m;
}

TEST_F(ConfigCheck, RefusesHostMountsAndEscapingVolumes) {
  std::string m = refusal([](json& c) { c["mounts"].push_back(host_bind("/host", "/")); });
  EXPECT_NE(m.find("mounts[/host].source: / is a host path"), std::string::npos) << m;
  m = refusal([](json& c) { c["mounts"].push_back(host_bind("/data/x", "../../../../tmp/x")); });
  EXPECT_NE(m.find("mounts[/data/x].source"), std::string::npos) << m;
  EXPECT_NE(m.find("climbs out"), std::string::npos) << m;
  m = refusal([](json& c) { c["mounts"].push_back(host_bind("/data/x", "rootfs/etc")); });
  EXPECT_NE(m.find("not under the artifact's volumes/"), std::string::npos) << m;
  // A volume directory that is a symlink could name any host directory.
  ASSERT_EQ(::symlink("/etc", (base + "/volumes/etc").c_str()), 0);
  m = refusal([](json& c) { c["mounts"].push_back(host_bind("/etc", "volumes/etc")); });
  EXPECT_NE(m.find("symlink"), std::string::npos) << m;
  m = refusal([](json& c) { c["mounts"].push_back(host_bind("/etc", "volumes/data/log")); });
  EXPECT_NE(m.find("mounts[/etc].source: volumes/data/log is not the volume of /etc"), std::string::npos) << m;
  m = refusal([](json& c) {
    json b = host_bind("/data/y", "volumes/data/y");
    b["options"] = {"rbind", "rw"};
    c["mounts"].push_back(b);
  });
  EXPECT_NE(m.find("mounts[/data/y].options"), std::string::npos) << m;
  m = refusal([](json& c) {
    c["mounts"].push_back({{"destination", "/sys/fs/cgroup"}, {"type", "cgroup"}, {"source", "cgroup"}});
  });
  EXPECT_NE(m.find("mounts[/sys/fs/cgroup].type"), std::string::npos) << m;
  m = refusal([](json& c) {
    for (auto& mt : c["mounts"])
      if (mt["type"] == "sysfs") mt["options"] = {"nosuid"};
  });
  EXPECT_NE(m.find("mounts[/sys].options: sysfs without ro"), std::string::npos) << m;
}

// crun acts on run.oci.* annotations (a seccomp notification receiver on the
// host, hook log files, another handler): only decant's own labels pass.
TEST_F(ConfigCheck, RefusesAnnotationsARuntimeActsOn) {
  EXPECT_EQ(refusal([](json& c) { c["annotations"]["io.decant.note"] = "x"; }), "");
  std::string m = refusal([](json& c) { c["annotations"]["run.oci.seccomp.receiver"] = "/run/evil.sock"; });
  EXPECT_NE(m.find("annotations.run.oci.seccomp.receiver: not an annotation decant writes"), std::string::npos) << m;
  m = refusal([](json& c) { c["annotations"]["org.systemd.property.DeviceAllow"] = "'/dev/sda rwm'"; });
  EXPECT_NE(m.find("annotations.org.systemd.property.DeviceAllow"), std::string::npos) << m;
  m = refusal([](json& c) { c["annotations"]["io.decant.x"] = 1; });
  EXPECT_NE(m.find("annotations.io.decant.x: not a string"), std::string::npos) << m;
}

TEST_F(ConfigCheck, RefusesMissingOrForeignSeccomp) {
  std::string m = refusal([](json& c) { c["linux"].erase("seccomp"); });
  EXPECT_NE(m.find("linux.seccomp: missing"), std::string::npos) << m;
  m = refusal([](json& c) { c["linux"]["seccomp"]["defaultAction"] = "SCMP_ACT_ALLOW"; });
  EXPECT_NE(m.find("linux.seccomp: not the filter decant derives"), std::string::npos) << m;
  m = refusal([](json& c) { c["linux"]["seccomp"]["syscalls"][0]["names"].push_back("mount"); });
  EXPECT_NE(m.find("linux.seccomp"), std::string::npos) << m;
}

TEST_F(ConfigCheck, RefusesHostNamespacesAndPrivilegedSettings) {
  std::string m = refusal([](json& c) {
    for (auto& ns : c["linux"]["namespaces"])
      if (ns["type"] == "pid") ns["path"] = "/proc/1/ns/pid";
  });
  EXPECT_NE(m.find("linux.namespaces[pid].path"), std::string::npos) << m;
  m = refusal([](json& c) {
    json kept = json::array();
    for (auto& ns : c["linux"]["namespaces"])
      if (ns["type"] != "mount") kept.push_back(ns);
    c["linux"]["namespaces"] = kept;
  });
  EXPECT_NE(m.find("linux.namespaces: no mount namespace"), std::string::npos) << m;
  m = refusal([](json& c) { c["process"]["noNewPrivileges"] = false; });
  EXPECT_NE(m.find("process.noNewPrivileges"), std::string::npos) << m;
  m = refusal([](json& c) { c["root"]["readonly"] = false; });
  EXPECT_NE(m.find("root.readonly"), std::string::npos) << m;
  m = refusal([](json& c) { c["root"]["path"] = "/"; });
  EXPECT_NE(m.find("root.path"), std::string::npos) << m;
  m = refusal([](json& c) { c["hooks"] = {{"prestart", {{{"path", "/bin/sh"}}}}}; });
  EXPECT_NE(m.find("hooks: commands the runtime would run on the host"), std::string::npos) << m;
  m = refusal([](json& c) { c["linux"]["devices"] = json::array(); });
  EXPECT_NE(m.find("linux.devices: not a setting decant writes"), std::string::npos) << m;
  m = refusal([](json& c) { c["process"]["apparmorProfile"] = "unconfined"; });
  EXPECT_NE(m.find("process.apparmorProfile"), std::string::npos) << m;
  m = refusal([](json& c) { c["linux"]["maskedPaths"] = json::array(); });
  EXPECT_NE(m.find("linux.maskedPaths: lacks /proc/acpi"), std::string::npos) << m;
  m = refusal([](json& c) { c["process"]["capabilities"] = "all"; });
  EXPECT_NE(m.find("process.capabilities: not an object"), std::string::npos) << m;
}

TEST_F(ConfigCheck, RefusesArtifactsWithoutDecantsProfileOrRootfs) {
  ASSERT_EQ(::unlink((base + "/rootfs/.decant/profile.json").c_str()), 0);
  std::string m = refusal([](json&) {});
  EXPECT_NE(m.find("profile.json: missing"), std::string::npos) << m;
  // A rootfs that is a symlink would run some other tree (the host's /).
  remove_tree(base + "/rootfs");
  ASSERT_EQ(::symlink("/", (base + "/rootfs").c_str()), 0);
  m = refusal([](json&) {});
  EXPECT_NE(m.find("root.path"), std::string::npos) << m;
}

// File capabilities of the binary count, but only within a container
// runtime's default set: NET_RAW yes, SYS_ADMIN no.
TEST_F(ConfigCheck, HonoursFileCapabilitiesOnlyWithinTheDefaultSet) {
  if (::geteuid() != 0) GTEST_SKIP() << "setting security.capability needs root";
  ASSERT_TRUE(make_directories(base + "/rootfs/usr/sbin").ok());
  std::string bin = base + "/rootfs/usr/sbin/srv";
  ASSERT_TRUE(write_file_atomic(bin, "", Overwrite::Replace).ok());
  uint32_t cap[5] = {0x02000000u, (1u << 13) | (1u << 21), 0, 0, 0};  // v2: permitted NET_RAW, SYS_ADMIN
  if (::setxattr(bin.c_str(), "security.capability", cap, sizeof cap, 0) != 0)
    GTEST_SKIP() << "this filesystem takes no security.capability";
  EXPECT_EQ(refusal([](json& c) { c["process"]["capabilities"]["bounding"].push_back("CAP_NET_RAW"); }), "");
  std::string m = refusal([](json& c) { c["process"]["capabilities"]["bounding"].push_back("CAP_SYS_ADMIN"); });
  EXPECT_NE(m.find("CAP_SYS_ADMIN is beyond"), std::string::npos) << m;
  EXPECT_NE(m.find("CAP_NET_RAW"), std::string::npos) << m;  // listed as granted
}

TEST_F(ConfigCheck, RefusesDeviceNodes) {
  if (::geteuid() != 0) GTEST_SKIP() << "mknod needs root";
  ASSERT_EQ(::mknod((base + "/rootfs/disk").c_str(), S_IFBLK | 0600, makedev(8, 0)), 0);
  std::string m = refusal([](json&) {});
  EXPECT_NE(m.find("rootfs: rootfs/disk is a device node"), std::string::npos) << m;
  ASSERT_EQ(::unlink((base + "/rootfs/disk").c_str()), 0);
  ASSERT_EQ(::mknod((base + "/volumes/data/log/mem").c_str(), S_IFCHR | 0600, makedev(1, 1)), 0);
  m = refusal([](json&) {});
  EXPECT_NE(m.find("volumes: volumes/data/log/mem is a device node"), std::string::npos) << m;
}

// A crafted layout whose manifest "blob" is a symlink to a host file with
// the right digest: the host file must not be read as the manifest.
TEST(Artifact, RefusesBlobsThatAreNotFilesOfTheLayout) {
  char tmpl[] = "/tmp/decant-artifact.XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  std::string dir = tmpl;
  std::string host = dir + "/host.json", manifest = R"({"layers":[]})";
  ASSERT_TRUE(write_file_atomic(host, manifest, Overwrite::Replace).ok());
  std::string hex = sha256_hex(manifest.data(), manifest.size());
  ASSERT_TRUE(make_directories(dir + "/layout/blobs/sha256").ok());
  ASSERT_TRUE(write_file_atomic(dir + "/layout/oci-layout", R"({"imageLayoutVersion":"1.0.0"})", Overwrite::Replace).ok());
  ASSERT_TRUE(write_file_atomic(dir + "/layout/index.json",
                                R"({"manifests":[{"digest":"sha256:)" + hex + R"("}]})", Overwrite::Replace)
                  .ok());
  ASSERT_EQ(::symlink(host.c_str(), (dir + "/layout/blobs/sha256/" + hex).c_str()), 0);
  auto a = open_artifact(dir + "/layout", "layout", dir + "/cache");
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.error().message.find("not a regular file of the layout"), std::string::npos) << a.error().message;
  // A digest that is not hex never becomes a path.
  ASSERT_TRUE(write_file_atomic(dir + "/layout/index.json",
                                R"({"manifests":[{"digest":"sha256:../../../../../../../../../../../../../../../../../../../../../../../../../../../../../x"}]})",
                                Overwrite::Replace)
                  .ok());
  a = open_artifact(dir + "/layout", "layout", dir + "/cache");
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.error().message.find("unsupported digest"), std::string::npos) << a.error().message;
  remove_tree(dir);
}

TEST(PathInside, StaysInsideOrFails) {
  auto p = path_inside("/b", "volumes/./data//log");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p, "/b/volumes/data/log");
  for (const char* bad : {"/etc", "", "../x", "volumes/../../x", "volumes/a/.."}) {
    auto r = path_inside("/b", bad);
    EXPECT_FALSE(r.ok()) << bad;
  }
}

}  // namespace
}  // namespace decant
