// Derives the runtime view of a service from its profile and renders it as
// OCI image and runtime configs (see oci_config.h).
#include "packager/oci_config.h"

#include <algorithm>
#include <cstring>
#include <ctime>
#include <set>

#include <fmt/format.h>

#include "common/file_util.h"
#include "guest/guest_root.h"
#include "policy/seccomp.h"

namespace decant {

namespace {

using nlohmann::json;

// Linux capability numbers, for reading security.capability.
const char* const kCapNames[] = {
    "CAP_CHOWN",          "CAP_DAC_OVERRIDE",   "CAP_DAC_READ_SEARCH", "CAP_FOWNER",         "CAP_FSETID",
    "CAP_KILL",           "CAP_SETGID",         "CAP_SETUID",          "CAP_SETPCAP",        "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN",      "CAP_NET_RAW",        "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",      "CAP_SYS_MODULE",     "CAP_SYS_RAWIO",       "CAP_SYS_CHROOT",     "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",      "CAP_SYS_ADMIN",      "CAP_SYS_BOOT",        "CAP_SYS_NICE",       "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",       "CAP_SYS_TTY_CONFIG", "CAP_MKNOD",           "CAP_LEASE",          "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",  "CAP_SETFCAP",        "CAP_MAC_OVERRIDE",    "CAP_MAC_ADMIN",      "CAP_SYSLOG",
    "CAP_WAKE_ALARM",     "CAP_BLOCK_SUSPEND",  "CAP_AUDIT_READ",      "CAP_PERFMON",        "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE"};

std::vector<std::string> seccomp_arches(const std::string& arch) {
  // Only the profile's own architecture: a 32-bit call from a 64-bit process
  // is not in the analysis and takes the default action.
  if (arch == "x86_64") return {"SCMP_ARCH_X86_64"};
  if (arch == "i386") return {"SCMP_ARCH_X86"};
  if (arch == "aarch64") return {"SCMP_ARCH_AARCH64"};
  if (arch == "arm") return {"SCMP_ARCH_ARM"};
  if (arch == "ppc64le") return {"SCMP_ARCH_PPC64LE"};
  if (arch == "s390x") return {"SCMP_ARCH_S390X"};
  if (arch == "riscv64") return {"SCMP_ARCH_RISCV64"};
  return {};
}

bool has_any(const std::set<std::string>& allow, std::initializer_list<const char*> names) {
  for (const char* n : names)
    if (allow.count(n)) return true;
  return false;
}

// True when path is one of dirs or lies below one: path itself, every prefix
// of it that ends before a '/', and "/" are the only directories that can
// cover it, so a lookup costs its depth times log n and thousands of rules
// stay n log n (comparing every pair was quadratic: 100k redirects, 29 s).
bool covered_by_any(const std::string& path, const std::set<std::string>& dirs) {
  if (dirs.empty()) return false;
  if (dirs.count(path)) return true;
  if (path.size() > 1 && path[0] == '/' && dirs.count("/")) return true;
  for (size_t i = path.find('/'); i != std::string::npos; i = path.find('/', i + 1))
    if (dirs.count(path.substr(0, i))) return true;
  return false;
}

// What the OCI runtime itself calls in the container's init between loading
// the filter and exec'ing the entrypoint. Without noNewPrivileges (podman's
// and Kubernetes' default) both load it before switching user and
// capabilities. crun 1.8 (src/libcrun/container.c apply_security_settings,
// container_init_setup; linux.c set_required_caps, libcrun_safe_chdir;
// utils.c mark_or_close_fds_ge_than, find_executable): drop the bounding set,
// keep caps, setresgid/setresuid, capset, ambient caps, signal reset, sync
// socket, chdir/getcwd, close_range or /proc/self/fd, the exec path lookup,
// under `crun create` + `start` (podman) the wait on the exec fifo (select,
// which glibc makes pselect6, then read), exit_group on an error, execve. runc 1.1 (libcontainer/standard_init_linux.go Init,
// init_linux.go finalizeNamespace, setupUser, fixStdioPermissions;
// utils.CloseExecFrom, UnsafeCloseFrom; the exec fifo) is Go, so the init
// thread also makes the runtime's own calls (futex, signals for preemption,
// the poller). Checked against `strace -f` of crun 1.8.1 and runc 1.1.5
// with a logging filter (tests/e2e_podman_seccomp.sh runs the result).
const std::vector<std::string>& oci_runtime_syscalls() {
  static const std::vector<std::string> names = {
      // crun
      "capset", "chdir", "close", "close_range", "execve", "exit_group", "faccessat2", "fcntl", "fstatfs", "getcwd",
      "getdents64", "newfstatat", "openat", "prctl", "pselect6", "read", "rt_sigaction", "rt_sigprocmask", "select",
      "setgroups", "setresgid", "setresuid", "write",
      // runc, and the Go runtime on its init thread
      "capget", "epoll_ctl", "epoll_pwait", "faccessat", "fchown", "fstat", "futex", "getpid", "getppid", "gettid",
      "madvise", "mmap", "munmap", "nanosleep", "rt_sigreturn", "sched_yield", "setgid", "setuid", "sigaltstack",
      "tgkill"};
  return names;
}

}  // namespace

std::string rfc3339(int64_t t) {
  time_t tt = static_cast<time_t>(t);
  struct tm tm;
  gmtime_r(&tt, &tm);
  char buf[32];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string oci_arch(const std::string& a) {
  if (a == "x86_64") return "amd64";
  if (a == "i386") return "386";
  if (a == "aarch64") return "arm64";
  return a;
}

bool init_supports(const Profile& p) {
#if defined(__x86_64__)
  const char* own = "x86_64";
#elif defined(__aarch64__)
  const char* own = "aarch64";
#else
  const char* own = "";
#endif
  const std::string& arch = p.binary.arch.empty() ? p.syscalls.arch : p.binary.arch;
  return arch == own;
}

const std::vector<std::string>& init_own_syscalls() {
  // From init/*.c and static glibc's start-up, checked with strace -f.
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v = {
        "brk", "capget", "capset", "clock_gettime", "clock_nanosleep", "clone", "clone3", "close", "dup", "execve",
        "exit", "exit_group", "faccessat", "fchmod", "fchmodat", "fchown", "fchownat", "fcntl", "fstat", "futex",
        "getdents64", "getegid", "geteuid", "getgid", "getpid", "getppid", "getrandom", "getuid", "ioctl", "kill",
        "lseek", "mkdirat", "mknodat", "mmap", "mprotect", "munmap", "nanosleep", "newfstatat", "openat", "pipe2",
        "ppoll", "prctl", "prlimit64", "read", "readlinkat", "recvfrom", "recvmsg", "restart_syscall", "rseq",
        "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "set_robust_list", "set_tid_address", "setgroups",
        "setresgid", "setresuid", "signalfd4", "socket", "bind", "statx", "symlinkat", "unlinkat", "utimensat",
        "wait4", "waitid", "write"};
#if defined(__x86_64__)
    for (const char* n : {"access", "arch_prctl", "chmod", "chown", "fork", "lchown", "lstat", "mkdir", "open", "poll",
                          "readlink", "stat", "symlink", "unlink", "vfork"})
      v.push_back(n);
#endif
    std::sort(v.begin(), v.end());
    return v;
  }();
  return names;
}

bool init_runs_proxy(const Profile& p) {
  // The rule policy/plan.cpp writes into the plan's proxy line: auto means
  // the programs LD_PRELOAD cannot reach.
  const std::string& mode = p.enforcement.proxy;
  if (mode == "off") return false;
  if (mode == "on") return true;
  bool unreachable = p.binary.linkage == "static" || p.binary.linkage == "static-pie";
  for (const auto& h : p.hazards) unreachable |= h.id == "raw-syscall" || h.id == "static-binary-no-preload";
  return unreachable;
}

const std::vector<std::string>& init_proxy_syscalls() {
  // proxy/*.c (the filter's install in the service before exec, the
  // listener's hand-over, then the supervisor acting for the service),
  // through static glibc's wrappers.
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v = {
        "bind", "connect", "faccessat", "faccessat2", "fstat", "getgroups", "getpeername", "getsockname",
        "getsockopt", "ioctl", "linkat", "mkdirat", "newfstatat", "openat", "openat2", "pidfd_getfd", "pidfd_open",
        "ppoll", "process_vm_readv", "process_vm_writev", "pwrite64", "readlinkat", "recvmsg", "renameat2",
        "sched_yield", "seccomp", "sendmsg", "setfsgid", "setfsuid", "setgroups", "socketpair", "statx",
        "symlinkat", "umask", "uname", "unlinkat"};
#if defined(__x86_64__)
    for (const char* n : {"poll", "renameat"}) v.push_back(n);
#endif
    std::sort(v.begin(), v.end());
    return v;
  }();
  return names;
}

std::vector<std::string> init_capabilities(const Profile& p) {
  std::vector<std::string> caps = {"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER"};
  bool service_user = !(p.user.empty() || p.user == "root" || p.user == "0" || p.user.rfind("0:", 0) == 0 ||
                        p.user.rfind("root:", 0) == 0);
  if (service_user) {
    caps.push_back("CAP_SETGID");
    caps.push_back("CAP_SETUID");
  }
  // The service ends up under another uid: a service user, or a root daemon
  // whose allowlist lets it switch (named -u bind, squid's proxy user).
  bool other_uid = service_user;
  for (const auto& n : p.syscalls.allow)
    other_uid |= n == "setuid" || n == "setreuid" || n == "setresuid" || n == "setuid32" || n == "setresuid32" ||
                 n == "setreuid32";
  // Signals to it (forwarding, the stop) need CAP_KILL: without it named
  // never saw the SIGTERM and was killed after the grace.
  if (other_uid) caps.push_back("CAP_KILL");
  // The proxy reads and writes the service's memory and takes its sockets
  // (process_vm_readv/writev, /proc/PID/mem, pidfd_getfd): ptrace access
  // checks, which a process of another uid passes only with CAP_SYS_PTRACE.
  // Otherwise nothing more: same uid, and the service's capabilities are a
  // subset of the init's.
  if (init_runs_proxy(p) && other_uid) caps.push_back("CAP_SYS_PTRACE");
  std::sort(caps.begin(), caps.end());
  return caps;
}

json oci_seccomp(const Profile& p, bool shim, std::vector<std::string>& warnings, bool init) {
  const auto& sc = p.enforcement.seccomp;
  if (sc.mode == "off") return nullptr;
  if (p.syscalls.allow.empty()) {
    warnings.push_back(
        "the profile's syscalls.allow is empty: packaging without a seccomp filter (a filter with no "
        "allowlist would stop the container at its first call)");
    return nullptr;
  }
  json s;
  if (sc.mode == "log") {
    s["defaultAction"] = "SCMP_ACT_LOG";
  } else if (sc.default_action == "kill") {
    s["defaultAction"] = "SCMP_ACT_KILL_PROCESS";
  } else {
    int e = errno_from_name(sc.errno_name);
    if (e < 0) e = 1;  // validate_profile already rejected unknown names; stay safe
    s["defaultAction"] = "SCMP_ACT_ERRNO";
    s["defaultErrnoRet"] = e;
  }
  s["architectures"] = seccomp_arches(p.syscalls.arch.empty() ? p.binary.arch : p.syscalls.arch);
  std::set<std::string> names(p.syscalls.allow.begin(), p.syscalls.allow.end());
  // The runtime installs the filter and then execs the entrypoint itself.
  if (!names.count("execve")) names.insert("execve");
  if (init) names.insert(init_own_syscalls().begin(), init_own_syscalls().end());
  if (init && init_runs_proxy(p)) names.insert(init_proxy_syscalls().begin(), init_proxy_syscalls().end());
  json rule;
  rule["names"] = std::vector<std::string>(names.begin(), names.end());
  rule["action"] = "SCMP_ACT_ALLOW";
  s["syscalls"] = json::array({rule});
  // A rule of its own, after the application's and the shim's, so the
  // profile's allowlist stays readable as rule 0.
  std::set<std::string> runtime;
  for (const auto& n : oci_runtime_syscalls())
    if (!names.count(n)) runtime.insert(n);
  if (shim) {
    std::vector<std::string> own;
    for (const auto& n : shim_own_syscalls())
      if (!names.count(n) && !runtime.count(n)) own.push_back(n);
    std::sort(own.begin(), own.end());
    if (!own.empty())
      s["syscalls"].push_back({{"names", own},
                               {"action", "SCMP_ACT_ALLOW"},
                               {"args", json::array({{{"index", 5}, {"value", kShimSyscallTag}, {"op", "SCMP_CMP_EQ"}}})}});
  }
  if (!runtime.empty())
    s["syscalls"].push_back({{"names", std::vector<std::string>(runtime.begin(), runtime.end())},
                             {"action", "SCMP_ACT_ALLOW"}});
  return s;
}

std::vector<std::string> needed_capabilities(const Profile& p, const std::string& binary_caps,
                                             const std::vector<std::pair<uint16_t, std::string>>& ports,
                                             std::vector<std::string>& warnings) {
  std::set<std::string> caps;
  for (const auto& [port, proto] : ports)
    if (port < 1024) caps.insert("CAP_NET_BIND_SERVICE");
  // A low port the service may bind, even one not published (a medium
  // guess: sshd's default 22): without the capability its bind() fails
  // with EACCES, and the capability publishes nothing. A port the shim
  // redirects binds where the redirect says.
  for (const auto& l : p.network.listen) {
    uint16_t bound = l.port;
    for (const auto& r : p.redirects.ports)
      if (r.from == l.port && r.proto == l.proto) bound = r.to;
    if (bound > 0 && bound < 1024) caps.insert("CAP_NET_BIND_SERVICE");
  }
  std::set<std::string> allow(p.syscalls.allow.begin(), p.syscalls.allow.end());
  if (allow.empty()) {
    // Without an allowlist nothing says what the process does; give what a
    // classic daemon needs to start as root and drop privileges.
    for (const char* c : {"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID",
                          "CAP_SETUID", "CAP_SYS_CHROOT"})
      caps.insert(c);
    warnings.push_back("the profile's syscalls.allow is empty: granting the classic daemon capabilities "
                       "(CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, SETGID, SETUID, SYS_CHROOT)");
  } else {
    if (has_any(allow, {"setuid", "setreuid", "setresuid", "setfsuid"})) caps.insert("CAP_SETUID");
    if (has_any(allow, {"setgid", "setregid", "setresgid", "setfsgid", "setgroups"})) caps.insert("CAP_SETGID");
    if (has_any(allow, {"chown", "fchown", "lchown", "fchownat"})) caps.insert("CAP_CHOWN");
    if (has_any(allow, {"chroot"})) caps.insert("CAP_SYS_CHROOT");
    // A process that switches uid and sends signals signals its own
    // children of another uid (sshd ends its privilege-separated child;
    // without CAP_KILL: "cleanup_exit: kill(N): Operation not permitted").
    if (has_any(allow, {"setuid", "setreuid", "setresuid"}) && has_any(allow, {"kill", "tgkill", "tkill"}))
      caps.insert("CAP_KILL");
  }
  // vfs_cap_data: magic/flags, then (permitted, inheritable) pairs of 32-bit words.
  if (binary_caps.size() >= 12) {
    auto word = [&](size_t i) {
      uint32_t v;
      std::memcpy(&v, binary_caps.data() + 4 * i, 4);
      return v;
    };
    uint64_t permitted = word(1);
    if (binary_caps.size() >= 20) permitted |= static_cast<uint64_t>(word(3)) << 32;
    for (size_t bit = 0; bit < sizeof kCapNames / sizeof kCapNames[0]; ++bit)
      if (permitted & (1ull << bit)) caps.insert(kCapNames[bit]);
  }
  return std::vector<std::string>(caps.begin(), caps.end());
}

std::string volume_source(const std::string& container_dir) { return "volumes" + container_dir; }

namespace {
// path with the image's own symlinks resolved (/var/lock/x -> /run/lock/x):
// a runtime cannot mount a volume on a link.
std::string resolve_in_image(const FileSet& files, const std::string& path) {
  std::string done;  // resolved prefix
  std::vector<std::string> todo = split_path(path);
  std::reverse(todo.begin(), todo.end());
  for (int hops = 0; !todo.empty();) {
    std::string part = todo.back();
    todo.pop_back();
    std::string next = done + "/" + part;
    auto it = files.entries.find(next);
    if (it == files.entries.end() || it->second.type != EntryType::Symlink || ++hops > 16) {
      done = next;
      continue;
    }
    const std::string& t = it->second.target;
    std::vector<std::string> parts = split_path(t);
    for (auto r = parts.rbegin(); r != parts.rend(); ++r) todo.push_back(*r);
    if (!t.empty() && t[0] == '/') done.clear();
  }
  return normalize_absolute(done.empty() ? "/" : done);
}
}  // namespace

Result<ImageSpec> make_image_spec(const Profile& p, const FileSet& files, const SpecOptions& o,
                                  std::vector<std::string>& warnings) {
  ImageSpec s;
  s.name = p.metadata.name.empty() ? path_basename(p.binary.path) : p.metadata.name;
  std::vector<std::string> argv = p.entrypoint.empty() ? std::vector<std::string>{p.binary.path} : p.entrypoint;
  s.entrypoint = {argv.front()};
  s.cmd.assign(argv.begin() + 1, argv.end());
  s.uid = files.uid;
  s.gid = files.gid;
  s.workdir = p.workdir.empty() ? "/" : p.workdir;
  s.hostname = container_hostname(p);
  // A tmpfs over /tmp or /run would hide image content there (an app that
  // lives under /tmp, as a build tree may): such a directory stays as packaged.
  for (const char* dir : {"/tmp", "/run"}) {
    std::string prefix = std::string(dir) + "/";
    auto it = files.entries.lower_bound(prefix);
    if (it != files.entries.end() && it->first.compare(0, prefix.size(), prefix) == 0)
      warnings.push_back(fmt::format("{} holds packaged files, so it gets no tmpfs and stays read-only", dir));
    else
      s.scratch_dirs.push_back(dir);
  }

  std::map<std::string, std::string> env(p.env.begin(), p.env.end());
  if (!env.count("PATH")) env["PATH"] = kDefaultSearchPath;
  if (o.preload_shim) {
    std::string pre = "/.decant/libdecant-shim.so";
    env["LD_PRELOAD"] = env.count("LD_PRELOAD") ? pre + ":" + env["LD_PRELOAD"] : pre;
  }
  if (o.plan) env["DECANT_PLAN"] = "/.decant/plan";
  for (const auto& [k, v] : env) s.env.push_back(k + "=" + v);

  // Ports as the container will bind them: after the shim's port redirects.
  // Only high-confidence ports are published (ExposedPorts, Services,
  // compose ports); the others stay candidates in the profile
  // (docs/config.md), so a reply code or an optional feature's port never
  // becomes a port the image claims.
  std::map<std::pair<uint16_t, std::string>, uint16_t> redirected_port;  // the last rule for a port wins
  for (const auto& r : p.redirects.ports) redirected_port[{r.from, r.proto}] = r.to;
  std::set<std::pair<uint16_t, std::string>> ports;
  for (const auto& l : p.network.listen) {
    if (l.confidence != "high") continue;
    auto it = redirected_port.find({l.port, l.proto});
    ports.emplace(it == redirected_port.end() ? l.port : it->second, l.proto);
  }
  for (const auto& r : p.redirects.ports) ports.emplace(r.to, r.proto);
  s.ports.assign(ports.begin(), ports.end());

  // Directories that must be writable on a read-only rootfs: redirect targets
  // and files the application writes that are not redirected elsewhere.
  std::map<std::string, std::string> writable;
  for (const auto& r : p.redirects.paths) {
    auto it = files.entries.find(r.to);
    std::string dir = it != files.entries.end() && it->second.type == EntryType::File ? path_dirname(r.to) : r.to;
    writable.emplace(dir, fmt::format("redirect {} -> {}", r.from, r.to));
  }
  std::set<std::string> redirected;
  for (const auto& r : p.redirects.paths) redirected.insert(r.from);
  for (const auto& f : p.files) {
    if (f.access != "write") continue;
    // "/var/log/app/" (a form the analyzer writes for directory literals)
    // names the directory itself, whether or not the guest has it yet.
    std::string path = normalize_absolute(f.path);
    if (covered_by_any(path, redirected)) continue;
    auto it = files.entries.find(path);
    bool is_dir = (!f.path.empty() && f.path.back() == '/') || (it != files.entries.end() && it->second.type == EntryType::Directory);
    std::string dir = resolve_in_image(files, is_dir ? path : path_dirname(path));
    if (dir == "/") {
      warnings.push_back(fmt::format("{} is written but sits in /; the read-only rootfs keeps it read-only", f.path));
      continue;
    }
    writable.emplace(dir, fmt::format("files: {} (write)", f.path));
  }
  // System mode keeps the VM's state where the VM wrote it: each of these
  // the guest has becomes a volume pre-filled with its content (the rootfs
  // stays read-only, as in minimal mode, and the state outlives the
  // container). /tmp is the tmpfs above, as the VM's /tmp was emptied at boot.
  if (o.mode == "system")
    for (const char* dir : {"/var/log", "/var/lib", "/var/spool", "/var/cache", "/var/tmp"}) {
      auto it = files.entries.find(dir);
      if (it != files.entries.end() && it->second.type == EntryType::Directory)
        writable.emplace(dir, "system mode: the VM's writable state");
    }
  // A writable directory inside another one is already covered.
  std::set<std::string> kept;
  for (const auto& [dir, why] : writable) {
    if (covered_by_any(dir, kept)) continue;
    kept.insert(dir);
    s.writable.push_back({dir, why});
  }

  const FileEntry* bin = nullptr;
  if (auto it = files.entries.find(p.binary.path); it != files.entries.end()) bin = &it->second;
  std::string binary_caps;
  if (bin)
    for (const auto& [k, v] : bin->xattrs)
      if (k == "security.capability") binary_caps = v;
  s.service_capabilities = needed_capabilities(p, binary_caps, s.ports, warnings);
  // What the file set found root must write but does not own (file_set.h).
  warnings.insert(warnings.end(), files.access_warnings.begin(), files.access_warnings.end());
  if (root_needs_dac_override(files, p) &&
      std::find(s.service_capabilities.begin(), s.service_capabilities.end(), "CAP_DAC_OVERRIDE") ==
          s.service_capabilities.end()) {
    s.service_capabilities.push_back("CAP_DAC_OVERRIDE");
    std::sort(s.service_capabilities.begin(), s.service_capabilities.end());
  }
  s.capabilities = s.service_capabilities;
  bool init = o.init && init_supports(p);
  if (init) {
    std::set<std::string> all(s.capabilities.begin(), s.capabilities.end());
    for (const auto& c : init_capabilities(p)) all.insert(c);
    s.capabilities.assign(all.begin(), all.end());
  }
  s.seccomp = oci_seccomp(p, o.preload_shim, warnings, init);
  if (!s.seccomp.is_null()) s.seccomp_allow = s.seccomp["syscalls"][0]["names"].get<std::vector<std::string>>();

  s.labels["org.opencontainers.image.title"] = s.name;
  s.labels["org.opencontainers.image.description"] =
      fmt::format("{} from {}, packaged by decant ({})", p.binary.path,
                  p.source.os.pretty.empty() ? std::string("a legacy guest") : p.source.os.pretty, o.mode);
  s.labels["org.opencontainers.image.created"] = rfc3339(o.created);
  if (!o.profile_digest.empty()) s.labels["io.decant.profile.digest"] = o.profile_digest;
  s.labels["io.decant.mode"] = o.mode;
  if (!p.source.os.id.empty())
    s.labels["io.decant.source.os"] = p.source.os.id + (p.source.os.version.empty() ? "" : " " + p.source.os.version);
  return s;
}

json image_config(const ImageSpec& s, const std::string& arch, const std::string& diff_id, int64_t created) {
  json c;
  c["created"] = rfc3339(created);
  c["architecture"] = oci_arch(arch);
  c["os"] = "linux";
  json cfg;
  cfg["Entrypoint"] = s.entrypoint;
  cfg["Cmd"] = s.cmd;
  cfg["Env"] = s.env;
  cfg["User"] = fmt::format("{}:{}", s.uid, s.gid);
  cfg["WorkingDir"] = s.workdir;
  if (!s.ports.empty()) {
    json ports = json::object();
    for (const auto& [port, proto] : s.ports) ports[fmt::format("{}/{}", port, proto)] = json::object();
    cfg["ExposedPorts"] = ports;
  }
  if (!s.writable.empty()) {
    json vols = json::object();
    for (const auto& w : s.writable) vols[w.path] = json::object();
    cfg["Volumes"] = vols;
  }
  cfg["Labels"] = s.labels;
  c["config"] = cfg;
  c["rootfs"] = {{"type", "layers"}, {"diff_ids", {diff_id}}};
  c["history"] = json::array({{{"created", rfc3339(created)}, {"created_by", "decant package"}}});
  return c;
}

json runtime_config(const ImageSpec& s, const RuntimeConfigOptions& o) {
  json c;
  c["ociVersion"] = "1.0.2";
  json proc;
  proc["terminal"] = false;
  proc["user"] = {{"uid", s.uid}, {"gid", s.gid}};
  std::vector<std::string> args = s.entrypoint;
  args.insert(args.end(), s.cmd.begin(), s.cmd.end());
  proc["args"] = args;
  proc["env"] = s.env;
  proc["cwd"] = s.workdir;
  // Ambient and inheritable too, so a non-root service user keeps them over exec.
  json caps = s.capabilities;
  proc["capabilities"] = {{"bounding", caps}, {"effective", caps}, {"inheritable", caps}, {"permitted", caps},
                          {"ambient", caps}};
  proc["rlimits"] = json::array({{{"type", "RLIMIT_NOFILE"}, {"hard", 4096}, {"soft", 4096}}});
  proc["noNewPrivileges"] = true;
  c["process"] = proc;
  c["root"] = {{"path", "rootfs"}, {"readonly", true}};
  c["hostname"] = s.hostname;

  json mounts = json::array();
  mounts.push_back({{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}});
  mounts.push_back({{"destination", "/dev"},
                    {"type", "tmpfs"},
                    {"source", "tmpfs"},
                    {"options", {"nosuid", "strictatime", "mode=755", "size=65536k"}}});
  mounts.push_back({{"destination", "/dev/pts"},
                    {"type", "devpts"},
                    {"source", "devpts"},
                    {"options", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}}});
  mounts.push_back({{"destination", "/dev/shm"},
                    {"type", "tmpfs"},
                    {"source", "shm"},
                    {"options", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}}});
  mounts.push_back({{"destination", "/dev/mqueue"},
                    {"type", "mqueue"},
                    {"source", "mqueue"},
                    {"options", {"nosuid", "noexec", "nodev"}}});
  mounts.push_back({{"destination", "/sys"},
                    {"type", "sysfs"},
                    {"source", "sysfs"},
                    {"options", {"nosuid", "noexec", "nodev", "ro"}}});
  for (const auto& dir : s.scratch_dirs)
    mounts.push_back({{"destination", dir},
                      {"type", "tmpfs"},
                      {"source", "tmpfs"},
                      {"options", {"nosuid", "nodev", dir == "/tmp" ? "mode=1777" : "mode=755"}}});
  for (const auto& w : s.writable)
    mounts.push_back({{"destination", w.path},
                      {"type", "bind"},
                      {"source", volume_source(w.path)},
                      {"options", {"rbind", "rw", "nosuid", "nodev"}}});
  c["mounts"] = mounts;

  json linux;
  json ns = json::array();
  for (const char* t : {"pid", "ipc", "uts", "mount"}) ns.push_back({{"type", t}});
  if (o.network_namespace) ns.push_back({{"type", "network"}});
  linux["namespaces"] = ns;
  linux["maskedPaths"] = {"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                          "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
                          "/proc/scsi"};
  linux["readonlyPaths"] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"};
  if (!s.seccomp.is_null()) linux["seccomp"] = s.seccomp;
  c["linux"] = linux;
  c["annotations"] = s.labels;
  // Annotation values are strings: the list travels as JSON text.
  json ports = json::array();
  for (const auto& [port, proto] : s.ports) ports.push_back({{"port", port}, {"proto", proto}});
  if (!ports.empty()) c["annotations"][kPortsAnnotation] = ports.dump();
  return c;
}

}  // namespace decant
