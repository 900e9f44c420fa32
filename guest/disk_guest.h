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
  // source_name: what source_name() reports (default: host_root).
  explicit DiskGuest(std::string host_root, std::string source_name = "")
      : root_(std::move(host_root)), source_(std::move(source_name)) {}

  int lstat(const std::string& path, struct stat* st) const override;
  std::string readlink(const std::string& path, int* err) const override;
  Result<std::string> read_file(const std::string& path, uint64_t max_bytes) const override;
  std::vector<std::string> list_directory(const std::string& path, int* err) const override;
  std::string get_xattr(const std::string& path, const std::string& name) const override;
  std::vector<std::string> list_xattrs(const std::string& path) const override;
  const std::string& host_root() const override { return root_; }
  std::string host_path(const std::string& path) const override;
  std::string source_name() const override { return source_.empty() ? root_ : source_; }

 private:
  std::string root_, source_;
};

}  // namespace decant
