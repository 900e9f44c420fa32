// Shared by the archive and disk-image fuzz targets: the input as a private
// temporary file, and a bounded walk over the guest opened from it that does
// what later stages do (resolve, stat, list, read, glob).
#pragma once

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>
#include <unistd.h>

#include "guest/guest_root.h"

namespace decant {

class FuzzFile {
 public:
  FuzzFile(const uint8_t* data, size_t size, const char* what) {
    const char* tmp = std::getenv("TMPDIR");
    path_ = std::string(tmp && *tmp ? tmp : "/tmp") + "/decant-fuzz-" + what + "-XXXXXX";
    int fd = ::mkstemp(&path_[0]);
    if (fd < 0) std::abort();
    for (size_t done = 0; done < size;) {
      ssize_t n = ::write(fd, data + done, size - done);
      if (n <= 0) std::abort();
      done += static_cast<size_t>(n);
    }
    ::close(fd);
  }
  ~FuzzFile() { ::unlink(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline void walk_guest(const GuestRoot& root) {
  size_t budget = 2000;  // entries visited: the walk itself stays bounded
  std::vector<std::string> todo{"/"};
  while (!todo.empty() && budget > 0) {
    std::string dir = todo.back();
    todo.pop_back();
    auto entries = root.list_directory(dir);
    if (!entries) continue;
    for (const auto& name : *entries) {
      if (budget-- == 0) break;
      std::string path = dir == "/" ? "/" + name : dir + "/" + name;
      auto canonical = root.resolve(path);
      auto st = root.stat(path);
      if (!canonical || !st) continue;
      // Into real directories only: a symlink to an ancestor is a loop the
      // walk would follow, not one decant's code does.
      if (S_ISDIR(st->st_mode) && *canonical == path) todo.push_back(path);
      else if (S_ISREG(st->st_mode)) {
        (void)root.read_file(path, 1 << 20);
        (void)root.host_path(*canonical);
      }
      (void)root.get_xattr(path, "security.capability");
    }
  }
  (void)root.read_file("/etc/os-release", 1 << 16);
  (void)root.glob("/etc/*/*.conf");
}

}  // namespace decant
