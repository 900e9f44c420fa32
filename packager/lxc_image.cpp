// Writes an LXC/Incus system-container image in the split form both tools
// import: meta.tar.xz (Incus metadata.yaml, LXC `config`, `templates`) and
// rootfs.tar.xz (the same layer as the OCI formats). `lxc-create -t local --
// --metadata meta.tar.xz --fstree rootfs.tar.xz` and `incus image import
// meta.tar.xz rootfs.tar.xz` both take it. The seccomp policy travels inside
// the rootfs, in LXC's own v2 text format, and config points at it.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>
#include <sys/stat.h>

#include <fmt/format.h>

#include "common/file_util.h"
#include "policy/seccomp.h"
#include "packager/writers.h"

namespace decant {

namespace {

std::string lxc_arch_section(const std::string& arch) {
  if (arch == "aarch64") return "arm64";
  if (arch == "i386") return "i386";
  return arch.empty() ? "all" : arch;
}

// A YAML double-quoted scalar; control characters become escapes, so a
// value cannot end the line it is on.
std::string yaml_quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') out += '\\';
    if (u < 0x20 || u == 0x7f) out += fmt::format("\\x{:02x}", u);
    else out += c;
  }
  return out + "\"";
}

// LXC's config and seccomp policy are line-based with no quoting: a line
// break (or any control character) in a value would start a new key, e.g.
// `lxc.mount.entry = / host-root none rbind,rw` from an env value. Such a
// value is refused, naming its field but not echoing it (it would break the
// one-line error too).
bool is_control(char c) {
  unsigned char u = static_cast<unsigned char>(c);
  return (u < 0x20 && c != '\t') || u == 0x7f;
}

Status check_line_value(const std::string& field, const std::string& value) {
  for (char c : value) {
    unsigned char u = static_cast<unsigned char>(c);
    if (is_control(c)) {
      std::string shown = field;  // a field name taken from the profile (an env key) may hold one too
      std::replace_if(shown.begin(), shown.end(), is_control, '?');
      return bad_input(fmt::format("{} contains a control character ({}), which LXC's line-based config cannot "
                                   "hold: refusing to write an LXC image",
                                   shown,
                                   c == '\n' ? "a newline" : c == '\r' ? "a carriage return" : fmt::format("0x{:02x}", u)));
    }
  }
  return Status::success();
}

// lxc.mount.entry is an fstab line (read with getmntent): blanks and
// backslashes in a path take its octal escapes, or they would split fields.
std::string fstab_escape(const std::string& path) {
  std::string out;
  for (char c : path) {
    if (c == ' ') out += "\\040";
    else if (c == '\t') out += "\\011";
    else if (c == '\\') out += "\\134";
    else out += c;
  }
  return out;
}

// LXC splits lxc.init.cmd on spaces; arguments with spaces cannot be said.
std::string init_cmd(const ImageSpec& s, std::vector<std::string>& warnings) {
  std::string cmd;
  std::vector<std::string> argv = s.entrypoint;
  argv.insert(argv.end(), s.cmd.begin(), s.cmd.end());
  for (const auto& a : argv) {
    if (a.find_first_of(" \t") != std::string::npos)
      warnings.push_back(fmt::format("lxc.init.cmd cannot quote the argument \"{}\"", a));
    cmd += (cmd.empty() ? "" : " ") + a;
  }
  return cmd;
}

}  // namespace

Result<std::string> lxc_seccomp_policy(const Profile& p, const std::vector<std::string>& allow_in, bool shim) {
  if (allow_in.empty()) return std::string();
  Status st = check_line_value("syscalls.arch", p.syscalls.arch);
  for (size_t i = 0; st && i < allow_in.size(); ++i)
    st = check_line_value(fmt::format("syscalls.allow[{}]", i), allow_in[i]);
  if (!st) return st.error();
  // lxc-start loads the filter before its last setup steps (chdir, ids,
  // capabilities, exec), so those calls must pass too. LXC's text format has
  // no equivalent of the OCI rule tied to the shim's tag, so with the shim
  // its few own calls are allowed outright.
  std::set<std::string> allow(allow_in.begin(), allow_in.end());
  for (const char* n : {"capget", "capset", "chdir", "close", "close_range", "dup2", "dup3", "execve", "exit_group",
                        "fcntl", "fstat", "getpid", "newfstatat", "openat", "prctl", "read", "rt_sigaction",
                        "rt_sigprocmask", "recvfrom", "recvmsg", "sendmsg", "sendto", "setgid", "setgroups", "setresgid", "setresuid", "setuid", "write"})
    allow.insert(n);
  if (shim) allow.insert(shim_own_syscalls().begin(), shim_own_syscalls().end());
  const auto& sc = p.enforcement.seccomp;
  std::string action = sc.mode == "log" ? "log" : sc.default_action == "kill" ? "kill" : "errno 1";
  if (action == "errno 1" && sc.errno_name != "EPERM") {
    static const std::map<std::string, int> numbers = {{"EACCES", 13}, {"ENOSYS", 38}, {"EINVAL", 22}, {"ENOENT", 2}};
    auto it = numbers.find(sc.errno_name);
    if (it != numbers.end()) action = fmt::format("errno {}", it->second);
  }
  std::string out = "2\nallowlist " + action + "\n[" + lxc_arch_section(p.syscalls.arch) + "]\n";
  for (const auto& name : allow) out += name + "\n";
  return out;
}

Result<std::string> lxc_config(const ImageSpec& s, const Profile& p, std::vector<std::string>& warnings) {
  std::vector<std::pair<std::string, const std::string*>> values = {
      {"binary.path", &p.binary.path}, {"binary.arch", &p.binary.arch}, {"workdir", &s.workdir}};
  for (size_t i = 0; i < s.entrypoint.size() + s.cmd.size(); ++i)
    values.emplace_back(fmt::format("entrypoint[{}]", i),
                        i < s.entrypoint.size() ? &s.entrypoint[i] : &s.cmd[i - s.entrypoint.size()]);
  for (const auto& e : s.env) values.emplace_back("env." + e.substr(0, e.find('=')), &e);
  for (const auto& w : s.writable)  // the reason names the path itself, so only its kind is shown
    values.emplace_back(w.reason.rfind("redirect", 0) == 0 ? "writable directory (a redirects.paths target)"
                                                           : "writable directory (a written files path)",
                        &w.path);
  for (const auto& [field, value] : values) {
    Status st = check_line_value(field, *value);
    if (!st) return st.error();
  }

  std::string cfg = "# decant: " + p.binary.path + " as an application container\n";
  cfg += "lxc.arch = " + (p.binary.arch.empty() ? std::string("x86_64") : p.binary.arch) + "\n";
  cfg += "lxc.init.cmd = " + init_cmd(s, warnings) + "\n";
  cfg += fmt::format("lxc.init.uid = {}\nlxc.init.gid = {}\nlxc.init.cwd = {}\n", s.uid, s.gid, s.workdir);
  for (const auto& e : s.env) cfg += "lxc.environment = " + e + "\n";
  cfg += "lxc.mount.auto = proc:mixed sys:ro cgroup:mixed\n";
  cfg += "lxc.autodev = 1\n";
  std::string caps;
  for (const auto& c : s.capabilities) {
    std::string n = c.substr(4);
    for (auto& ch : n) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    caps += (caps.empty() ? "" : " ") + n;
  }
  cfg += "lxc.cap.keep = " + (caps.empty() ? std::string("none") : caps) + "\n";
  cfg += "lxc.no_new_privs = 1\n";
  for (const auto& w : s.writable) {
    // lxc-create unpacks the rootfs into a writable directory of its own:
    // system mode's state directories are already writable there, with
    // their content, and a tmpfs would hide it.
    if (w.reason.rfind("system mode", 0) == 0) continue;
    cfg += fmt::format("lxc.mount.entry = tmpfs {} tmpfs rw,nosuid,nodev,mode=0755,uid={},gid={},create=dir 0 0\n",
                       fstab_escape(w.path.substr(1)), s.uid, s.gid);
  }
  if (!s.seccomp_allow.empty()) cfg += "lxc.seccomp.profile = LXC_ROOTFS/.decant/lxc-seccomp.policy\n";
  return cfg;
}

Result<WriterResult> write_lxc(const LayerInput& in, const std::string& out) {
  const ImageSpec& s = *in.spec;
  const Profile& p = *in.profile;
  std::vector<std::string> warnings;
  // 1. The LXC config the local template appends to the container's; first,
  //    since it refuses values it cannot hold.
  auto cfg = lxc_config(s, p, warnings);
  if (!cfg) return cfg.error();
  bool shim = std::any_of(s.env.begin(), s.env.end(), [](const std::string& e) { return e.rfind("LD_PRELOAD=", 0) == 0; });
  auto policy = lxc_seccomp_policy(p, s.seccomp_allow, shim);
  if (!policy) return policy.error();
  if (::mkdir(out.c_str(), 0755) != 0) return env_error(fmt::format("{}: cannot create: {}", out, std::strerror(errno)));

  // 2. rootfs.tar.xz: the layer itself.
  auto rootfs = compress_file(in.tar_path, out + "/rootfs.tar.xz", Compression::Xz);
  if (!rootfs) return rootfs.error();

  // 3. Incus metadata.
  std::string meta = fmt::format(
      "architecture: {}\ncreation_date: {}\nexpiry_date: 0\nproperties:\n  description: {}\n  os: {}\n  release: {}\n"
      "  name: {}\n  variant: decant-{}\ntemplates: {{}}\n",
      p.binary.arch.empty() ? "x86_64" : p.binary.arch, in.mtime,
      yaml_quote(s.labels.count("org.opencontainers.image.description") ? s.labels.at("org.opencontainers.image.description")
                                                                         : s.name),
      yaml_quote(p.source.os.id.empty() ? "linux" : p.source.os.id), yaml_quote(p.source.os.version),
      yaml_quote(s.name), s.labels.count("io.decant.mode") ? s.labels.at("io.decant.mode") : "minimal");

  std::vector<TarMember> members = {{"config", *cfg, "", 0644},
                                    {"metadata.yaml", meta, "", 0644},
                                    {"templates/", "", "", 0755}};
  auto m = write_simple_tar(members, out + "/meta.tar.xz", in.mtime, Compression::Xz);
  if (!m) return m.error();
  // Plain copies, for people and for `lxc.seccomp.profile` outside lxc-local.
  for (const auto& [name, text] : {std::make_pair("config", *cfg), std::make_pair("metadata.yaml", meta),
                                   std::make_pair("seccomp.policy", *policy)}) {
    if (text.empty()) continue;
    Status st = write_file_atomic(out + "/" + name, text, Overwrite::Refuse, 0644);
    if (!st) return st.error();
  }
  return WriterResult{*rootfs, rootfs->size};
}

}  // namespace decant
