// libarchive writers and the reader behind tar_writer.h. Determinism comes
// from what we leave out as much as what we set: no atime/ctime, no user or
// group names, no gzip timestamp or file name, entries in sorted order.
#include "packager/tar_writer.h"

#include <archive.h>
#include <archive_entry.h>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <sys/mman.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "common/file_util.h"

namespace decant {

namespace {

// An output file that hashes every byte libarchive hands it.
struct HashingSink {
  int fd = -1;
  EVP_MD_CTX* ctx = nullptr;
  uint64_t size = 0;
  std::string error;
};

la_ssize_t sink_write(struct archive*, void* data, const void* buf, size_t len) {
  auto* s = static_cast<HashingSink*>(data);
  const char* p = static_cast<const char*>(buf);
  size_t done = 0;
  while (done < len) {
    ssize_t n = ::write(s->fd, p + done, len - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      s->error = std::strerror(errno);
      return -1;
    }
    done += static_cast<size_t>(n);
  }
  EVP_DigestUpdate(s->ctx, buf, len);
  s->size += len;
  return static_cast<la_ssize_t>(len);
}

struct ArchiveDeleter {
  void operator()(struct archive* a) const { archive_write_free(a); }
};
struct ReadDeleter {
  void operator()(struct archive* a) const { archive_read_free(a); }
};
struct EntryDeleter {
  void operator()(struct archive_entry* e) const { archive_entry_free(e); }
};
using ArchivePtr = std::unique_ptr<struct archive, ArchiveDeleter>;
using EntryPtr = std::unique_ptr<struct archive_entry, EntryDeleter>;

// Owns the output file and digest state of one written blob.
class BlobWriter {
 public:
  ~BlobWriter() {
    if (sink_.fd >= 0) ::close(sink_.fd);
    if (sink_.ctx) EVP_MD_CTX_free(sink_.ctx);
  }
  Status open(const std::string& path, Compression c, bool raw) {
    path_ = path;
    sink_.fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (sink_.fd < 0) return env_error(fmt::format("{}: cannot create: {}", path, std::strerror(errno)));
    sink_.ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(sink_.ctx, EVP_sha256(), nullptr);
    a_.reset(archive_write_new());
    int r = raw ? archive_write_set_format_raw(a_.get()) : archive_write_set_format_pax_restricted(a_.get());
    if (r != ARCHIVE_OK) return fail("format");
    if (c == Compression::Gzip) {
      if (archive_write_add_filter_gzip(a_.get()) != ARCHIVE_OK) return fail("gzip");
      // A timestamp in the gzip header would make every build different.
      if (archive_write_set_options(a_.get(), "gzip:!timestamp,gzip:compression-level=6") != ARCHIVE_OK)
        return fail("gzip options");
    } else if (c == Compression::Xz) {
      // One thread: multi-threaded xz splits blocks by timing-independent
      // size, but single-threaded output is the documented stable one.
      if (archive_write_add_filter_xz(a_.get()) != ARCHIVE_OK) return fail("xz");
      if (archive_write_set_options(a_.get(), "xz:compression-level=6,xz:threads=1") != ARCHIVE_OK)
        return fail("xz options");
    } else if (c == Compression::Zstd) {
      if (archive_write_add_filter_zstd(a_.get()) != ARCHIVE_OK) return fail("zstd");
      if (archive_write_set_options(a_.get(), "zstd:compression-level=3") != ARCHIVE_OK) return fail("zstd options");
    }
    // Compressed streams must not be padded: registries and skopeo hash
    // exactly the bytes of the stream.
    if (raw || c != Compression::None) archive_write_set_bytes_in_last_block(a_.get(), 1);
    if (archive_write_open2(a_.get(), &sink_, nullptr, sink_write, nullptr, nullptr) != ARCHIVE_OK)
      return fail("open");
    return Status::success();
  }
  struct archive* get() { return a_.get(); }
  Error fail(const char* what) {
    std::string msg = sink_.error.empty() ? (a_ && archive_error_string(a_.get()) ? archive_error_string(a_.get()) : "")
                                          : sink_.error;
    return env_error(fmt::format("{}: libarchive {}: {}", path_, what, msg));
  }
  Result<Blob> finish() {
    if (archive_write_close(a_.get()) != ARCHIVE_OK) return fail("close");
    if (::fsync(sink_.fd) != 0) return env_error(fmt::format("{}: fsync: {}", path_, std::strerror(errno)));
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    EVP_DigestFinal_ex(sink_.ctx, digest, &len);
    return Blob{"sha256:" + to_hex(digest, len), sink_.size};
  }

 private:
  std::string path_;
  HashingSink sink_;
  ArchivePtr a_;
};

// Hands libarchive all n bytes (it may take fewer a call).
Status write_all(BlobWriter& w, const char* p, uint64_t n) {
  while (n > 0) {
    la_ssize_t done = archive_write_data(w.get(), p, static_cast<size_t>(std::min<uint64_t>(n, 1u << 30)));
    if (done <= 0) return w.fail("write");
    p += done;
    n -= static_cast<uint64_t>(done);
  }
  return Status::success();
}

// A read-only stretch of zeros standing in for a hole. The pax writer skips
// the bytes of a hole it was told about without looking at them, so a 1 TiB
// hole costs a thousand calls, and never a read of the file or a touched page
// (untouched anonymous memory is the kernel's shared zero page).
const char* zeros(uint64_t& len) {
  static const uint64_t kLarge = 1ull << 30;
  static const void* large = [] {
    void* p = ::mmap(nullptr, kLarge, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? nullptr : p;
  }();
  static const char small[1 << 16] = {};
  len = large ? kLarge : sizeof small;
  return large ? static_cast<const char*>(large) : small;
}

Status write_hole(BlobWriter& w, uint64_t n) {
  uint64_t chunk = 0;
  const char* z = zeros(chunk);
  while (n > 0) {
    uint64_t k = std::min(n, chunk);
    Status s = write_all(w, z, k);
    if (!s) return s;
    n -= k;
  }
  return Status::success();
}

// Streams a host file into the current entry. A dense file is read to its
// end; a sparse one (extents: its data as (offset, length), the map the
// entry's header was written with) only where it has data: the holes are
// never read, so the cost is the data, not the apparent size.
Status copy_data(BlobWriter& w, const std::string& host, uint64_t expect, const std::string& name,
                 const std::vector<std::pair<uint64_t, uint64_t>>& extents = {}) {
  int fd = ::open(host.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    int e = errno;
    return errno_error(e, fmt::format("{}: cannot open: {}", name, std::strerror(e)));
  }
  struct stat st;
  // Grown meanwhile (a log): the first expect bytes are taken, as stat said.
  if (::fstat(fd, &st) != 0 || static_cast<uint64_t>(st.st_size) < expect) {
    ::close(fd);
    return env_error(fmt::format("{}: changed size while packaging ({})", host, name));
  }
  // A dense file is one extent covering all of it.
  std::vector<std::pair<uint64_t, uint64_t>> dense;
  if (extents.empty()) dense.emplace_back(0, expect);
  const auto& ext = extents.empty() ? dense : extents;
  std::vector<char> buf(1 << 16);
  uint64_t pos = 0;
  Status s = Status::success();
  for (const auto& [off, len] : ext) {
    if (off < pos || off + len > expect) {
      s = env_error(fmt::format("{}: changed while packaging ({})", host, name));
      break;
    }
    s = write_hole(w, off - pos);
    if (!s) break;
    for (uint64_t done = 0; done < len && s;) {
      ssize_t n = ::pread(fd, buf.data(), static_cast<size_t>(std::min<uint64_t>(buf.size(), len - done)),
                          static_cast<off_t>(off + done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) s = env_error(fmt::format("{}: read error: {}", host, std::strerror(errno)));
      else if (n == 0) s = env_error(fmt::format("{}: changed size while packaging ({})", host, name));
      else s = write_all(w, buf.data(), static_cast<uint64_t>(n));
      if (n > 0) done += static_cast<uint64_t>(n);
    }
    if (!s) break;
    pos = off + len;
  }
  if (s) s = write_hole(w, expect - pos);
  ::close(fd);
  return s;
}

}  // namespace

Result<Blob> write_layer_tar(const FileSet& set, const std::string& out_path, int64_t mtime) {
  BlobWriter w;
  Status s = w.open(out_path, Compression::None, false);
  if (!s) return s.error();
  EntryPtr e(archive_entry_new());
  for (const auto& [path, f] : set.entries) {
    archive_entry_clear(e.get());
    std::string name = path.substr(1);
    archive_entry_set_pathname(e.get(), name.c_str());
    archive_entry_set_uid(e.get(), f.uid);
    archive_entry_set_gid(e.get(), f.gid);
    archive_entry_set_mtime(e.get(), mtime, 0);
    archive_entry_set_perm(e.get(), f.mode & 07777);
    for (const auto& [k, v] : f.xattrs) archive_entry_xattr_add_entry(e.get(), k.c_str(), v.data(), v.size());
    switch (f.type) {
      case EntryType::Directory:
        archive_entry_set_filetype(e.get(), AE_IFDIR);
        break;
      case EntryType::Symlink:
        archive_entry_set_filetype(e.get(), AE_IFLNK);
        archive_entry_set_symlink(e.get(), f.target.c_str());
        break;
      case EntryType::Hardlink:
        archive_entry_set_filetype(e.get(), AE_IFREG);
        archive_entry_set_hardlink(e.get(), f.target.substr(1).c_str());
        archive_entry_set_size(e.get(), 0);
        break;
      case EntryType::Fifo:
        archive_entry_set_filetype(e.get(), AE_IFIFO);
        break;
      case EntryType::File:
        archive_entry_set_filetype(e.get(), AE_IFREG);
        archive_entry_set_size(e.get(), static_cast<la_int64_t>(f.content ? f.content->size() : f.size));
        for (const auto& [off, len] : f.sparse)
          archive_entry_sparse_add_entry(e.get(), static_cast<la_int64_t>(off), static_cast<la_int64_t>(len));
        break;
    }
    if (archive_write_header(w.get(), e.get()) < ARCHIVE_WARN) return w.fail(("header of " + path).c_str());
    if (f.type != EntryType::File) continue;
    if (f.content) {
      if (!f.content->empty() && archive_write_data(w.get(), f.content->data(), f.content->size()) < 0)
        return w.fail("write");
    } else {
      s = copy_data(w, f.source, f.size, path, f.sparse);
      if (!s) return s.error();
    }
  }
  return w.finish();
}

Result<Blob> compress_file(const std::string& in_path, const std::string& out_path, Compression c) {
  BlobWriter w;
  Status s = w.open(out_path, c, true);
  if (!s) return s.error();
  struct stat st;
  if (::stat(in_path.c_str(), &st) != 0) return env_error(fmt::format("{}: {}", in_path, std::strerror(errno)));
  EntryPtr e(archive_entry_new());
  archive_entry_set_pathname(e.get(), "layer.tar");
  archive_entry_set_filetype(e.get(), AE_IFREG);
  archive_entry_set_perm(e.get(), 0644);
  archive_entry_set_size(e.get(), st.st_size);
  if (archive_write_header(w.get(), e.get()) < ARCHIVE_WARN) return w.fail("header");
  s = copy_data(w, in_path, static_cast<uint64_t>(st.st_size), in_path);
  if (!s) return s.error();
  return w.finish();
}

Result<Blob> write_simple_tar(const std::vector<TarMember>& members, const std::string& out_path, int64_t mtime,
                              Compression c) {
  BlobWriter w;
  Status s = w.open(out_path, c, false);
  if (!s) return s.error();
  EntryPtr e(archive_entry_new());
  for (const auto& m : members) {
    archive_entry_clear(e.get());
    archive_entry_set_pathname(e.get(), m.name.c_str());
    archive_entry_set_mtime(e.get(), mtime, 0);
    archive_entry_set_perm(e.get(), m.mode);
    bool dir = !m.name.empty() && m.name.back() == '/';
    uint64_t size = 0;
    if (dir) {
      archive_entry_set_filetype(e.get(), AE_IFDIR);
    } else {
      archive_entry_set_filetype(e.get(), AE_IFREG);
      if (!m.host_path.empty()) {
        struct stat st;
        if (::stat(m.host_path.c_str(), &st) != 0)
          return env_error(fmt::format("{}: {}", m.host_path, std::strerror(errno)));
        size = static_cast<uint64_t>(st.st_size);
      } else {
        size = m.content.size();
      }
      archive_entry_set_size(e.get(), static_cast<la_int64_t>(size));
    }
    if (archive_write_header(w.get(), e.get()) < ARCHIVE_WARN) return w.fail("header");
    if (dir) continue;
    if (!m.host_path.empty()) {
      s = copy_data(w, m.host_path, size, m.name);
      if (!s) return s.error();
    } else if (!m.content.empty() && archive_write_data(w.get(), m.content.data(), m.content.size()) < 0) {
      return w.fail("write");
    }
  }
  return w.finish();
}

Status extract_tar(const std::string& tar_path, const std::string& dest) {
  std::unique_ptr<struct archive, ReadDeleter> in(archive_read_new());
  archive_read_support_format_tar(in.get());
  archive_read_support_filter_all(in.get());
  if (archive_read_open_filename(in.get(), tar_path.c_str(), 1 << 16) != ARCHIVE_OK)
    return bad_input(fmt::format("{}: {}", tar_path, archive_error_string(in.get())));
  ArchivePtr out(archive_write_disk_new());
  archive_write_disk_set_options(out.get(), ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_TIME |
                                                ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_SPARSE |
                                                ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT);
  // Numeric ids only: the host's user database says nothing about the guest's.
  struct archive_entry* e;
  for (;;) {
    int r = archive_read_next_header(in.get(), &e);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) return bad_input(fmt::format("{}: {}", tar_path, archive_error_string(in.get())));
    std::string name = archive_entry_pathname(e);
    while (name.compare(0, 2, "./") == 0) name = name.substr(2);
    while (!name.empty() && name[0] == '/') name = name.substr(1);
    if (name.empty() || name == ".") continue;
    archive_entry_copy_pathname(e, (dest + "/" + name).c_str());
    if (const char* hl = archive_entry_hardlink(e)) {
      std::string h = hl;
      while (!h.empty() && h[0] == '/') h = h.substr(1);
      archive_entry_copy_hardlink(e, (dest + "/" + h).c_str());
    }
    archive_entry_set_uname(e, nullptr);
    archive_entry_set_gname(e, nullptr);
    if (archive_write_header(out.get(), e) < ARCHIVE_WARN)
      return env_error(fmt::format("{}: extracting {}: {}", tar_path, name, archive_error_string(out.get())));
    const void* buf;
    size_t size;
    la_int64_t offset;
    for (;;) {
      r = archive_read_data_block(in.get(), &buf, &size, &offset);
      if (r == ARCHIVE_EOF) break;
      if (r < ARCHIVE_WARN) return bad_input(fmt::format("{}: {}", tar_path, archive_error_string(in.get())));
      if (archive_write_data_block(out.get(), buf, size, offset) < ARCHIVE_WARN)
        return env_error(fmt::format("{}: writing {}: {}", tar_path, name, archive_error_string(out.get())));
    }
    if (archive_write_finish_entry(out.get()) < ARCHIVE_WARN)
      return env_error(fmt::format("{}: finishing {}: {}", tar_path, name, archive_error_string(out.get())));
  }
  if (archive_write_close(out.get()) != ARCHIVE_OK)
    return env_error(fmt::format("{}: {}", dest, archive_error_string(out.get())));
  return Status::success();
}

Result<Blob> blob_of_file(const std::string& path) {
  auto sha = sha256_file(path);
  if (!sha) return sha.error();
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return env_error(fmt::format("{}: {}", path, std::strerror(errno)));
  return Blob{"sha256:" + *sha, static_cast<uint64_t>(st.st_size)};
}

}  // namespace decant
