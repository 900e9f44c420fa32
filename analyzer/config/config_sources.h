// Where a service's configuration starts, found the way the daemon and its
// package find it: the files named on its command line (`-c`, `-f`,
// `--config`, `-C`, `--config=`, or any /etc file argument), the files its
// code names, the configuration its Debian package installs (dpkg's
// `.conffiles` and `.list`, read once per guest and cached), the files its
// package's /etc directories hold that no package owns (written by a
// maintainer script, like sshd_config or postfix's main.cf), and
// /etc/NAME.conf, /etc/NAME/NAME.conf. See docs/config.md.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "analyzer/config/config_tree.h"
#include "guest/guest_root.h"

namespace decant {

// The guest's dpkg database, as far as configuration needs it.
struct DpkgIndex {
  std::map<std::string, std::vector<std::string>> owners;  // guest path -> packages listing it
  std::map<std::string, std::vector<std::string>> files;   // package -> paths its .list names
  std::map<std::string, std::string> list_name;            // package -> "libc6:amd64" (its info file stem)
  std::map<std::string, std::string> source;               // package -> source package (dpkg status)
};

// The index of root's /var/lib/dpkg, built once per guest that a host
// directory or a source name identifies (thread-safe), on every call for
// one that neither does (a MemoryGuest); empty for a guest without dpkg. rpm's database is not read (docs/config.md).
std::shared_ptr<const DpkgIndex> dpkg_index(const GuestRoot& root);

// The package that installs binary (tried as given, canonical, and across
// the /usr merge), or "".
std::string owning_package(const GuestRoot& root, const DpkgIndex& index, const std::string& binary);

// Whether a guest path may be a daemon's configuration: under /etc, not a
// libc database (/etc/services, /etc/hosts, ...), init script, cron or
// logrotate file, and not a disabled `*-available` file.
bool config_like(const std::string& path);

// argv: the service's command line (argv[0] first; may be empty).
// code_paths: files the program's reachable code names.
std::vector<ConfigSeed> config_seeds(const GuestRoot& root, const std::string& binary,
                                     const std::vector<std::string>& argv, const std::vector<std::string>& code_paths);

}  // namespace decant
