// Config-file hints: listen ports a server reads from its configuration
// rather than from its code (redis' `port 6379`, memcached's `-p 11211`,
// lighttpd's `server.port = 80`). Which files are read is evidence-based:
// configuration files the program's code names (files[] with access read),
// the files under /etc/ its Debian package installs, and /etc/NAME.conf or
// /etc/NAME/NAME.conf when they exist. Every port found carries evidence
// "config: FILE:LINE: TEXT".
#pragma once

#include <string>
#include <vector>

#include "guest/guest_root.h"
#include "profiles/profile.h"

namespace decant {

struct ConfigPort {
  unsigned port = 0;
  size_t line = 0;       // 1-based
  std::string text;      // the directive as written, trimmed
  std::string address;   // "127.0.0.1" from `listen 127.0.0.1:8080;`, else empty
};

// Port directives of one configuration file's text, from a table of known
// forms: `port N`, `Port N`, `-p N`, `--port=N`, `server.port = N`,
// `listen_port=N`, `Listen [ADDR:]N`, `listen [ADDR:]N;`. Comments (#) and
// port 0 (disabled) are ignored.
std::vector<ConfigPort> parse_port_directives(const std::string& text);

// Adds network.listen entries (confidence high) for the ports in the
// program's configuration files, and the documented default of a few known
// servers whose configuration has no port directive (confidence medium).
void add_config_ports(const GuestRoot& root, Profile& p);

}  // namespace decant
