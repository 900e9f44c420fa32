// MemoryGuest: an in-memory GuestFs for unit tests. A test adds files,
// directories and symlinks (parents are created as needed) and reads them
// through a GuestRoot, without a temporary directory on disk:
//   auto fs = std::make_shared<MemoryGuest>();
//   fs->add_file("/etc/os-release", "ID=debian\n");
//   GuestRoot root(fs);
// It has no host paths (host_path() is ""), so code that hands files to
// LIEF or to the archive writer still needs a disk guest.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "guest/guest_fs.h"

namespace decant {

class MemoryGuest : public GuestFs {
 public:
  MemoryGuest();

  // Each replaces what was at path; missing parent directories are added.
  void add_file(const std::string& path, std::string content, unsigned mode = 0644);
  void add_directory(const std::string& path, unsigned mode = 0755);
  void add_symlink(const std::string& target, const std::string& link_path);
  // Requires: something exists at path.
  void set_xattr(const std::string& path, const std::string& name, std::string value);

  int lstat(const std::string& path, struct stat* st) const override;
  std::string readlink(const std::string& path, int* err) const override;
  Result<std::string> read_file(const std::string& path, uint64_t max_bytes) const override;
  std::vector<std::string> list_directory(const std::string& path, int* err) const override;
  std::string get_xattr(const std::string& path, const std::string& name) const override;
  std::vector<std::string> list_xattrs(const std::string& path) const override;
  const std::string& host_root() const override { return no_host_; }
  std::string host_path(const std::string&) const override { return ""; }

 private:
  struct Node {
    mode_t mode = 0;  // type and permission bits
    std::string data;  // file content or symlink target
    std::map<std::string, std::string> xattrs;
    ino_t ino = 0;
  };
  Node& put(const std::string& path, mode_t mode);
  // ENOENT or ENOTDIR as lstat would say for path, 0 when it exists.
  int lookup(const std::string& path, const Node** node) const;

  std::map<std::string, Node> nodes_;  // by normalized path; "/" always present
  ino_t next_ino_ = 1;
  std::string no_host_;
};

}  // namespace decant
