// DiskGuest: the GuestFs of a guest filesystem unpacked under a host
// directory (or the host itself, rooted at "/"). GuestRoot::open() makes one.
#pragma once

#include <string>

#include "guest/guest_fs.h"

namespace decant {

class DiskGuest : public GuestFs {
 public:
  // Requires: host_root is an absolute, symlink-free directory without a
  // trailing slash (except "/").
  explicit DiskGuest(std::string host_root) : root_(std::move(host_root)) {}

  int lstat(const std::string& path, struct stat* st) const override;
  std::string readlink(const std::string& path, int* err) const override;
  Result<std::string> read_file(const std::string& path, uint64_t max_bytes) const override;
  std::vector<std::string> list_directory(const std::string& path, int* err) const override;
  std::string get_xattr(const std::string& path, const std::string& name) const override;
  const std::string& host_root() const override { return root_; }
  std::string host_path(const std::string& path) const override;

 private:
  std::string root_;
};

}  // namespace decant
