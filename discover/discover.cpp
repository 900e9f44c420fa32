// The discover stage's driver (see discover.h): tells which init the guest
// boots, runs the readers for it and for superservers, and writes the
// result as JSON.
#include "discover/discover.h"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/file_util.h"
#include "common/text.h"
#include "discover/init_systems.h"
#include "discover/superserver.h"

namespace decant {
namespace {

// systemd is the init when /sbin/init is (or links to) systemd. Without
// /sbin/init (a container image, a minimal bootstrap) the guest is read as
// systemd's when it has systemd itself or units enabled for it: packages
// enable both their unit and their script, and systemd's rules then apply.
bool boots_systemd(const GuestRoot& root) {
  if (auto init = root.resolve("/sbin/init")) return path_basename(*init) == "systemd";
  if (root.exists("/lib/systemd/systemd") || root.exists("/usr/lib/systemd/systemd")) return true;
  for (const char* wants : {"/etc/systemd/system/multi-user.target.wants", "/etc/systemd/system/graphical.target.wants"})
    if (auto names = root.list_directory(wants); names && !names->empty()) return true;
  return false;
}

// The default runlevel of a SysV guest: /etc/inittab's initdefault, else 2 (Debian's).
std::string default_runlevel(const GuestRoot& root) {
  if (auto tab = root.read_file("/etc/inittab", 1 << 20))
    for (std::string_view line : lines(*tab)) {
      std::string l = trim(line);
      size_t a = l.find(':'), b = a == std::string::npos ? a : l.find(':', a + 1);
      if (b != std::string::npos && l.compare(b, 13, ":initdefault:") == 0) return l.substr(a + 1, b - a - 1);
    }
  return "2";
}

DiscoveredService from_superserver(const SuperserverEntry& e, const std::string& manager) {
  DiscoveredService s;
  s.name = e.id;  // unique per superserver (xinetd: chargen-stream, chargen-dgram)
  s.manager = manager;
  s.argv = e.argv;
  s.user = e.user;
  s.group = e.group;
  s.type = e.wait ? "inetd-wait" : "inetd-nowait";
  s.evidence.push_back(fmt::format("{}: {}", manager, e.origin));
  s.wrapper = e.wrapper;
  if (!e.wrapper.empty()) s.evidence.push_back(fmt::format("{}: runs through {}", e.origin, e.wrapper));
  if (e.port) s.listen.push_back({e.port, e.protocol, fmt::format("{}: {}/{} from /etc/services", e.origin, e.service, e.protocol)});
  if (e.internal) s.reason = "internal to the superserver";
  else if (e.disabled) s.reason = e.disabled_by;
  return s;
}

// Names the boot service that starts an entry, or says that none does.
void attribute(DiscoveredService& s, const std::string& reader, const std::string& config) {
  if (!reader.empty()) {
    s.superserver = reader;
    s.evidence.push_back(fmt::format("served by {}, which reads {} at boot", reader, config));
  } else if (s.reason.empty()) {
    s.reason = "no service started at boot reads " + config;
  }
}

}  // namespace

// Whether a service started at boot reads config_path: it names the file in
// its arguments, or its program holds the path as its compiled-in default
// (how inetd and xinetd find theirs). Programs are read once, and only when
// the guest has a superserver configuration at all.
class ConfigReaders {
 public:
  ConfigReaders(const GuestRoot& root, const Discovery& d) : root_(root), d_(d) {}

  // The name of the first such service found, empty when none reads it.
  std::string read_at_boot(const std::string& config_path) {
    for (size_t i = 0; i < d_.services.size(); ++i) {
      const DiscoveredService& s = d_.services[i];
      if (!s.enabled || !s.reason.empty() || s.argv.empty()) continue;
      if (std::find(s.argv.begin() + 1, s.argv.end(), config_path) != s.argv.end()) return s.name;
      if (program(i).find(config_path) != std::string::npos) return s.name;
    }
    return "";
  }

 private:
  const std::string& program(size_t i) {
    auto it = programs_.find(i);
    if (it != programs_.end()) return it->second;
    auto bytes = root_.read_file(d_.services[i].argv[0], 64 << 20);
    return programs_[i] = bytes ? std::move(*bytes) : std::string();
  }

  const GuestRoot& root_;
  const Discovery& d_;
  std::map<size_t, std::string> programs_;
};

void discover_superservers(const GuestRoot& root, Discovery& out) {
  ConfigReaders readers(root, out);
  auto services_text = root.read_file("/etc/services", 4 << 20);
  auto services = parse_services(services_text ? *services_text : std::string());
  std::vector<DiscoveredService> found;
  if (auto text = root.read_file("/etc/inetd.conf", 4 << 20)) {
    std::string reader = readers.read_at_boot("/etc/inetd.conf");
    for (const auto& e : parse_inetd_conf(*text, "/etc/inetd.conf", services)) {
      found.push_back(from_superserver(e, "inetd"));
      attribute(found.back(), reader, "/etc/inetd.conf");
    }
  }
  std::vector<std::string> files = {"/etc/xinetd.conf"};
  std::set<std::string> seen, ids;
  std::vector<std::string> disabled_ids, enabled_ids;
  size_t first_xinetd = found.size();
  std::string xinetd_reader = root.exists(files[0]) ? readers.read_at_boot(files[0]) : "";
  for (size_t i = 0; i < files.size() && i < 4096; ++i) {
    if (!seen.insert(files[i]).second) continue;
    auto text = root.read_file(files[i], 4 << 20);
    if (!text) continue;
    XinetdFile f = parse_xinetd(*text, files[i], services);
    disabled_ids.insert(disabled_ids.end(), f.disabled_ids.begin(), f.disabled_ids.end());
    enabled_ids.insert(enabled_ids.end(), f.enabled_ids.begin(), f.enabled_ids.end());
    for (const auto& e : f.entries) {
      // xinetd keeps the first service of an id and rejects later ones.
      if (!ids.insert(e.id).second) continue;
      found.push_back(from_superserver(e, "xinetd"));
      attribute(found.back(), xinetd_reader, files[0]);
    }
    // xinetd skips names with a dot or ending in '~' in an includedir.
    for (const auto& dir : f.includedirs)
      if (auto names = root.list_directory(dir))
        for (const auto& n : *names)
          if (n.find('.') == std::string::npos && n.back() != '~') files.push_back(dir + "/" + n);
  }
  for (size_t i = first_xinetd; i < found.size(); ++i) {
    DiscoveredService& s = found[i];
    if (!s.reason.empty()) continue;
    auto listed = [&](const std::vector<std::string>& v) { return std::find(v.begin(), v.end(), s.name) != v.end(); };
    if (listed(disabled_ids)) s.reason = "xinetd defaults: disabled = " + s.name;
    else if (!enabled_ids.empty() && !listed(enabled_ids)) s.reason = "xinetd defaults: enabled = lists only other services";
  }
  for (auto& s : found) s.enabled = s.reason.empty();
  add_superserver_ports(found, out);
  for (auto& s : found) out.services.push_back(std::move(s));
}

Result<Discovery> discover_services(const GuestRoot& root) {
  if (!root.is_directory("/etc")) return bad_input("the guest has no /etc: not a Linux root filesystem");
  Discovery d;
  std::set<std::string> native;
  if (boots_systemd(root)) {
    d.init = "systemd";
    discover_systemd(root, d, native);
    // systemd-sysv-generator: runlevels 2-4 are multi-user.target, 5 graphical.
    std::vector<std::string> rc = {"/etc/rc2.d", "/etc/rc3.d", "/etc/rc4.d"};
    if (d.default_target == "graphical.target") rc.push_back("/etc/rc5.d");
    discover_sysv(root, rc, native, d);
  } else {
    d.init = "sysv";
    std::string level = default_runlevel(root);
    d.default_target = "runlevel " + level;
    discover_sysv(root, {"/etc/rc" + level + ".d"}, native, d);
  }
  discover_superservers(root, d);
  std::stable_sort(d.services.begin(), d.services.end(), [](const auto& a, const auto& b) {
    return std::tie(a.name, a.manager) < std::tie(b.name, b.manager);
  });
  return d;
}

std::string discovery_to_json(const Discovery& d) {
  nlohmann::ordered_json j;
  j["init"] = d.init;
  j["default_target"] = d.default_target;
  j["services"] = nlohmann::ordered_json::array();
  for (const auto& s : d.services) {
    nlohmann::ordered_json o;
    o["name"] = s.name;
    o["manager"] = s.manager;
    o["enabled"] = s.enabled;
    if (!s.reason.empty()) o["reason"] = s.reason;
    o["argv"] = s.argv;
    for (const auto& [k, v] : {std::pair<const char*, const std::string*>{"user", &s.user}, {"group", &s.group},
                               {"workdir", &s.workdir}, {"type", &s.type}, {"pidfile", &s.pidfile},
                               {"superserver", &s.superserver}, {"wrapper", &s.wrapper}})
      if (!v->empty()) o[k] = *v;
    if (!s.env.empty()) o["env"] = s.env;
    if (!s.writable.empty()) {
      o["writable"] = nlohmann::ordered_json::array();
      for (const auto& w : s.writable) o["writable"].push_back({{"path", w.path}, {"evidence", w.evidence}});
    }
    o["listen"] = nlohmann::ordered_json::array();
    for (const auto& l : s.listen) o["listen"].push_back({{"port", l.port}, {"proto", l.proto}, {"evidence", l.evidence}});
    o["evidence"] = s.evidence;
    j["services"].push_back(std::move(o));
  }
  // Guest text is bytes; replace what is not UTF-8 rather than abort.
  return j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

}  // namespace decant
