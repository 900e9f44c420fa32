// libseccomp front end for decant (see seccomp.h): one filter builder shared
// by the plan compiler (export to BPF) and `decant learn` (load with a
// user-notification listener), so the filter learn mode observes through is
// the one the shim would enforce.
#include "policy/seccomp.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <set>

#include <fmt/format.h>
#include <seccomp.h>

namespace decant {
namespace {

// Profile architecture names to libseccomp's.
uint32_t arch_token(const std::string& arch) {
  static const std::map<std::string, std::string> alias{{"i386", "x86"}, {"i686", "x86"}, {"amd64", "x86_64"},
                                                        {"arm64", "aarch64"}, {"ppc64le", "ppc64le"}};
  auto it = alias.find(arch);
  std::string name = it == alias.end() ? arch : it->second;
  return seccomp_arch_resolve_name(name.c_str());
}

struct CtxDeleter {
  void operator()(void* c) const { seccomp_release(c); }
};
using Ctx = std::unique_ptr<void, CtxDeleter>;

Result<Ctx> build(const SeccompSpec& spec) {
  uint32_t arch = arch_token(spec.arch.empty() ? "x86_64" : spec.arch);
  if (arch == 0) return bad_input(fmt::format("seccomp: unknown architecture '{}'", spec.arch));
  uint32_t def;
  if (spec.mode == "log") {
    def = SCMP_ACT_LOG;
  } else if (spec.mode == "notify") {
    def = SCMP_ACT_NOTIFY;
  } else if (spec.mode == "enforce") {
    def = spec.default_action == "kill" ? SCMP_ACT_KILL_PROCESS : SCMP_ACT_ERRNO(static_cast<uint32_t>(spec.errno_value));
  } else {
    return bad_input(fmt::format("seccomp: mode '{}' has no filter", spec.mode));
  }
  Ctx ctx(seccomp_init(def));
  if (!ctx) return env_error("seccomp: libseccomp could not create a filter");
  if (arch != seccomp_arch_native()) {
    if (seccomp_arch_add(ctx.get(), arch) != 0 || seccomp_arch_remove(ctx.get(), seccomp_arch_native()) != 0)
      return env_error(fmt::format("seccomp: libseccomp cannot build a filter for {}", spec.arch));
  }
  // Binary-tree dispatch: lookup cost grows with log(allowlist), not its size.
  seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2);
  for (const auto& name : spec.allow) {
    int nr = seccomp_syscall_resolve_name_arch(arch, name.c_str());
    if (nr == __NR_SCMP_ERROR)
      return bad_input(fmt::format("syscalls.allow: unknown system call '{}' for {}", name, spec.arch));
    int rc = seccomp_rule_add(ctx.get(), SCMP_ACT_ALLOW, nr, 0);
    if (rc != 0 && rc != -EEXIST)
      return env_error(fmt::format("seccomp: cannot add rule for {}: {}", name, std::strerror(-rc)));
  }
  std::set<std::string> allowed(spec.allow.begin(), spec.allow.end());
  for (const auto& name : shim_own_syscalls()) {
    if (allowed.count(name)) continue;
    int nr = seccomp_syscall_resolve_name_arch(arch, name.c_str());
    if (nr == __NR_SCMP_ERROR) continue;  // not on this arch (e.g. no plain fstat)
    int rc = seccomp_rule_add(ctx.get(), SCMP_ACT_ALLOW, nr, 1, SCMP_A5(SCMP_CMP_EQ, kShimSyscallTag));
    if (rc != 0 && rc != -EEXIST)
      return env_error(fmt::format("seccomp: cannot add shim rule for {}: {}", name, std::strerror(-rc)));
  }
  if (spec.notify_sendmsg_fd >= 0 && !allowed.count("sendmsg")) {
    int nr = seccomp_syscall_resolve_name_arch(arch, "sendmsg");
    int rc = seccomp_rule_add(ctx.get(), SCMP_ACT_ALLOW, nr, 1,
                              SCMP_A0(SCMP_CMP_EQ, static_cast<uint64_t>(spec.notify_sendmsg_fd)));
    if (rc != 0) return env_error(fmt::format("seccomp: cannot add sendmsg rule: {}", std::strerror(-rc)));
  }
  return ctx;
}

}  // namespace

const std::vector<std::string>& shim_own_syscalls() {
  static const std::vector<std::string> names{"openat", "close", "lseek", "pread64", "fstat", "fcntl", "write",
                                              "getpid", "getppid", "gettid", "getcwd", "readlinkat", "getsockopt",
                                              "getsockname", "prctl", "seccomp"};
  return names;
}

int errno_from_name(const std::string& name) {
  static const std::map<std::string, int> names{
      {"EPERM", EPERM},   {"ENOENT", ENOENT},   {"EIO", EIO},         {"EBADF", EBADF},
      {"EAGAIN", EAGAIN}, {"ENOMEM", ENOMEM},   {"EACCES", EACCES},   {"EFAULT", EFAULT},
      {"EBUSY", EBUSY},   {"EEXIST", EEXIST},   {"EINVAL", EINVAL},   {"ENOSYS", ENOSYS},
      {"ENOTSUP", ENOTSUP}, {"EOPNOTSUPP", EOPNOTSUPP}, {"ENODEV", ENODEV}, {"EROFS", EROFS},
      {"ENOTTY", ENOTTY}, {"ENXIO", ENXIO},     {"ECONNREFUSED", ECONNREFUSED}};
  auto it = names.find(name);
  return it == names.end() ? -1 : it->second;
}

Result<SeccompSpec> seccomp_spec_from_profile(const Profile& p) {
  SeccompSpec s;
  s.arch = p.syscalls.arch.empty() ? p.binary.arch : p.syscalls.arch;
  if (s.arch.empty()) s.arch = "x86_64";
  s.allow = p.syscalls.allow;
  s.mode = p.enforcement.seccomp.mode;
  s.default_action = p.enforcement.seccomp.default_action;
  s.errno_value = errno_from_name(p.enforcement.seccomp.errno_name);
  if (s.errno_value < 0)
    return bad_input(fmt::format("enforcement.seccomp.errno: unknown errno name '{}'", p.enforcement.seccomp.errno_name));
  return s;
}

Result<std::string> compile_seccomp_bpf(const SeccompSpec& spec) {
  auto ctx = build(spec);
  if (!ctx) return ctx.error();
  int fd = memfd_create("decant-bpf", MFD_CLOEXEC);
  if (fd < 0) return env_error(fmt::format("seccomp: memfd_create: {}", std::strerror(errno)));
  int rc = seccomp_export_bpf(ctx->get(), fd);
  if (rc != 0) {
    close(fd);
    return env_error(fmt::format("seccomp: seccomp_export_bpf: {}", std::strerror(-rc)));
  }
  off_t size = lseek(fd, 0, SEEK_END);
  std::string bpf(static_cast<size_t>(size < 0 ? 0 : size), '\0');
  ssize_t got = size > 0 ? pread(fd, &bpf[0], bpf.size(), 0) : 0;
  close(fd);
  if (got != static_cast<ssize_t>(bpf.size())) return env_error("seccomp: cannot read the exported BPF program");
  // The kernel's limit per program (BPF_MAXINSNS); bigger would fail at load.
  if (bpf.empty() || bpf.size() % 8 != 0 || bpf.size() / 8 > 4096)
    return env_error(fmt::format("seccomp: the filter compiled to {} bytes, not 1-4096 instructions", bpf.size()));
  return bpf;
}

Result<int> load_seccomp_notify(const SeccompSpec& spec) {
  auto ctx = build(spec);
  if (!ctx) return ctx.error();
  int rc = seccomp_load(ctx->get());
  if (rc != 0) return env_error(fmt::format("seccomp: cannot load the learn filter: {}", std::strerror(-rc)));
  int fd = seccomp_notify_fd(ctx->get());
  if (fd < 0) return env_error("seccomp: the kernel gave no user-notification listener");
  return fd;
}

std::string syscall_name(const std::string& arch, int nr) {
  uint32_t a = arch_token(arch.empty() ? "x86_64" : arch);
  if (a == 0) return "";
  char* n = seccomp_syscall_resolve_num_arch(a, nr);
  if (!n) return "";
  std::string s(n);
  free(n);
  return s;
}

}  // namespace decant
