// Reads inetd.conf, xinetd files and /etc/services (see superserver.h).
#include "discover/superserver.h"

#include <algorithm>

#include <fmt/format.h>

#include "common/file_util.h"
#include "common/text.h"
#include "discover/discover.h"

namespace decant {
namespace {

// tcpd execs the daemon named by its argv[0], from /usr/sbin when relative
// (Debian's REAL_DAEMON_DIR).
void unwrap_tcpd(SuperserverEntry& e) {
  if (e.argv.empty() || path_basename(e.argv[0]) != "tcpd") return;
  e.wrapper = e.argv[0];
  e.argv.erase(e.argv.begin());
  if (!e.argv.empty() && e.argv[0].front() != '/') e.argv[0] = "/usr/sbin/" + e.argv[0];
}


}  // namespace

std::vector<SuperserverEntry> parse_inetd_conf(const std::string& text, const std::string& display,
                                               const EtcServices& services) {
  std::vector<SuperserverEntry> out;
  size_t line_no = 0;
  for (std::string_view raw : lines(text)) {
    ++line_no;
    std::string line = trim(raw);
    bool off = line.rfind("#<off>#", 0) == 0;
    if (off) line = trim(line.substr(7));
    else if (line.empty() || line[0] == '#') continue;
    auto w = split_words(line);
    if (w.size() < 6) continue;
    SuperserverEntry e;
    e.origin = fmt::format("{}:{}", display, line_no);
    e.service = w[0].substr(w[0].rfind(':') == std::string::npos ? 0 : w[0].rfind(':') + 1);
    e.id = e.service;
    e.socket_type = w[1];
    e.protocol = w[2].substr(w[2].rfind('/') == std::string::npos ? 0 : w[2].rfind('/') + 1);
    if (e.protocol.size() > 3 && e.protocol.back() == '6') e.protocol.pop_back();  // tcp6 -> tcp
    e.wait = w[3].rfind("wait", 0) == 0;
    size_t sep = w[4].find_first_of(".:");
    e.user = w[4].substr(0, sep);
    if (sep != std::string::npos) e.group = w[4].substr(sep + 1);
    e.internal = w[5] == "internal";
    if (!e.internal) {
      // w[6] is the program's argv[0]: only tcpd reads it (as the daemon to run).
      e.argv.push_back(w[5]);
      if (path_basename(w[5]) == "tcpd" && w.size() > 6) e.argv.push_back(w[6]);
      for (size_t i = 7; i < w.size(); ++i) e.argv.push_back(w[i]);
      unwrap_tcpd(e);
    }
    e.port = services.port(e.service, e.protocol);
    if (e.port == 0) e.port = static_cast<uint16_t>(std::strtoul(e.service.c_str(), nullptr, 10));
    e.disabled = off;
    if (off) e.disabled_by = "#<off># marker (update-inetd --disable)";
    out.push_back(std::move(e));
  }
  return out;
}

XinetdFile parse_xinetd(const std::string& text, const std::string& display,
                        const EtcServices& services) {
  XinetdFile out;
  SuperserverEntry cur;
  std::map<std::string, std::string> attrs;
  std::string args;
  bool in_service = false, in_block = false;
  size_t line_no = 0;
  auto finish = [&] {
    if (!in_service) return;
    cur.socket_type = attrs.count("socket_type") ? attrs["socket_type"] : "stream";
    cur.protocol = attrs.count("protocol") ? attrs["protocol"] : (cur.socket_type == "dgram" ? "udp" : "tcp");
    cur.wait = attrs["wait"] == "yes";
    cur.user = attrs["user"];
    cur.group = attrs["group"];
    cur.internal = attrs["type"].find("INTERNAL") != std::string::npos;
    cur.id = attrs.count("id") && !attrs["id"].empty() ? attrs["id"] : cur.service;
    if (attrs.count("server")) {
      cur.argv.push_back(attrs["server"]);
      for (auto& a : split_words(args)) cur.argv.push_back(a);
      unwrap_tcpd(cur);
    }
    cur.port = attrs.count("port") ? static_cast<uint16_t>(std::strtoul(attrs["port"].c_str(), nullptr, 10))
                                   : services.port(cur.service, cur.protocol);
    if (attrs["disable"] == "yes") cur.disabled = true, cur.disabled_by = "disable = yes";
    out.entries.push_back(cur);
  };
  for (std::string_view raw : lines(text)) {
    ++line_no;
    std::string line = trim(raw.substr(0, raw.find('#')));
    if (line.empty()) continue;
    if (!in_block) {
      auto w = split_words(line);
      if (w[0] == "includedir" && w.size() > 1) out.includedirs.push_back(w[1]);
      if (w[0] == "service" && w.size() > 1) {
        cur = SuperserverEntry{};
        cur.service = w[1];
        cur.origin = fmt::format("{}:{}", display, line_no);
        attrs.clear();
        args.clear();
        in_service = true;
      } else if (w[0] == "defaults") in_service = false;
      if (line.find('{') != std::string::npos) in_block = true;
      continue;
    }
    if (line == "{") continue;
    if (line == "}") {
      finish();
      in_block = in_service = false;
      continue;
    }
    size_t op = line.find('=');
    if (op == std::string::npos) continue;
    bool append = op > 0 && (line[op - 1] == '+' || line[op - 1] == '-');
    std::string key = trim(line.substr(0, append ? op - 1 : op)), value = trim(line.substr(op + 1));
    if (!in_service) {
      // The defaults block: only its service lists matter here.
      auto* list = key == "disabled" ? &out.disabled_ids : key == "enabled" ? &out.enabled_ids : nullptr;
      if (list)
        for (auto& id : split_words(value)) list->push_back(id);
      continue;
    }
    if (key == "server_args") args = append ? args + " " + value : value;
    else attrs[key] = append ? attrs[key] + " " + value : value;
  }
  return out;
}

// The superserver itself binds the sockets of the entries it serves: those
// ports, with the protocol each entry names, are the superserver's (what
// its image exposes), the programs behind them its children.
void add_superserver_ports(const std::vector<DiscoveredService>& entries, Discovery& out) {
  for (auto& server : out.services) {
    if (!server.enabled || !server.reason.empty()) continue;
    for (const auto& e : entries) {
      if (!e.enabled || e.superserver != server.name) continue;
      for (const auto& l : e.listen) {
        bool have = std::any_of(server.listen.begin(), server.listen.end(),
                                [&](const auto& x) { return x.port == l.port && x.proto == l.proto; });
        if (!have) server.listen.push_back({l.port, l.proto, fmt::format("{} ({} {})", l.evidence, e.manager, e.name)});
      }
      if (!e.argv.empty()) server.evidence.push_back(fmt::format("starts {} per connection ({} {})", e.argv[0], e.manager, e.name));
    }
  }
}

}  // namespace decant
