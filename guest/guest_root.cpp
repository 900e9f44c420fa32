// Implementation of GuestRoot's in-guest path resolution (see guest_root.h),
// written once over the GuestFs primitives so that the disk and the
// in-memory guest resolve alike.
#include "guest/guest_root.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fnmatch.h>

#include <fstream>

#include <fmt/format.h>

#include "common/file_util.h"
#include "common/text.h"
#include "guest/disk_guest.h"

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
  return GuestRoot(std::make_shared<DiskGuest>(root));
}

Result<std::string> GuestRoot::resolve(const std::string& guest_path, bool follow_last,
                                       std::vector<std::string>* links_crossed) const {
  if (guest_path.empty()) return bad_input("empty path");
  // Work list of components still to walk; symlink targets are spliced in front.
  std::vector<std::string> pending = split_path(guest_path);
  std::reverse(pending.begin(), pending.end());
  // The canonical path walked so far and where each component starts in it,
  // kept incrementally: rebuilding it per component made deep paths cubic.
  std::string walked;
  std::vector<size_t> starts;
  int links = 0;
  while (!pending.empty()) {
    std::string comp = pending.back();
    pending.pop_back();
    if (comp == ".") continue;
    if (comp == "..") {
      if (!starts.empty()) {  // ".." at the guest root stays there
        walked.resize(starts.back());
        starts.pop_back();
      }
      continue;
    }
    size_t start = walked.size();
    walked += "/";
    walked += comp;
    const std::string& canonical = walked;
    struct stat st;
    if (int e = fs_->lstat(canonical, &st)) return errno_error(e, fmt::format("{}: {}", guest_path, std::strerror(e)));
    bool last = pending.empty();
    if (S_ISLNK(st.st_mode) && (!last || follow_last)) {
      if (++links > kMaxSymlinks) return bad_input(fmt::format("{}: {}", guest_path, std::strerror(ELOOP)));
      int e = 0;
      std::string target = fs_->readlink(canonical, &e);
      if (e == ENAMETOOLONG) return bad_input(fmt::format("{}: symlink target too long", guest_path));
      if (e) return errno_error(e, fmt::format("{}: {}", guest_path, std::strerror(e)));
      if (links_crossed) links_crossed->push_back(canonical);
      walked.resize(start);
      if (!target.empty() && target[0] == '/') {  // absolute: restart at the guest root
        walked.clear();
        starts.clear();
      }
      std::vector<std::string> tcomps = split_path(target);
      for (auto it = tcomps.rbegin(); it != tcomps.rend(); ++it) pending.push_back(*it);
      continue;
    }
    if (!last && !S_ISDIR(st.st_mode))
      return bad_input(fmt::format("{}: {}", guest_path, std::strerror(ENOTDIR)));
    starts.push_back(start);
  }
  return walked.empty() ? std::string("/") : walked;
}

bool GuestRoot::exists(const std::string& guest_path) const { return resolve(guest_path).ok(); }

Result<struct stat> GuestRoot::stat(const std::string& guest_path) const {
  auto r = resolve(guest_path);
  if (!r) return r.error();
  struct stat st;  // *r has no symlink left, so lstat is stat
  if (int e = fs_->lstat(*r, &st)) return errno_error(e, fmt::format("{}: {}", guest_path, std::strerror(e)));
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
  auto content = fs_->read_file(*r, max_bytes);
  if (!content) {
    // Name the path as the caller gave it: that is what the user knows.
    std::string msg = content.error().message;
    if (msg.compare(0, r->size(), *r) == 0) msg = guest_path + msg.substr(r->size());
    return Error{msg, content.error().kind};
  }
  return content;
}

Result<std::vector<std::string>> GuestRoot::list_directory(const std::string& guest_path) const {
  auto r = resolve(guest_path);
  if (!r) return r.error();
  int e = 0;
  std::vector<std::string> names = fs_->list_directory(*r, &e);
  if (e) return errno_error(e, fmt::format("{}: {}", guest_path, std::strerror(e)));
  std::sort(names.begin(), names.end());
  return names;
}

std::string GuestRoot::get_xattr(const std::string& guest_path, const std::string& name) const {
  auto r = resolve(guest_path);
  if (!r) return "";
  return fs_->get_xattr(*r, name);
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

std::string find_program(const GuestRoot& root, const std::string& name) {
  for (const std::string& dir : split(kDefaultSearchPath, ':'))
    if (root.is_regular_file(dir + "/" + name)) return dir + "/" + name;
  return "";
}

bool is_elf_file(const GuestRoot& root, const std::string& path) {
  auto canonical = root.resolve(path);
  if (!canonical) return false;
  std::string head(4, '\0');
  std::string host = root.host_path(*canonical);
  if (!host.empty()) {
    std::ifstream in(host, std::ios::binary);
    if (!in.read(&head[0], 4)) return false;
  } else {
    auto bytes = root.read_file(*canonical, 256ull << 20);
    if (!bytes || bytes->size() < 4) return false;
    head = bytes->substr(0, 4);
  }
  return head == std::string("\x7f" "ELF", 4);
}

}  // namespace decant
