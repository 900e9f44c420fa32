// Reads listen ports out of a server's configuration tree (config_hints.h).
// Line-based on purpose: the directive forms are one per line in every
// format this reads, and a real parser per server would be more code than
// the facts are worth. A port the forms miss is found by learn mode.
#include "analyzer/code/config_hints.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <set>

#include <fmt/format.h>

#include "common/file_util.h"
#include "common/text.h"

namespace decant {

namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
  return s;
}

// "127.0.0.1" as written; "" for a wildcard; "[::1]" loses its brackets.
std::string listen_address(std::string a) {
  if (a.size() >= 2 && a.front() == '[' && a.back() == ']') a = a.substr(1, a.size() - 2);
  return a == "*" || a == "0.0.0.0" || a == "::" ? "" : a;
}

// "80", "8080;", "127.0.0.1:8080", "[::]:80" -> port and address; 0 if none.
unsigned port_value(std::string v, std::string* address) {
  while (!v.empty() && (v.back() == ';' || v.back() == '"' || v.back() == '\'' || v.back() == ',')) v.pop_back();
  while (!v.empty() && (v.front() == '"' || v.front() == '\'')) v.erase(0, 1);
  size_t colon = v.rfind(':');
  std::string digits = colon == std::string::npos ? v : v.substr(colon + 1);
  if (digits.empty() || digits.size() > 5 || !std::all_of(digits.begin(), digits.end(), ::isdigit)) return 0;
  unsigned n = static_cast<unsigned>(std::stoul(digits));
  if (n == 0 || n > 65535) return 0;
  if (colon != std::string::npos && address) *address = listen_address(v.substr(0, colon));
  return n;
}

bool ends_with(const std::string& s, const char* suffix) {
  size_t n = strlen(suffix);
  return s.size() > n && s.compare(s.size() - n, n, suffix) == 0;
}

// Whether a directive name sets a port this server listens on.
bool listen_key(const std::string& k) {
  static const std::set<std::string> keys{"port",          "-p",   "--port",      "listen", "listen_port",
                                          "listenaddress", "bind", "server.port", "ports",  "listen-on",
                                          "listen-on-v6"};
  if (keys.count(k)) return true;
  if (!ends_with(k, "_port") && !ends_with(k, ".port") && !ends_with(k, "-port")) return false;
  // A peer's or a client's port, not one this server binds.
  static const char* peer_words[] = {"announce", "remote", "peer",  "upstream", "master", "replica", "slave",
                                     "relay",    "target", "dest",  "connect",  "client", "proxy",   "cluster",
                                     "outgoing", "query",  "source", "forward", "notify", "smtp",    "backend"};
  for (auto w : peer_words)
    if (k.find(w) != std::string::npos) return false;
  return true;
}

// `port=N` / `port="N"` attributes inside a line (rsyslog's input()).
void port_attributes(const std::string& line, size_t line_no, const std::string& confidence,
                     std::vector<ConfigPort>& out) {
  std::string l = lower(line);
  for (size_t pos = l.find("port="); pos != std::string::npos; pos = l.find("port=", pos + 1)) {
    if (pos > 0 && (isalnum(static_cast<unsigned char>(l[pos - 1])) || l[pos - 1] == '_' || l[pos - 1] == '.'))
      continue;
    size_t end = pos + 5;
    while (end < l.size() && !isspace(static_cast<unsigned char>(l[end])) && l[end] != ')') ++end;
    ConfigPort cp;
    cp.port = port_value(line.substr(pos + 5, end - pos - 5), nullptr);
    if (!cp.port) continue;
    cp.line = line_no;
    cp.text = line;
    cp.confidence = confidence;
    out.push_back(std::move(cp));
  }
}

// A service table line, `SERVICE inet PRIVATE UNPRIV CHROOT WAKEUP MAXPROC
// COMMAND...` (postfix's master.cf: the master listens for each inet
// service itself), SERVICE being [HOST:]PORT with PORT a number or a name
// of the guest's /etc/services, as the master resolves it.
bool service_table_port(const std::string& line, const EtcServices* services, ConfigPort& cp) {
  std::vector<std::string> f;
  for (size_t at = 0; (at = line.find_first_not_of(" \t", at)) != std::string::npos;) {
    size_t end = line.find_first_of(" \t", at);
    f.push_back(line.substr(at, end == std::string::npos ? std::string::npos : end - at));
    if (end == std::string::npos) break;
    at = end;
  }
  if (f.size() < 8 || f[1] != "inet") return false;
  cp.port = port_value(f[0], &cp.address);
  if (cp.port || !services) return cp.port != 0;
  size_t colon = f[0].rfind(':');
  cp.port = services->port(colon == std::string::npos ? f[0] : f[0].substr(colon + 1), "tcp");
  if (cp.port && colon != std::string::npos) cp.address = listen_address(f[0].substr(0, colon));
  return cp.port != 0;
}

}  // namespace

std::vector<ConfigPort> parse_port_directives(const std::string& text, const EtcServices* services) {
  std::vector<ConfigPort> out;
  size_t line_no = 0;
  int conditional = 0;  // nesting of <If...> blocks
  bool bind_dialect = false;
  for (std::string_view line_view : lines(text)) {
    ++line_no;
    bool indented = !line_view.empty() && (line_view[0] == ' ' || line_view[0] == '\t');
    std::string line = strip_config_comment(std::string(line_view));
    if (line.empty() || line.size() > 512) continue;
    std::string l = lower(line);
    if (l.compare(0, 3, "<if") == 0) ++conditional;
    else if (l.compare(0, 4, "</if") == 0 && conditional > 0) --conditional;
    const std::string confidence = conditional ? "medium" : "high";
    ConfigPort table;
    if (!indented && service_table_port(line, services, table)) {
      table.line = line_no;
      table.text = line;
      table.confidence = confidence;
      out.push_back(std::move(table));
      continue;
    }
    // Split into key and value at '=' (lighttpd, vsftpd, --port=) or at
    // the first blank (redis, sshd, apache, nginx, memcached's -p).
    std::string key, value;
    size_t eq = line.find('=');
    size_t sp = line.find_first_of(" \t");
    if (eq != std::string::npos && trim(line.substr(0, eq)).find_first_of(" \t") == std::string::npos) {
      key = trim(line.substr(0, eq));
      value = trim(line.substr(eq + 1));
    } else if (sp != std::string::npos) {
      key = line.substr(0, sp);
      value = trim(line.substr(sp + 1));
    } else {
      continue;
    }
    if (!listen_key(lower(key))) {
      port_attributes(line, line_no, confidence, out);
      continue;
    }
    // nginx: `listen 80 default_server;`: the first word is the address.
    // BIND: `listen-on port 5353 { any; };`: the word after `port`.
    std::string first = value.substr(0, value.find_first_of(" \t"));
    if (lower(first) == "port") {
      std::string rest = trim(value.substr(first.size()));
      first = rest.substr(0, rest.find_first_of(" \t{"));
    }
    ConfigPort cp;
    cp.port = port_value(first, &cp.address);
    if (!cp.port) continue;
    cp.line = line_no;
    cp.text = line;
    cp.confidence = confidence;
    if (lower(key).compare(0, 9, "listen-on") == 0) bind_dialect = true;
    out.push_back(std::move(cp));
  }
  for (size_t at = 0; !bind_dialect && at < text.size();) {
    size_t line_end = text.find('\n', at);
    std::string line = trim(text.substr(at, line_end == std::string::npos ? std::string::npos : line_end - at));
    bind_dialect = line.compare(0, 9, "listen-on") == 0 && (line.size() == 9 || line[9] == ' ' || line[9] == '\t' ||
                                                             line.compare(9, 3, "-v6") == 0);
    at = line_end == std::string::npos ? text.size() : line_end + 1;
  }
  if (bind_dialect)
    for (auto& cp : out) cp.udp_too = true;
  return out;
}

namespace {

// Documented defaults of servers whose configuration may omit the port: a
// fallback only (confidence medium), never published as an image port.
struct KnownDefault {
  const char* program;
  const char* directive;
  unsigned port;
};
const KnownDefault kDefaults[] = {
    {"lighttpd", "server.port", 80}, {"vsftpd", "listen_port", 21}, {"redis-server", "port", 6379},
    {"memcached", "-p", 11211},      {"sshd", "Port", 22},          {"proftpd", "Port", 21},
    {"named", "listen-on port", 53},
};

void add_listen(Profile& p, unsigned port, const std::string& address, const std::string& confidence,
                const std::string& ev, const std::string& proto = "tcp") {
  for (auto& l : p.network.listen)
    if (l.port == port && l.proto == proto) {
      if (std::find(l.evidence.begin(), l.evidence.end(), ev) == l.evidence.end() && l.evidence.size() < 6)
        l.evidence.push_back(ev);
      if (confidence == "high") l.confidence = "high";
      return;
    }
  ListenFact l;
  l.port = static_cast<uint16_t>(port);
  l.proto = proto;
  l.address = address;
  l.confidence = confidence;
  l.evidence = {ev};
  p.network.listen.push_back(std::move(l));
}

// A template shipped beside the configuration (postfix's master.cf.proto):
// packaged with the tree, but the daemon reads its copy, not this.
bool template_name(const std::string& name) {
  for (const char* suffix : {".proto", ".dist", ".sample", ".example", ".template"})
    if (ends_with(name, suffix)) return true;
  return false;
}

// where: "FILE:" for a file, a description ending in ", line " otherwise.
void add_ports_of(Profile& p, const std::string& text, const EtcServices& services, const std::string& where,
                  bool& any_port) {
  for (auto& cp : parse_port_directives(text, &services)) {
    any_port = true;
    std::string ev = fmt::format("config: {}{}: {}", where, cp.line, cp.text);
    add_listen(p, cp.port, cp.address, cp.confidence, ev);
    if (cp.udp_too) add_listen(p, cp.port, cp.address, cp.confidence, ev, "udp");
  }
}

// Directives the package ships commented out (`#Port 22` in sshd_config,
// `#port = 143` in dovecot's): OpenSSH's convention, and many others', is
// to write each option with its default value, commented. Only a '#'
// directly followed by a letter is a commented directive; "# Port
// forwarding ..." is prose.
std::vector<ListenFact> commented_ports(const ConfigTree& tree, const EtcServices& services) {
  std::vector<ListenFact> out;
  for (auto& f : tree.files) {
    if (f.text.compare(0, 2, "#!") == 0 || template_name(path_basename(f.path))) continue;
    std::string uncommented;
    for (std::string_view raw : lines(f.text)) {
      std::string line = trim(std::string(raw));
      if (line.size() > 1 && line[0] == '#' && isalpha(static_cast<unsigned char>(line[1]))) uncommented += line.substr(1);
      uncommented += '\n';
    }
    for (auto& cp : parse_port_directives(uncommented, &services)) {
      ListenFact l;
      l.port = static_cast<uint16_t>(cp.port);
      l.proto = "tcp";
      l.evidence = {fmt::format("config: {}:{}: #{} (commented out: the package's default)", f.path, cp.line, cp.text)};
      out.push_back(std::move(l));
    }
  }
  return out;
}

}  // namespace

void add_config_ports(const ConfigTree& tree, const std::string& program, Profile& p, const EtcServices& services,
                      const CompiledDefaults& compiled) {
  bool any_port = false;
  std::vector<std::string> configs;
  for (auto& f : tree.files) {
    configs.push_back(f.path);
    if (f.text.compare(0, 2, "#!") == 0) continue;  // a script's variables are no directives
    if (template_name(path_basename(f.path))) continue;
    add_ports_of(p, f.text, services, f.path + ":", any_port);
  }
  if (any_port) return;
  // The program's own defaults, which its files did not override.
  for (const auto& c : compiled.configs) {
    std::string what = c.evidence.compare(0, 8, "static: ") == 0 ? c.evidence.substr(8) : c.evidence;
    add_ports_of(p, c.text, services, fmt::format("{}'s {}, line ", program, what), any_port);
  }
  if (!any_port)
    for (const auto& d : compiled.ports) {
      std::string where = configs.empty() ? "no configuration file read"
                                          : fmt::format("no port in {}", configs.size() == 1 ? configs[0] : "the files read");
      add_listen(p, d.port, "", "high", fmt::format("{} ({}: the program's default)", d.evidence, where));
      any_port = true;
    }
  if (any_port || configs.empty()) return;
  std::string files;
  for (size_t i = 0; i < configs.size() && i < 3; ++i) files += (i ? ", " : "") + configs[i];
  if (configs.size() > 3) files += fmt::format(" and {} more", configs.size() - 3);
  // The table is a fallback (medium); where the package's own commented
  // directive says the same port, two independent sources agree (high).
  // A commented port alone is nothing: it may be an optional feature
  // shipped disabled (rsyslog's `#input(type="imudp" port="514")`), and a
  // client sharing the package's files (scp, sftp) is not the server.
  auto commented = commented_ports(tree, services);
  for (auto& d : kDefaults) {
    if (program != d.program) continue;
    std::string table_ev = fmt::format("config: no {} directive in the {} read ({}); {}'s default is {}", d.directive,
                                       configs.size() == 1 ? "file" : "files", files, program, d.port);
    auto agrees = std::find_if(commented.begin(), commented.end(), [&](const ListenFact& c) { return c.port == d.port; });
    if (agrees != commented.end()) add_listen(p, d.port, "", "high", agrees->evidence[0]);
    add_listen(p, d.port, "", agrees != commented.end() ? "high" : "medium", table_ev);
  }
}

}  // namespace decant
