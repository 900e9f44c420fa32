// Directory-tree helpers behind fs_tree.h.
#include "common/fs_tree.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

namespace decant {

namespace {
int remove_one(const char* path, const struct stat*, int, struct FTW*) {
  ::remove(path);
  return 0;
}
}  // namespace

Status make_directories(const std::string& path) {
  size_t i = 1;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    std::string cur = path.substr(0, j);
    if (!cur.empty() && ::mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST)
      return env_error(fmt::format("{}: cannot create directory: {}", cur, std::strerror(errno)));
    i = j + 1;
  }
  return Status::success();
}

bool remove_tree(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return true;
  if (!S_ISDIR(st.st_mode)) return ::unlink(path.c_str()) == 0;
  ::nftw(path.c_str(), remove_one, 64, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
  return ::lstat(path.c_str(), &st) != 0;
}

}  // namespace decant
