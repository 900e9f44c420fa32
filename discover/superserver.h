// Services a superserver starts on demand: inetd.conf (netkit, inetutils,
// openbsd-inetd: one line per service, `#<off>#` for entries update-inetd
// disabled) and xinetd (xinetd.conf with `includedir`, `defaults`, one
// `service NAME { attr = value }` block each, `disable = yes`). Ports come
// from the guest's /etc/services, as the superserver itself looks them up.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "guest/etc_services.h"

namespace decant {

struct SuperserverEntry {
  std::string service;            // "ftp", or the xinetd service name
  std::string id;                 // xinetd's unique `id` (default: the service name); inetd: the service
  std::string socket_type;        // stream | dgram
  std::string protocol;           // tcp | udp
  bool wait = false;
  std::string user, group;
  std::vector<std::string> argv;  // program and arguments; argv[0] is a path
  std::string wrapper;            // "/usr/sbin/tcpd" when the entry runs through it
  uint16_t port = 0;              // 0 when the name is not in /etc/services
  bool internal = false;          // served by the superserver itself (echo, daytime)
  bool disabled = false;
  std::string disabled_by;        // "#<off># marker", "disable = yes"
  std::string origin;             // guest path:line
};

std::vector<SuperserverEntry> parse_inetd_conf(const std::string& text, const std::string& display,
                                               const EtcServices& services);

// One xinetd file's service blocks; defaults holds `defaults {}` attributes
// seen so far (xinetd.conf is read before its includedir).
struct XinetdFile {
  std::vector<SuperserverEntry> entries;
  std::vector<std::string> includedirs;
  // `defaults { disabled = ID... }` and `enabled = ID...` (only those run).
  std::vector<std::string> disabled_ids, enabled_ids;
};
XinetdFile parse_xinetd(const std::string& text, const std::string& display,
                        const EtcServices& services);

struct Discovery;
struct DiscoveredService;
// The superserver binds the sockets of the entries it serves: each enabled
// entry's ports (with the protocol it names) are added to the boot service
// that serves it (entry.superserver), with the entry's evidence.
void add_superserver_ports(const std::vector<DiscoveredService>& entries, Discovery& out);

}  // namespace decant
