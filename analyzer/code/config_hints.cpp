// Reads listen ports out of a server's configuration files (config_hints.h).
// Line-based on purpose: the known directive forms are one per line in every
// format this reads, and a real parser per server would be more code than
// the facts are worth. A port the table misses is found by learn mode.
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

// "80", "8080;", "127.0.0.1:8080", "[::]:80" -> port and address; 0 if none.
unsigned port_value(std::string v, std::string* address) {
  while (!v.empty() && (v.back() == ';' || v.back() == '"' || v.back() == '\'')) v.pop_back();
  while (!v.empty() && (v.front() == '"' || v.front() == '\'')) v.erase(0, 1);
  size_t colon = v.rfind(':');
  std::string digits = colon == std::string::npos ? v : v.substr(colon + 1);
  if (digits.empty() || digits.size() > 5 || !std::all_of(digits.begin(), digits.end(), ::isdigit)) return 0;
  unsigned n = static_cast<unsigned>(std::stoul(digits));
  if (n == 0 || n > 65535) return 0;
  if (colon != std::string::npos && address) {
    std::string a = v.substr(0, colon);
    if (a.size() >= 2 && a.front() == '[' && a.back() == ']') a = a.substr(1, a.size() - 2);
    if (a != "*" && a != "0.0.0.0" && a != "::") *address = a;
  }
  return n;
}

}  // namespace

std::vector<ConfigPort> parse_port_directives(const std::string& text) {
  std::vector<ConfigPort> out;
  size_t line_no = 0;
  for (std::string_view line_view : lines(text)) {
    std::string line(line_view);
    ++line_no;
    size_t hash = line.find('#');
    if (hash != std::string::npos) line.resize(hash);
    line = trim(line);
    if (line.empty() || line.size() > 512) continue;
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
    static const std::set<std::string> keys{"port", "-p", "--port", "server.port", "listen_port", "listen"};
    std::string k = lower(key);
    if (!keys.count(k)) continue;
    // nginx: `listen 80 default_server;`: the first word is the address.
    std::string first = value.substr(0, value.find_first_of(" \t"));
    ConfigPort cp;
    cp.port = port_value(first, &cp.address);
    if (!cp.port) continue;
    cp.line = line_no;
    cp.text = line;
    out.push_back(std::move(cp));
  }
  return out;
}

namespace {

bool config_like(const std::string& path) {
  static const char* skip_dirs[] = {"/etc/init.d/", "/etc/logrotate.d/", "/etc/cron.", "/etc/pam.d/", "/etc/default/",
                                    "/etc/systemd/", "/etc/apparmor.d/", "/etc/rc", "/etc/ssl/", "/etc/sasl"};
  // glibc's own databases and settings: every program reads them through
  // libc (NSS, the resolver, ld.so); none is a daemon's configuration.
  static const char* libc_files[] = {"/etc/services", "/etc/protocols", "/etc/networks", "/etc/rpc",
                                     "/etc/hosts", "/etc/host.conf", "/etc/gai.conf", "/etc/resolv.conf",
                                     "/etc/nsswitch.conf", "/etc/passwd", "/etc/group", "/etc/shadow",
                                     "/etc/localtime", "/etc/ld.so.cache", "/etc/ld.so.conf"};
  if (path.compare(0, 5, "/etc/") != 0) return false;
  for (auto f : libc_files)
    if (path == f) return false;
  for (auto d : skip_dirs)
    if (path.compare(0, strlen(d), d) == 0) return false;
  if (path.find("-available/") != std::string::npos) return false;  // disabled until linked into *-enabled
  return true;
}

// Guest paths under /etc/ that the Debian package owning `binary` installs.
std::vector<std::string> package_config_files(const GuestRoot& root, const std::string& binary, std::string* package) {
  std::vector<std::string> out;
  auto entries = root.list_directory("/var/lib/dpkg/info");
  if (!entries) return out;
  for (auto& e : *entries) {
    if (e.size() < 6 || e.compare(e.size() - 5, 5, ".list") != 0) continue;
    auto text = root.read_file("/var/lib/dpkg/info/" + e, 4 << 20);
    if (!text) continue;
    if (text->find("\n" + binary + "\n") == std::string::npos && text->compare(0, binary.size() + 1, binary + "\n") != 0)
      continue;
    *package = e.substr(0, e.size() - 5);
    for (std::string_view path_view : lines(*text)) {
      std::string path(path_view);
      if (config_like(path)) out.push_back(path);
    }
    break;
  }
  return out;
}

// Documented defaults of servers whose configuration may omit the port.
struct KnownDefault {
  const char* program;
  const char* directive;
  unsigned port;
};
const KnownDefault kDefaults[] = {
    {"lighttpd", "server.port", 80}, {"vsftpd", "listen_port", 21}, {"redis-server", "port", 6379},
    {"memcached", "-p", 11211},      {"sshd", "Port", 22},          {"proftpd", "Port", 21},
};

}  // namespace

void add_config_ports(const GuestRoot& root, Profile& p) {
  std::string name = path_basename(p.binary.path);
  std::vector<std::pair<std::string, std::string>> candidates;  // path, why it is read
  for (auto& f : p.files)
    if (f.access == "read" && config_like(f.path)) candidates.push_back({f.path, "named in the program's code"});
  std::string package;
  for (auto& path : package_config_files(root, p.binary.path, &package))
    candidates.push_back({path, "installed by package " + package});
  for (auto& path : {"/etc/" + name + ".conf", "/etc/" + name + "/" + name + ".conf"})
    candidates.push_back({path, "conventional path for " + name});

  auto add_listen = [&](unsigned port, const std::string& address, const std::string& confidence,
                        const std::string& ev) {
    for (auto& l : p.network.listen)
      if (l.port == port) {
        if (std::find(l.evidence.begin(), l.evidence.end(), ev) == l.evidence.end() && l.evidence.size() < 6)
          l.evidence.push_back(ev);
        if (confidence == "high") l.confidence = "high";
        return;
      }
    ListenFact l;
    l.port = static_cast<uint16_t>(port);
    l.address = address;
    l.confidence = confidence;
    l.evidence = {ev};
    p.network.listen.push_back(std::move(l));
  };

  std::set<std::string> read;
  bool any_port = false;
  std::vector<std::string> configs;  // every candidate that exists, for the evidence
  for (auto& [path, why] : candidates) {
    if (read.size() >= 64 || !read.insert(path).second) continue;
    if (!root.is_regular_file(path)) continue;
    auto text = root.read_file(path, 1 << 20);
    if (!text) continue;
    configs.push_back(path);
    for (auto& cp : parse_port_directives(*text)) {
      any_port = true;
      add_listen(cp.port, cp.address, "high", fmt::format("config: {}:{}: {}", path, cp.line, cp.text));
    }
  }
  if (any_port || configs.empty()) return;
  std::string files;
  for (size_t i = 0; i < configs.size() && i < 3; ++i) files += (i ? ", " : "") + configs[i];
  if (configs.size() > 3) files += fmt::format(" and {} more", configs.size() - 3);
  for (auto& d : kDefaults)
    if (name == d.program)
      add_listen(d.port, "", "medium",
                 fmt::format("config: no {} directive in the {} read ({}); {}'s default is {}", d.directive,
                             configs.size() == 1 ? "file" : "files", files, name, d.port));
}

}  // namespace decant
