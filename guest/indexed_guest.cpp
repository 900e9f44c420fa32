// IndexedGuest: answers GuestFs calls from the in-memory index and keeps
// the materialized copies of file contents in a private work directory (see
// indexed_guest.h).
#include "guest/indexed_guest.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <csignal>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include "common/file_util.h"
#include "common/fs_tree.h"

namespace decant {

IndexedGuest::IndexedGuest(std::string source_name) : source_name_(std::move(source_name)) {
  Node& root = nodes_["/"];
  root.st.st_mode = S_IFDIR | 0755;
  root.st.st_ino = 1;
}

IndexedGuest::~IndexedGuest() {
  if (!workdir_.empty()) remove_tree(workdir_);
}

std::string IndexedGuest::canonical_name(const std::string& raw_name) {
  std::string out;
  for (const auto& c : split_path(raw_name)) {
    if (c == "..") return "";
    if (c != "." && !c.empty()) out += "/" + c;
  }
  return out.empty() ? "/" : out;
}

IndexedGuest::Node* IndexedGuest::put(const std::string& raw_name, mode_t mode) {
  std::vector<std::string> comps;
  for (const auto& c : split_path(raw_name)) {
    if (c == "..") return nullptr;  // an entry escaping its root is never indexed
    if (c != "." && !c.empty()) comps.push_back(c);
  }
  if (comps.empty()) {
    Node& root = nodes_["/"];
    root.st.st_mode = S_IFDIR | (mode & 07777);
    return &root;
  }
  std::string path;
  for (size_t i = 0; i < comps.size(); ++i) {
    std::string parent = path.empty() ? "/" : path;
    path += "/" + comps[i];
    auto it = nodes_.find(path);
    bool last = i + 1 == comps.size();
    if (it != nodes_.end() && (last || S_ISDIR(it->second.st.st_mode))) {
      if (!last) continue;
      if (S_ISDIR(it->second.st.st_mode) && S_ISDIR(mode)) {  // a directory seen again keeps its children
        it->second.st.st_mode = mode;
        return &it->second;
      }
      if (S_ISDIR(it->second.st.st_mode)) {  // replaced by a non-directory: its tree goes
        std::string prefix = path + "/";
        for (auto c = nodes_.lower_bound(prefix); c != nodes_.end() && c->first.compare(0, prefix.size(), prefix) == 0;)
          c = nodes_.erase(c);
      }
      Node fresh;
      fresh.st.st_mode = mode;
      it->second = std::move(fresh);
      return &it->second;
    }
    if (it != nodes_.end()) {  // a non-directory in the middle of a path becomes a directory
      nodes_.erase(it);
    } else {
      nodes_[parent].children.push_back(comps[i]);
    }
    Node& n = nodes_[path];
    n.st.st_mode = last ? mode : (S_IFDIR | 0755);
    if (last) return &n;
  }
  return nullptr;
}

void IndexedGuest::finish_index() {
  std::map<ino_t, nlink_t> links;
  ino_t next = 2;
  for (auto& [path, n] : nodes_) {
    if (n.st.st_ino == 0) n.st.st_ino = next++;
    else next = std::max(next, n.st.st_ino + 1);
  }
  for (auto& [path, n] : nodes_) {
    std::sort(n.children.begin(), n.children.end());
    n.children.erase(std::unique(n.children.begin(), n.children.end()), n.children.end());
    if (!S_ISDIR(n.st.st_mode)) ++links[n.st.st_ino];
  }
  for (auto& [path, n] : nodes_) {
    n.st.st_dev = 1;
    n.st.st_blksize = 4096;
    if (S_ISDIR(n.st.st_mode)) {
      n.st.st_nlink = 2;
      n.st.st_size = 4096;
    } else {
      n.st.st_nlink = links[n.st.st_ino];
    }
    if (S_ISLNK(n.st.st_mode)) n.st.st_size = static_cast<off_t>(n.target.size());
    // Files are materialized dense, so they are reported dense: the
    // packager then records the same bytes as from the unpacked directory.
    n.st.st_blocks = (n.st.st_size + 511) / 512;
  }
}

const IndexedGuest::Node* IndexedGuest::find(const std::string& path) const {
  auto it = nodes_.find(path.empty() ? "/" : path);
  return it == nodes_.end() ? nullptr : &it->second;
}

int IndexedGuest::lstat(const std::string& path, struct stat* st) const {
  if (const Node* n = find(path)) {
    *st = n->st;
    return 0;
  }
  for (std::string p = path_dirname(path); !p.empty() && p != "/"; p = path_dirname(p))
    if (const Node* a = find(p)) return S_ISDIR(a->st.st_mode) ? ENOENT : ENOTDIR;
  return ENOENT;
}

std::string IndexedGuest::readlink(const std::string& path, int* err) const {
  struct stat st;
  *err = lstat(path, &st);
  if (*err) return "";
  if (!S_ISLNK(st.st_mode)) {
    *err = EINVAL;
    return "";
  }
  return find(path)->target;
}

std::vector<std::string> IndexedGuest::list_directory(const std::string& path, int* err) const {
  struct stat st;
  *err = lstat(path, &st);
  if (*err) return {};
  if (!S_ISDIR(st.st_mode)) {
    *err = ENOTDIR;
    return {};
  }
  return find(path)->children;
}

std::string IndexedGuest::get_xattr(const std::string& path, const std::string& name) const {
  const Node* n = find(path);
  if (!n) return "";
  auto it = n->xattrs.find(name);
  return it == n->xattrs.end() ? "" : it->second;
}

std::vector<std::string> IndexedGuest::list_xattrs(const std::string& path) const {
  std::vector<std::string> out;
  if (const Node* n = find(path))
    for (const auto& [k, v] : n->xattrs) out.push_back(k);
  return out;
}

// Work directories of decant processes that were killed (SIGKILL, or a
// signal whose handler exits without unwinding) are removed once their
// process is gone: the name carries its pid.
void remove_stale_workdirs(const std::string& tmp, const std::string& prefix) {
  DIR* d = ::opendir(tmp.c_str());
  if (!d) return;
  while (struct dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    long pid = std::strtol(name.c_str() + prefix.size(), nullptr, 10);
    if (pid <= 0 || pid == ::getpid() || ::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
    struct stat st;
    std::string path = tmp + "/" + name;
    if (::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == ::geteuid()) remove_tree(path);
  }
  ::closedir(d);
}

Status IndexedGuest::ensure_workdir() const {
  if (!workdir_.empty()) return Status::success();
  const char* tmp = std::getenv("TMPDIR");
  std::string dir = tmp && *tmp ? tmp : "/tmp";
  remove_stale_workdirs(dir, "decant-source-");
  std::string tmpl = fmt::format("{}/decant-source-{}-XXXXXX", dir, ::getpid());
  if (!::mkdtemp(&tmpl[0])) return env_error(fmt::format("{}: cannot create a work directory: {}", tmpl, std::strerror(errno)));
  workdir_ = tmpl;
  return Status::success();
}

Status IndexedGuest::check_entry_count() const {
  if (nodes_.size() < kMaxEntries) return Status::success();
  return bad_input(fmt::format("{}: more than {} entries: not a guest decant reads", source_name_, kMaxEntries));
}

Status IndexedGuest::charge_work_bytes(uint64_t bytes) const {
  const char* v = std::getenv("DECANT_SOURCE_WORK_LIMIT_MB");
  uint64_t mb = v && *v ? std::strtoull(v, nullptr, 10) : 0;
  uint64_t limit = (mb ? std::min<uint64_t>(mb, 1ull << 40) : 16384) << 20;
  uint64_t total = work_bytes_.fetch_add(bytes) + bytes;
  if (total <= limit) return Status::success();
  return bad_input(fmt::format("{}: its files expand to more than {} MiB of work copies (a compression bomb?); "
                               "raise DECANT_SOURCE_WORK_LIMIT_MB if the guest really is that large",
                               source_name_, limit >> 20));
}

Result<std::pair<int, std::string>> IndexedGuest::make_work_file(const std::string& path) const {
  if (Status s = ensure_workdir(); !s) return s.error();
  // Flat names: nothing from the guest names a host path, no directory to
  // climb out of, no link to follow.
  std::string host = fmt::format("{}/{}-{}", workdir_, next_copy_++, path_basename(path).substr(0, 64));
  int fd = ::open(host.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return env_error(fmt::format("{}: {}", host, std::strerror(errno)));
  return std::make_pair(fd, host);
}

void IndexedGuest::adopt(const Node& node, std::string host) const {
  std::lock_guard<std::mutex> lock(mu_);
  copies_[node.st.st_ino] = std::move(host);
}

bool IndexedGuest::materialized(const Node& node) const {
  std::lock_guard<std::mutex> lock(mu_);
  return copies_.count(node.st.st_ino) != 0;
}

std::string IndexedGuest::host_path(const std::string& path) const {
  const Node* n = find(path);
  if (!n || !S_ISREG(n->st.st_mode)) return "";
  std::lock_guard<std::mutex> lock(mu_);
  auto it = copies_.find(n->st.st_ino);
  if (it != copies_.end()) return it->second;
  auto file = make_work_file(path);
  if (!file) return "";
  Status s = fetch(path, *n, file->first);
  if (::close(file->first) != 0 && s) s = env_error(fmt::format("{}: {}", file->second, std::strerror(errno)));
  if (!s) {
    ::unlink(file->second.c_str());
    return "";
  }
  copies_[n->st.st_ino] = file->second;
  return file->second;
}

Result<std::string> IndexedGuest::read_file(const std::string& path, uint64_t max_bytes) const {
  const Node* n = find(path);
  if (!n) return errno_error(ENOENT, fmt::format("{}: cannot open: {}", path, std::strerror(ENOENT)));
  if (S_ISDIR(n->st.st_mode)) return bad_input(fmt::format("{}: is a directory", path));
  if (!S_ISREG(n->st.st_mode)) return bad_input(fmt::format("{}: not a regular file", path));
  uint64_t size = static_cast<uint64_t>(n->st.st_size);
  if (size > max_bytes) return bad_input(fmt::format("{}: too large ({} bytes, limit {})", path, size, max_bytes));
  std::string host = host_path(path);
  if (host.empty()) return env_error(fmt::format("{}: cannot open: its content could not be read from {}", path, source_name_));
  auto content = decant::read_file(host, max_bytes);
  if (!content) return env_error(fmt::format("{}: cannot read its copy: {}", path, content.error().message));
  return content;
}

}  // namespace decant
