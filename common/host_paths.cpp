// Implementation of the host-side path helpers (see host_paths.h).
#include "common/host_paths.h"

#include <climits>
#include <filesystem>
#include <cstdlib>
#include <sys/stat.h>
#include <unistd.h>

#include "common/file_util.h"

namespace decant {

namespace {

bool runnable(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(p.c_str(), X_OK) == 0;
}

bool readable(const std::string& p) { return ::access(p.c_str(), R_OK) == 0; }

}  // namespace

std::string absolute_path(const std::string& p) {
  if (!p.empty() && p[0] == '/') return normalize_absolute(p);
  char cwd[PATH_MAX];
  if (!::getcwd(cwd, sizeof cwd)) return p;
  return normalize_absolute(std::string(cwd) + "/" + p);
}

std::string find_executable(const std::string& command, const std::string& search_path) {
  if (command.empty()) return "";
  if (command.find('/') != std::string::npos) return runnable(command) ? command : "";
  for (size_t i = 0; i <= search_path.size();) {
    size_t j = search_path.find(':', i);
    if (j == std::string::npos) j = search_path.size();
    std::string dir = j > i ? search_path.substr(i, j - i) : ".";
    std::string candidate = dir + "/" + command;
    if (runnable(candidate)) return candidate;
    i = j + 1;
  }
  return "";
}

std::string find_executable(const std::string& command) {
  if (const char* path = std::getenv("PATH")) return find_executable(command, path);
  size_t n = ::confstr(_CS_PATH, nullptr, 0);
  std::string dflt(n, '\0');
  if (n > 0) ::confstr(_CS_PATH, dflt.data(), n);
  dflt.resize(n > 0 ? n - 1 : 0);
  return find_executable(command, dflt.empty() ? std::string("/bin:/usr/bin") : dflt);
}

std::string cache_dir() {
  if (const char* c = std::getenv("DECANT_CACHE"); c && *c) return c;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && x[0] == '/') return std::string(x) + "/decant";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.cache/decant";
  return "/tmp/decant-cache";
}

std::string executable_dir() {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "";
  buf[n] = '\0';
  return path_dirname(buf);
}

namespace {
// NAME beside the decant executable, in ../lib/decant/ (an install) or in
// SUBDIR/ of a build tree; ENV overrides.
std::string locate_beside(const char* env, const std::string& name, const std::string& subdir) {
  if (const char* e = std::getenv(env); e && *e) return absolute_path(e);
  std::string dir = executable_dir();
  if (dir.empty()) return name;
  for (const std::string& c : {dir + "/" + name, dir + "/../lib/decant/" + name, dir + "/" + subdir + "/" + name})
    if (readable(c)) return normalize_absolute(c);
  return dir + "/" + name;
}
}  // namespace

std::string locate_shim() { return locate_beside("DECANT_SHIM", "libdecant-shim.so", "shim"); }

std::string locate_proxy() { return locate_beside("DECANT_PROXY", "decant-proxy", "proxy"); }

std::string relative_path(const std::string& path, const std::string& dir) {
  std::filesystem::path target(absolute_path(path));
  std::filesystem::path rel = target.lexically_relative(std::filesystem::path(absolute_path(dir)));
  return rel.empty() ? target.string() : rel.string();
}

}  // namespace decant
