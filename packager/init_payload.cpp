// Puts decant-init and the data it reads into an image (see init_payload.h).
// Everything the VM's init knew is read here, from the guest and the
// profile, and written as plain data: the init's options, its setup file
// and the volume seeds.
#include "packager/init_payload.h"

#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <set>

#include <fmt/format.h>

#include "common/file_util.h"
#include "common/host_paths.h"
#include "common/text.h"

namespace decant {

namespace {

bool readable(const std::string& p) { return ::access(p.c_str(), R_OK) == 0; }

bool parse_id(const std::string& s, uint32_t& out) {
  if (s.empty() || s.size() > 10 || s.find_first_not_of("0123456789") != std::string::npos) return false;
  unsigned long long v = std::stoull(s);
  if (v > 0xffffffffULL) return false;
  out = static_cast<uint32_t>(v);
  return true;
}

bool under(const std::string& path, const std::string& dir) {
  return path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/';
}

std::vector<std::string> words_of(const std::string& line) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t') ++j;
    if (j > i) out.push_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

// A tmpfiles.d user or group column: "-" is root, a number is itself, a
// name is looked up in the guest; false when the guest does not know it.
bool tmpfiles_id(const GuestRoot& root, const std::string& v, bool group, uint32_t& out) {
  if (v.empty() || v == "-") {
    out = 0;
    return true;
  }
  auto u = lookup_guest_user(root, group ? "0:" + v : v);
  if (!u) return false;
  out = group ? u->gid : u->uid;
  return true;
}

// One `d`/`D` line of a tmpfiles.d file as a setup line, or "".
std::string tmpfiles_line(const GuestRoot& root, const std::string& line, const std::string& origin,
                          std::vector<std::string>& notes) {
  auto w = words_of(line);
  if (w.size() < 2 || (w[0][0] != 'd' && w[0][0] != 'D')) return "";
  if (w[0].find_first_not_of("dD!-+=~^") != std::string::npos || w[0].find('!') != std::string::npos) return "";
  std::string path = w[1];
  if (path.rfind("/var/run/", 0) == 0) path = path.substr(4);
  if (path.rfind("/run/", 0) != 0 || path.find('%') != std::string::npos) return "";
  path = normalize_absolute(path);
  std::string mode = w.size() > 2 ? w[2] : "-";
  if (!mode.empty() && mode[0] == '~') mode.erase(0, 1);
  if (mode.empty() || mode == "-") mode = "0755";
  if (mode.find_first_not_of("01234567") != std::string::npos || mode.size() > 5) return "";
  uint32_t uid = 0, gid = 0;
  if (!tmpfiles_id(root, w.size() > 3 ? w[3] : "-", false, uid) || !tmpfiles_id(root, w.size() > 4 ? w[4] : "-", true, gid)) {
    notes.push_back(fmt::format("{}: {}: owner unknown in the guest, not created", origin, path));
    return "";
  }
  return fmt::format("dir {} {} {} {}", mode, uid, gid, path);
}

// Moves what the image holds below each writable directory to
// /.decant/seed/<dir>/, returning the directories that had content.
std::vector<std::string> move_seeds(FileSet& set, const ImageSpec& spec) {
  std::vector<std::string> seeded;
  std::map<std::string, std::string> moved;  // old path -> new path
  for (const auto& w : spec.writable) {
    std::vector<std::string> paths;
    for (auto it = set.entries.lower_bound(w.path + "/"); it != set.entries.end() && under(it->first, w.path); ++it)
      paths.push_back(it->first);
    if (paths.empty()) continue;
    seeded.push_back(w.path);
    set.add_directory(kSeedRoot + w.path, 0755);
    if (auto it = set.entries.find(w.path); it != set.entries.end()) set.entries[kSeedRoot + w.path] = it->second;
    for (const auto& p : paths) {
      moved[p] = kSeedRoot + p;
      set.entries[kSeedRoot + p] = std::move(set.entries[p]);
      set.entries.erase(p);
    }
  }
  // A hard link keeps pointing at its file: retargeted when the file moved
  // and the link still comes after it in the layer, else a copy of it.
  for (auto& [path, e] : set.entries) {
    if (e.type != EntryType::Hardlink) continue;
    auto m = moved.find(e.target);
    std::string target = m == moved.end() ? e.target : m->second;
    std::string seed_root = kSeedRoot;
    bool was_moved = m != moved.end() || (path.rfind(seed_root + "/", 0) == 0 && moved.count(path.substr(seed_root.size())));
    if (!was_moved) continue;
    if (target < path) {
      e.target = target;
    } else if (auto t = set.entries.find(target); t != set.entries.end()) {
      e = t->second;
    }
  }
  return seeded;
}

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

// decant-init's options: what the profile's service section says.
std::vector<std::string> init_argv(const Profile& p, const GuestRoot& root, const ImageSpec& spec, bool setup) {
  std::vector<std::string> a = {kInitPath};
  if (p.service.type == "forking") {
    a.push_back("--type=forking");
    if (!p.service.pidfile.empty()) a.push_back("--pidfile=" + p.service.pidfile);
  }
  // The unit's TimeoutStopSec=; without one decant-init keeps its own 10 s,
  // not systemd's DefaultTimeoutStopSec= (90 s), as before it was carried.
  if (p.service.stop_timeout) a.push_back(fmt::format("--stop-timeout={}", p.service.stop_timeout));
  if (spec.uid != 0 || spec.gid != 0) {
    a.push_back(fmt::format("--user={}:{}", spec.uid, spec.gid));
    std::vector<std::string> groups;
    for (uint32_t g : guest_supplementary_groups(root, p.user, spec.gid)) groups.push_back(std::to_string(g));
    a.push_back("--groups=" + join(groups, ","));
  }
  a.push_back("--caps=" + join(spec.service_capabilities, ","));
  a.push_back("--syslog=/dev/log");
  if (setup) a.push_back(std::string("--setup=") + kInitSetupPath);
  a.push_back("--");
  return a;
}

}  // namespace

std::string locate_init() {
  if (const char* e = std::getenv("DECANT_INIT"); e && *e) return absolute_path(e);
  std::string dir = executable_dir();
  if (dir.empty()) return "decant-init";
  for (const std::string& c : {dir + "/decant-init", dir + "/../lib/decant/decant-init", dir + "/init/decant-init"})
    if (readable(c)) return normalize_absolute(c);
  return dir + "/decant-init";
}

// Walks the options as init_parse_args does (init/args.c): "--opt=value" or
// "--opt value", up to "--" or the first word that is not an option.
int init_stop_timeout(const std::vector<std::string>& argv) {
  if (argv.empty() || argv[0] != kInitPath) return 0;
  int seconds = 0;
  for (size_t i = 1; i < argv.size() && argv[i] != "--" && !argv[i].empty() && argv[i][0] == '-'; ++i) {
    size_t eq = argv[i].find('=');
    std::string opt = argv[i].substr(0, eq), value;
    if (eq != std::string::npos) value = argv[i].substr(eq + 1);
    else if (i + 1 < argv.size()) value = argv[++i];
    if (opt != "--stop-timeout") continue;
    bool number = !value.empty() && value.size() <= 9 && value.find_first_not_of("0123456789") == std::string::npos;
    seconds = number ? std::stoi(value) : 0;
  }
  return seconds;
}

int runtime_stop_grace(const std::vector<std::string>& argv) {
  int t = init_stop_timeout(argv);
  return t ? t + kStopGraceMargin : 0;
}

std::vector<uint32_t> guest_supplementary_groups(const GuestRoot& root, const std::string& user, uint32_t gid) {
  std::set<uint32_t> out = {gid};
  auto u = lookup_guest_user(root, user);
  auto text = root.read_file("/etc/group");
  if (!u || !text || u->name.empty()) return {out.begin(), out.end()};
  for (const auto& line : split_lines(*text)) {
    // name:password:gid:member,member
    std::vector<std::string> f;
    size_t i = 0;
    for (size_t c; f.size() < 3 && (c = line.find(':', i)) != std::string::npos; i = c + 1) f.push_back(line.substr(i, c - i));
    if (f.size() < 3) continue;
    std::string members = "," + line.substr(i) + ",";
    uint32_t g;
    if (members.find("," + u->name + ",") != std::string::npos && parse_id(f[2], g)) out.insert(g);
  }
  return {out.begin(), out.end()};
}

std::vector<std::string> tmpfiles_run_dirs(const GuestRoot& root, std::vector<std::string>& notes) {
  std::map<std::string, std::string> files;  // basename -> guest path; /etc wins
  for (const char* dir : {"/usr/lib/tmpfiles.d", "/lib/tmpfiles.d", "/etc/tmpfiles.d"}) {
    auto names = root.list_directory(dir);
    if (!names) continue;
    for (const auto& n : *names)
      if (n.size() > 5 && n.compare(n.size() - 5, 5, ".conf") == 0) files[n] = std::string(dir) + "/" + n;
  }
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const auto& [name, path] : files) {
    auto text = root.read_file(path);  // a mask (a link to /dev/null) reads as empty
    if (!text) continue;
    int n = 0;
    for (const auto& line : split_lines(*text)) {
      ++n;
      if (line.empty() || line[0] == '#') continue;
      std::string l = tmpfiles_line(root, line, fmt::format("{}:{}", path, n), notes);
      auto w = words_of(l);
      if (!l.empty() && seen.insert(w.back()).second) out.push_back(l);
    }
  }
  return out;
}

void link_var_run(const GuestRoot& root, FileSet& set, ImageSpec& spec) {
  auto r = root.resolve("/var/run");
  if (!r || *r != "/run") return;
  auto e = set.entries.find("/var/run");
  if (e != set.entries.end() && e->second.type == EntryType::Symlink) return;
  std::vector<std::string> paths;
  for (auto it = set.entries.lower_bound("/var/run/"); it != set.entries.end() && under(it->first, "/var/run"); ++it)
    paths.push_back(it->first);
  for (const auto& p : paths) {
    std::string to = p.substr(4);
    if (!set.entries.count(to)) set.entries[to] = std::move(set.entries[p]);
    set.entries.erase(p);
  }
  for (auto& [path, entry] : set.entries)
    if (entry.type == EntryType::Hardlink && under(entry.target, "/var/run")) entry.target = entry.target.substr(4);
  std::vector<WritableDir> writable;
  std::set<std::string> have;
  for (auto w : spec.writable) {
    if (w.path == "/var/run" || under(w.path, "/var/run")) w.path = w.path.substr(4);
    if (have.insert(w.path).second) writable.push_back(w);
  }
  std::sort(writable.begin(), writable.end(), [](const auto& a, const auto& b) { return a.path < b.path; });
  spec.writable = std::move(writable);
  FileEntry link;
  link.type = EntryType::Symlink;
  link.mode = 0777;
  link.target = "/run";
  set.entries["/var/run"] = link;
  set.add_directory("/run", 0755);
}

Status add_init_payload(const GuestRoot& root, const Profile& p, const std::string& init_host, FileSet& set,
                        ImageSpec& spec, std::vector<std::string>& warnings) {
  if (!init_supports(p)) {
    struct utsname u;
    set.notes.push_back(fmt::format("{} is built for {}, decant-init for {}: no init, the service is the container's "
                                    "first process",
                                    p.binary.path, p.binary.arch, ::uname(&u) == 0 ? u.machine : "this machine"));
    return Status::success();
  }
  if (!readable(init_host))
    return env_error(fmt::format("{}: cannot read decant-init (build target decant_init, or set DECANT_INIT)", init_host));
  Status s = set.add_host_file(kInitPath, init_host, 0755);
  if (!s) return s;

  std::vector<std::string> setup;
  std::string mode = p.service.runtime_directory_mode.empty() ? "0755" : p.service.runtime_directory_mode;
  for (const auto& d : p.service.runtime_directories)
    setup.push_back(fmt::format("dir {} {} {} {}", mode, spec.uid, spec.gid, d));
  for (auto& l : tmpfiles_run_dirs(root, set.notes)) setup.push_back(std::move(l));
  // Each volume's mount point gets the owner and mode it had in the guest,
  // whatever the runtime made it (an emptyDir, LXC's tmpfs, a new volume).
  for (const auto& w : spec.writable)
    if (auto it = set.entries.find(w.path); it != set.entries.end() && it->second.type == EntryType::Directory)
      setup.push_back(fmt::format("dir {:04o} {} {} {}", it->second.mode & 07777, it->second.uid, it->second.gid, w.path));
  for (const auto& dir : move_seeds(set, spec)) setup.push_back("seed " + dir);
  if (!setup.empty()) set.add_inline(kInitSetupPath, "# decant-init's setup (docs/init.md)\n" + join(setup, "\n") + "\n");

  std::vector<std::string> argv = init_argv(p, root, spec, !setup.empty());
  argv.insert(argv.end(), spec.entrypoint.begin(), spec.entrypoint.end());
  spec.entrypoint = std::move(argv);
  spec.uid = spec.gid = 0;  // the init drops to the service user
  (void)warnings;
  return Status::success();
}

}  // namespace decant
