// Implementation of GuestRoot's in-guest path resolution (see guest_root.h).
#include "guest/guest_root.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fnmatch.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <fmt/format.h>

#include "common/file_util.h"

namespace decant {

namespace {
constexpr int kMaxSymlinks = 40;  // Linux's MAXSYMLINKS

}  // namespace

Result<GuestRoot> GuestRoot::open(const std::string& host_root) {
  if (host_root.empty()) return bad_input("guest root: empty path");
  char* real = ::realpath(host_root.c_str(), nullptr);
  if (!real) return bad_input(fmt::format("{}: guest root: {}", host_root, std::strerror(errno)));
  std::string root(real);
  free(real);
  struct stat st;
  if (::stat(root.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return bad_input(fmt::format("{}: guest root is not a directory", host_root));
  return GuestRoot(root);
}

std::string GuestRoot::host_path(const std::string& canonical_guest_path) const {
  if (root_ == "/") return canonical_guest_path.empty() ? "/" : canonical_guest_path;
  if (canonical_guest_path == "/" || canonical_guest_path.empty()) return root_;
  return root_ + canonical_guest_path;
}

Result<std::string> GuestRoot::resolve(const std::string& guest_path, bool follow_last,
                                       std::vector<std::string>* links_crossed) const {
  if (guest_path.empty()) return bad_input("empty path");
  // Work list of components still to walk; symlink targets are spliced in front.
  std::vector<std::string> pending = split_path(guest_path);
  std::reverse(pending.begin(), pending.end());
  std::vector<std::string> done;  // canonical components walked so far
  int links = 0;
  while (!pending.empty()) {
    std::string comp = pending.back();
    pending.pop_back();
    if (comp == ".") continue;
    if (comp == "..") {
      if (!done.empty()) done.pop_back();  // ".." at the guest root stays there
      continue;
    }
    std::string canonical;
    for (auto& d : done) canonical += "/" + d;
    canonical += "/" + comp;
    std::string host = host_path(canonical);
    struct stat st;
    if (::lstat(host.c_str(), &st) != 0)
      return bad_input(fmt::format("{}: {}", guest_path, std::strerror(errno)));
    bool last = pending.empty();
    if (S_ISLNK(st.st_mode) && (!last || follow_last)) {
      if (++links > kMaxSymlinks) return bad_input(fmt::format("{}: {}", guest_path, std::strerror(ELOOP)));
      char buf[4096];
      ssize_t n = ::readlink(host.c_str(), buf, sizeof buf);
      if (n < 0) return bad_input(fmt::format("{}: {}", guest_path, std::strerror(errno)));
      if (n == static_cast<ssize_t>(sizeof buf))
        return bad_input(fmt::format("{}: symlink target too long", guest_path));
      std::string target(buf, static_cast<size_t>(n));
      if (links_crossed) links_crossed->push_back(canonical);
      if (!target.empty() && target[0] == '/') done.clear();  // absolute: restart at the guest root
      std::vector<std::string> tcomps = split_path(target);
      for (auto it = tcomps.rbegin(); it != tcomps.rend(); ++it) pending.push_back(*it);
      continue;
    }
    if (!last && !S_ISDIR(st.st_mode))
      return bad_input(fmt::format("{}: {}", guest_path, std::strerror(ENOTDIR)));
    done.push_back(comp);
  }
  std::string out;
  for (auto& d : done) out += "/" + d;
  return out.empty() ? std::string("/") : out;
}

bool GuestRoot::exists(const std::string& guest_path) const { return resolve(guest_path).ok(); }

Result<struct stat> GuestRoot::stat(const std::string& guest_path) const {
  auto r = resolve(guest_path);
  if (!r) return r.error();
  struct stat st;
  if (::stat(host_path(*r).c_str(), &st) != 0)
    return bad_input(fmt::format("{}: {}", guest_path, std::strerror(errno)));
  return st;
}

bool GuestRoot::is_regular_file(const std::string& guest_path) const {
  auto st = stat(guest_path);
  return st.ok() && S_ISREG(st->st_mode);
}

bool GuestRoot::is_directory(const std::string& guest_path) const {
  auto st = stat(guest_path);
  return st.ok() && S_ISDIR(st->st_mode);
}

Result<std::string> GuestRoot::read_file(const std::string& guest_path, uint64_t max_bytes) const {
  auto r = resolve(guest_path);
  if (!r) return r.error();
  auto content = decant::read_file(host_path(*r), max_bytes);
  if (!content) {
    // Name the guest path, not the host path: that is what the user knows.
    std::string msg = content.error().message;
    std::string host = host_path(*r);
    if (msg.compare(0, host.size(), host) == 0) msg = guest_path + msg.substr(host.size());
    return Error{msg, content.error().kind};
  }
  return content;
}

Result<std::vector<std::string>> GuestRoot::list_directory(const std::string& guest_path) const {
  auto r = resolve(guest_path);
  if (!r) return r.error();
  DIR* dir = ::opendir(host_path(*r).c_str());
  if (!dir) return bad_input(fmt::format("{}: {}", guest_path, std::strerror(errno)));
  std::vector<std::string> names;
  while (struct dirent* e = ::readdir(dir)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  ::closedir(dir);
  std::sort(names.begin(), names.end());
  return names;
}

std::string GuestRoot::get_xattr(const std::string& guest_path, const std::string& name) const {
  auto r = resolve(guest_path);
  if (!r) return "";
  char buf[1024];
  ssize_t n = ::lgetxattr(host_path(*r).c_str(), name.c_str(), buf, sizeof buf);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

std::vector<std::string> GuestRoot::glob(const std::string& guest_pattern) const {
  std::vector<std::string> comps = split_path(guest_pattern);
  std::vector<std::string> current{"/"};
  for (const auto& comp : comps) {
    std::vector<std::string> next;
    bool wild = comp.find_first_of("*?[") != std::string::npos;
    for (const auto& base : current) {
      std::string prefix = base == "/" ? "" : base;
      if (!wild) {
        if (exists(prefix + "/" + comp)) next.push_back(prefix + "/" + comp);
        continue;
      }
      auto names = list_directory(base);
      if (!names) continue;
      for (const auto& n : *names) {
        if (n[0] == '.' && comp[0] != '.') continue;  // glob(3) skips dotfiles
        if (::fnmatch(comp.c_str(), n.c_str(), FNM_PERIOD) == 0) next.push_back(prefix + "/" + n);
      }
    }
    current.swap(next);
    if (current.empty()) break;
  }
  std::sort(current.begin(), current.end());
  return current;
}

}  // namespace decant
