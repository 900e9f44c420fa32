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
  // systemd's stop timeout (TimeoutStopSec=, or TimeoutSec= for start and
  // stop both) in whole seconds, rounded up, 1..kStopTimeoutCap; 0 when the
  // unit sets none (systemd then uses DefaultTimeoutStopSec=, 90 s; decant
  // keeps decant-init's own 10 s, docs/discover.md).
  uint32_t stop_timeout = 0;
  std::string stop_timeout_evidence;  // "/lib/systemd/system/x.service:9: TimeoutStopSec=30s"
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

// What `infinity` (and systemd's `0`, which means the same) becomes: the
// longest stop timeout decant-init accepts (init/args.c, one day), since it
// has no "never SIGKILL".
inline constexpr uint32_t kStopTimeoutCap = 86400;

// A systemd time span (systemd.time(7): "90", "30s", "1min 30s", "2m",
// "500ms", "1.5h", "infinity"; units us, ms, s, sec, m, min, h, hr, d, w, M,
// y and their long names, a bare number being seconds) in microseconds,
// parsed as systemd's parse_sec() does; UINT64_MAX for infinity. An error for
// what systemd would log and ignore (empty, negative, "5x", "3.", overflow).
Result<uint64_t> parse_time_span_usec(const std::string& value);

// A TimeoutStopSec=/TimeoutSec= value as seconds for decant-init: rounded up,
// at least 1; 0 and infinity (both "no timeout" to systemd) and anything
// longer become kStopTimeoutCap. An error when systemd ignores the value.
Result<uint32_t> parse_stop_timeout(const std::string& value);

// Fails only when the guest cannot be read at all; malformed unit files and
// scripts become services with a reason.
Result<Discovery> discover_services(const GuestRoot& root);

// The discovery as JSON (docs/discover.md), stable key order.
std::string discovery_to_json(const Discovery& d);

}  // namespace decant
