// GuestRoot: a read-only view of a guest filesystem. Every path decant
// reasons about is a *guest* path; this class is the only place that turns
// one into a host path, resolving symlinks the way the guest's kernel would:
// absolute targets restart at the guest root, ".." never climbs above it,
// and loops end with ELOOP after 40 links. It is a cheap handle (copies share
// one GuestFs): GuestRoot::open() reads a directory on disk (DiskGuest), and
// tests build one over a MemoryGuest (memory_guest.h).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <sys/stat.h>
#include <vector>

#include "common/error.h"
#include "guest/guest_fs.h"

namespace decant {

class GuestRoot {
 public:
  // Requires: host_root names a directory (checked by open()).
  static Result<GuestRoot> open(const std::string& host_root);
  // A guest read through fs (e.g. a MemoryGuest). Requires: fs is not null.
  explicit GuestRoot(std::shared_ptr<const GuestFs> fs) : fs_(std::move(fs)) {}

  // The host directory of a disk guest; "" for one that is not on disk.
  const std::string& host_root() const { return fs_->host_root(); }
  bool is_host() const { return host_root() == "/"; }
  // What the guest was read from (see GuestFs::source_name).
  std::string source_name() const { return fs_->source_name(); }

  // Resolves every symlink in guest_path (the last component too when
  // follow_last) and returns the canonical guest path, e.g.
  // "/lib64/ld-linux-x86-64.so.2" -> "/lib/x86_64-linux-gnu/ld-2.31.so".
  // Missing components are an error (ENOENT), like realpath(3). When
  // links_crossed is given, it receives the canonical path of every symlink
  // followed, in order (a packager must copy them so the path keeps working).
  Result<std::string> resolve(const std::string& guest_path, bool follow_last = true,
                              std::vector<std::string>* links_crossed = nullptr) const;

  // Host path of a guest path whose symlinks resolve() has already removed;
  // "" for a guest that is not on disk.
  std::string host_path(const std::string& canonical_guest_path) const { return fs_->host_path(canonical_guest_path); }

  // Convenience wrappers that resolve first. Errors carry errno-style text.
  bool exists(const std::string& guest_path) const;
  bool is_regular_file(const std::string& guest_path) const;
  bool is_directory(const std::string& guest_path) const;
  Result<struct stat> stat(const std::string& guest_path) const;
  Result<std::string> read_file(const std::string& guest_path, uint64_t max_bytes = 16ull << 20) const;
  // Sorted entry names.
  Result<std::vector<std::string>> list_directory(const std::string& guest_path) const;
  // Raw value of an extended attribute (e.g. security.capability); empty when absent.
  std::string get_xattr(const std::string& guest_path, const std::string& name) const;
  // Guest paths matching a glob whose wildcards may appear in any component; sorted.
  std::vector<std::string> glob(const std::string& guest_pattern) const;

  // The primitives this view reads through.
  const GuestFs& fs() const { return *fs_; }

 private:
  std::shared_ptr<const GuestFs> fs_;
};

// The PATH a service gets when nothing sets one: systemd's fixed search
// path for bare ExecStart= names (systemd.service(5)) and Debian's default.
inline constexpr const char* kDefaultSearchPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// The guest path of program name found along kDefaultSearchPath (the first
// regular file), or "" when none has it.
std::string find_program(const GuestRoot& root, const std::string& name);

// Whether path (resolved) starts with the ELF magic. Reads four bytes where
// the guest is on disk (read_file refuses a file over its limit).
bool is_elf_file(const GuestRoot& root, const std::string& path);

}  // namespace decant
