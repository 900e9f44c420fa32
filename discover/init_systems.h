// The per-init-system readers behind discover_services(): one for systemd
// units, one for SysV scripts, one for superservers. Internal to discover/.
#pragma once

#include <set>
#include <string>

#include "discover/discover.h"

namespace decant {

// Adds the services systemd starts for the default target. native receives
// the name of every service unit that exists (enabled or not, masked too),
// for the SysV rule that a native unit replaces a script of the same name.
void discover_systemd(const GuestRoot& root, Discovery& out, std::set<std::string>& native);

// Adds the init scripts linked into the given runlevel directories
// (e.g. {"/etc/rc2.d", ...}); scripts named in native are listed as
// superseded.
void discover_sysv(const GuestRoot& root, const std::vector<std::string>& rc_dirs, const std::set<std::string>& native,
                   Discovery& out);

// Adds inetd.conf and xinetd services, enabled when their superserver is
// among the enabled services.
void discover_superservers(const GuestRoot& root, Discovery& out);

}  // namespace decant
