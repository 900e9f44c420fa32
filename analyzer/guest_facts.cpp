// Implementation of guest-wide facts (see guest_facts.h).
#include "analyzer/guest_facts.h"

#include <regex>

#include "common/file_util.h"
#include "common/text.h"

namespace decant {

namespace {

std::string unquote(std::string v) {
  if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) v = v.substr(1, v.size() - 2);
  return v;
}

std::string first_line(const std::string& text) {
  std::string line = text.substr(0, text.find('\n'));
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  return line;
}

}  // namespace

OsInfo detect_os(const GuestRoot& root) {
  OsInfo os;
  for (const char* path : {"/etc/os-release", "/usr/lib/os-release"}) {
    auto text = root.read_file(path, 1 << 16);
    if (!text) continue;
    for (std::string_view line_view : lines(*text)) {
      std::string line(line_view);
      size_t eq = line.find('=');
      if (eq == std::string::npos) continue;
      std::string key = line.substr(0, eq), value = unquote(line.substr(eq + 1));
      if (key == "ID") os.id = value;
      else if (key == "VERSION_ID") os.version = value;
      else if (key == "PRETTY_NAME") os.pretty = value;
    }
    if (!os.id.empty()) return os;
  }
  // Guests older than os-release (RHEL 6, Debian 6, SLES 11 ...).
  static const std::regex version_re(R"(([0-9]+(\.[0-9]+)*))");
  struct Legacy { const char* path; const char* id; };
  for (Legacy l : {Legacy{"/etc/centos-release", "centos"}, Legacy{"/etc/redhat-release", "rhel"},
                   Legacy{"/etc/SuSE-release", "sles"}, Legacy{"/etc/lsb-release", ""},
                   Legacy{"/etc/debian_version", "debian"}}) {
    auto text = root.read_file(l.path, 1 << 16);
    if (!text) continue;
    std::string line = first_line(*text);
    if (std::string(l.path) == "/etc/lsb-release") {
      std::smatch m;
      static const std::regex id_re(R"(DISTRIB_ID=\"?([A-Za-z]+))"), ver_re(R"(DISTRIB_RELEASE=\"?([0-9.]+))"),
          desc_re(R"(DISTRIB_DESCRIPTION=\"?([^\"\n]+))");
      if (std::regex_search(*text, m, id_re)) os.id = m[1];
      for (auto& c : os.id) c = static_cast<char>(tolower(c));
      if (std::regex_search(*text, m, ver_re)) os.version = m[1];
      if (std::regex_search(*text, m, desc_re)) os.pretty = m[1];
      if (!os.id.empty()) return os;
      continue;
    }
    os.id = l.id;
    os.pretty = std::string(l.id) == "debian" ? "Debian GNU/Linux " + line : line;
    if (std::string(l.id) == "rhel" && line.find("CentOS") != std::string::npos) os.id = "centos";
    std::smatch m;
    if (std::regex_search(line, m, version_re)) os.version = m[1];
    return os;
  }
  return os;
}

std::string glibc_version_from_banner(const std::string& bytes) {
  static const std::string marker = "release version ";
  size_t pos = 0;
  while ((pos = bytes.find(marker, pos)) != std::string::npos) {
    size_t start = pos + marker.size(), end = start;
    while (end < bytes.size() && (isdigit(static_cast<unsigned char>(bytes[end])) || bytes[end] == '.')) ++end;
    while (end > start && bytes[end - 1] == '.') --end;
    if (end > start && bytes.find("GNU C Library", pos > 200 ? pos - 200 : 0) < pos) return bytes.substr(start, end - start);
    pos = start;
  }
  return "";
}

LibcInfo detect_libc(const GuestRoot& root, const std::string& libc_guest_path) {
  LibcInfo info;
  std::string path = libc_guest_path;
  if (path.empty()) {
    for (const char* p : {"/lib/x86_64-linux-gnu/libc.so.6", "/lib64/libc.so.6", "/usr/lib64/libc.so.6",
                          "/usr/lib/x86_64-linux-gnu/libc.so.6", "/lib/i386-linux-gnu/libc.so.6", "/lib/libc.so.6",
                          "/lib/aarch64-linux-gnu/libc.so.6", "/usr/lib/libc.so.6"}) {
      if (root.is_regular_file(p)) {
        path = p;
        break;
      }
    }
  }
  if (path.empty()) {
    auto musl = root.glob("/lib/ld-musl-*.so.1");
    if (!musl.empty()) {
      info.name = "musl";
      info.path = musl.front();
    }
    return info;
  }
  auto canonical = root.resolve(path);
  info.path = canonical ? *canonical : path;
  info.name = "glibc";
  auto bytes = root.read_file(info.path, 64 << 20);
  if (bytes) info.version = glibc_version_from_banner(*bytes);
  if (info.version.empty()) {
    // Before glibc 2.34 the file itself is named libc-2.x.so.
    static const std::regex name_re(R"(libc-([0-9]+\.[0-9]+)\.so$)");
    std::smatch m;
    if (std::regex_search(info.path, m, name_re)) info.version = m[1];
  }
  return info;
}

}  // namespace decant
