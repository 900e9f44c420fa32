// Implementation of the shared filesystem helpers (see file_util.h). Errors
// of the system calls carry the kind their errno says (errno_kind): a missing
// or unreadable file is bad input, an I/O error is the environment's.
#include "common/file_util.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

namespace decant {

namespace {
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { if (fd_ >= 0) ::close(fd_); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() { int f = fd_; fd_ = -1; return f; }
 private:
  int fd_;
};

// "PATH: WHAT: strerror" for the call that just failed, of the kind its
// errno says.
Error io_error(const std::string& path, const char* what) {
  int e = errno;
  return errno_error(e, fmt::format("{}: {}: {}", path, what, std::strerror(e)));
}
}  // namespace

Result<std::string> read_file(const std::string& path, uint64_t max_bytes) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (fd.get() < 0) return io_error(path, "cannot open");
  struct stat st;
  if (fstat(fd.get(), &st) != 0) return io_error(path, "cannot stat");
  if (S_ISDIR(st.st_mode)) return bad_input(fmt::format("{}: is a directory", path));
  if (!S_ISREG(st.st_mode)) return bad_input(fmt::format("{}: not a regular file", path));
  if (static_cast<uint64_t>(st.st_size) > max_bytes)
    return bad_input(fmt::format("{}: too large ({} bytes, limit {})", path, st.st_size, max_bytes));
  std::string out;
  out.resize(static_cast<size_t>(st.st_size));
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::read(fd.get(), &out[done], out.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error(path, "read error");
    }
    if (n == 0) break;  // file shrank while reading
    done += static_cast<size_t>(n);
  }
  out.resize(done);
  return out;
}

std::string to_hex(const void* data, size_t size) {
  static const char* hex = "0123456789abcdef";
  const auto* p = static_cast<const unsigned char*>(data);
  std::string out;
  out.reserve(size * 2);
  for (size_t i = 0; i < size; ++i) {
    out.push_back(hex[p[i] >> 4]);
    out.push_back(hex[p[i] & 15]);
  }
  return out;
}

std::string sha256_hex(const void* data, size_t size) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data, size, digest, &len, EVP_sha256(), nullptr);
  return to_hex(digest, len);
}

Result<std::string> sha256_file(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (fd.get() < 0) return io_error(path, "cannot open");
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      Error e = io_error(path, "read error");
      EVP_MD_CTX_free(ctx);
      return e;
    }
    if (n == 0) break;
    EVP_DigestUpdate(ctx, buf, static_cast<size_t>(n));
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, digest, &len);
  EVP_MD_CTX_free(ctx);
  return to_hex(digest, len);
}

Status write_file_atomic(const std::string& path, const std::string& content, Overwrite overwrite,
                         unsigned mode) {
  struct stat st;
  if (overwrite == Overwrite::Refuse && ::lstat(path.c_str(), &st) == 0)
    return bad_input(fmt::format("{}: already exists (use --force to replace it)", path));
  std::string dir = path_dirname(path);
  std::string tmpl = (dir.empty() ? std::string(".") : dir) + "/." + path_basename(path) + ".decant-tmp-XXXXXX";
  std::vector<char> name(tmpl.begin(), tmpl.end());
  name.push_back('\0');
  Fd fd(::mkstemp(name.data()));
  if (fd.get() < 0)
    return env_error(fmt::format("{}: cannot create temporary file: {}", path, std::strerror(errno)));
  std::string tmp(name.data());
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd.get(), content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::unlink(tmp.c_str());
      return env_error(fmt::format("{}: write failed: {}", path, std::strerror(e)));
    }
    done += static_cast<size_t>(n);
  }
  if (::fchmod(fd.get(), mode) != 0 || ::fsync(fd.get()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    return env_error(fmt::format("{}: cannot finish writing: {}", path, std::strerror(e)));
  }
  ::close(fd.release());
  if (overwrite == Overwrite::Refuse) {
    // link(2) fails if the name appeared meanwhile, so we never clobber it.
    if (::link(tmp.c_str(), path.c_str()) != 0) {
      int e = errno;
      ::unlink(tmp.c_str());
      if (e == EEXIST) return bad_input(fmt::format("{}: already exists (use --force to replace it)", path));
      return env_error(fmt::format("{}: cannot create: {}", path, std::strerror(e)));
    }
    ::unlink(tmp.c_str());
  } else if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    return env_error(fmt::format("{}: cannot replace: {}", path, std::strerror(e)));
  }
  return Status::success();
}

std::string path_basename(const std::string& path) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  auto pos = p.rfind('/');
  return pos == std::string::npos ? p : p.substr(pos + 1);
}

std::string path_dirname(const std::string& path) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  auto pos = p.rfind('/');
  if (pos == std::string::npos) return "";
  if (pos == 0) return "/";
  return p.substr(0, pos);
}

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    if (j > i) out.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

std::string normalize_absolute(const std::string& path) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    std::string comp = path.substr(i, j - i);
    if (comp.empty() || comp == ".") {
    } else if (comp == "..") {
      if (!parts.empty()) parts.pop_back();
    } else {
      parts.push_back(comp);
    }
    i = j + 1;
  }
  std::string out;
  for (auto& p : parts) out += "/" + p;
  return out.empty() ? "/" : out;
}

}  // namespace decant
