// ExtGuest: a guest root read from an ext2/3/4 filesystem inside a file (a
// raw disk image at some byte offset) through e2fsprogs' libext2fs, without
// root and without mounting. The filesystem is opened read-only (the journal
// is not replayed, as `mount -o ro,noload` would not); the directory tree is
// indexed once and each file is copied out of its inode when asked for.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/error.h"
#include "guest/indexed_guest.h"

namespace decant {

class ExtGuest : public IndexedGuest {
 public:
  ~ExtGuest() override;
  // Opens the filesystem at byte offset of image; source_name is what
  // source_name() reports.
  static Result<std::shared_ptr<ExtGuest>> open(const std::string& image, uint64_t offset,
                                                const std::string& source_name);
  // True when the ext filesystem at offset has /etc/os-release or /etc/fstab
  // (a Linux root), checked without indexing it.
  static bool looks_like_root(const std::string& image, uint64_t offset);

 protected:
  Status fetch(const std::string& path, const Node& node, int fd) const override;

 private:
  explicit ExtGuest(std::string source_name) : IndexedGuest(std::move(source_name)) {}
  Status index();

  void* fs_ = nullptr;  // ext2_filsys, kept out of this header
  std::string image_;
};

}  // namespace decant
