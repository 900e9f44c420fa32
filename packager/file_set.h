// The file set of an image: every entry (file, directory, symlink, hard link,
// fifo) the packaged rootfs will hold, keyed by its path inside the container
// and sorted, with the metadata each writer needs. It is computed once from a
// profile and its guest (minimal closure or whole system) and then handed to
// every format writer, so all formats of one package hold the same files.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "guest/guest_root.h"
#include "common/error.h"
#include "profiles/profile.h"

namespace decant {

enum class EntryType { File, Directory, Symlink, Hardlink, Fifo };

struct FileEntry {
  EntryType type = EntryType::File;
  unsigned mode = 0644;  // permission bits incl. setuid/setgid/sticky
  uint32_t uid = 0, gid = 0;
  std::string source;   // host path of the content (File), empty when inline
  std::optional<std::string> content;  // inline content (generated files)
  uint64_t size = 0;
  std::string target;   // Symlink: link text; Hardlink: container path of the first link
  std::vector<std::pair<std::string, std::string>> xattrs;  // sorted by name
  std::vector<std::pair<uint64_t, uint64_t>> sparse;         // data extents (offset, length); empty: dense
  uint64_t dev = 0, ino = 0;  // guest inode of a File, to turn repeated inodes into hard links
};

enum class PackageMode { Minimal, System };

struct FileSetOptions {
  PackageMode mode = PackageMode::Minimal;
};

struct FileSet {
  std::map<std::string, FileEntry> entries;  // container path -> entry; parents sort first
  std::vector<std::string> notes;            // things skipped or assumed, one line each
  uint32_t uid = 0, gid = 0;                 // the service user inside the container
  // Written paths the service user could not write as packaged, and what
  // was done about it (one line each, for the package report's warnings).
  std::vector<std::string> access_warnings;
  uint64_t total_bytes() const;

  // Adds a generated file (and its parent directories).
  void add_inline(const std::string& path, std::string content, unsigned mode = 0644, uint32_t uid = 0,
                  uint32_t gid = 0);
  // Adds a host file as a regular file at path (e.g. the shim).
  Status add_host_file(const std::string& path, const std::string& host_path, unsigned mode);
  // Adds a directory (and parents) that does not come from the guest.
  void add_directory(const std::string& path, unsigned mode = 0755);
};

// User and group ids of the profile's user in the guest ("" or "root": 0/0;
// a numeric "uid[:gid]" is taken as is).
struct GuestUser {
  std::string name, group;
  uint32_t uid = 0, gid = 0;
  std::string passwd_line, group_line;  // the guest's entries, for the minimal /etc
};
Result<GuestUser> lookup_guest_user(const GuestRoot& root, const std::string& user);

// The hostname the container gets (the guest's, when the profile keeps its
// identity; else the service's name): the OCI config sets it and the
// minimal /etc/hosts resolves it, as the VM's did.
std::string container_hostname(const Profile& profile);

// Minimal mode: the binary, its closure and interpreter with every symlink on
// the way, the profile's files, the guest files under /etc the closure names
// by literal path, a minimal /etc and mount points. System mode: the whole
// guest minus boot, pseudo filesystems, kernel modules and package caches.
// Every entry keeps its guest owner and mode, but for owners that are
// people's accounts (not in the minimal /etc/passwd), which become root's.
// Missing guest files named by the profile are an error unless marked
// optional or written (the application creates those; the guest directory
// it creates them in travels with its owner and mode).
Result<FileSet> collect_file_set(const GuestRoot& root, const Profile& profile, const FileSetOptions& options);

// Adds one guest path the way the kernel reaches it: every symlink met on
// the way becomes a symlink entry, the final object is copied (a directory
// recursively when recursive). Exposed for tests.
Status add_guest_path(const GuestRoot& root, const std::string& guest_path, bool recursive, FileSet& set,
                      PackageMode mode, const GuestUser& user);

// Whether uid:gid may write path as the set holds it: the file itself when
// it exists, else the directory it would be created in (write and search).
// No capability is assumed: root in the container has no CAP_DAC_OVERRIDE.
bool can_write(const FileSet& set, const std::string& path, uint32_t uid, uint32_t gid);

// True when the service runs as root (set.uid 0) and a path the profile
// says it writes is another account's that root could not write without
// CAP_DAC_OVERRIDE, which the VM's root had: the capability is granted and
// the owners kept (collect_file_set warns about each such path). Only the
// written paths and their directories need to be in set, so `decant run`
// re-derives this from a rootfs.
bool root_needs_dac_override(const FileSet& set, const Profile& profile);

// NUL-terminated strings in bytes that look like absolute paths under
// prefix ("/etc/"), sorted and unique: what a program or library opens by
// literal name. Exposed for tests.
std::vector<std::string> literal_paths(const std::string& bytes, const std::string& prefix);

}  // namespace decant
