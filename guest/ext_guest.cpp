// ExtGuest: indexing an ext filesystem with libext2fs's directory iterator
// and copying inodes out with ext2fs_file_read (see ext_guest.h), only
// where they hold data (holes stay holes). Inline data, extents, fast and
// slow symlinks are libext2fs's business.
#include "guest/ext_guest.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
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

namespace {

// A stretch of a file that holds data: [offset, offset + length) in bytes.
struct DataRun {
  uint64_t offset;
  uint64_t length;
};

// More runs than this is no file of a guest worth converting; a hostile
// extent tree must not make the walk unbounded either.
constexpr size_t kMaxRuns = 1u << 20;

void add_run(std::vector<DataRun>& runs, uint64_t offset, uint64_t length) {
  if (!runs.empty() && runs.back().offset + runs.back().length == offset) runs.back().length += length;
  else runs.push_back({offset, length});
}

int collect_block(ext2_filsys fs, blk64_t*, e2_blkcnt_t blockcnt, blk64_t, int, void* priv) {
  auto* runs = static_cast<std::vector<DataRun>*>(priv);
  if (blockcnt < 0) return 0;  // an indirect block, not data
  add_run(*runs, static_cast<uint64_t>(blockcnt) * fs->blocksize, fs->blocksize);
  return runs->size() >= kMaxRuns ? BLOCK_ABORT : 0;
}

// Where the file has data, from its block map or extent tree: holes and
// unwritten extents read as zeros and stay holes in the work copy, so a
// sparse file (lastlog, a hostile size) costs what it holds, not its size.
// nullopt: let ext2fs_file_read read it whole (inline data, odd trees).
std::optional<std::vector<DataRun>> data_runs(ext2_filsys fs, ext2_ino_t ino, ext2_inode& inode) {
  std::vector<DataRun> runs;
  if (inode.i_flags & EXT4_INLINE_DATA_FL) return std::nullopt;
  if (!(inode.i_flags & EXT4_EXTENTS_FL)) {
    if (ext2fs_block_iterate3(fs, ino, BLOCK_FLAG_DATA_ONLY | BLOCK_FLAG_READ_ONLY, nullptr, collect_block, &runs))
      return std::nullopt;
    return runs.size() < kMaxRuns ? std::optional(runs) : std::nullopt;
  }
  ext2_extent_handle_t h;
  if (ext2fs_extent_open2(fs, ino, &inode, &h)) return std::nullopt;
  struct ext2fs_extent e;
  size_t steps = 0;
  for (errcode_t err = ext2fs_extent_get(h, EXT2_EXTENT_ROOT, &e); !err && ++steps < 4 * kMaxRuns;
       err = ext2fs_extent_get(h, EXT2_EXTENT_NEXT, &e)) {
    if (!(e.e_flags & EXT2_EXTENT_FLAGS_LEAF) || (e.e_flags & EXT2_EXTENT_FLAGS_SECOND_VISIT)) continue;
    if (e.e_flags & EXT2_EXTENT_FLAGS_UNINIT) continue;
    add_run(runs, e.e_lblk * fs->blocksize, static_cast<uint64_t>(e.e_len) * fs->blocksize);
    if (runs.size() >= kMaxRuns) break;
  }
  ext2fs_extent_free(h);
  return steps < 4 * kMaxRuns && runs.size() < kMaxRuns ? std::optional(runs) : std::nullopt;
}

}  // namespace

// Copies the file's data runs to the same offsets of fd, then sets its
// size: what ext2fs_file_read would give, zeros where the file has holes.
Status ExtGuest::fetch(const std::string& path, const Node& node, int fd) const {
  ext2_filsys fs = fs_of(fs_);
  auto ino = static_cast<ext2_ino_t>(node.key);
  ext2_inode inode;
  if (errcode_t err = ext2fs_read_inode(fs, ino, &inode))
    return bad_input(fmt::format("{}: {}: {}", source_name(), path, error_message(err)));
  uint64_t size = EXT2_I_SIZE(&inode);
  auto runs = data_runs(fs, ino, inode);
  if (!runs) runs = std::vector<DataRun>{{0, size}};
  ext2_file_t f;
  if (errcode_t err = ext2fs_file_open(fs, ino, 0, &f))
    return bad_input(fmt::format("{}: {}: {}", source_name(), path, error_message(err)));
  std::vector<char> buf(1 << 16);
  auto copy_run = [&](const DataRun& run) -> Status {
    if (run.offset >= size) return Status::success();
    uint64_t end = std::min(size, run.offset + run.length);
    if (errcode_t err = ext2fs_file_llseek(f, run.offset, EXT2_SEEK_SET, nullptr))
      return bad_input(fmt::format("{}: {}: {}", source_name(), path, error_message(err)));
    for (uint64_t at = run.offset; at < end;) {
      unsigned int got = 0;
      auto want = static_cast<unsigned>(std::min<uint64_t>(buf.size(), end - at));
      if (errcode_t err = ext2fs_file_read(f, buf.data(), want, &got))
        return bad_input(fmt::format("{}: {}: {}", source_name(), path, error_message(err)));
      if (got == 0) break;
      if (Status c = charge_work_bytes(got); !c) return c;
      for (size_t done = 0; done < got;) {
        ssize_t w = ::pwrite(fd, buf.data() + done, got - done, static_cast<off_t>(at + done));
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return env_error(fmt::format("cannot write a work copy of {}: {}", path, std::strerror(errno)));
        done += static_cast<size_t>(w);
      }
      at += got;
    }
    return Status::success();
  };
  Status s;
  for (const DataRun& run : *runs)
    if (s = copy_run(run); !s) break;
  ext2fs_file_close(f);
  if (s && ::ftruncate(fd, static_cast<off_t>(size)) != 0)
    return env_error(fmt::format("cannot size the work copy of {}: {}", path, std::strerror(errno)));
  return s;
}

}  // namespace decant
