// Checks an artifact's runtime config against decant's policy (see
// config_check.h). Allow-lists, not deny-lists: a key decant never writes
// (hooks, devices, sysctl, cgroupsPath, ...) is refused by name, so a setting
// a future runtime learns cannot slip through. The expected capabilities and
// seccomp filter come from the packager's own functions, fed the profile
// the artifact carries, so a checked config is one `decant package` could
// have written for that profile.
#include "run/config_check.h"

#include <algorithm>
#include <ftw.h>
#include <set>
#include <sys/stat.h>
#include <vector>

#include <fmt/format.h>

#include "common/file_util.h"
#include "guest/guest_root.h"
#include "packager/file_set.h"
#include "packager/oci_config.h"
#include "profiles/profile.h"

namespace decant {

namespace {

using nlohmann::json;

// File capabilities of the binary are honoured only within the set a
// container runtime grants by default (Docker's, without MKNOD, SETFCAP and
// SETPCAP): a crafted binary with a CAP_SYS_ADMIN file capability must not
// get it that way.
const std::set<std::string> kRunnableCaps = {"CAP_AUDIT_WRITE", "CAP_CHOWN",    "CAP_DAC_OVERRIDE", "CAP_FOWNER",
                                             "CAP_FSETID",      "CAP_KILL",     "CAP_NET_BIND_SERVICE",
                                             "CAP_NET_RAW",     "CAP_SETGID",   "CAP_SETUID",       "CAP_SYS_CHROOT"};

// What decant's policy grants the service the artifact's profile describes.
struct Policy {
  std::set<std::string> caps;
  std::vector<json> seccomp;  // filters decant would write (with and without the shim); null when none
  json reference;             // runtime_config of an empty spec: namespaces, masked and read-only paths
};

struct Refusal {
  std::string label;
  Error operator()(const std::string& setting, const std::string& why) const {
    return bad_input(fmt::format("{}: {}: {}; decant run refuses what its own policy would not grant (pass "
                                 "--trust-bundle to run it as given)",
                                 label, setting, why));
  }
};

Status allowed_keys(const json& obj, std::initializer_list<const char*> allowed, const std::string& where,
                    const Refusal& refuse) {
  if (!obj.is_object()) return refuse(where, "not an object");
  for (const auto& [key, value] : obj.items()) {
    bool known = std::any_of(allowed.begin(), allowed.end(), [&](const char* k) { return key == k; });
    if (!known) return refuse(where.empty() ? key : where + "." + key, "not a setting decant writes");
  }
  return Status::success();
}

Result<Policy> decant_policy(const std::string& base, const Refusal& refuse) {
  auto root = GuestRoot::open(base + "/rootfs");
  if (!root) return refuse("root.path", root.error().message);
  auto text = root->read_file("/.decant/profile.json");
  if (!text) return refuse("rootfs/.decant/profile.json", "missing, so not an artifact `decant package` made");
  auto profile = parse_profile(*text, refuse.label + ": /.decant/profile.json");
  if (!profile) return profile.error();
  Policy out;
  // Only the binary's entry matters for what is checked here: its file
  // capabilities (read inside the rootfs, links resolved there).
  FileSet files;
  FileEntry bin;
  std::string fcaps = root->get_xattr(profile->binary.path, "security.capability");
  if (!fcaps.empty()) bin.xattrs.push_back({"security.capability", fcaps});
  files.entries[profile->binary.path] = bin;
  // And the paths it writes with their directories, as the rootfs holds
  // them: root that writes another account's directory is granted
  // CAP_DAC_OVERRIDE by the packager (root_needs_dac_override, file_set.h).
  if (auto user = lookup_guest_user(*root, profile->user)) {
    files.uid = user->uid;
    files.gid = user->gid;
  }
  for (const auto& f : profile->files) {
    if (f.access != "write") continue;
    std::string path = normalize_absolute(f.path);
    for (const std::string& q : {path, path_dirname(path)}) {
      struct stat st;
      if (files.entries.count(q) || root->fs().lstat(q, &st) != 0) continue;
      FileEntry e;
      e.type = S_ISDIR(st.st_mode) ? EntryType::Directory : S_ISLNK(st.st_mode) ? EntryType::Symlink : EntryType::File;
      e.uid = st.st_uid;
      e.gid = st.st_gid;
      e.mode = st.st_mode & 07777;
      files.entries[q] = e;
    }
  }
  for (bool shim : {false, true}) {
    SpecOptions so;
    so.preload_shim = shim;
    std::vector<std::string> warnings;
    auto spec = make_image_spec(*profile, files, so, warnings);
    if (!spec) return spec.error();
    for (const auto& c : spec->capabilities)
      if (kRunnableCaps.count(c)) out.caps.insert(c);
    out.seccomp.push_back(spec->seccomp);
  }
  // decant-init's own (CAP_SYS_PTRACE for the proxy's reads of a service of
  // another uid, docs/init.md): derived from the profile by decant, never
  // from a file capability, and handed to the service only as its own set.
  if (init_supports(*profile) && root->is_regular_file("/.decant/init"))
    for (const auto& c : init_capabilities(*profile)) out.caps.insert(c);
  out.reference = runtime_config(ImageSpec{}, RuntimeConfigOptions{});
  return out;
}

Status check_process(const json& proc, const Policy& policy, const Refusal& refuse) {
  Status s = allowed_keys(proc, {"terminal", "user", "args", "env", "cwd", "capabilities", "rlimits", "noNewPrivileges"},
                          "process", refuse);
  if (!s) return s;
  if (proc.value("noNewPrivileges", false) != true)
    return refuse("process.noNewPrivileges", "not true (setuid binaries could gain privileges)");
  if (proc.contains("user")) {
    s = allowed_keys(proc["user"], {"uid", "gid", "umask", "additionalGids", "username"}, "process.user", refuse);
    if (!s) return s;
  }
  // A missing set means "leave the runtime's default", which is all of them.
  if (!proc.contains("capabilities")) return refuse("process.capabilities", "missing (the runtime would keep all)");
  const json& caps = proc["capabilities"];
  s = allowed_keys(caps, {"bounding", "effective", "inheritable", "permitted", "ambient"}, "process.capabilities",
                   refuse);
  if (!s) return s;
  std::string granted;
  for (const auto& c : policy.caps) granted += (granted.empty() ? "" : ", ") + c;
  for (const char* set : {"bounding", "effective", "inheritable", "permitted", "ambient"}) {
    std::string where = std::string("process.capabilities.") + set;
    if (!caps.contains(set)) return refuse(where, "missing (the runtime would keep its default)");
    if (!caps[set].is_array()) return refuse(where, "not a list");
    for (const auto& c : caps[set]) {
      std::string name = c.is_string() ? c.get<std::string>() : c.dump();
      if (!policy.caps.count(name))
        return refuse(where, fmt::format("{} is beyond what decant's policy grants this service ({})", name,
                                         granted.empty() ? "none" : granted));
    }
  }
  if (proc.contains("rlimits")) {
    if (!proc["rlimits"].is_array()) return refuse("process.rlimits", "not a list");
    for (const auto& r : proc["rlimits"]) {
      bool nofile = r.is_object() && r.value("type", "") == "RLIMIT_NOFILE" && r.contains("hard") &&
                    r["hard"].is_number_integer() && r["hard"].get<int64_t>() >= 0 &&
                    r["hard"].get<int64_t>() <= (1 << 20);
      if (!nofile)
        return refuse("process.rlimits", fmt::format("{} is not a limit decant sets", r.dump()));
    }
  }
  return Status::success();
}

Status check_root(const json& root, const std::string& base, const Refusal& refuse) {
  Status s = allowed_keys(root, {"path", "readonly"}, "root", refuse);
  if (!s) return s;
  if (!root.contains("path") || !root["path"].is_string() || root["path"].get<std::string>() != "rootfs")
    return refuse("root.path", fmt::format("{} is not the artifact's rootfs", root.value("path", json()).dump()));
  if (root.value("readonly", false) != true) return refuse("root.readonly", "the rootfs is not read-only");
  struct stat st;
  if (::lstat((base + "/rootfs").c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return refuse("root.path", "rootfs is not a directory of the artifact (a symlink?)");
  return Status::success();
}

bool has_option(const json& m, const char* opt) {
  if (!m.contains("options") || !m["options"].is_array()) return false;
  return std::any_of(m["options"].begin(), m["options"].end(), [&](const json& o) { return o == opt; });
}

Status check_mount(const json& m, const std::string& base, const Refusal& refuse) {
  std::string dest = m.value("destination", "");
  std::string where = fmt::format("mounts[{}]", dest);
  Status s = allowed_keys(m, {"destination", "type", "source", "options"}, where, refuse);
  if (!s) return s;
  if (dest.empty() || dest[0] != '/' || normalize_absolute(dest) != dest)
    return refuse(where + ".destination", "not a normalized absolute path");
  std::string type = m.value("type", "");
  if (type == "bind" || has_option(m, "bind") || has_option(m, "rbind")) {
    std::string src = m.value("source", "");
    if (src.empty() || src[0] == '/')
      return refuse(where + ".source", fmt::format("{} is a host path, not one of the artifact's volumes", src));
    auto host = path_inside(base, src);
    if (!host) return refuse(where + ".source", host.error().message);
    if (host->compare(0, base.size() + 9, base + "/volumes/") != 0)
      return refuse(where + ".source", fmt::format("{} is not under the artifact's volumes/", src));
    // decant's volume for a directory D is volumes/D (volume_source).
    if (*host != base + "/" + volume_source(dest))
      return refuse(where + ".source", fmt::format("{} is not the volume of {} ({})", src, dest, volume_source(dest)));
    if (!has_option(m, "nosuid") || !has_option(m, "nodev"))
      return refuse(where + ".options", "a volume without nosuid and nodev");
    return Status::success();
  }
  // The pseudo filesystems decant mounts, where it mounts them.
  static const std::vector<std::pair<std::string, std::string>> kFixed = {
      {"proc", "/proc"}, {"devpts", "/dev/pts"}, {"mqueue", "/dev/mqueue"}, {"sysfs", "/sys"}};
  if (type == "tmpfs") return Status::success();
  for (const auto& [t, d] : kFixed) {
    if (t != type) continue;
    if (d != dest) return refuse(where, fmt::format("{} belongs at {}", type, d));
    if (type == "sysfs" && !has_option(m, "ro")) return refuse(where + ".options", "sysfs without ro");
    return Status::success();
  }
  return refuse(where + ".type", fmt::format("\"{}\" is not a mount decant makes", type));
}

Status check_namespaces(const json& list, const Policy& policy, const Refusal& refuse) {
  if (!list.is_array()) return refuse("linux.namespaces", "not a list");
  std::set<std::string> present;
  for (const auto& ns : list) {
    std::string type = ns.is_object() ? ns.value("type", "") : "";
    Status s = allowed_keys(ns, {"type", "path"}, "linux.namespaces[" + type + "]", refuse);
    if (!s) return s;
    if (ns.contains("path"))
      return refuse("linux.namespaces[" + type + "].path",
                    fmt::format("joins {} (a namespace decant did not create)", ns["path"].dump()));
    static const std::set<std::string> kKnown = {"pid", "ipc", "uts", "mount", "network", "user", "cgroup"};
    if (!kKnown.count(type)) return refuse("linux.namespaces", fmt::format("unknown type \"{}\"", type));
    present.insert(type);
  }
  for (const auto& ns : policy.reference["linux"]["namespaces"]) {
    std::string type = ns["type"];
    if (!present.count(type))
      return refuse("linux.namespaces", fmt::format("no {} namespace: the service would share the host's", type));
  }
  return Status::success();
}

Status check_linux(const json& lx, const Policy& policy, const Refusal& refuse) {
  Status s = allowed_keys(lx, {"namespaces", "maskedPaths", "readonlyPaths", "seccomp"}, "linux", refuse);
  if (!s) return s;
  s = check_namespaces(lx.value("namespaces", json::array()), policy, refuse);
  if (!s) return s;
  for (const char* key : {"maskedPaths", "readonlyPaths"}) {
    json have = lx.value(key, json::array());
    for (const auto& p : policy.reference["linux"][key])
      if (!have.is_array() || std::find(have.begin(), have.end(), p) == have.end())
        return refuse(std::string("linux.") + key, fmt::format("lacks {}", p.get<std::string>()));
  }
  json sc = lx.value("seccomp", json());
  if (std::find(policy.seccomp.begin(), policy.seccomp.end(), sc) != policy.seccomp.end()) return Status::success();
  if (sc.is_null()) return refuse("linux.seccomp", "missing, but the profile's policy has a filter");
  if (policy.seccomp[0].is_null()) return refuse("linux.seccomp", "present, but the profile's policy has none");
  return refuse("linux.seccomp", fmt::format("not the filter decant derives from the profile (defaultAction {}, "
                                             "expected {})",
                                             sc.is_object() ? sc.value("defaultAction", json()).dump() : sc.dump(),
                                             policy.seccomp[0]["defaultAction"].dump()));
}

// decant packages no device nodes (file_set.h has no such entry type): one
// in the rootfs or a volume would let the service open a host device the
// runtime's device rules do not cover, so its presence names the artifact as
// hand-made.
std::string g_device;  // set by the nftw callback, which takes no context
int find_device(const char* path, const struct stat* st, int, struct FTW*) {
  if (S_ISBLK(st->st_mode) || S_ISCHR(st->st_mode)) {
    g_device = path;
    return 1;
  }
  return 0;
}

Status check_no_devices(const std::string& base, const Refusal& refuse) {
  for (const char* dir : {"rootfs", "volumes"}) {
    g_device.clear();
    std::string top = base + "/" + dir;
    struct stat st;
    if (::lstat(top.c_str(), &st) != 0) continue;
    if (::nftw(top.c_str(), find_device, 64, FTW_PHYS | FTW_MOUNT) == 1)
      return refuse(dir, fmt::format("{} is a device node (decant packages none)", g_device.substr(base.size() + 1)));
  }
  return Status::success();
}

Status check_config(const json& config, const std::string& base, const Refusal& refuse) {
  if (config.is_object() && config.contains("hooks"))
    return refuse("hooks", "commands the runtime would run on the host");
  Status s = allowed_keys(config, {"ociVersion", "process", "root", "hostname", "mounts", "linux", "annotations"}, "",
                          refuse);
  if (!s) return s;
  for (const char* key : {"process", "root", "mounts", "linux"})
    if (!config.contains(key)) return refuse(key, "missing");
  if (config.contains("hostname") && !config["hostname"].is_string()) return refuse("hostname", "not a string");
  s = check_root(config["root"], base, refuse);
  if (!s) return s;
  auto policy = decant_policy(base, refuse);
  if (!policy) return policy.error();
  s = check_process(config["process"], *policy, refuse);
  if (!s) return s;
  if (!config["mounts"].is_array()) return refuse("mounts", "not a list");
  for (const auto& m : config["mounts"]) {
    s = check_mount(m, base, refuse);
    if (!s) return s;
  }
  s = check_linux(config["linux"], *policy, refuse);
  if (!s) return s;
  s = check_no_devices(base, refuse);
  if (!s) return s;
  if (config.contains("annotations")) {
    if (!config["annotations"].is_object()) return refuse("annotations", "not an object");
    // Runtimes act on some annotations (crun's run.oci.* can name a host
    // socket or log file, a different handler; runc's org.systemd.property.*
    // set cgroup properties): only the image labels decant writes pass.
    for (const auto& [k, v] : config["annotations"].items()) {
      if (!v.is_string()) return refuse("annotations." + k, "not a string");
      if (k.rfind("org.opencontainers.image.", 0) != 0 && k.rfind("io.decant.", 0) != 0)
        return refuse("annotations." + k, "not an annotation decant writes (runtimes act on some)");
    }
  }
  return Status::success();
}

}  // namespace

Result<std::string> path_inside(const std::string& base, const std::string& rel) {
  if (rel.empty() || rel[0] == '/') return bad_input(fmt::format("{} is not a relative path", rel));
  std::string host = base;
  for (const auto& c : split_path(rel)) {
    if (c == ".") continue;
    if (c == "..") return bad_input(fmt::format("{} climbs out of the artifact with ..", rel));
    host += "/" + c;
    struct stat st;
    if (::lstat(host.c_str(), &st) != 0) continue;
    if (S_ISLNK(st.st_mode)) return bad_input(fmt::format("{} goes through a symlink ({})", rel, host));
  }
  return host;
}

Status check_runtime_config(const json& config, const std::string& base, const std::string& label) {
  // The checks read values of the types decant writes; any other type ends
  // here as one refusal.
  try {
    return check_config(config, base, Refusal{label});
  } catch (const json::exception& e) {
    return bad_input(fmt::format("{}: malformed runtime config: {}", label, e.what()));
  }
}

}  // namespace decant
