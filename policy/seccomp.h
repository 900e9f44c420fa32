// Seccomp policy compilation with libseccomp: turns a profile's syscall
// allowlist and enforcement mode into a BPF program (binary-tree optimized,
// exported with seccomp_export_bpf) for the shim to load, and builds the
// user-notification filter `decant learn` installs to observe the syscalls
// an enforcing filter would have denied. The shim never compiles policy; it
// only loads what this produces.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/error.h"
#include "profiles/profile.h"
#include "shim/plan_contract.h"

namespace decant {

// Marks the shim's own system calls (sixth argument register; defined once
// in shim/plan_contract.h). Filters allow the shim's calls that carry it, so
// enforcing the app's allowlist never breaks the shim itself.
constexpr uint64_t kShimSyscallTag = DECANT_SHIM_SYSCALL_TAG;

// The system calls the shim makes after a filter is in place (path mapping,
// port translation, learn records, re-applying in exec'd children).
const std::vector<std::string>& shim_own_syscalls();

struct SeccompSpec {
  std::string arch;                 // profile arch name: x86_64, i386, aarch64, ...
  std::vector<std::string> allow;   // syscall names
  std::string mode = "enforce";     // enforce | log | notify (learn mode)
  std::string default_action = "errno";  // errno | kill (enforce mode)
  int errno_value = 1;              // EPERM
  int notify_sendmsg_fd = -1;       // notify: allow sendmsg on this fd (handing over the listener)
};

// Resolves an errno name (EPERM, EACCES, ...) to its number; -1 if unknown.
int errno_from_name(const std::string& name);

// The spec a profile's enforcement section and allowlist describe.
Result<SeccompSpec> seccomp_spec_from_profile(const Profile& profile);

// Compiles spec to raw BPF (struct sock_filter[]). Unknown syscall names
// and unknown architectures are bad input naming the offender.
Result<std::string> compile_seccomp_bpf(const SeccompSpec& spec);

// Loads a notify-mode spec into the calling process (sets no_new_privs) and
// returns the listener fd. For the child of `decant learn` just before exec.
Result<int> load_seccomp_notify(const SeccompSpec& spec);

// Syscall name for a number on an arch ("" if unknown).
std::string syscall_name(const std::string& arch, int nr);

}  // namespace decant
