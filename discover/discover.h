// The discover stage: which services a guest starts at boot, read through
// GuestRoot the way its init would. systemd: the default target's closure of
// Wants=/Requires= and .wants/.requires directories over the unit search path,
// drop-ins, aliases, masks, templates, socket units; SysV: init scripts
// linked into the default runlevel, with systemd-sysv-generator's rule that a
// native unit of the same name wins, and the /etc/default switches that
// disable them; inetd.conf and xinetd services. Every service found but not
// convertible is kept with the reason, so a report can list it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/error.h"
#include "guest/guest_root.h"

namespace decant {

struct ServiceListen {
  uint16_t port = 0;
  std::string proto;     // tcp | udp
  std::string evidence;  // "socket: /lib/systemd/system/x.socket:5: ListenStream=8080"
};

struct ServiceWritable {
  std::string path;
  std::string evidence;  // "/lib/systemd/system/x.service:12: StateDirectory=x"
};

struct DiscoveredService {
  std::string name;     // unit or script name without suffix: "redis-server"
  std::string manager;  // systemd | sysv | inetd | xinetd
  bool enabled = false;
  std::string reason;   // why not enabled or not convertible; empty when it is
  std::vector<std::string> argv;  // argv[0] is the program's guest path
  std::string user, group, workdir, type, pidfile;
  std::string superserver;  // inetd/xinetd entries: the boot service that reads their file ("xinetd")
  std::string wrapper;      // inetd/xinetd entries: the program that execs argv ("/usr/sbin/tcpd"), if any
  std::map<std::string, std::string> env;
  std::vector<ServiceListen> listen;
  std::vector<ServiceWritable> writable;  // directories the service writes (state, logs, runtime)
  std::vector<std::string> evidence;  // where each fact came from
};

struct Discovery {
  std::string init;  // systemd | sysv
  std::string default_target;  // "multi-user.target" or "runlevel 2"
  std::vector<DiscoveredService> services;  // sorted by name, then manager
};

// Fails only when the guest cannot be read at all; malformed unit files and
// scripts become services with a reason.
Result<Discovery> discover_services(const GuestRoot& root);

// The discovery as JSON (docs/discover.md), stable key order.
std::string discovery_to_json(const Discovery& d);

}  // namespace decant
