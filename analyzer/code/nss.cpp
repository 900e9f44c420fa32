// Pass 3b of code analysis: glibc's NSS modules. libc dlopen()s them on the
// first user, group or host lookup, by the service names /etc/nsswitch.conf
// lists; once such a lookup function is reachable, each module the guest has
// is added like a dlopen()ed library (dlopen.cpp).
#include <cctype>

#include <fmt/format.h>

#include "analyzer/code/closure_analysis.h"
#include "common/text.h"

namespace decant {

namespace {

// Service names of nsswitch.conf text ("files", "dns", "systemd", ...).
std::set<std::string> nss_services(const std::string& text) {
  std::set<std::string> services;
  for (std::string_view line_view : lines(text)) {
    std::string line(line_view);
    size_t hash = line.find('#');
    if (hash != std::string::npos) line.resize(hash);
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string rest = line.substr(colon + 1), word;
    for (size_t k = 0; k <= rest.size(); ++k) {
      char c = k < rest.size() ? rest[k] : ' ';
      if (isalnum(static_cast<unsigned char>(c)) || c == '_') word += c;
      else {
        if (c == '[') {  // skip [NOTFOUND=return]
          size_t close = rest.find(']', k);
          k = close == std::string::npos ? rest.size() : close;
        }
        if (!word.empty()) services.insert(word);
        word.clear();
      }
    }
  }
  return services;
}

}  // namespace

void ClosureAnalysis::add_nss_modules(LibraryLoads& loads) {
  static const std::set<std::string> nss_entry{
      "getpwnam", "getpwuid", "getpwnam_r", "getpwuid_r", "getgrnam", "getgrgid", "getgrnam_r", "getgrgid_r",
      "initgroups", "getgrouplist", "getaddrinfo", "gethostbyname", "gethostbyname2", "gethostbyname_r",
      "gethostbyname2_r", "gethostbyaddr", "getnameinfo", "getservbyname", "getservbyname_r", "getservbyport",
      "getprotobyname", "getprotobynumber", "getspnam", "getspnam_r", "getpwent", "getgrent", "getspent"};
  std::string trigger;
  for (const Node& n : reachable_) {
    const auto& name = summaries_[n.obj].functions[n.fn].name;
    if (nss_entry.count(name) && is_glibc_object(object_name(n.obj))) {
      trigger = node_name(n);
      break;
    }
  }
  if (trigger.empty()) return;
  auto conf = root_.read_file("/etc/nsswitch.conf", 1 << 20);
  std::set<std::string> services = nss_services(conf ? *conf : "passwd: files\ngroup: files\nhosts: files dns\n");
  size_t libc = 0;
  for (size_t k = 0; k < closure_.objects.size(); ++k)
    if (object_name(k) == "libc.so.6") libc = k;
  for (auto& svc : services) {
    std::string name = "libnss_" + svc + ".so.2";
    std::string lib = find_library(loads, name);
    if (!lib.empty())
      add_library(loads, lib, name, libc,
                  fmt::format("static: NSS module for \"{}\" in /etc/nsswitch.conf; {} is reachable", svc, trigger));
  }
}

}  // namespace decant
