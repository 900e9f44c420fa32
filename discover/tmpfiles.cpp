// Reads the guest's tmpfiles.d for the directories systemd-tmpfiles makes
// below /run at boot (see tmpfiles.h). Fields are split as systemd splits
// them (quotes and C escapes, the unit-file word rules), specifiers with a
// fixed system value are expanded and a line with any other is left out:
// guessing a host name or machine id would name a directory the VM never had.
#include "discover/tmpfiles.h"

#include <map>
#include <set>

#include "common/file_util.h"
#include "common/text.h"
#include "discover/unit_file.h"

namespace decant {
namespace {

// Highest priority first (tmpfiles.d(5)); /lib/tmpfiles.d is read by
// systemd builds for guests whose /lib is not /usr/lib.
const char* const kConfigDirs[] = {"/etc/tmpfiles.d", "/run/tmpfiles.d", "/usr/local/lib/tmpfiles.d",
                                   "/usr/lib/tmpfiles.d", "/lib/tmpfiles.d"};

// The system values of tmpfiles' specifiers that are plain directories.
// Empty when a specifier is unknown or depends on the machine, the boot or
// the user (%H, %m, %b, %u, %h...).
std::string expand_specifiers(const std::string& in) {
  static const std::map<char, std::string> kFixed = {{'t', "/run"},       {'T', "/tmp"},      {'V', "/var/tmp"},
                                                     {'S', "/var/lib"},   {'C', "/var/cache"}, {'L', "/var/log"},
                                                     {'%', "%"}};
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    auto it = i + 1 < in.size() ? kFixed.find(in[i + 1]) : kFixed.end();
    if (it == kFixed.end()) return "";
    out += it->second;
    ++i;
  }
  return out;
}

// The modifiers systemd accepts after the type letter, each at most once
// (`!` boot only, `-` failure allowed, `+` force, `=` remove mismatching,
// `~` base64, `^` credential, `$` purge). None changes whether a directory
// is created at boot.
bool valid_modifiers(const std::string& action, bool& boot_only) {
  std::set<char> seen;
  for (size_t i = 1; i < action.size(); ++i) {
    char c = action[i];
    if (std::string("!-+=~^$").find(c) == std::string::npos || !seen.insert(c).second) return false;
  }
  boot_only = seen.count('!') > 0;
  return true;
}

// The path as systemd-tmpfiles uses it: absolute, no `..` component
// (path_is_normalized), /var/run rewritten to /run as its patch_var_run()
// does; "" when the line is not for a directory below /run.
std::string runtime_path(const std::string& raw) {
  std::string path = expand_specifiers(raw);
  if (path.empty() || path[0] != '/') return "";
  for (const auto& part : split(path, '/'))
    if (part == "..") return "";
  path = normalize_absolute(path);
  if (path == "/var/run" || path.rfind("/var/run/", 0) == 0) path = path.substr(4);
  if (path.rfind("/run/", 0) != 0) return "";
  return path;
}

}  // namespace

std::vector<TmpfilesDirectory> parse_tmpfiles_runtime_dirs(const std::string& text, const std::string& file) {
  std::vector<TmpfilesDirectory> out;
  int n = 0;
  for (const auto& raw : split_lines(text)) {
    ++n;
    std::string line = trim(raw);
    if (line.empty() || line[0] == '#') continue;
    auto words = split_unit_words(line);
    if (!words || words->size() < 2 || words->front().empty()) continue;
    const auto& w = *words;
    TmpfilesDirectory d;
    d.type = w[0][0];
    if (std::string("dDvqQ").find(d.type) == std::string::npos || !valid_modifiers(w[0], d.boot_only)) continue;
    d.path = runtime_path(w[1]);
    if (d.path.empty()) continue;
    d.mode = w.size() > 2 ? w[2] : "-";
    d.user = w.size() > 3 ? w[3] : "-";
    d.group = w.size() > 4 ? w[4] : "-";
    d.file = file;
    d.line = n;
    d.text = line;
    out.push_back(std::move(d));
  }
  return out;
}

std::vector<TmpfilesDirectory> guest_tmpfiles_runtime_dirs(const GuestRoot& root) {
  // name -> the files of that name, highest-priority directory first. A
  // directory reached twice (merged /usr: /lib is /usr/lib) counts once,
  // under the spelling met first.
  std::map<std::string, std::vector<std::string>> by_name;
  std::set<std::string> dirs_seen;
  for (const char* dir : kConfigDirs) {
    auto canonical = root.resolve(dir);
    if (!canonical || !dirs_seen.insert(*canonical).second) continue;
    auto names = root.list_directory(dir);
    if (!names) continue;
    for (const auto& name : *names)
      if (name[0] != '.' && name.size() > 5 && name.compare(name.size() - 5, 5, ".conf") == 0)
        by_name[name].push_back(std::string(dir) + "/" + name);
  }
  std::vector<TmpfilesDirectory> out;
  std::set<std::string> paths_seen;
  for (const auto& [name, files] : by_name) {  // std::map: file-name order, as systemd reads them
    const std::string& file = files.front();
    auto target = root.resolve(file);
    if (!target || *target == "/dev/null" || !root.is_regular_file(file)) continue;  // masked
    auto text = root.read_file(file, 1 << 20);
    if (!text) continue;
    for (auto& d : parse_tmpfiles_runtime_dirs(*text, file)) {
      if (!paths_seen.insert(d.path).second) continue;
      d.shadowed.assign(files.begin() + 1, files.end());
      out.push_back(std::move(d));
    }
  }
  return out;
}

}  // namespace decant
