// Computes the file set of an image (see file_set.h): the minimal closure of
// a profile or the whole guest, walked through GuestRoot so every path, and
// every symlink on the way to it, is the guest's and never the host's.
#include "packager/file_set.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <set>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <fmt/format.h>

#include "common/file_util.h"
#include "common/text.h"

namespace decant {

namespace {


// Security labels belong to the host that wrote them; file capabilities and
// user attributes belong to the application and travel with it.
bool keep_xattr(const std::string& name) { return name != "security.selinux"; }

// Through GuestFs: a guest read from an archive or image has its
// attributes in the index, not on the materialized copy.
std::vector<std::pair<std::string, std::string>> read_xattrs(const GuestFs& fs, const std::string& canonical) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& name : fs.list_xattrs(canonical)) {
    if (name.empty() || !keep_xattr(name)) continue;
    out.emplace_back(name, fs.get_xattr(canonical, name));
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Data extents of a file with holes, so writers store holes as holes.
std::vector<std::pair<uint64_t, uint64_t>> sparse_map(const std::string& host, const struct stat& st) {
  std::vector<std::pair<uint64_t, uint64_t>> out;
  if (static_cast<uint64_t>(st.st_blocks) * 512 >= static_cast<uint64_t>(st.st_size)) return out;
  int fd = ::open(host.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  off_t pos = 0;
  while (pos < st.st_size) {
    off_t data = ::lseek(fd, pos, SEEK_DATA);
    if (data < 0) break;  // ENXIO: only a hole remains
    off_t hole = ::lseek(fd, data, SEEK_HOLE);
    if (hole < 0) hole = st.st_size;
    out.emplace_back(static_cast<uint64_t>(data), static_cast<uint64_t>(hole - data));
    pos = hole;
  }
  ::close(fd);
  // A file whose holes could not be found is written dense; a fully sparse
  // file keeps an empty extent at its end so readers know its size.
  if (out.empty()) out.emplace_back(static_cast<uint64_t>(st.st_size), 0);
  return out;
}

std::string parent_of(const std::string& path) { return path_dirname(path); }

// The deepest directory of path that the guest has ("/" when none).
std::string existing_ancestor(const GuestRoot& root, const std::string& path) {
  std::string dir = parent_of(path);
  while (dir != "/" && !root.is_directory(dir)) dir = parent_of(dir);
  return dir;
}

// The guest directory an optional written file would be created in; "" when
// the guest has no such directory or it is, through the guest's symlinks
// (/var/run/x.pid lands in /run), one the runtime mounts fresh.
std::string optional_write_dir(const GuestRoot& root, const std::string& path) {
  std::string parent = parent_of(normalize_absolute(path));
  auto dir = root.resolve(parent);
  if (!dir || !root.is_directory(*dir) || *dir == "/") return "";
  for (const std::string fresh : {"/run", "/tmp", "/dev", "/proc", "/sys"})
    if (*dir == fresh || dir->compare(0, fresh.size() + 1, fresh + "/") == 0) return "";
  return parent;  // the walker brings the links on the way too
}

class Walker {
 public:
  Walker(const GuestRoot& root, FileSet& set, PackageMode mode, const GuestUser& user)
      : root_(root), set_(set), mode_(mode), user_(user) {}

  Status add(const std::string& guest_path, bool recursive);
  // Only the symlinks resolving guest_path crosses (/var/lock -> /run/lock),
  // for a path whose target the runtime provides.
  void add_links(const std::string& guest_path);
  void keep_links(const std::vector<std::string>& links);
  // While set, entries keep their guest owners (what the application writes).
  void keep_owners(bool keep) { keep_owners_ = keep; }
  // with_link_targets: a symlink met in the tree also brings what it points
  // at (a directory the profile names must work, even where its links lead
  // out of it); the whole-guest walk of system mode has every target anyway.
  Status add_tree(const std::string& canonical, const std::vector<std::string>& exclude_all,
                  const std::vector<std::string>& exclude_content, const std::vector<std::string>& files_only_dirs,
                  bool with_link_targets = false);

 private:
  void ensure_parents(const std::string& canonical);
  Status add_object(const std::string& canonical, const struct stat& st, bool recursive);
  FileEntry entry_from(const std::string& canonical, const struct stat& st) const;
  void owner(FileEntry& e, const struct stat& st) const;

  const GuestRoot& root_;
  FileSet& set_;
  PackageMode mode_;
  const GuestUser& user_;
  bool keep_owners_ = false;
};

// Ids the minimal /etc/passwd and /etc/group carry (system_accounts below).
bool system_id(uint32_t id) { return id < 1000 || id >= 65534; }

void Walker::owner(FileEntry& e, const struct stat& st) const {
  // Owners travel: a daemon that drops to www-data opens what www-data owned
  // in the VM, and root in the container has no CAP_DAC_OVERRIDE to open the
  // rest. Only people's accounts, which the minimal /etc/passwd leaves out,
  // become root's (unless the application writes the path).
  bool keep = mode_ == PackageMode::System || keep_owners_;
  e.uid = keep || system_id(st.st_uid) || st.st_uid == user_.uid ? st.st_uid : 0;
  e.gid = keep || system_id(st.st_gid) || st.st_gid == user_.gid ? st.st_gid : 0;
}

// Metadata, link targets and xattrs come through GuestRoot's filesystem
// interface; file data is read from the host file the entry names.
FileEntry Walker::entry_from(const std::string& canonical, const struct stat& st) const {
  std::string host = root_.host_path(canonical);
  FileEntry e;
  e.mode = st.st_mode & 07777;
  owner(e, st);
  if (S_ISDIR(st.st_mode)) {
    e.type = EntryType::Directory;
  } else if (S_ISLNK(st.st_mode)) {
    e.type = EntryType::Symlink;
    e.mode = 0777;
    int err = 0;
    e.target = root_.fs().readlink(canonical, &err);
    return e;
  } else if (S_ISFIFO(st.st_mode)) {
    e.type = EntryType::Fifo;
  } else {
    e.type = EntryType::File;
    e.source = host;
    e.size = static_cast<uint64_t>(st.st_size);
    e.sparse = sparse_map(host, st);
    if (st.st_nlink > 1) {
      e.dev = st.st_dev;
      e.ino = st.st_ino;
    }
  }
  e.xattrs = read_xattrs(root_.fs(), canonical);
  return e;
}

void Walker::ensure_parents(const std::string& canonical) {
  std::vector<std::string> comps = split_path(canonical);
  std::string prefix;
  for (size_t i = 0; i + 1 < comps.size(); ++i) {
    prefix += "/" + comps[i];
    if (set_.entries.count(prefix)) continue;
    struct stat st;
    if (root_.fs().lstat(prefix, &st) == 0 && S_ISDIR(st.st_mode)) {
      FileEntry e;
      e.type = EntryType::Directory;
      e.mode = st.st_mode & 07777;
      owner(e, st);
      set_.entries.emplace(prefix, std::move(e));
    } else {
      set_.add_directory(prefix);
    }
  }
}

Status Walker::add_object(const std::string& canonical, const struct stat& st, bool recursive) {
  if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
    set_.notes.push_back(fmt::format("skipped device node {} (the runtime provides /dev)", canonical));
    return Status::success();
  }
  if (S_ISSOCK(st.st_mode)) {
    set_.notes.push_back(fmt::format("skipped socket {} (recreated by the application)", canonical));
    return Status::success();
  }
  ensure_parents(canonical);
  if (!set_.entries.count(canonical)) set_.entries.emplace(canonical, entry_from(canonical, st));
  if (S_ISDIR(st.st_mode) && recursive) return add_tree(canonical, {}, {}, {}, true);
  return Status::success();
}

void Walker::add_links(const std::string& guest_path) {
  std::vector<std::string> links;
  if (guest_path.empty() || guest_path[0] != '/' || !root_.resolve(guest_path, true, &links)) return;
  keep_links(links);
}

void Walker::keep_links(const std::vector<std::string>& links) {
  for (const auto& link : links) {
    if (set_.entries.count(link)) continue;
    struct stat st;
    if (root_.fs().lstat(link, &st) != 0) continue;
    ensure_parents(link);
    set_.entries.emplace(link, entry_from(link, st));
  }
}

Status Walker::add(const std::string& guest_path, bool recursive) {
  if (guest_path.empty() || guest_path[0] != '/')
    return bad_input(fmt::format("{}: not an absolute guest path", guest_path));
  std::vector<std::string> links;
  auto canonical = root_.resolve(guest_path, true, &links);
  if (!canonical) return bad_input(canonical.error().message + " in the guest");
  // The links themselves travel, so the path the application uses still works.
  keep_links(links);
  if (*canonical == "/") return Status::success();  // the guest root itself
  struct stat st;
  if (int err = root_.fs().lstat(*canonical, &st); err != 0)
    return bad_input(fmt::format("{}: {} in the guest", guest_path, std::strerror(err)));
  return add_object(*canonical, st, recursive);
}

bool under(const std::string& path, const std::string& dir) {
  return path == dir || (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/');
}

Status Walker::add_tree(const std::string& canonical, const std::vector<std::string>& exclude_all,
                        const std::vector<std::string>& exclude_content,
                        const std::vector<std::string>& files_only_dirs, bool with_link_targets) {
  // Iterative depth-first walk; never follows symlinks (they are entries).
  std::vector<std::string> stack{canonical};
  while (!stack.empty()) {
    std::string dir = stack.back();
    stack.pop_back();
    bool drop_files = std::any_of(files_only_dirs.begin(), files_only_dirs.end(),
                                  [&](const std::string& d) { return under(dir, d); });
    if (std::find(exclude_content.begin(), exclude_content.end(), dir) != exclude_content.end()) continue;
    // Through GuestRoot: should dir have become a symlink since it was
    // seen, it is followed inside the guest, never out to the host.
    auto names = root_.list_directory(dir);
    if (!names) return env_error(fmt::format("cannot read guest directory: {}", names.error().message));
    for (auto it = names->rbegin(); it != names->rend(); ++it) {
      std::string child = (dir == "/" ? "" : dir) + "/" + *it;
      if (std::find(exclude_all.begin(), exclude_all.end(), child) != exclude_all.end()) continue;
      struct stat st;
      if (root_.fs().lstat(child, &st) != 0) continue;  // vanished meanwhile
      if (drop_files && !S_ISDIR(st.st_mode)) continue;
      if (S_ISDIR(st.st_mode)) {
        ensure_parents(child);
        if (!set_.entries.count(child)) set_.entries.emplace(child, entry_from(child, st));
        stack.push_back(child);
      } else {
        Status s = add_object(child, st, false);
        if (!s) return s;
        // A dangling or refused target leaves the link as the guest had it.
        if (with_link_targets && S_ISLNK(st.st_mode)) (void)add(child, false);
      }
    }
  }
  return Status::success();
}

// Files sharing one guest inode become one file and hard links to it; the
// link target is the path that sorts first, because writers emit in order.
void link_shared_inodes(FileSet& set) {
  std::map<std::pair<uint64_t, uint64_t>, std::string> first;
  for (auto& [path, e] : set.entries) {
    if (e.type != EntryType::File || e.ino == 0) continue;
    auto key = std::make_pair(e.dev, e.ino);
    auto it = first.find(key);
    if (it == first.end()) {
      first.emplace(key, path);
      continue;
    }
    e.type = EntryType::Hardlink;
    e.target = it->second;
    e.source.clear();
    e.size = 0;
    e.sparse.clear();
  }
}

Result<std::string> guest_text(const GuestRoot& root, const std::string& path) {
  if (!root.is_regular_file(path)) return std::string();
  return root.read_file(path, 4 << 20);
}

// The guest's line for name in a colon-separated database, or "".
std::string find_line(const std::string& db, const std::string& key, size_t field) {
  for (std::string_view line_view : lines(db)) {
    std::string line(line_view);
    std::vector<std::string> f;
    size_t a = 0;
    for (;;) {
      size_t b = line.find(':', a);
      f.push_back(line.substr(a, b == std::string::npos ? std::string::npos : b - a));
      if (b == std::string::npos) break;
      a = b + 1;
    }
    if (f.size() > field && f[field] == key) return line;
  }
  return "";
}

std::string field_of(const std::string& line, size_t field) {
  size_t a = 0;
  for (size_t k = 0; k < field; ++k) {
    a = line.find(':', a);
    if (a == std::string::npos) return "";
    ++a;
  }
  return line.substr(a, line.find(':', a) == std::string::npos ? std::string::npos : line.find(':', a) - a);
}

bool parse_u32(const std::string& s, uint32_t& out) {
  if (s.empty() || s.size() > 10 || !std::all_of(s.begin(), s.end(), ::isdigit)) return false;
  unsigned long v = std::stoul(s);
  if (v > 0xffffffffUL) return false;
  out = static_cast<uint32_t>(v);
  return true;
}

bool closure_has(const Profile& p, const std::vector<std::string>& prefixes) {
  for (const auto& lib : p.libraries)
    for (const auto& pre : prefixes)
      if (lib.soname.compare(0, pre.size(), pre) == 0) return true;
  return false;
}

// The path ld.so opens (libraries[].opened_as), whose symlinks must travel too.
std::vector<std::string> found_paths(const Library& lib) {
  if (lib.opened_as.empty()) return {};
  return {lib.opened_as};
}

// The guest's account database (passwd or group: the id is field 2) reduced
// to system accounts plus the service's own; fallback when the guest has none.
std::string system_accounts(const GuestRoot& root, const std::string& db, uint32_t keep_id,
                            const std::string& fallback, const std::string& service_line) {
  auto text = guest_text(root, db);
  std::string out;
  bool have_service = service_line.empty();
  if (text.ok()) {
    for (std::string_view line_view : lines(*text)) {
      std::string line(line_view);
      uint32_t id;
      if (line.empty() || line[0] == '#' || !parse_u32(field_of(line, 2), id)) continue;
      if (id < 1000 || id >= 65534 || id == keep_id) {
        out += line + "\n";
        if (id == keep_id) have_service = true;
      }
    }
  }
  if (out.empty()) out = fallback;
  if (!have_service) out += service_line + "\n";
  return out;
}

// /etc files the closure's code opens by a literal name (glibc's host.conf,
// gai.conf, services, protocols; a library's mime.types): every such string
// in the program and its libraries that names a world-readable regular file
// in the guest travels, so the general rule covers what no list names.
// Files the minimal /etc generates are left to it; files only their owner
// may read (shadow, keys) are never copied this way; ld.so.preload would
// preload libraries outside the closure.
template <typename Want>
void add_literal_etc_files(const GuestRoot& root, const Profile& p, FileSet& set, Want&& want) {
  static const std::set<std::string> kGenerated = {"/etc/passwd", "/etc/group", "/etc/hosts", "/etc/resolv.conf",
                                                   "/etc/nsswitch.conf", "/etc/ld.so.preload"};
  std::vector<std::string> objects{p.binary.path};
  for (const auto& lib : p.libraries) objects.push_back(lib.path);
  std::set<std::string> seen;
  for (const auto& object : objects) {
    auto bytes = root.read_file(object, 256ull << 20);
    if (!bytes) continue;
    for (const auto& path : literal_paths(*bytes, "/etc/")) {
      if (kGenerated.count(path) || set.entries.count(path) || !seen.insert(path).second) continue;
      auto canonical = root.resolve(path);
      struct stat st;
      // /etc/mtab -> /proc/self/mounts: kernel and run-time state is the
      // runtime's, not the guest's (and differs from one read to the next).
      if (canonical && (under(*canonical, "/proc") || under(*canonical, "/sys") || under(*canonical, "/dev") ||
                        under(*canonical, "/run") || under(*canonical, "/tmp")))
        continue;
      if (!canonical || root.fs().lstat(*canonical, &st) != 0 || !S_ISREG(st.st_mode) || !(st.st_mode & S_IROTH) ||
          st.st_size > (4 << 20))
        continue;
      want(path, false);
    }
  }
}

Status add_minimal(const GuestRoot& root, const Profile& p, const GuestUser& user, Walker& w, FileSet& set) {
  std::vector<std::string> missing;
  auto need = [&](const std::string& path, bool recursive) {
    Status s = w.add(path, recursive);
    if (!s) missing.push_back(fmt::format("{} ({})", path, s.error().message));
  };
  auto want = [&](const std::string& path, bool recursive) {
    if (root.exists(path)) {
      Status s = w.add(path, recursive);
      if (!s) set.notes.push_back(s.error().message);
    }
  };

  // 1. The program, its interpreter and its whole closure, with the links ld.so follows.
  need(p.binary.path, false);
  if (!p.binary.interpreter.empty()) need(p.binary.interpreter, false);
  std::string libc_dir;
  for (const auto& lib : p.libraries) {
    need(lib.path, false);
    want(path_dirname(lib.path) + "/" + lib.soname, false);
    for (const auto& f : found_paths(lib)) want(f, false);
    if (lib.soname == "libc.so.6") libc_dir = path_dirname(lib.path);
  }
  // ld.so consults its cache for libraries found through ld.so.conf.
  want("/etc/ld.so.cache", false);

  // 2. The files the profile names.
  for (const auto& f : p.files) {
    if (!root.exists(f.path)) {
      if (f.optional) {
        set.notes.push_back(fmt::format("optional file {} is not in the guest; packaged without it", f.path));
        // An optional log or pid file the daemon may create: the directory
        // it would go to comes as the guest had it, so that creating it
        // works when the configuration does name it.
        if (f.access == "write") {
          std::string dir = optional_write_dir(root, f.path);
          if (!dir.empty()) {
            w.keep_owners(true);
            want(dir, false);
            w.keep_owners(false);
          } else {
            w.add_links(parent_of(normalize_absolute(f.path)));  // the runtime's /run holds the rest
          }
        }
      } else if (f.access == "write") {
        // Something the application creates (a log, a mkstemp template):
        // its directory becomes writable instead, and starts as the guest's
        // directory, with its owner and mode (the VM created the log there).
        set.notes.push_back(fmt::format("{} is not in the guest; the application creates it", f.path));
        std::string dir = existing_ancestor(root, normalize_absolute(f.path));
        if (dir != "/") {
          w.keep_owners(true);
          need(dir, false);
          w.keep_owners(false);
        }
      } else
        missing.push_back(f.path);
      continue;
    }
    // A directory the application writes starts as the guest left it, but
    // without its old contents (logs, pid files); one it reads travels whole.
    // What the application writes keeps its guest owner: a daemon that
    // drops to www-data must still open its log.
    w.keep_owners(f.access == "write");
    need(f.path, f.access != "write");
    w.keep_owners(false);
  }
  if (!missing.empty()) {
    std::string list;
    for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
    return bad_input(fmt::format("guest files named by the profile are missing: {} "
                                 "(mark a file `optional: true` to package without it)",
                                 list));
  }

  // 3. A minimal /etc: who the service runs as, name resolution, time zone, CAs.
  // Legacy daemons drop privileges to an account named in their own config
  // (lighttpd's www-data), so every system account travels; people's
  // accounts (ids 1000-65533) do not.
  set.add_inline("/etc/passwd", system_accounts(root, "/etc/passwd", user.uid, "root:x:0:0:root:/root:/bin/sh\n",
                                                user.uid != 0 ? (user.passwd_line.empty()
                                                                     ? fmt::format("{}:x:{}:{}::/:/usr/sbin/nologin",
                                                                                   user.name, user.uid, user.gid)
                                                                     : user.passwd_line)
                                                              : ""));
  set.add_inline("/etc/group", system_accounts(root, "/etc/group", user.gid, "root:x:0:\n",
                                               user.gid != 0 ? (user.group_line.empty()
                                                                    ? fmt::format("{}:x:{}:", user.group, user.gid)
                                                                    : user.group_line)
                                                             : ""));
  // Daemons resolve their own name at start ("unable to determine IP address").
  set.add_inline("/etc/hosts", fmt::format("127.0.0.1\tlocalhost\n127.0.1.1\t{}\n::1\tlocalhost ip6-localhost "
                                           "ip6-loopback\n",
                                           container_hostname(p)));
  set.add_inline("/etc/resolv.conf", "# replaced by the container runtime\n");
  auto nss = guest_text(root, "/etc/nsswitch.conf");
  if (nss.ok() && !nss->empty())
    set.add_inline("/etc/nsswitch.conf", *nss);
  else
    set.add_inline("/etc/nsswitch.conf", "passwd: files\ngroup: files\nhosts: files dns\n");
  want("/etc/localtime", false);
  add_literal_etc_files(root, p, set, want);
  // glibc loads its NSS modules with dlopen(), which no ELF scan sees.
  if (!libc_dir.empty())
    for (const char* m : {"libnss_files.so.2", "libnss_dns.so.2", "libresolv.so.2"}) want(libc_dir + "/" + m, false);
  if (closure_has(p, {"libssl", "libgnutls", "libnss3", "libcurl", "libcrypto"})) {
    if (root.exists("/etc/ssl/certs/ca-certificates.crt"))
      want("/etc/ssl/certs/ca-certificates.crt", false);
    else
      set.notes.push_back("TLS libraries in the closure but no /etc/ssl/certs/ca-certificates.crt in the guest");
  }
  return Status::success();
}

// A written path the service user cannot write as packaged gets the
// smallest change that lets it: root (whom the VM's kernel let write
// anything) gets CAP_DAC_OVERRIDE and every owner stays, so an account it
// drops to still owns its files; another user becomes the owner of that one
// entry. Each change is a warning naming the path, owner and mode.
void fix_write_access(const Profile& p, FileSet& set) {
  for (const auto& f : p.files) {
    if (f.access != "write") continue;
    std::string path = normalize_absolute(f.path);
    if (can_write(set, path, set.uid, set.gid)) continue;
    std::string target = set.entries.count(path) ? path : parent_of(path);
    if (target == "/" || !set.entries.count(target)) continue;
    FileEntry& e = set.entries.at(target);
    std::string was = fmt::format("{} (owner {}:{}, mode {:04o})", target, e.uid, e.gid, e.mode);
    if (set.uid == 0) {
      set.access_warnings.push_back(fmt::format("root writes {} but does not own it: granting CAP_DAC_OVERRIDE, "
                                                "which the VM's root had", was));
      continue;
    }
    e.uid = set.uid;
    e.mode |= e.type == EntryType::Directory ? 0300 : 0200;
    set.access_warnings.push_back(fmt::format("the service user {} could not write {}: it now owns it", set.uid, was));
  }
}

Status add_system(const GuestRoot& root, Walker& w, FileSet& set) {
  // Pseudo filesystems and scratch space keep their (empty) mount points;
  // kernel modules belong to the host kernel, caches and logs to the old VM.
  const std::vector<std::string> exclude_all = {"/lib/modules", "/usr/lib/modules", "/.decant-guest-complete"};
  // /var/log and /var/tmp keep their content: system mode is the VM's
  // state as it was, and they become volumes pre-filled with it.
  const std::vector<std::string> exclude_content = {"/boot", "/proc", "/sys", "/dev", "/run", "/tmp",
                                                    "/var/cache/apt", "/var/lib/apt/lists", "/var/cache/debconf"};
  return w.add_tree("/", exclude_all, exclude_content, {});
}

}  // namespace

std::vector<std::string> literal_paths(const std::string& bytes, const std::string& prefix) {
  std::set<std::string> out;
  auto path_char = [](unsigned char c) { return std::isalnum(c) || c == '/' || c == '.' || c == '_' || c == '-' || c == '+'; };
  for (size_t at = bytes.find(prefix); at != std::string::npos; at = bytes.find(prefix, at + 1)) {
    if (at > 0 && bytes[at - 1] != '\0') continue;  // the tail of a longer string
    size_t end = at;
    while (end < bytes.size() && end - at < 256 && path_char(static_cast<unsigned char>(bytes[end]))) ++end;
    if (end >= bytes.size() || bytes[end] != '\0' || end == at + prefix.size()) continue;
    std::string path = bytes.substr(at, end - at);
    if (path.back() != '/' && path.find("//") == std::string::npos && path.find("/.") == std::string::npos)
      out.insert(path);
  }
  return std::vector<std::string>(out.begin(), out.end());
}

bool root_needs_dac_override(const FileSet& set, const Profile& p) {
  if (set.uid != 0) return false;
  return std::any_of(p.files.begin(), p.files.end(),
                     [&](const FileFact& f) { return f.access == "write" && !can_write(set, f.path, 0, set.gid); });
}

bool can_write(const FileSet& set, const std::string& path_in, uint32_t uid, uint32_t gid) {
  // Owner bits for the owner, group bits for the group, else other's: as
  // the kernel checks, with no capability to override them.
  auto permits = [&](const FileEntry& e, unsigned bits) {
    unsigned m = e.uid == uid ? e.mode >> 6 : e.gid == gid ? e.mode >> 3 : e.mode;
    return (m & bits) == bits;
  };
  std::string path = normalize_absolute(path_in);
  auto it = set.entries.find(path);
  if (it != set.entries.end()) {
    if (it->second.type == EntryType::Directory) return permits(it->second, 03);
    if (it->second.type == EntryType::Symlink) return true;  // its target is checked where it is named
    return permits(it->second, 02);
  }
  // Created by the application in its directory, which becomes a volume;
  // when the guest has no such directory the packager creates it for the
  // service user.
  auto d = set.entries.find(parent_of(path));
  return d == set.entries.end() || d->second.type != EntryType::Directory || permits(d->second, 03);
}

uint64_t FileSet::total_bytes() const {
  uint64_t n = 0;
  for (const auto& [path, e] : entries)
    if (e.type == EntryType::File) n += e.content ? e.content->size() : e.size;
  return n;
}

void FileSet::add_directory(const std::string& path, unsigned mode) {
  std::string p = path;
  std::vector<std::string> chain;
  while (!p.empty() && p != "/") {
    chain.push_back(p);
    p = parent_of(p);
  }
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    if (entries.count(*it)) continue;
    FileEntry e;
    e.type = EntryType::Directory;
    e.mode = *it == path ? mode : 0755;
    entries.emplace(*it, std::move(e));
  }
}

void FileSet::add_inline(const std::string& path, std::string content, unsigned mode, uint32_t uid, uint32_t gid) {
  add_directory(parent_of(path));
  FileEntry e;
  e.type = EntryType::File;
  e.mode = mode;
  e.uid = uid;
  e.gid = gid;
  e.size = content.size();
  e.content = std::move(content);
  entries[path] = std::move(e);
}

Status FileSet::add_host_file(const std::string& path, const std::string& host_path, unsigned mode) {
  struct stat st;
  if (::stat(host_path.c_str(), &st) != 0)
    return bad_input(fmt::format("{}: {}", host_path, std::strerror(errno)));
  if (!S_ISREG(st.st_mode)) return bad_input(fmt::format("{}: not a regular file", host_path));
  add_directory(parent_of(path));
  FileEntry e;
  e.type = EntryType::File;
  e.mode = mode;
  e.source = host_path;
  e.size = static_cast<uint64_t>(st.st_size);
  entries[path] = std::move(e);
  return Status::success();
}

Result<GuestUser> lookup_guest_user(const GuestRoot& root, const std::string& user) {
  GuestUser u;
  if (user.empty() || user == "root" || user == "0" || user == "0:0") {
    u.name = u.group = "root";
    return u;
  }
  auto passwd = guest_text(root, "/etc/passwd");
  auto group = guest_text(root, "/etc/group");
  std::string name = user, grp;
  if (auto c = user.find(':'); c != std::string::npos) {
    name = user.substr(0, c);
    grp = user.substr(c + 1);
  }
  std::string pline;
  uint32_t num;
  if (parse_u32(name, num)) {
    u.uid = num;
    u.gid = num;
    if (passwd.ok()) pline = find_line(*passwd, name, 2);
  } else {
    if (passwd.ok()) pline = find_line(*passwd, name, 0);
    if (pline.empty())
      return bad_input(fmt::format("user {} of the profile is not in the guest's /etc/passwd", name));
    if (!parse_u32(field_of(pline, 2), u.uid) || !parse_u32(field_of(pline, 3), u.gid))
      return bad_input(fmt::format("guest /etc/passwd: malformed entry for {}", name));
  }
  u.passwd_line = pline;
  u.name = pline.empty() ? name : field_of(pline, 0);
  if (!grp.empty()) {
    if (parse_u32(grp, num)) {
      u.gid = num;
    } else {
      std::string gline = group.ok() ? find_line(*group, grp, 0) : "";
      if (gline.empty()) return bad_input(fmt::format("group {} of the profile is not in the guest's /etc/group", grp));
      parse_u32(field_of(gline, 2), u.gid);
    }
  }
  u.group_line = group.ok() ? find_line(*group, std::to_string(u.gid), 2) : "";
  u.group = u.group_line.empty() ? u.name : field_of(u.group_line, 0);
  // The generated passwd must agree with the ids the runtime uses.
  if (!u.passwd_line.empty() && !grp.empty()) u.passwd_line.clear();
  return u;
}

Status add_guest_path(const GuestRoot& root, const std::string& guest_path, bool recursive, FileSet& set,
                      PackageMode mode, const GuestUser& user) {
  Walker w(root, set, mode, user);
  return w.add(guest_path, recursive);
}

std::string container_hostname(const Profile& p) {
  if (!p.redirects.identity.hostname.empty()) return p.redirects.identity.hostname;
  return p.metadata.name.empty() ? path_basename(p.binary.path) : p.metadata.name;
}

Result<FileSet> collect_file_set(const GuestRoot& root, const Profile& profile, const FileSetOptions& options) {
  FileSet set;
  auto user = lookup_guest_user(root, profile.user);
  if (!user) return user.error();
  set.uid = user->uid;
  set.gid = user->gid;
  Walker w(root, set, options.mode, *user);

  Status s = options.mode == PackageMode::Minimal ? add_minimal(root, profile, *user, w, set) : add_system(root, w, set);
  if (!s) return s.error();
  if (options.mode == PackageMode::System) {
    // The whole guest must still contain what the profile names.
    for (const auto& f : profile.files)
      if (!f.optional && f.access != "write" && !root.exists(f.path))
        return bad_input(fmt::format("guest file named by the profile is missing: {} "
                                     "(mark it `optional: true` to package without it)",
                                     f.path));
  }

  fix_write_access(profile, set);

  // Mount points the runtime fills; the rootfs is read-only, so they must exist.
  for (const char* d : {"/proc", "/sys", "/dev", "/run"}) set.add_directory(d, 0755);
  set.add_directory("/tmp", 01777);
  set.entries["/tmp"].mode = 01777;

  link_shared_inodes(set);
  return set;
}

}  // namespace decant
