// Implementation of the guest loader configuration (see loader_config.h).
#include "analyzer/loader_config.h"

#include <algorithm>
#include <cctype>
#include <elf.h>
#include <map>
#include <set>

#include <fmt/format.h>

#include "common/file_util.h"
#include "common/text.h"

namespace decant {

namespace {
constexpr int kMaxIncludeDepth = 16;
// Bounds on what a guest's ld.so.conf tree may cost (issue 14). Real guests
// have a handful of files and directories; without bounds, a crafted or
// broken ld.so.conf.d made analysis linear in its size (16 MiB: a minute),
// because every library search walks every directory.
constexpr uint64_t kMaxConfFileBytes = 1 << 20;  // one file
constexpr uint64_t kMaxConfTotalBytes = 4 << 20;  // all files together
constexpr size_t kMaxConfFiles = 256;
constexpr size_t kMaxIncludes = 256;  // distinct include patterns
constexpr size_t kMaxConfDirs = 1024;  // distinct directories

// One walk over /etc/ld.so.conf and its includes, with its budget.
struct ConfReader {
  const GuestRoot& root;
  LoaderConfig& cfg;
  std::set<std::string> seen_files, seen_dirs;
  std::map<std::string, int> seen_patterns;  // pattern -> shallowest depth it was globbed at
  uint64_t bytes = 0;
  std::set<std::string> reported;  // bounds already in cfg.limits

  // Records that `bound` cut something off: once per bound, except a file
  // too large on its own, which is named (up to ten of them).
  void limit(const std::string& bound, const std::string& what) {
    if ((bound == "file" || reported.insert(bound).second) && cfg.limits.size() < 10) cfg.limits.push_back(what);
  }

  // ldconfig keeps the first of repeated directories (add_single_dir), so
  // dropping later copies changes no search order.
  void add_dir(const std::string& d) {
    if (seen_dirs.count(d)) return;
    if (seen_dirs.size() >= kMaxConfDirs) {
      limit("dirs", fmt::format("static: more than {} directories in ld.so.conf; the rest are ignored", kMaxConfDirs));
      return;
    }
    seen_dirs.insert(d);
    cfg.ld_so_conf_dirs.push_back(d);
  }

  // A pattern is globbed once (unless first met deeper): repeating an include
  // line adds nothing, as every file it matches has been read already.
  void include(const std::string& pattern, int depth) {
    auto seen = seen_patterns.find(pattern);
    if (seen != seen_patterns.end() && seen->second <= depth) return;
    if (seen == seen_patterns.end() && seen_patterns.size() >= kMaxIncludes) {
      limit("includes",
            fmt::format("static: more than {} include patterns in ld.so.conf; the rest are ignored", kMaxIncludes));
      return;
    }
    seen_patterns[pattern] = depth;
    for (auto& match : root.glob(pattern)) read(match, depth + 1);
  }

  void read(const std::string& path, int depth) {
    if (depth > kMaxIncludeDepth || !seen_files.insert(path).second) return;
    if (cfg.ld_so_conf_files.size() >= kMaxConfFiles) {
      limit("files", fmt::format("static: {} and later files not read: more than {} ld.so.conf files", path,
                                 kMaxConfFiles));
      return;
    }
    if (bytes > kMaxConfTotalBytes) return;  // budget spent, and reported
    auto st = root.stat(path);
    uint64_t size = st ? static_cast<uint64_t>(st->st_size) : 0;
    if (size > kMaxConfFileBytes) {
      limit("file", fmt::format("static: {} not read: {} bytes, limit {}", path, size, kMaxConfFileBytes));
      return;
    }
    if (bytes + size > kMaxConfTotalBytes) {
      bytes = kMaxConfTotalBytes + 1;  // spent: no later file is read either
      limit("bytes", fmt::format("static: {} and later files not read: ld.so.conf files exceed {} bytes together", path,
                                 kMaxConfTotalBytes));
      return;
    }
    auto text = root.read_file(path, kMaxConfFileBytes);
    if (!text) return;
    bytes += text->size();
    cfg.ld_so_conf_files.push_back(path);
    // ldconfig processes lines in order and an include's directories take the
    // include line's place, so parse one line at a time.
    for (std::string_view line : lines(*text)) {
      std::vector<std::string> dirs, includes;
      parse_ld_so_conf(std::string(line), path_dirname(path), dirs, includes);
      for (auto& d : dirs) add_dir(d);
      for (auto& pattern : includes) include(pattern, depth);
    }
  }
};

std::vector<std::string> default_system_dirs(const GuestRoot& root, bool is64, uint16_t machine, std::string& lib) {
  std::string triplet;
  switch (machine) {
    case EM_X86_64: triplet = "x86_64-linux-gnu"; break;
    case EM_386: triplet = "i386-linux-gnu"; break;
    case EM_AARCH64: triplet = "aarch64-linux-gnu"; break;
    case EM_ARM: triplet = "arm-linux-gnueabihf"; break;
    default: break;
  }
  if (!triplet.empty() && root.is_directory("/lib/" + triplet)) {
    lib = "lib/" + triplet;
    return {"/lib/" + triplet, "/usr/lib/" + triplet, "/lib", "/usr/lib"};
  }
  if (is64 && root.is_directory("/lib64")) {
    lib = "lib64";
    return {"/lib64", "/usr/lib64"};
  }
  lib = "lib";
  return {"/lib", "/usr/lib"};
}

std::string platform_for(uint16_t machine) {
  switch (machine) {
    case EM_X86_64: return "x86_64";
    case EM_386: return "i686";
    case EM_AARCH64: return "aarch64";
    default: return "";
  }
}
}  // namespace

void parse_ld_so_conf(const std::string& text, const std::string& conf_dir, std::vector<std::string>& dirs,
                      std::vector<std::string>& include_patterns) {
  for (std::string_view line_view : lines(text)) {
    std::string line(line_view);
    size_t hash = line.find('#');
    if (hash != std::string::npos) line.resize(hash);
    line = trim(line, " \t\r\n");
    if (line.empty()) continue;
    auto starts_word = [&](const char* w) {
      size_t n = std::char_traits<char>::length(w);
      return line.compare(0, n, w) == 0 && line.size() > n && (line[n] == ' ' || line[n] == '\t');
    };
    if (starts_word("include")) {
      std::string rest = trim(line.substr(7), " \t\r\n");
      size_t i = 0;
      while (i < rest.size()) {
        size_t j = rest.find_first_of(" \t", i);
        if (j == std::string::npos) j = rest.size();
        std::string pat = rest.substr(i, j - i);
        if (!pat.empty()) include_patterns.push_back(pat[0] == '/' ? pat : conf_dir + "/" + pat);
        i = rest.find_first_not_of(" \t", j);
        if (i == std::string::npos) break;
      }
      continue;
    }
    if (starts_word("hwcap")) continue;  // ldconfig's hwcap lines name no directory
    // Legacy "DIR=TYPE" lines: the type selects a libc flavor, not a directory.
    size_t eq = line.find('=');
    if (eq != std::string::npos) line = trim(line.substr(0, eq), " \t\r\n");
    while (line.size() > 1 && line.back() == '/') line.pop_back();
    if (!line.empty()) dirs.push_back(line);
  }
}

std::vector<std::string> scan_system_dirs(const std::string& bytes) {
  // glibc's SYSTEM_DIRS is "/lib/x86_64-linux-gnu/\0/usr/lib/x86_64-linux-gnu/\0/lib/\0/usr/lib/\0":
  // consecutive C strings, each absolute and ending in '/'.
  auto is_dir_string = [](const std::string& s) {
    return s.size() >= 2 && s.front() == '/' && s.back() == '/' && s.find("lib") != std::string::npos &&
           std::all_of(s.begin(), s.end(), [](char c) { return c > 32 && c < 127; });
  };
  size_t pos = 0;
  while (pos < bytes.size()) {
    size_t hit = bytes.find("lib", pos);
    if (hit == std::string::npos) break;
    size_t start = bytes.rfind('\0', hit);
    start = start == std::string::npos ? 0 : start + 1;
    std::vector<std::string> run;
    size_t cur = start;
    while (cur < bytes.size()) {
      size_t end = bytes.find('\0', cur);
      if (end == std::string::npos) break;
      std::string s = bytes.substr(cur, end - cur);
      if (!is_dir_string(s)) break;
      run.push_back(s);
      cur = end + 1;
    }
    if (run.size() >= 2) {
      for (auto& d : run) d.pop_back();
      return run;
    }
    pos = hit + 3;
  }
  return {};
}

LoaderConfig load_loader_config(const GuestRoot& root, const std::string& interpreter, bool is64, uint16_t machine) {
  LoaderConfig cfg;
  cfg.platform = platform_for(machine);
  std::string fallback_lib;
  std::vector<std::string> fallback = default_system_dirs(root, is64, machine, fallback_lib);
  if (!interpreter.empty()) {
    auto bytes = root.read_file(interpreter, 16 << 20);
    if (bytes) cfg.system_dirs = scan_system_dirs(*bytes);
  }
  if (!cfg.system_dirs.empty()) {
    cfg.system_dirs_source = "interpreter " + interpreter;
    // $LIB is glibc's slibdir without the leading slash, and slibdir is the
    // first system directory.
    cfg.lib_dst = cfg.system_dirs.front().substr(1);
  } else {
    cfg.system_dirs = fallback;
    cfg.lib_dst = fallback_lib;
    cfg.system_dirs_source = "default for " + platform_for(machine);
  }
  ConfReader{root, cfg, {}, {}, {}, 0, {}}.read("/etc/ld.so.conf", 0);
  return cfg;
}

std::map<std::string, std::vector<std::string>> parse_nsswitch_conf(const std::string& text) {
  std::map<std::string, std::vector<std::string>> out;
  for (std::string_view line_view : lines(text)) {
    std::string line(line_view.substr(0, line_view.find('#')));
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::vector<std::string>& services = out[trim(line.substr(0, colon))];
    std::string rest = line.substr(colon + 1), word;
    for (size_t k = 0; k <= rest.size(); ++k) {
      char c = k < rest.size() ? rest[k] : ' ';
      if (isalnum(static_cast<unsigned char>(c)) || c == '_') word += c;
      else {
        if (c == '[') {
          size_t close = rest.find(']', k);
          k = close == std::string::npos ? rest.size() : close;
        }
        if (!word.empty()) services.push_back(word);
        word.clear();
      }
    }
  }
  return out;
}

}  // namespace decant
