// The `decant learn` supervisor: runs a command and all its descendants with
// the shim preloaded in learn mode and, where the kernel allows, under a
// seccomp filter whose default action is a user notification, so every
// syscall outside the static allowlist is counted here and let through
// unchanged (SECCOMP_USER_NOTIF_FLAG_CONTINUE). It also prepares the records
// directory the shim writes to. Nothing here prints: problems come back as
// errors, warnings and notes for the caller to show.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "policy/seccomp.h"
#include "profiles/profile.h"

namespace decant {

// This machine's architecture as uname(2) names it (x86_64, aarch64...).
std::string native_arch();

// The directory the shim's records go to: the one the user gave (created,
// and refused when it already holds records) or a temporary one, removed
// with this object.
class RecordsDir {
 public:
  static Result<RecordsDir> prepare(const std::string& given);
  RecordsDir(RecordsDir&& o) noexcept : path_(std::move(o.path_)), temporary_(o.temporary_) { o.temporary_ = false; }
  RecordsDir(const RecordsDir&) = delete;
  RecordsDir& operator=(const RecordsDir&) = delete;
  RecordsDir& operator=(RecordsDir&&) = delete;
  ~RecordsDir();

  const std::string& path() const { return path_; }

 private:
  RecordsDir(std::string path, bool temporary) : path_(std::move(path)), temporary_(temporary) {}
  std::string path_;  // absolute
  bool temporary_;
};

// The notifying filter for profile, or nullopt with a warning in *warning
// when syscalls cannot be observed here (another architecture, a kernel or
// libseccomp without user notification). Errors: the profile's syscalls
// section is unusable.
Result<std::optional<SeccompSpec>> notify_spec_for(const Profile& profile, std::string* warning);

struct SuperviseOptions {
  std::vector<std::string> command;   // argv; command[0] is looked up like execvp(3)
  std::string shim;                   // libdecant-shim.so, preloaded (empty: none)
  std::string plan;                   // DECANT_PLAN: the compiled learn-mode plan
  std::string records_dir;            // DECANT_LEARN: where the shim writes its records
  std::optional<SeccompSpec> notify;  // from notify_spec_for; nullopt: syscalls not observed
  double timeout = 0;                 // seconds before SIGTERM (SIGKILL 5 s later); 0: none
};

struct ObservedSyscall {
  int first_pid = 0;
  long count = 0;
};

struct Supervision {
  int wait_status = 0;                         // the command's, as waitpid(2) gives it
  std::map<int, ObservedSyscall> syscalls;     // by number: those outside the allowlist
  std::vector<std::string> warnings;           // e.g. the filter could not be installed
  std::vector<std::string> notes;              // e.g. the timeout stopped the command
};

// Runs the command until it and every process it left behind (daemons that
// fork into the background become our children again) have exited.
// SIGINT, SIGTERM and SIGHUP are forwarded to the command's process group
// meanwhile. Errors: the environment (socketpair, fork) failed.
Result<Supervision> supervise(const SuperviseOptions& options);

// The supervisor's records, one JSON line a syscall, in the format the
// merge reads (docs/shim.md): names from arch, "syscall_NR" when unknown.
std::string syscall_records(const std::string& arch, const std::map<int, ObservedSyscall>& syscalls);

}  // namespace decant
