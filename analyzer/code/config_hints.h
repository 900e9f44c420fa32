// Config-file hints: listen ports a server reads from its configuration
// rather than from its code (redis' `port 6379`, memcached's `-p 11211`,
// lighttpd's `server.port = 80`, squid's `http_port 3128`, Apache's
// `Listen 80`). The files read are the service's configuration tree
// (analyzer/config/config_tree.h): its package's conffiles, its command
// line, the files its code names and all they include. Every port found
// carries evidence "config: FILE:LINE: TEXT".
#pragma once

#include <string>
#include <vector>

#include "analyzer/code/code_analysis.h"
#include "analyzer/config/config_tree.h"
#include "guest/etc_services.h"
#include "profiles/profile.h"

namespace decant {

struct ConfigPort {
  unsigned port = 0;
  size_t line = 0;       // 1-based
  std::string text;      // the directive as written, trimmed
  std::string address;   // "127.0.0.1" from `listen 127.0.0.1:8080;`, else empty
  std::string confidence = "high";  // "medium" inside a conditional block (<IfModule ...>)
  // Also a UDP port: in BIND's dialect (a text with listen-on statements)
  // every listen port serves DNS over UDP and TCP.
  bool udp_too = false;
};

// Port directives of one configuration file's text, by the generic forms:
// a directive named `port`, `Port`, `listen`, `Listen`, `ListenAddress`,
// `bind`, `-p`, `--port`, or ending in `_port`, `.port`, `-port` (not a
// peer's: `remote_port`, `cluster-announce-port` ...), with a value `N`,
// `ADDR:N` or `[ADDR]:N`; and `port=N` / `port="N"` attributes
// (rsyslog's `input(type="imtcp" port="514")`). Comments and port 0
// (disabled) are ignored. BIND's `listen-on [-v6] port N { ... };` gives N;
// in a text with listen-on statements every port is UDP and TCP.
// A service table line (postfix's master.cf: `SERVICE inet ... COMMAND`)
// gives SERVICE's port: [HOST:]PORT, a number or, with services, a name of
// the guest's /etc/services.
std::vector<ConfigPort> parse_port_directives(const std::string& text, const EtcServices* services = nullptr);

// Adds network.listen entries for the ports in the tree's files (high, or
// medium inside a conditional block). When no file has a port directive,
// the program's compiled-in configurations give them (as the program reads
// its defaults under its files: BIND's `port 53;`), and failing those the
// documented default of a few known servers (confidence medium, a fallback
// only). program: the binary's basename. services: the guest's
// /etc/services, for ports given by name.
void add_config_ports(const ConfigTree& tree, const std::string& program, Profile& p,
                      const EtcServices& services = EtcServices{},
                      const CompiledDefaults& compiled = {});

}  // namespace decant
