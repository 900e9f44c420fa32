// Configuration seeds of a service (config_sources.h): command line, code,
// dpkg database, conventional names.
#include "analyzer/config/config_sources.h"

#include <algorithm>
#include <cstring>
#include <mutex>
#include <set>

#include <fmt/format.h>

#include "common/file_util.h"
#include "common/text.h"

namespace decant {

namespace {

std::shared_ptr<const DpkgIndex> build_index(const GuestRoot& root) {
  auto index = std::make_shared<DpkgIndex>();
  const std::string info = "/var/lib/dpkg/info";
  auto entries = root.list_directory(info);
  if (!entries) return index;
  for (auto& e : *entries) {
    if (e.size() < 6 || e.compare(e.size() - 5, 5, ".list") != 0) continue;
    auto text = root.read_file(info + "/" + e, 16 << 20);
    if (!text) continue;
    std::string stem = e.substr(0, e.size() - 5);
    std::string package = stem.substr(0, stem.find(':'));
    index->list_name[package] = stem;
    auto& files = index->files[package];
    for (std::string_view lv : lines(*text)) {
      if (lv.empty() || lv[0] != '/') continue;
      std::string path(lv);
      index->owners[path].push_back(package);
      files.push_back(std::move(path));
    }
  }
  auto status = root.read_file("/var/lib/dpkg/status", 64 << 20);
  if (status) {
    std::string package;
    for (std::string_view lv : lines(*status)) {
      std::string line(lv);
      if (line.compare(0, 9, "Package: ") == 0) package = trim(line.substr(9));
      else if (line.compare(0, 8, "Source: ") == 0 && !package.empty())
        index->source[package] = split_words(line.substr(8)).front();
    }
  }
  return index;
}

void add_seed(std::vector<ConfigSeed>& seeds, std::set<std::string>& seen, const std::string& path,
              const std::string& evidence) {
  if (seen.insert(path).second) seeds.push_back({path, evidence});
}

// Seeds from the command line: the value of a config option, or any
// argument that is an existing file under /etc.
void command_line_seeds(const GuestRoot& root, const std::vector<std::string>& argv, std::vector<ConfigSeed>& seeds,
                        std::set<std::string>& seen) {
  static const std::set<std::string> flags{"-c", "-f", "-C", "--config", "--conf", "--config-file", "--configfile",
                                           "-config", "--conf-file", "--cfg"};
  for (size_t i = 1; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    std::string value, shown;
    if (flags.count(a) && i + 1 < argv.size()) {
      value = argv[i + 1];
      shown = a + " " + value;
    } else if (a.compare(0, 2, "--") == 0 && a.find('=') != std::string::npos &&
               flags.count(a.substr(0, a.find('=')))) {
      value = a.substr(a.find('=') + 1);
      shown = a;
    } else if (a.compare(0, 5, "/etc/") == 0 && root.is_regular_file(a)) {
      value = a;
      shown = a;
    }
    if (value.empty() || value[0] != '/' || !root.exists(value)) continue;
    add_seed(seeds, seen, normalize_absolute(value), "config: command line: " + shown);
  }
}

// The /etc configuration one package installs: its conffiles, then the
// other /etc files of its .list, then the files in its /etc directories
// that no package owns (a maintainer script wrote them).
void package_seeds(const GuestRoot& root, const DpkgIndex& index, const std::string& package,
                   std::vector<ConfigSeed>& seeds, std::set<std::string>& seen) {
  auto stem = index.list_name.find(package);
  if (stem == index.list_name.end()) return;
  auto conffiles = root.read_file("/var/lib/dpkg/info/" + stem->second + ".conffiles", 4 << 20);
  if (conffiles)
    for (std::string_view lv : lines(*conffiles)) {
      auto words = split_words(lv);
      if (words.empty() || !config_like(words[0]) || !root.is_regular_file(words[0])) continue;
      add_seed(seeds, seen, words[0], fmt::format("dpkg: {}.conffiles", stem->second));
    }
  auto files = index.files.find(package);
  if (files == index.files.end()) return;
  std::set<std::string> dirs;
  for (auto& path : files->second) {
    if (!config_like(path)) continue;
    if (root.is_directory(path)) {
      dirs.insert(path);
      continue;
    }
    if (root.is_regular_file(path)) add_seed(seeds, seen, path, fmt::format("dpkg: {}.list", stem->second));
  }
  for (auto& dir : dirs) {
    auto entries = root.list_directory(dir);
    if (!entries) continue;
    for (auto& e : *entries) {
      std::string path = dir + "/" + e;
      if (index.owners.count(path) || !config_like(path) || e[0] == '.' || !root.is_regular_file(path)) continue;
      add_seed(seeds, seen, path, fmt::format("dpkg: in {} (a directory of {}), owned by no package", dir, package));
    }
  }
}

}  // namespace

std::shared_ptr<const DpkgIndex> dpkg_index(const GuestRoot& root) {
  // Keyed by what names the guest for as long as the process runs: its host
  // directory, or the archive or image it was read from (convert analyzes
  // every service of one guest). A guest named by neither (a MemoryGuest)
  // is read each time: its address would name the next guest allocated
  // there once it is freed (a stale index), and every guest ever analyzed
  // would stay cached.
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<const DpkgIndex>> cache;
  std::string key = !root.host_root().empty()   ? root.host_root()
                    : !root.source_name().empty() ? "source:" + root.source_name()
                                                  : "";
  if (key.empty()) return build_index(root);
  {
    std::lock_guard<std::mutex> lock(mutex);
    auto it = cache.find(key);
    if (it != cache.end()) return it->second;
  }
  auto index = build_index(root);
  std::lock_guard<std::mutex> lock(mutex);
  return cache.emplace(key, index).first->second;
}

std::string owning_package(const GuestRoot& root, const DpkgIndex& index, const std::string& binary) {
  std::vector<std::string> names{binary};
  if (auto c = root.resolve(binary)) names.push_back(*c);
  for (size_t i = 0, n = names.size(); i < n; ++i) {
    const std::string& p = names[i];
    if (p.compare(0, 5, "/usr/") == 0) names.push_back(p.substr(4));  // the /usr merge, both ways
    else names.push_back("/usr" + p);
  }
  for (auto& n : names) {
    auto it = index.owners.find(n);
    if (it != index.owners.end() && !it->second.empty()) return it->second.front();
  }
  return "";
}

bool config_like(const std::string& path) {
  static const char* skip_dirs[] = {"/etc/init.d/", "/etc/logrotate.d/", "/etc/cron.", "/etc/pam.d/",
                                    "/etc/default/", "/etc/systemd/", "/etc/apparmor.d/", "/etc/rc",
                                    "/etc/ssl/", "/etc/sasl", "/etc/init/", "/etc/insserv", "/etc/network/",
                                    "/etc/ppp/", "/etc/ufw/", "/etc/bash_completion.d/", "/etc/X11/", "/etc/menu",
                                    "/etc/resolvconf/", "/etc/sv/", "/etc/runit/", "/etc/logcheck/",
                                    "/etc/profile.d/", "/etc/sudoers.d/", "/etc/modprobe.d/", "/etc/sysctl.d/",
                                    "/etc/tmpfiles.d/", "/etc/udev/", "/etc/dhcp/", "/etc/kernel/"};
  // glibc's own databases and settings: every program reads them through
  // libc (NSS, the resolver, ld.so); none is a daemon's configuration.
  static const char* libc_files[] = {"/etc/services", "/etc/protocols", "/etc/networks", "/etc/rpc",
                                     "/etc/hosts", "/etc/host.conf", "/etc/gai.conf", "/etc/resolv.conf",
                                     "/etc/nsswitch.conf", "/etc/passwd", "/etc/group", "/etc/shadow",
                                     "/etc/localtime", "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/gshadow"};
  if (path.compare(0, 5, "/etc/") != 0) return false;
  for (auto f : libc_files)
    if (path == f) return false;
  for (auto d : skip_dirs)
    if (path.compare(0, strlen(d), d) == 0) return false;
  // Disabled until linked into *-enabled (the tree reader follows the links).
  if (path.find("-available/") != std::string::npos) return false;
  if (path.size() > 10 && path.compare(path.size() - 10, 10, "-available") == 0) return false;
  return true;
}

// True when one of code_paths is a seed, or a directory holding one (a
// compiled-in server root such as "/etc/<name>").
bool code_names_a_seed_place(const std::vector<std::string>& code_paths, const std::vector<ConfigSeed>& seeds) {
  for (const auto& seed : seeds)
    for (const auto& p : code_paths) {
      if (p.empty() || p == "/" || p == "/etc" || p == "/etc/") continue;
      std::string dir = p.back() == '/' ? p : p + "/";
      if (seed.path == p || seed.path.compare(0, dir.size(), dir) == 0) return true;
    }
  return false;
}

std::vector<ConfigSeed> config_seeds(const GuestRoot& root, const std::string& binary,
                                     const std::vector<std::string>& argv, const std::vector<std::string>& code_paths) {
  std::vector<ConfigSeed> seeds;
  std::set<std::string> seen;
  command_line_seeds(root, argv, seeds, seen);
  for (auto& path : code_paths)
    if (config_like(path) && root.is_regular_file(path))
      add_seed(seeds, seen, path, "config: named in the program's code");
  auto index = dpkg_index(root);
  std::string package = owning_package(root, *index, binary);
  if (!package.empty()) {
    size_t before = seeds.size();
    package_seeds(root, *index, package, seeds, seen);
    // A binary split out of its configuration package (apache2-bin beside
    // apache2): the configuration is its source package's siblings'.
    // Only when the program's code names a place of that tree: apache2's
    // utilities (ab, checkgid) come from the same source and never read it.
    auto src = index->source.count(package) ? index->source.at(package) : package;
    if (seeds.size() == before) {
      std::vector<ConfigSeed> siblings;
      std::set<std::string> sibling_seen = seen;
      for (auto& [other, other_src] : index->source)
        if (other != package && (other_src == src || other == src))
          package_seeds(root, *index, other, siblings, sibling_seen);
      if (siblings.empty() && src != package && index->list_name.count(src))
        package_seeds(root, *index, src, siblings, sibling_seen);
      if (code_names_a_seed_place(code_paths, siblings)) {
        seeds.insert(seeds.end(), siblings.begin(), siblings.end());
        seen = std::move(sibling_seen);
      }
    }
  }
  std::string name = path_basename(binary);
  for (auto& path : {"/etc/" + name + ".conf", "/etc/" + name + "/" + name + ".conf"})
    if (root.is_regular_file(path)) add_seed(seeds, seen, path, "config: conventional path for " + name);
  return seeds;
}

}  // namespace decant
