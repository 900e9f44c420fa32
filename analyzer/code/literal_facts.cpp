// Pass 5 of code analysis: literal facts of reachable code become profile
// facts (files, listen and connect ports, hosts). Listen ports a server
// reads from its configuration are added by the driver (analyze.cpp, from
// analyzer/config/).

#include <sys/stat.h>

#include <algorithm>

#include <fmt/format.h>

#include "analyzer/code/closure_analysis.h"
#include "common/text.h"
#include "guest/etc_services.h"

namespace decant {

namespace {

// Service names of /etc/services with their ports (the first entry wins).
std::map<std::string, uint16_t> read_services(const GuestRoot& root) {
  auto text = root.read_file("/etc/services", 4 << 20);
  return text ? parse_services(*text).by_name : std::map<std::string, uint16_t>{};
}

void add_listen(Profile& p, uint16_t port, const std::string& conf, const std::string& ev) {
  for (auto& l : p.network.listen)
    if (l.port == port) {
      if (l.evidence.size() < 4) l.evidence.push_back(ev);
      if (conf == "high") l.confidence = conf;
      return;
    }
  ListenFact l;
  l.port = port;
  l.confidence = conf;
  l.evidence = {ev};
  p.network.listen.push_back(std::move(l));
}

void add_connect(Profile& p, const std::string& host, uint16_t port, const std::string& conf, const std::string& ev) {
  for (auto& c : p.network.connect)
    if (c.port == port && c.host == host) {
      if (c.evidence.size() < 4) c.evidence.push_back(ev);
      return;
    }
  ConnectFact c;
  c.host = host;
  c.port = port;
  c.confidence = conf;
  c.evidence = {ev};
  p.network.connect.push_back(std::move(c));
}

// Whether the program's own code rather listens or connects: the role of a
// port literal that does not say.
std::string default_role(const std::set<std::string>& apis) {
  return apis.count("bind") || apis.count("listen") ? "listen" : apis.count("connect") ? "connect" : "listen";
}

}  // namespace

// Facts from literals: only the program's own code and its dlopen()ed
// plugins speak for the program; a path inside libcrypto is not a file this
// service needs. Literals of unreachable functions are dropped.
bool ClosureAnalysis::helper_program(const LiteralRef& l) const {
  if (l.hint == "write" || l.evidence.find("built-in configuration default") == std::string::npos) return false;
  auto st = root_.stat(l.value);
  return st && S_ISREG(st->st_mode) && (st->st_mode & 0111);
}

void ClosureAnalysis::fill_literals() {
  static const std::set<std::string> socket_apis{
      "socket", "bind", "listen", "accept", "accept4", "connect", "getaddrinfo", "gethostbyname", "gethostbyname2",
      "gethostbyname_r", "getnameinfo", "gethostbyaddr", "getservbyname", "sendto", "recvfrom", "sendmsg",
      "recvmsg", "send", "recv", "setsockopt", "getsockopt", "getpeername", "getsockname", "shutdown",
      "socketpair", "inet_aton", "inet_addr", "inet_pton", "inet_ntop", "inet_ntoa", "htons", "ntohs"};
  std::set<std::string>& apis = network_apis_;
  for (const Node& n : reachable_) {
    if (n.obj != 0) continue;
    const ObjectSummary& s = summaries_[0];
    for (uint32_t i : s.functions[n.fn].imports)
      if (socket_apis.count(s.imports[i].name)) apis.insert(s.imports[i].name);
    if (socket_apis.count(s.functions[n.fn].name)) apis.insert(s.functions[n.fn].name);  // static binaries
  }
  p_.network.apis.assign(apis.begin(), apis.end());
  const std::string usual_role = default_role(apis);
  const std::map<std::string, uint16_t> services = read_services(root_);
  std::vector<std::pair<std::string, std::string>> hosts;  // host, evidence
  std::vector<std::pair<uint16_t, std::string>> connect_ports;
  for (uint32_t o = 0; o < summaries_.size(); ++o) {
    if (o != 0 && !app_plugins_.count(o)) continue;
    const ObjectSummary& s = summaries_[o];
    for (const LiteralRef& l : s.literals) {
      if (l.function != UINT32_MAX && !reachable_.count({o, l.function})) continue;
      std::string ev = l.evidence;
      if (o != 0 && ev.compare(0, 8, "static: ") == 0) ev = "static: " + object_name(o) + ": " + ev.substr(8);
      switch (l.kind) {
        case LiteralRef::Path: {
          bool merged = false;
          for (auto& f : p_.files)
            if (f.path == l.value) {
              if (l.hint == "write") f.access = "write";
              if (f.evidence.size() < 4) f.evidence.push_back(ev);
              merged = true;
            }
          // A literal names a path the code may use, not one it needs: when
          // the guest has no such file, packaging must not insist on it.
          // A compiled-in default naming an executable is a helper the
          // program runs (its closure joins the image where convert runs).
          if (!merged) p_.files.push_back({l.value, helper_program(l) ? "exec" : l.hint, !root_.exists(l.value), {ev}});
          break;
        }
        case LiteralRef::Service: {
          auto it = services.find(l.value);
          if (it == services.end()) break;  // parse_services keeps only ports 1-65535
          ev += fmt::format(" (the guest's /etc/services: {} {})", l.value, it->second);
          // Only a lookup whose function also binds is a listen port; a
          // name like "echo" that never reaches bind() is none.
          if (l.hint == "listen") add_listen(p_, static_cast<uint16_t>(it->second), "medium", ev);
          else if (l.hint == "connect" || usual_role == "connect")
            connect_ports.push_back({static_cast<uint16_t>(it->second), ev});
          break;
        }
        case LiteralRef::Port: {
          uint16_t port = static_cast<uint16_t>(std::stoul(l.value));
          std::string role = l.hint.empty() ? usual_role : l.hint;
          if (role == "connect") connect_ports.push_back({port, ev});
          else add_listen(p_, port, l.confidence, ev);
          break;
        }
        case LiteralRef::Host:
          // Wildcard and loopback addresses are where a server listens, not
          // a remote peer a migration has to reach.
          if (l.hint == "listen" || l.value == "0.0.0.0" || l.value == "::" || l.value == "::1" ||
              l.value.compare(0, 4, "127.") == 0 || l.value == "localhost")
            break;
          hosts.push_back({l.value, ev});
          break;
        case LiteralRef::Dlopen:
          break;
        case LiteralRef::ConfigText:
          // The program's own defaults; a plugin's text is not its server's.
          if (o == 0 && o_.compiled_defaults &&
              std::none_of(o_.compiled_defaults->configs.begin(), o_.compiled_defaults->configs.end(),
                           [&](const CompiledConfig& c) { return c.text == l.value; }))
            o_.compiled_defaults->configs.push_back({l.value, ev});
          break;
        case LiteralRef::DefaultPort: {
          // The program's own default; a library's setter is not its server's.
          if (o != 0 || !o_.compiled_defaults) break;
          uint16_t port = static_cast<uint16_t>(std::stoul(l.value));
          auto& ports = o_.compiled_defaults->ports;
          if (std::none_of(ports.begin(), ports.end(), [&](const CodeDefaultPort& d) { return d.port == port; }))
            ports.push_back({port, ev});
          break;
        }
      }
    }
  }
  // A host and a connect port of the same program belong together when
  // there is one of each; otherwise they are listed apart.
  if (hosts.size() == 1 && connect_ports.size() >= 1) {
    for (auto& [port, pev] : connect_ports) {
      add_connect(p_, hosts[0].first, port, "medium", pev);
      p_.network.connect.back().evidence.push_back(hosts[0].second);
    }
  } else {
    for (auto& [host, ev] : hosts) add_connect(p_, host, 0, "low", ev);
    for (auto& [port, ev] : connect_ports) add_connect(p_, "", port, "medium", ev);
  }
}

}  // namespace decant
