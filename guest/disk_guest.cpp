// DiskGuest: GuestFs primitives as system calls on host_root + guest path
// (see disk_guest.h).
#include "guest/disk_guest.h"

#include <cerrno>
#include <dirent.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/file_util.h"

namespace decant {

std::string DiskGuest::host_path(const std::string& path) const {
  if (root_ == "/") return path.empty() ? "/" : path;
  if (path == "/" || path.empty()) return root_;
  return root_ + path;
}

int DiskGuest::lstat(const std::string& path, struct stat* st) const {
  return ::lstat(host_path(path).c_str(), st) == 0 ? 0 : errno;
}

std::string DiskGuest::readlink(const std::string& path, int* err) const {
  char buf[4096];
  ssize_t n = ::readlink(host_path(path).c_str(), buf, sizeof buf);
  if (n < 0) {
    *err = errno;
    return "";
  }
  if (n == static_cast<ssize_t>(sizeof buf)) {
    *err = ENAMETOOLONG;
    return "";
  }
  *err = 0;
  return std::string(buf, static_cast<size_t>(n));
}

Result<std::string> DiskGuest::read_file(const std::string& path, uint64_t max_bytes) const {
  std::string host = host_path(path);
  auto content = decant::read_file(host, max_bytes);
  if (content) return content;
  // Name the guest path, not the host path.
  std::string msg = content.error().message;
  if (msg.compare(0, host.size(), host) == 0) msg = path + msg.substr(host.size());
  return Error{msg, content.error().kind};
}

std::vector<std::string> DiskGuest::list_directory(const std::string& path, int* err) const {
  std::vector<std::string> names;
  DIR* dir = ::opendir(host_path(path).c_str());
  if (!dir) {
    *err = errno;
    return names;
  }
  *err = 0;
  while (struct dirent* e = ::readdir(dir)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  ::closedir(dir);
  return names;
}

std::string DiskGuest::get_xattr(const std::string& path, const std::string& name) const {
  std::string host = host_path(path);
  ssize_t n = ::lgetxattr(host.c_str(), name.c_str(), nullptr, 0);
  if (n <= 0) return "";
  std::string value(static_cast<size_t>(n), '\0');
  n = ::lgetxattr(host.c_str(), name.c_str(), &value[0], value.size());
  if (n <= 0) return "";
  value.resize(static_cast<size_t>(n));
  return value;
}

std::vector<std::string> DiskGuest::list_xattrs(const std::string& path) const {
  std::vector<std::string> out;
  std::string host = host_path(path);
  ssize_t n = ::llistxattr(host.c_str(), nullptr, 0);
  if (n <= 0) return out;
  std::string names(static_cast<size_t>(n), '\0');
  n = ::llistxattr(host.c_str(), &names[0], names.size());
  for (size_t i = 0; n > 0 && i < static_cast<size_t>(n);) {
    std::string name(names.c_str() + i);
    i += name.size() + 1;
    if (!name.empty()) out.push_back(name);
  }
  return out;
}

}  // namespace decant
