// GuestFs: the few read-only primitives GuestRoot needs from a guest
// filesystem, in the manner of ninja's DiskInterface, so that path
// resolution, globbing and every parser reading the guest through GuestRoot
// can be tested on an in-memory guest (memory_guest.h) as well as on disk
// (disk_guest.h). Paths given to it are canonical guest paths as GuestRoot
// walks them: absolute, no "." or "..", no symlink in their directory part.
// Nothing here follows a symlink; GuestRoot does that, the guest's way.
#pragma once

#include <cstdint>
#include <string>
#include <sys/stat.h>
#include <vector>

#include "common/error.h"

namespace decant {

class GuestFs {
 public:
  virtual ~GuestFs() = default;

  // lstat(2) of path: 0 and *st filled, or the errno (ENOENT, ENOTDIR...).
  virtual int lstat(const std::string& path, struct stat* st) const = 0;
  // The target of the symlink at path, or the errno in *err.
  virtual std::string readlink(const std::string& path, int* err) const = 0;
  // Content of the regular file at path, at most max_bytes. Messages start
  // with path and say what decant::read_file says ("is a directory", "too
  // large (N bytes, limit M)", "cannot open: ...").
  virtual Result<std::string> read_file(const std::string& path, uint64_t max_bytes) const = 0;
  // Entry names of the directory at path ("." and ".." left out), any
  // order, or the errno in *err.
  virtual std::vector<std::string> list_directory(const std::string& path, int* err) const = 0;
  // Raw value of an extended attribute of path itself; empty when absent.
  virtual std::string get_xattr(const std::string& path, const std::string& name) const = 0;
  // Names of the extended attributes of path itself, any order.
  virtual std::vector<std::string> list_xattrs(const std::string& path) const = 0;

  // The host directory the guest lives in ("/" for the host itself), or ""
  // for a guest that is not on disk.
  virtual const std::string& host_root() const = 0;
  // Host path of a canonical guest path, or "" for a guest not on disk:
  // code that hands host paths to libraries (ELF reading, archiving) works
  // on disk guests only.
  virtual std::string host_path(const std::string& path) const = 0;
  // What the guest was read from, for provenance (a profile's source.root):
  // the directory, archive or disk image as the user named it.
  virtual std::string source_name() const { return host_root(); }
};

}  // namespace decant
