// What systemd starts at boot, read from the guest's unit files: the unit
// search path (systemd.unit(5) "Unit File Load Path"), aliases by symlink,
// masks (a link to /dev/null), templates and instances, drop-ins, the
// default target's transitive Wants=/Requires= and .wants/.requires
// directories, socket units and the services they activate; and the
// time spans of their timeouts (systemd.time(7)).
#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <deque>
#include <map>
#include <set>

#include <fmt/format.h>

#include "common/file_util.h"
#include "discover/init_systems.h"
#include "discover/shell_vars.h"
#include "discover/unit_file.h"

namespace decant {
namespace {

// Highest priority first; /run is empty in an image but may be captured.
const char* const kUnitDirs[] = {"/etc/systemd/system", "/run/systemd/system", "/lib/systemd/system",
                                 "/usr/lib/systemd/system"};

struct LoadedUnit {
  std::string name;       // the name it was asked by, after alias resolution
  std::string fragment;   // guest path of the unit file
  bool masked = false;
  UnitFile file;
  UnitNames names;
};

class UnitLoader {
 public:
  explicit UnitLoader(const GuestRoot& root) : root_(root) {}

  // Finds and parses a unit (drop-ins included); nullptr when none exists.
  const LoadedUnit* load(const std::string& name) {
    auto it = cache_.find(name);
    if (it != cache_.end()) return it->second.fragment.empty() && !it->second.masked ? nullptr : &it->second;
    LoadedUnit& u = cache_[name];
    u.name = name;
    std::string lookup = name;
    std::string fragment = find_fragment(lookup);
    if (fragment.empty())  // only a .wants link names it: load what the link points at
      if (auto hint = link_targets_.find(name); hint != link_targets_.end()) fragment = hint->second;
    if (fragment.empty()) {  // an instance falls back to its template
      size_t at = name.find('@'), dot = name.rfind('.');
      if (at != std::string::npos && dot > at + 1) fragment = find_fragment(lookup = name.substr(0, at + 1) + name.substr(dot));
    }
    if (fragment.empty()) return nullptr;
    if (is_mask(fragment)) {
      u.masked = true;
      u.fragment = fragment;
      return &u;
    }
    auto canonical = root_.resolve(fragment);
    if (!canonical) return nullptr;
    // An alias (redis.service -> redis-server.service) loads as its target.
    std::string real = path_basename(*canonical);
    bool template_of_instance = real.find("@.") != std::string::npos && name.find("@.") == std::string::npos;
    if (real != path_basename(lookup) && !template_of_instance && real.find('.') != std::string::npos) u.name = real;
    u.fragment = *canonical;
    u.names = unit_names(u.name);
    auto text = root_.read_file(*canonical, 1 << 20);
    if (text) (void)parse_unit_text(*text, *canonical, u.file);
    add_dropins(u, lookup);
    return &u;
  }

  // Names listed in NAME.wants/ and NAME.requires/ of every unit directory.
  std::vector<std::string> dependency_dirs(const std::string& name) {
    std::vector<std::string> out;
    for (const char* dir : kUnitDirs)
      for (const char* kind : {".wants", ".requires"})
        if (auto names = root_.list_directory(std::string(dir) + "/" + name + kind))
          for (const auto& n : *names) {
            out.push_back(n);
            std::string entry = std::string(dir) + "/" + name + kind + "/" + n;
            if (auto target = root_.resolve(entry)) link_targets_.emplace(n, *target);
          }
    return out;
  }

  std::map<std::string, LoadedUnit>& all() { return cache_; }

 private:
  std::string find_fragment(const std::string& name) {
    for (const char* dir : kUnitDirs) {
      std::string p = std::string(dir) + "/" + name;
      if (root_.exists(p) || is_mask(p)) return p;
    }
    return "";
  }

  // A link to /dev/null masks a unit, whether or not the image has a /dev/null.
  bool is_mask(const std::string& p) const {
    auto link = root_.resolve(p, false);
    if (!link) return false;
    int err = 0;
    return root_.fs().readlink(*link, &err) == "/dev/null";
  }

  // NAME.d/*.conf from every directory, sorted by file name; a file in a
  // higher-priority directory replaces one of the same name below it.
  void add_dropins(LoadedUnit& u, const std::string& lookup) {
    std::map<std::string, std::string> by_name;
    std::vector<std::string> dirs = {u.name + ".d"};
    if (lookup != u.name) dirs.push_back(lookup + ".d");
    for (auto d = std::rbegin(kUnitDirs); d != std::rend(kUnitDirs); ++d)
      for (const auto& sub : dirs)
        if (auto names = root_.list_directory(std::string(*d) + "/" + sub))
          for (const auto& n : *names)
            if (n.size() > 5 && n.compare(n.size() - 5, 5, ".conf") == 0)
              by_name[n] = std::string(*d) + "/" + sub + "/" + n;
    for (const auto& [n, path] : by_name)
      if (auto text = root_.read_file(path, 1 << 20)) (void)parse_unit_text(*text, path, u.file);
  }

  const GuestRoot& root_;
  std::map<std::string, LoadedUnit> cache_;
  std::map<std::string, std::string> link_targets_;  // .wants entry name -> unit file it links to
};

std::string suffix(const std::string& name) {
  size_t dot = name.rfind('.');
  return dot == std::string::npos ? "" : name.substr(dot);
}

// Every unit the default target pulls in, breadth first.
std::vector<std::string> wanted_units(UnitLoader& loader, const std::string& target) {
  std::vector<std::string> order;
  std::set<std::string> seen{target};
  std::deque<std::string> queue{target};
  while (!queue.empty()) {
    std::string name = queue.front();
    queue.pop_front();
    order.push_back(name);
    std::vector<std::string> deps = loader.dependency_dirs(name);
    if (const LoadedUnit* u = loader.load(name); u && !u->masked)
      for (const char* key : {"Wants", "Requires", "BindsTo"})
        for (const auto* a : u->file.all("Unit", key))
          if (auto words = split_unit_words(a->value))
            for (const auto& w : *words) deps.push_back(w);
    for (const auto& d : deps)
      if (seen.insert(d).second) queue.push_back(d);
  }
  return order;
}

std::string strip_optional(const std::string& v) { return !v.empty() && v[0] == '-' ? v.substr(1) : v; }

// Environment=, then EnvironmentFile= (read as KEY=VALUE lines), in order.
std::map<std::string, std::string> service_environment(const GuestRoot& root, const LoadedUnit& u,
                                                       DiscoveredService& s) {
  std::map<std::string, std::string> env;
  for (const auto* a : u.file.all("Service", "Environment"))
    parse_environment_assignments(expand_specifiers(a->value, u.names), env);
  for (const auto* a : u.file.all("Service", "EnvironmentFile")) {
    std::string path = expand_specifiers(strip_optional(a->value), u.names);
    auto text = root.read_file(path, 1 << 20);
    if (!text) {
      if (a->value[0] != '-') s.evidence.push_back(fmt::format("{}: EnvironmentFile {} is missing", a->origin, path));
      continue;
    }
    ShellScript sh;
    evaluate_shell(*text, path, [](const std::string&) -> Result<std::string> { return bad_input("no sourcing"); }, sh);
    for (const auto& [k, v] : sh.vars) env[k] = v.value;
    s.evidence.push_back(fmt::format("{}: EnvironmentFile={}", a->origin, path));
  }
  return env;
}

// Directories the unit lets the service write: systemd.exec(5)'s
// ReadWritePaths= (and its old name), and the managed directories under
// /var/lib, /var/log, /run and /var/cache.
void read_writable(const LoadedUnit& u, DiscoveredService& s) {
  const std::pair<const char*, const char*> kManaged[] = {{"StateDirectory", "/var/lib/"}, {"LogsDirectory", "/var/log/"},
                                                          {"RuntimeDirectory", "/run/"}, {"CacheDirectory", "/var/cache/"},
                                                          {"ReadWritePaths", ""}, {"ReadWriteDirectories", ""}};
  for (const auto& [key, base] : kManaged)
    for (const auto* a : u.file.all("Service", key))
      if (auto words = split_unit_words(expand_specifiers(a->value, u.names)))
        for (const auto& w : *words) {
          std::string path = strip_optional(w);
          if (!path.empty() && path[0] == '+') path.erase(0, 1);
          path = path.substr(0, path.find(':'));  // StateDirectory=foo:bar (v254 symlinks) keeps foo
          if (path.empty()) continue;
          if (*base) path = base + path;
          if (path[0] == '/') s.writable.push_back({path, fmt::format("{}: {}={}", a->origin, key, a->value)});
        }
}

// The directory of the guest's systemd binary (its private programs live
// beside it: journald, logind, udevd), resolved; empty when there is none.
std::string systemd_dir(const GuestRoot& root) {
  for (const char* p : {"/sbin/init", "/lib/systemd/systemd", "/usr/lib/systemd/systemd"})
    if (auto bin = root.resolve(p); bin && path_basename(*bin) == "systemd") return path_dirname(*bin);
  return "";
}

// Services that are not an application to containerize, by what their unit
// says rather than by name: the init's own components, and terminal logins.
std::string not_an_application(const GuestRoot& root, const LoadedUnit& u, const DiscoveredService& s,
                               const std::string& init_dir) {
  if (!init_dir.empty() && !s.argv.empty())
    if (auto prog = root.resolve(s.argv[0]); prog && path_dirname(*prog) == init_dir)
      return fmt::format("part of systemd itself ({} is in systemd's own directory {})", s.argv[0], init_dir);
  std::string input = u.file.get("Service", "StandardInput");
  if (const UnitAssignment* tty = u.file.last("Service", "TTYPath"))
    return fmt::format("{}: TTYPath={}: a terminal login, not a network service", tty->origin, tty->value);
  if (input.rfind("tty", 0) == 0)
    return fmt::format("StandardInput={}: a terminal login, not a network service", input);
  return "";
}

// systemd.unit(5)'s path conditions, judged on the guest's files: a failing
// one means systemd skips the unit at boot. Paths under /run, /dev, /proc
// and /sys exist only at run time, so they are not judged. Conditions with
// a `|` prefix hold when any of them does; all others must hold.
std::string failed_condition(const GuestRoot& root, const LoadedUnit& u) {
  const char* const kPathConditions[] = {"ConditionPathExists", "ConditionPathIsDirectory", "ConditionFileNotEmpty",
                                         "ConditionFileIsExecutable", "ConditionDirectoryNotEmpty"};
  // An empty Condition…= resets every condition before it.
  std::vector<const UnitAssignment*> conditions;
  for (const auto& a : u.file.assignments) {
    if (a.section != "Unit" || a.key.rfind("Condition", 0) != 0) continue;
    if (a.value.empty()) conditions.clear();
    else if (std::find(std::begin(kPathConditions), std::end(kPathConditions), a.key) != std::end(kPathConditions))
      conditions.push_back(&a);
  }
  std::string first_trigger;
  bool any_trigger_holds = false;
  for (const UnitAssignment* c : conditions) {
    const UnitAssignment& a = *c;
    std::string v = expand_specifiers(a.value, u.names);
    bool trigger = v[0] == '|';
    if (trigger) v.erase(0, 1);
    bool negate = !v.empty() && v[0] == '!';
    if (negate) v.erase(0, 1);
    if (v.empty() || v[0] != '/') continue;
    bool runtime = false;
    for (const char* r : {"/run/", "/dev/", "/proc/", "/sys/", "/var/run/"})
      if (v.rfind(r, 0) == 0) runtime = true;
    bool holds = false;
    auto st = root.stat(v);
    if (runtime) holds = true;  // the outcome depends on the running machine: assume it holds
    else if (a.key == "ConditionPathExists") holds = root.exists(v);
    else if (a.key == "ConditionPathIsDirectory") holds = root.is_directory(v);
    else if (a.key == "ConditionFileNotEmpty") holds = st && S_ISREG(st->st_mode) && st->st_size > 0;
    else if (a.key == "ConditionFileIsExecutable") holds = st && S_ISREG(st->st_mode) && (st->st_mode & 0111);
    else if (auto names = root.list_directory(v)) holds = !names->empty();
    if (negate && !runtime) holds = !holds;
    std::string why = fmt::format("{}: {}={} fails in the guest: systemd skips the unit at boot", a.origin, a.key, a.value);
    if (!trigger && !holds) return why;
    if (trigger) {
      any_trigger_holds |= holds;
      if (first_trigger.empty()) first_trigger = why;
    }
  }
  return any_trigger_holds ? "" : first_trigger;
}

// TimeoutStopSec= and TimeoutSec= (which sets the start and the stop
// timeout both) are assigned in file order, drop-ins after the unit, so the
// last of either wins, as in systemd's parser. A value systemd cannot parse
// it logs and ignores: the one before it stays.
void read_stop_timeout(const LoadedUnit& u, DiscoveredService& s) {
  const UnitAssignment* chosen = nullptr;
  for (const auto& a : u.file.assignments) {
    if (a.section != "Service" || (a.key != "TimeoutStopSec" && a.key != "TimeoutSec")) continue;
    auto seconds = parse_stop_timeout(a.value);
    if (!seconds) continue;
    s.stop_timeout = *seconds;
    chosen = &a;
  }
  if (!chosen) return;
  s.stop_timeout_evidence = fmt::format("{}: {}={}", chosen->origin, chosen->key, chosen->value);
  s.evidence.push_back(s.stop_timeout_evidence);
}

// Fills argv, user, type... of a service unit; leaves a reason when it is
// not a daemon decant can run.
void read_service(const GuestRoot& root, const LoadedUnit& u, const std::string& init_dir, DiscoveredService& s) {
  s.evidence.push_back("unit: " + u.fragment);
  s.type = u.file.get("Service", "Type", u.file.last("Service", "BusName") ? "dbus" : "simple");
  s.user = expand_specifiers(u.file.get("Service", "User"), u.names);
  s.group = expand_specifiers(u.file.get("Service", "Group"), u.names);
  s.workdir = strip_optional(expand_specifiers(u.file.get("Service", "WorkingDirectory"), u.names));
  s.pidfile = expand_specifiers(u.file.get("Service", "PIDFile"), u.names);
  s.env = service_environment(root, u, s);
  auto starts = u.file.all("Service", "ExecStart");
  if (starts.empty()) {
    s.reason = "no ExecStart=";
    return;
  }
  if (s.type == "oneshot") s.reason = "Type=oneshot: runs once at boot, not a daemon";
  auto cmd = parse_exec(starts.back()->value, u.names, s.env);
  if (!cmd) {
    s.reason = fmt::format("{}: ExecStart: {}", starts.back()->origin, cmd.error().message);
    return;
  }
  s.argv = cmd->argv;
  s.argv[0] = cmd->path;
  // A bare name is looked up in systemd's fixed search path (systemd.service(5), "Command lines").
  if (s.argv[0].find('/') == std::string::npos)
    if (std::string found = find_program(root, s.argv[0]); !found.empty()) s.argv[0] = found;
  read_writable(u, s);
  read_stop_timeout(u, s);
  s.evidence.push_back(fmt::format("{}: ExecStart={}", starts.back()->origin, starts.back()->value));
  if (s.reason.empty()) s.reason = not_an_application(root, u, s, init_dir);
  if (s.reason.empty() && s.enabled) s.reason = failed_condition(root, u);
}

// ListenStream=/ListenDatagram= ports of a socket unit (numbers or [addr]:port).
void read_socket(const LoadedUnit& sock, DiscoveredService& s) {
  for (const auto& [key, proto] : {std::pair<const char*, const char*>{"ListenStream", "tcp"}, {"ListenDatagram", "udp"}})
    for (const auto* a : sock.file.all("Socket", key)) {
      std::string v = a->value;
      if (v.empty() || v[0] == '/' || v[0] == '@') continue;  // a unix socket path
      std::string port = v.substr(v.rfind(':') == std::string::npos ? 0 : v.rfind(':') + 1);
      unsigned long n = std::strtoul(port.c_str(), nullptr, 10);
      if (n > 0 && n < 65536) s.listen.push_back({static_cast<uint16_t>(n), proto, fmt::format("socket: {}: {}={}", a->origin, key, v)});
    }
}

// The units of systemd's time spans (its extract_multiplier table), in
// microseconds. The longest suffix that matches is taken, which is what
// systemd's ordering of that table achieves ("ms" before "m", "min" before
// "m"); "M" (month) and "m" (minute) differ by case only.
constexpr uint64_t kSec = 1000000, kMin = 60 * kSec, kHour = 60 * kMin, kDay = 24 * kHour;
const std::pair<const char*, uint64_t> kSpanUnits[] = {
    {"seconds", kSec}, {"second", kSec}, {"sec", kSec}, {"s", kSec},
    {"minutes", kMin}, {"minute", kMin}, {"min", kMin}, {"m", kMin},
    {"months", 2629800 * kSec}, {"month", 2629800 * kSec}, {"M", 2629800 * kSec},
    {"msec", 1000}, {"ms", 1000},
    {"hours", kHour}, {"hour", kHour}, {"hr", kHour}, {"h", kHour},
    {"days", kDay}, {"day", kDay}, {"d", kDay},
    {"weeks", 7 * kDay}, {"week", 7 * kDay}, {"w", 7 * kDay},
    {"years", 31557600 * kSec}, {"year", 31557600 * kSec}, {"y", 31557600 * kSec},
    {"usec", 1}, {"us", 1}, {"\xce\xbcs", 1}, {"\xc2\xb5s", 1},  // μs (U+03BC), µs (U+00B5)
};

bool span_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// The unit at text[i], longest first: its length and multiplier; 0 when none.
size_t span_unit(const std::string& text, size_t i, uint64_t& multiplier) {
  size_t best = 0;
  for (const auto& [suffix, usec] : kSpanUnits) {
    size_t n = std::strlen(suffix);
    if (n > best && text.compare(i, n, suffix) == 0) {
      best = n;
      multiplier = usec;
    }
  }
  return best;
}

}  // namespace

// systemd's parse_time(): whitespace-separated (or adjacent: "1min30s")
// components, each a number with an optional fraction (".5s" too) and an
// optional unit, summed; a bare number is seconds.
Result<uint64_t> parse_time_span_usec(const std::string& value) {
  auto bad = [&](const char* why) -> Result<uint64_t> {
    return bad_input(fmt::format("'{}' is not a systemd time span ({})", value, why));
  };
  size_t i = 0, n = value.size();
  while (i < n && span_space(value[i])) ++i;
  if (value.compare(i, 8, "infinity") == 0) {
    for (size_t k = i + 8; k < n; ++k)
      if (!span_space(value[k])) return bad("text after infinity");
    return UINT64_MAX;
  }
  uint64_t total = 0;
  bool something = false;
  for (;;) {
    while (i < n && span_space(value[i])) ++i;
    if (i == n) break;
    if (value[i] == '+' && i + 1 < n && std::isdigit(static_cast<unsigned char>(value[i + 1]))) ++i;  // strtoll's sign
    size_t digits = i;
    uint64_t whole = 0;
    for (; i < n && std::isdigit(static_cast<unsigned char>(value[i])); ++i) {
      if (whole > (UINT64_MAX - 9) / 10) return bad("too large");
      whole = whole * 10 + static_cast<uint64_t>(value[i] - '0');
    }
    if (whole > static_cast<uint64_t>(INT64_MAX)) return bad("too large");  // strtoll's range
    size_t fraction = std::string::npos;  // where the fraction's digits start
    if (i < n && value[i] == '.') {
      fraction = ++i;
      while (i < n && std::isdigit(static_cast<unsigned char>(value[i]))) ++i;
      if (i == fraction) return bad("no digits after the point");
    } else if (i == digits) {
      return bad(value[i] == '-' ? "negative" : "not a number");
    }
    size_t end = i;
    while (i < n && span_space(value[i])) ++i;
    uint64_t multiplier = kSec;
    i += span_unit(value, i, multiplier);
    if (i == end && i < n) return bad("unknown unit");  // "5x", "1.2.3"; "5 x" fails at x
    if (whole >= UINT64_MAX / multiplier || whole * multiplier >= UINT64_MAX - total) return bad("too large");
    total += whole * multiplier;
    if (fraction != std::string::npos) {
      uint64_t m = multiplier / 10;
      for (size_t k = fraction; k < n && std::isdigit(static_cast<unsigned char>(value[k])); ++k, m /= 10) {
        uint64_t part = static_cast<uint64_t>(value[k] - '0') * m;
        if (part >= UINT64_MAX - total) return bad("too large");
        total += part;
      }
    }
    something = true;
  }
  if (!something) return bad("empty");
  return total;
}

Result<uint32_t> parse_stop_timeout(const std::string& value) {
  auto usec = parse_time_span_usec(value);
  if (!usec) return usec.error();
  // systemd's parse_sec_fix_0: 0 is an old spelling of infinity.
  if (*usec == 0 || *usec == UINT64_MAX) return kStopTimeoutCap;
  uint64_t seconds = (*usec + kSec - 1) / kSec;
  return static_cast<uint32_t>(std::min<uint64_t>(seconds, kStopTimeoutCap));
}

void discover_systemd(const GuestRoot& root, Discovery& out, std::set<std::string>& native) {
  UnitLoader loader(root);
  const std::string init_dir = systemd_dir(root);
  std::string target = "default.target";
  if (const LoadedUnit* d = loader.load(target)) target = d->name;
  out.default_target = target == "default.target" ? "multi-user.target" : target;
  std::set<std::string> enabled;
  std::map<std::string, const LoadedUnit*> sockets;  // service name -> socket unit
  // default.target's own .wants directory counts even when the unit itself is absent.
  std::vector<std::string> pulled = wanted_units(loader, "default.target");
  for (const auto& n : wanted_units(loader, out.default_target)) pulled.push_back(n);
  for (const auto& name : pulled) {
    const LoadedUnit* u = loader.load(name);
    if (!u) continue;
    if (suffix(u->name) == ".service") enabled.insert(u->name);
    if (suffix(u->name) == ".socket" && !u->masked) {
      std::string svc = u->file.get("Socket", "Service", u->name.substr(0, u->name.size() - 7) + ".service");
      if (u->file.get("Socket", "Accept") == "yes" || u->file.get("Socket", "Accept") == "true")
        svc = u->name.substr(0, u->name.size() - 7) + "@.service";
      sockets[svc] = u;
      enabled.insert(svc);
    }
  }
  // Every service unit on disk, to list disabled ones and to tell SysV which names are native.
  for (const char* dir : kUnitDirs)
    if (auto names = root.list_directory(dir))
      for (const auto& n : *names)
        if (suffix(n) == ".service") {
          native.insert(n.substr(0, n.size() - 8));
          loader.load(n);
        }
  std::set<std::string> done;
  for (auto& [name, u] : loader.all()) {
    if (suffix(name) != ".service" || u.fragment.empty() || !done.insert(u.name).second) continue;
    if (u.name.find("@.") != std::string::npos && !sockets.count(u.name)) continue;  // a template, not a service
    native.insert(u.name.substr(0, u.name.size() - 8));
    DiscoveredService s;
    s.name = u.name.substr(0, u.name.size() - 8);
    s.manager = "systemd";
    s.enabled = enabled.count(u.name) || enabled.count(name);
    if (u.masked) {
      s.enabled = false;
      s.reason = "masked (linked to /dev/null)";
      s.evidence.push_back("unit: " + u.fragment);
      out.services.push_back(s);
      continue;
    }
    if (!s.enabled && u.file.all("Install", "WantedBy").empty() && u.file.all("Install", "RequiredBy").empty())
      continue;  // static units that only other units start: not a boot service of their own
    read_service(root, u, init_dir, s);
    if (auto it = sockets.find(u.name); it != sockets.end()) read_socket(*it->second, s);
    if (!s.enabled && s.reason.empty()) s.reason = fmt::format("not enabled (not wanted by {})", out.default_target);
    out.services.push_back(std::move(s));
  }
}

}  // namespace decant
