// Pass 3b of code analysis: the libraries glibc itself dlopen()s, which no
// DT_NEEDED and no literal in the program names. NSS modules: libc loads
// them on the first user, group or host lookup, by the service names
// /etc/nsswitch.conf lists. libgcc_s.so.1: libc/libpthread load it to unwind
// a thread (pthread_exit, pthread_cancel) or walk a stack (backtrace). Once
// such a function is reachable, the library the guest has is added like a
// dlopen()ed one (dlopen.cpp). iconv converters: iconv_open() loads them
// from glibc's gconv directory by the charset names it is given at run time
// (a configuration's `charset =`), so the directory travels whole.
#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "analyzer/code/closure_analysis.h"
#include "analyzer/loader_config.h"
#include "common/file_util.h"
#include "common/text.h"

namespace decant {

namespace {

// Does nsswitch.conf send database db to the "files" service? A database
// without a line uses glibc's default, which starts with files.
bool nss_uses_files(const std::map<std::string, std::vector<std::string>>& databases, const std::string& db) {
  auto it = databases.find(db);
  return it == databases.end() || std::find(it->second.begin(), it->second.end(), "files") != it->second.end();
}

}  // namespace

std::string ClosureAnalysis::reachable_glibc_function(const std::set<std::string>& names) const {
  for (const Node& n : reachable_)
    if (names.count(summaries_[n.obj].functions[n.fn].name) && is_glibc_object(object_name(n.obj)))
      return node_name(n);
  return {};
}

void ClosureAnalysis::add_glibc_unwinder(LibraryLoads& loads) {
  // glibc 2.17-2.33: nptl's unwind-forcedunwind.c and libc's backtrace.c
  // (__libc_dlopen of LIBGCC_S_SO); 2.34+ moved both into libc, same names.
  static const std::set<std::string> unwinding{"pthread_exit", "pthread_cancel", "backtrace", "__backtrace"};
  std::string trigger = reachable_glibc_function(unwinding);
  if (trigger.empty()) return;
  const std::string name = "libgcc_s.so.1";
  std::string lib = find_library(loads, name);
  if (lib.empty()) {
    add_hazard("dlopen-unresolved", "warning",
               "glibc loads libgcc_s.so.1 to unwind threads or stacks and the guest has none; pthread_exit, "
               "pthread_cancel or backtrace will abort the program",
               fmt::format("static: {} is reachable and libgcc_s.so.1 is not in the guest", trigger));
    return;
  }
  size_t libc = 0;
  for (size_t k = 0; k < closure_.objects.size(); ++k)
    if (object_name(k) == "libc.so.6") libc = k;
  add_library(loads, lib, name, libc,
              fmt::format("static: glibc dlopen()s {} to unwind; {} is reachable", name, trigger));
}

void ClosureAnalysis::add_nss_modules(LibraryLoads& loads) {
  static const std::set<std::string> nss_entry{
      "getpwnam", "getpwuid", "getpwnam_r", "getpwuid_r", "getgrnam", "getgrgid", "getgrnam_r", "getgrgid_r",
      "initgroups", "getgrouplist", "getaddrinfo", "gethostbyname", "gethostbyname2", "gethostbyname_r",
      "gethostbyname2_r", "gethostbyaddr", "getnameinfo", "getservbyname", "getservbyname_r", "getservbyport",
      "getprotobyname", "getprotobynumber", "getspnam", "getspnam_r", "getpwent", "getgrent", "getspent"};
  std::string trigger = reachable_glibc_function(nss_entry);
  if (trigger.empty()) return;
  auto conf = root_.read_file("/etc/nsswitch.conf", 1 << 20);
  auto databases = parse_nsswitch_conf(conf ? *conf : "passwd: files\ngroup: files\nhosts: files dns\n");
  std::set<std::string> services;
  for (const auto& [db, names] : databases) services.insert(names.begin(), names.end());
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
  add_nss_databases(conf ? parse_nsswitch_conf(*conf) : std::map<std::string, std::vector<std::string>>{});
}

void ClosureAnalysis::add_glibc_converters() {
  static const std::set<std::string> conversion{"iconv_open"};
  std::string trigger = reachable_glibc_function(conversion);
  if (trigger.empty()) return;
  std::string libc_dir;
  for (const auto& o : closure_.objects)
    if (std::find(o.names.begin(), o.names.end(), "libc.so.6") != o.names.end())
      libc_dir = path_dirname(o.canonical_path);
  if (libc_dir.empty()) return;
  // glibc's GCONV_DIR is $libdir/gconv, libdir being /usr/lib/<triplet>
  // where libc sits in /lib/<triplet> (a guest without merged /usr).
  for (const std::string& dir : {libc_dir + "/gconv", "/usr" + libc_dir + "/gconv"}) {
    if (!root_.is_directory(dir)) continue;
    if (std::any_of(p_.files.begin(), p_.files.end(), [&](const FileFact& f) { return f.path == dir; })) return;
    p_.files.push_back({dir, "read", true,
                        {fmt::format("static: {} is reachable and glibc's iconv loads its converters from {} "
                                     "(gconv-modules)",
                                     trigger, dir)}});
    return;
  }
}

// The files libnss_files reads for the lookups the program reaches. The
// packager writes its own passwd, group and hosts; these it takes from the
// guest (a superserver bound nothing without /etc/services).
void ClosureAnalysis::add_nss_databases(const std::map<std::string, std::vector<std::string>>& nsswitch) {
  struct Database {
    const char* name;
    const char* file;
    std::set<std::string> lookups;
  };
  static const Database databases[] = {
      {"services", "/etc/services",
       {"getservbyname", "getservbyname_r", "getservbyport", "getservbyport_r", "getservent", "getaddrinfo",
        "getnameinfo"}},
      {"protocols", "/etc/protocols",
       {"getprotobyname", "getprotobyname_r", "getprotobynumber", "getprotobynumber_r", "getprotoent"}},
      {"networks", "/etc/networks", {"getnetbyname", "getnetbyname_r", "getnetbyaddr", "getnetbyaddr_r"}},
      {"rpc", "/etc/rpc", {"getrpcbyname", "getrpcbyname_r", "getrpcbynumber", "getrpcbynumber_r"}},
  };
  for (const Database& db : databases) {
    std::string trigger = reachable_glibc_function(db.lookups);
    if (trigger.empty() || !nss_uses_files(nsswitch, db.name)) continue;
    if (std::any_of(p_.files.begin(), p_.files.end(), [&](const FileFact& f) { return f.path == db.file; })) continue;
    p_.files.push_back({db.file, "read", true,
                        {fmt::format("static: {} is reachable and NSS \"files\" reads {} for {}", trigger, db.file,
                                     db.name)}});
  }
}

}  // namespace decant
