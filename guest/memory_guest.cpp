// MemoryGuest: a map from guest path to node, answering GuestFs calls with
// the errno values the kernel would give for the same tree (see
// memory_guest.h).
#include "guest/memory_guest.h"

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "common/file_util.h"

namespace decant {

MemoryGuest::MemoryGuest() { put("/", S_IFDIR | 0755); }

MemoryGuest::Node& MemoryGuest::put(const std::string& path, mode_t mode) {
  std::string p = normalize_absolute(path);
  if (p != "/") {
    std::string parent = path_dirname(p);
    auto it = nodes_.find(parent);
    if (it == nodes_.end() || !S_ISDIR(it->second.mode)) put(parent, S_IFDIR | 0755);
  }
  Node& n = nodes_[p];
  if (S_ISDIR(n.mode) && !S_ISDIR(mode)) {  // a directory replaced by a file takes its tree along
    std::string prefix = p + "/";
    for (auto it = nodes_.lower_bound(prefix); it != nodes_.end() && it->first.compare(0, prefix.size(), prefix) == 0;)
      it = nodes_.erase(it);
  }
  n = Node{};
  n.mode = mode;
  n.ino = next_ino_++;
  return n;
}

void MemoryGuest::add_file(const std::string& path, std::string content, unsigned mode) {
  put(path, S_IFREG | (mode & 07777)).data = std::move(content);
}

void MemoryGuest::add_directory(const std::string& path, unsigned mode) { put(path, S_IFDIR | (mode & 07777)); }

void MemoryGuest::add_symlink(const std::string& target, const std::string& link_path) {
  put(link_path, S_IFLNK | 0777).data = target;
}

void MemoryGuest::set_xattr(const std::string& path, const std::string& name, std::string value) {
  nodes_.at(normalize_absolute(path)).xattrs[name] = std::move(value);
}

int MemoryGuest::lookup(const std::string& path, const Node** node) const {
  auto it = nodes_.find(path);
  if (it != nodes_.end()) {
    *node = &it->second;
    return 0;
  }
  // Missing: ENOTDIR when some ancestor is not a directory, like the kernel.
  for (std::string p = path_dirname(path); !p.empty() && p != "/"; p = path_dirname(p)) {
    auto a = nodes_.find(p);
    if (a != nodes_.end()) return S_ISDIR(a->second.mode) ? ENOENT : ENOTDIR;
  }
  return ENOENT;
}

int MemoryGuest::lstat(const std::string& path, struct stat* st) const {
  const Node* n = nullptr;
  if (int e = lookup(path, &n)) return e;
  std::memset(st, 0, sizeof *st);
  st->st_mode = n->mode;
  st->st_ino = n->ino;
  st->st_dev = 1;
  st->st_nlink = S_ISDIR(n->mode) ? 2 : 1;
  st->st_size = static_cast<off_t>(S_ISDIR(n->mode) ? 4096 : n->data.size());
  st->st_blksize = 4096;
  st->st_blocks = (st->st_size + 511) / 512;
  return 0;
}

std::string MemoryGuest::readlink(const std::string& path, int* err) const {
  const Node* n = nullptr;
  *err = lookup(path, &n);
  if (*err) return "";
  if (!S_ISLNK(n->mode)) {
    *err = EINVAL;
    return "";
  }
  return n->data;
}

Result<std::string> MemoryGuest::read_file(const std::string& path, uint64_t max_bytes) const {
  const Node* n = nullptr;
  if (int e = lookup(path, &n)) return errno_error(e, fmt::format("{}: cannot open: {}", path, std::strerror(e)));
  if (S_ISLNK(n->mode))  // read_file opens without O_NOFOLLOW; GuestRoot never passes links
    return bad_input(fmt::format("{}: not a regular file", path));
  if (S_ISDIR(n->mode)) return bad_input(fmt::format("{}: is a directory", path));
  if (!S_ISREG(n->mode)) return bad_input(fmt::format("{}: not a regular file", path));
  if (n->data.size() > max_bytes)
    return bad_input(fmt::format("{}: too large ({} bytes, limit {})", path, n->data.size(), max_bytes));
  return n->data;
}

std::vector<std::string> MemoryGuest::list_directory(const std::string& path, int* err) const {
  std::vector<std::string> names;
  const Node* n = nullptr;
  *err = lookup(path, &n);
  if (*err) return names;
  if (!S_ISDIR(n->mode)) {
    *err = ENOTDIR;
    return names;
  }
  std::string prefix = path == "/" ? "/" : path + "/";
  for (auto it = nodes_.upper_bound(prefix); it != nodes_.end(); ++it) {
    const std::string& p = it->first;
    if (p.compare(0, prefix.size(), prefix) != 0) break;
    if (p.find('/', prefix.size()) == std::string::npos) names.push_back(p.substr(prefix.size()));
  }
  return names;
}

std::string MemoryGuest::get_xattr(const std::string& path, const std::string& name) const {
  const Node* n = nullptr;
  if (lookup(path, &n)) return "";
  auto it = n->xattrs.find(name);
  return it == n->xattrs.end() ? "" : it->second;
}

}  // namespace decant

namespace decant {

std::vector<std::string> MemoryGuest::list_xattrs(const std::string& path) const {
  std::vector<std::string> out;
  const Node* n = nullptr;
  if (lookup(path, &n)) return out;
  for (const auto& [k, v] : n->xattrs) out.push_back(k);
  return out;
}

}  // namespace decant
