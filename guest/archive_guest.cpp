// ArchiveGuest: indexing and fetching with libarchive's streaming reader
// (see archive_guest.h). An entry's key is its position in the archive, so
// a miss is fetched by reading headers up to it and copying its data.
#include "guest/archive_guest.h"

#include <algorithm>
#include <archive.h>
#include <archive_entry.h>
#include <cerrno>
#include <cstring>
#include <functional>
#include <unistd.h>

#include <fmt/format.h>

#include "common/file_util.h"

namespace decant {
namespace {

// Files smaller than this, ELF objects and scripts are copied while
// indexing: they are what discovery and analysis read.
constexpr int64_t kEagerBytes = 256 << 10;

// libarchive may fail without an error string (a damaged header): fmt
// throws on a null char*, so every message goes through here.
const char* archive_why(struct archive* a) {
  const char* why = archive_error_string(a);
  return why ? why : "unreadable data";
}

struct ReadArchive {
  struct archive* a = archive_read_new();
  ~ReadArchive() { archive_read_free(a); }
};

Result<std::unique_ptr<ReadArchive>> open_archive(const std::string& path) {
  auto r = std::make_unique<ReadArchive>();
  archive_read_support_filter_all(r->a);
  // The formats a VM's file tree comes in, not every one libarchive knows:
  // xar (an XML parser) and mtree or warc manifests are not VM archives,
  // and a hostile input should meet as few parsers as it can (docs/sources.md).
  archive_read_support_format_tar(r->a);  // also pax, ustar, gnutar
  archive_read_support_format_cpio(r->a);
  archive_read_support_format_zip(r->a);
  archive_read_support_format_7zip(r->a);
  archive_read_support_format_iso9660(r->a);
  archive_read_support_format_ar(r->a);
  archive_read_support_format_rar(r->a);
  archive_read_support_format_rar5(r->a);
  archive_read_support_format_cab(r->a);
  archive_read_support_format_lha(r->a);
  if (archive_read_open_filename(r->a, path.c_str(), 1 << 16) != ARCHIVE_OK)
    return bad_input(fmt::format("{}: cannot read the archive: {}", path, archive_why(r->a)));
  return r;
}

Status write_all(int fd, const char* data, size_t size, int64_t offset) {
  while (size > 0) {
    ssize_t n = ::pwrite(fd, data, size, offset);
    if (n < 0) {
      if (errno == EINTR) continue;
      return env_error(fmt::format("cannot write a work copy: {}", std::strerror(errno)));
    }
    data += n;
    size -= static_cast<size_t>(n);
    offset += n;
  }
  return Status::success();
}

// Copies the current entry's data to fd, after the block already read
// (first, at offset 0) when there is one.
// charge() bounds the bytes written (IndexedGuest::charge_work_bytes); data
// past the size the header declared is never written (the copy is cut to
// that size, as it always was).
Status copy_entry(const std::function<Status(uint64_t)>& charge, struct archive* a, int fd, int64_t size,
                  const std::string& what, const void* first = nullptr, size_t first_len = 0) {
  if (first) {
    first_len = std::min<uint64_t>(first_len, static_cast<uint64_t>(size));
    if (Status s = charge(first_len); !s) return s;
    if (Status s = write_all(fd, static_cast<const char*>(first), first_len, 0); !s) return s;
  }
  const void* buf;
  size_t len;
  la_int64_t off;
  for (;;) {
    int r = archive_read_data_block(a, &buf, &len, &off);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) return bad_input(fmt::format("{}: {}", what, archive_why(a)));
    if (off < 0 || off >= size) break;
    len = std::min<uint64_t>(len, static_cast<uint64_t>(size - off));
    if (Status s = charge(len); !s) return s;
    if (Status s = write_all(fd, static_cast<const char*>(buf), len, off); !s) return s;
  }
  if (::ftruncate(fd, size) != 0) return env_error(fmt::format("cannot size a work copy: {}", std::strerror(errno)));
  return Status::success();
}

bool likely_read(const void* block, size_t len) {
  const char* b = static_cast<const char*>(block);
  return (len >= 4 && std::memcmp(b, "\x7f" "ELF", 4) == 0) || (len >= 2 && b[0] == '#' && b[1] == '!');
}

}  // namespace

Result<std::shared_ptr<ArchiveGuest>> ArchiveGuest::open(const std::string& archive_path,
                                                         const std::string& source_name) {
  std::shared_ptr<ArchiveGuest> g(new ArchiveGuest(archive_path, source_name));
  if (Status s = g->index(); !s) return s.error();
  return g;
}

Status ArchiveGuest::index() {
  auto ar = open_archive(archive_);
  if (!ar) return ar.error();
  struct archive* a = (*ar)->a;
  std::map<std::string, ino_t> inode_of;  // canonical path -> inode, for hard links
  ino_t next_ino = 2;
  uint64_t position = 0;
  bool any = false;
  auto charge = [this](uint64_t n) { return charge_work_bytes(n); };
  for (;; ++position) {
    if (Status s = check_entry_count(); !s) return s;
    struct archive_entry* e;
    int r = archive_read_next_header(a, &e);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN)
      return bad_input(fmt::format("{}: {}", archive_,
                                   position == 0 ? fmt::format("neither a directory, an archive decant can read nor a disk "
                                                               "image ({})", archive_why(a))
                                                 : fmt::format("a damaged or truncated archive: {}", archive_why(a))));
    any = true;
    const char* name = archive_entry_pathname(e);
    const char* hardlink = archive_entry_hardlink(e);
    mode_t mode = archive_entry_filetype(e) | (archive_entry_perm(e) & 07777);
    if (hardlink) mode = S_IFREG | (archive_entry_perm(e) & 07777);
    Node* n = name ? put(name, mode) : nullptr;
    if (!n) continue;  // ".." in the name: outside the guest
    std::string canonical = canonical_name(name);
    n->st.st_uid = static_cast<uid_t>(archive_entry_uid(e));
    n->st.st_gid = static_cast<gid_t>(archive_entry_gid(e));
    n->st.st_mtime = archive_entry_mtime(e);
    n->st.st_size = archive_entry_size_is_set(e) ? std::max<la_int64_t>(0, archive_entry_size(e)) : 0;
    n->st.st_rdev = archive_entry_rdev(e);
    n->key = position;
    if (const char* t = archive_entry_symlink(e); t && S_ISLNK(mode)) n->target = t;
    archive_entry_xattr_reset(e);
    const char* xname;
    const void* xval;
    size_t xlen;
    while (archive_entry_xattr_next(e, &xname, &xval, &xlen) == ARCHIVE_OK)
      n->xattrs[xname] = std::string(static_cast<const char*>(xval), xlen);
    if (hardlink) {
      // The link shares the first name's inode and, unless it carries the
      // data itself (cpio), the first name's content.
      auto first = inode_of.find(canonical_name(hardlink));
      const Node* f = first == inode_of.end() ? nullptr : find(first->first);
      if (!f || !S_ISREG(f->st.st_mode)) continue;
      n->st.st_ino = f->st.st_ino;
      if (n->st.st_size == 0) {
        n->st.st_size = f->st.st_size;
        n->key = f->key;
        continue;
      }
      for (auto& [p, other] : nodes_)
        if (other.st.st_ino == n->st.st_ino) {
          other.key = position;
          other.st.st_size = n->st.st_size;
        }
    } else {
      n->st.st_ino = next_ino++;
    }
    inode_of[canonical] = n->st.st_ino;
    if (!S_ISREG(mode) || n->st.st_size == 0) continue;
    const void* first = nullptr;
    size_t first_len = 0;
    la_int64_t off = 0;
    if (n->st.st_size >= kEagerBytes) {
      int rr = archive_read_data_block(a, &first, &first_len, &off);
      if (rr < ARCHIVE_WARN) return bad_input(fmt::format("{}: {}: {}", archive_, canonical, archive_why(a)));
      if (rr == ARCHIVE_EOF || off != 0 || !likely_read(first, first_len)) continue;  // fetched when asked for
    }
    auto file = make_work_file(canonical);
    if (!file) return file.error();
    Status s = copy_entry(charge, a, file->first, n->st.st_size, fmt::format("{}: {}", archive_, canonical), first,
                          first_len);
    ::close(file->first);
    if (!s) return bad_input(s.error().message);
    adopt(*n, file->second);
  }
  if (!any) return bad_input(fmt::format("{}: an empty archive", archive_));
  finish_index();
  return Status::success();
}

Status ArchiveGuest::fetch(const std::string& path, const Node& node, int fd) const {
  auto ar = open_archive(archive_);
  if (!ar) return ar.error();
  struct archive* a = (*ar)->a;
  struct archive_entry* e;
  for (uint64_t i = 0;; ++i) {
    int r = archive_read_next_header(a, &e);
    if (r == ARCHIVE_EOF || r < ARCHIVE_WARN)
      return bad_input(fmt::format("{}: {}: the archive changed since it was indexed", archive_, path));
    if (i == node.key) break;
  }
  return copy_entry([this](uint64_t n) { return charge_work_bytes(n); }, a, fd, node.st.st_size,
                    fmt::format("{}: {}", archive_, path));
}

}  // namespace decant
