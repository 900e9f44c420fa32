// open_source (see source.h): tells the kinds of SOURCE apart by what they
// are on the host (a directory) and by their first bytes (disk image magic),
// leaving everything else to libarchive, and keeps one opened source per
// path alive at a time.
#include "guest/source.h"

#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "common/file_util.h"
#include "guest/archive_guest.h"
#include "guest/disk_guest.h"
#include "guest/disk_image.h"

namespace decant {
namespace {

// The source as the user named it, made absolute without resolving links:
// the provenance a profile records.
std::string absolute_name(const std::string& path) {
  if (!path.empty() && path[0] == '/') return normalize_absolute(path);
  char cwd[4096];
  if (!::getcwd(cwd, sizeof cwd)) return path;
  return normalize_absolute(std::string(cwd) + "/" + path);
}

Result<std::shared_ptr<const OpenedSource>> open_uncached(const std::string& path, const std::string& real) {
  std::string name = absolute_name(path);
  struct stat st;
  if (::stat(real.c_str(), &st) != 0) return bad_input(fmt::format("{}: {}", path, std::strerror(errno)));
  auto out = std::make_shared<OpenedSource>(OpenedSource{GuestRoot(std::make_shared<DiskGuest>(real, name)), "", {}});
  if (S_ISDIR(st.st_mode)) {
    out->kind = "directory";
    return std::shared_ptr<const OpenedSource>(out);
  }
  if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
    return bad_input(fmt::format("{}: not a directory, an archive or a disk image", path));
  if (::access(real.c_str(), R_OK) != 0) return bad_input(fmt::format("{}: {}", path, std::strerror(errno)));
  if (ImageKind k = sniff_image(real); k != ImageKind::None) {
    auto image = open_disk_image(real, k, name);
    if (!image) return image.error();
    out->root = image->root;
    out->kind = image->description;
    out->keep_alive = image->keep_alive;
    return std::shared_ptr<const OpenedSource>(out);
  }
  auto archive = ArchiveGuest::open(real, name);
  if (!archive) {
    std::string msg = archive.error().message;
    if (msg.compare(0, real.size(), real) == 0) msg = path + msg.substr(real.size());
    return bad_input(msg);
  }
  out->root = GuestRoot(*archive);
  out->kind = "archive";
  return std::shared_ptr<const OpenedSource>(out);
}

}  // namespace

Result<std::shared_ptr<const OpenedSource>> open_source(const std::string& path) {
  if (path.empty()) return bad_input("guest source: empty path");
  char* resolved = ::realpath(path.c_str(), nullptr);
  if (!resolved) return bad_input(fmt::format("{}: guest source: {}", path, std::strerror(errno)));
  std::string real(resolved);
  free(resolved);
  static std::mutex mu;
  static std::map<std::string, std::weak_ptr<const OpenedSource>> open;
  std::lock_guard<std::mutex> lock(mu);
  std::string key = real + "\n" + absolute_name(path);
  if (auto alive = open[key].lock()) return alive;
  auto opened = open_uncached(path, real);
  if (opened) open[key] = *opened;
  return opened;
}

}  // namespace decant
