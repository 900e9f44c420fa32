// ExtGuest: indexing an ext filesystem with libext2fs's directory iterator
// and copying inodes out with ext2fs_file_read (see ext_guest.h). Inline
// data, extents, fast and slow symlinks are libext2fs's business.
#include "guest/ext_guest.h"

#include <cerrno>
#include <cstring>
#include <set>
#include <unistd.h>
#include <vector>

extern "C" {  // com_err.h declares error_message() without C linkage
#include <et/com_err.h>
}
#include <ext2fs/ext2fs.h>
#include <fmt/format.h>

namespace decant {
namespace {

ext2_filsys fs_of(void* p) { return static_cast<ext2_filsys>(p); }

Result<ext2_filsys> open_fs(const std::string& image, uint64_t offset) {
  ext2_filsys fs = nullptr;
  std::string io_options = fmt::format("offset={}", offset);
  // No EXT2_FLAG_RW: the unix io manager then opens the image O_RDONLY.
  errcode_t err = ext2fs_open2(image.c_str(), io_options.c_str(), EXT2_FLAG_64BITS | EXT2_FLAG_IGNORE_CSUM_ERRORS, 0,
                               0, unix_io_manager, &fs);
  if (err) return bad_input(fmt::format("{}: no ext2/3/4 filesystem at byte {}: {}", image, offset, error_message(err)));
  return fs;
}

struct DirEntry {
  std::string name;
  ext2_ino_t ino;
};

int collect_entry(ext2_ino_t, int, struct ext2_dir_entry* d, int, int, char*, void* priv) {
  auto* out = static_cast<std::vector<DirEntry>*>(priv);
  std::string name(d->name, static_cast<size_t>(ext2fs_dirent_name_len(d)));
  if (name != "." && name != ".." && d->inode != 0) out->push_back({name, d->inode});
  return 0;
}

int collect_xattr(char* name, char* value, size_t len, void* priv) {
  (*static_cast<std::map<std::string, std::string>*>(priv))[name] = std::string(value, len);
  return 0;
}

std::string symlink_target(ext2_filsys fs, ext2_ino_t ino, struct ext2_inode& inode) {
  uint64_t size = EXT2_I_SIZE(&inode);
  if (size == 0 || size > 4096) return "";
  if (ext2fs_is_fast_symlink(&inode)) return std::string(reinterpret_cast<const char*>(inode.i_block), size);
  std::string out(size, '\0');
  if (inode.i_flags & EXT4_INLINE_DATA_FL) {
    size_t got = size;
    if (ext2fs_inline_data_get(fs, ino, &inode, &out[0], &got)) return "";
    out.resize(std::min<size_t>(got, size));
    return out;
  }
  ext2_file_t f;
  if (ext2fs_file_open(fs, ino, 0, &f)) return "";
  unsigned int got = 0;
  errcode_t err = ext2fs_file_read(f, &out[0], static_cast<unsigned>(size), &got);
  ext2fs_file_close(f);
  if (err) return "";
  out.resize(got);
  return out;
}

}  // namespace

ExtGuest::~ExtGuest() {
  if (fs_) ext2fs_close_free(reinterpret_cast<ext2_filsys*>(&fs_));
}

bool ExtGuest::looks_like_root(const std::string& image, uint64_t offset) {
  auto fs = open_fs(image, offset);
  if (!fs) return false;
  bool found = false;
  ext2_ino_t etc = 0, ino = 0;
  if (ext2fs_lookup(*fs, EXT2_ROOT_INO, "etc", 3, nullptr, &etc) == 0)
    found = ext2fs_lookup(*fs, etc, "os-release", 10, nullptr, &ino) == 0 ||
            ext2fs_lookup(*fs, etc, "fstab", 5, nullptr, &ino) == 0;
  ext2fs_close_free(&*fs);
  return found;
}

Result<std::shared_ptr<ExtGuest>> ExtGuest::open(const std::string& image, uint64_t offset,
                                                 const std::string& source_name) {
  auto fs = open_fs(image, offset);
  if (!fs) return fs.error();
  std::shared_ptr<ExtGuest> g(new ExtGuest(source_name));
  g->fs_ = *fs;
  g->image_ = image;
  if (Status s = g->index(); !s) return s.error();
  return g;
}

Status ExtGuest::index() {
  ext2_filsys fs = fs_of(fs_);
  struct Pending {
    std::string path;
    ext2_ino_t ino;
  };
  std::vector<Pending> todo{{"/", EXT2_ROOT_INO}};
  // A damaged or hostile filesystem can link a directory into itself or its
  // descendants: each directory inode is walked once.
  std::set<ext2_ino_t> walked;
  while (!todo.empty()) {
    if (Status s = check_entry_count(); !s) return s;
    Pending p = std::move(todo.back());
    todo.pop_back();
    struct ext2_inode inode;
    if (errcode_t err = ext2fs_read_inode(fs, p.ino, &inode))
      return bad_input(fmt::format("{}: {}: cannot read inode {}: {}", source_name(), p.path, p.ino, error_message(err)));
    Node* n = put(p.path, inode.i_mode);
    if (!n) continue;
    n->st.st_ino = p.ino;
    n->st.st_uid = inode_uid(inode);
    n->st.st_gid = inode_gid(inode);
    n->st.st_mtime = static_cast<time_t>(inode.i_mtime);
    n->st.st_size = static_cast<off_t>(EXT2_I_SIZE(&inode));
    n->key = p.ino;
    if (LINUX_S_ISCHR(inode.i_mode) || LINUX_S_ISBLK(inode.i_mode)) {
      n->st.st_rdev = inode.i_block[0] ? inode.i_block[0] : inode.i_block[1];
      n->st.st_size = 0;
    }
    if (LINUX_S_ISLNK(inode.i_mode)) n->target = symlink_target(fs, p.ino, inode);
    struct ext2_xattr_handle* h = nullptr;
    if (ext2fs_xattrs_open(fs, p.ino, &h) == 0) {
      if (ext2fs_xattrs_read(h) == 0) ext2fs_xattrs_iterate(h, collect_xattr, &n->xattrs);
      ext2fs_xattrs_close(&h);
    }
    if (!LINUX_S_ISDIR(inode.i_mode) || !walked.insert(p.ino).second) continue;
    std::vector<DirEntry> entries;
    if (errcode_t err = ext2fs_dir_iterate2(fs, p.ino, 0, nullptr, collect_entry, &entries))
      return bad_input(fmt::format("{}: {}: cannot read the directory: {}", source_name(), p.path, error_message(err)));
    for (auto& e : entries) todo.push_back({p.path == "/" ? "/" + e.name : p.path + "/" + e.name, e.ino});
  }
  finish_index();
  return Status::success();
}

Status ExtGuest::fetch(const std::string& path, const Node& node, int fd) const {
  ext2_filsys fs = fs_of(fs_);
  ext2_file_t f;
  if (errcode_t err = ext2fs_file_open(fs, static_cast<ext2_ino_t>(node.key), 0, &f))
    return bad_input(fmt::format("{}: {}: {}", source_name(), path, error_message(err)));
  std::vector<char> buf(1 << 16);
  Status s;
  for (;;) {
    unsigned int got = 0;
    if (errcode_t err = ext2fs_file_read(f, buf.data(), static_cast<unsigned>(buf.size()), &got)) {
      s = bad_input(fmt::format("{}: {}: {}", source_name(), path, error_message(err)));
      break;
    }
    if (got == 0) break;
    if (Status c = charge_work_bytes(got); !c) {
      s = c;
      break;
    }
    for (size_t done = 0; done < got;) {
      ssize_t w = ::write(fd, buf.data() + done, got - done);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) {
        ext2fs_file_close(f);
        return env_error(fmt::format("cannot write a work copy of {}: {}", path, std::strerror(errno)));
      }
      done += static_cast<size_t>(w);
    }
  }
  ext2fs_file_close(f);
  return s;
}

}  // namespace decant
