// The guest's /etc/services as getservbyname(3) reads it: "name port/proto
// aliases..." lines, '#' comments. One reader for every stage that turns a
// service name into a port (the analyzer's getservbyname() literals, the
// superserver entries discovery finds).
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace decant {

struct EtcServices {
  std::map<std::string, uint16_t> by_name_proto;  // "ftp/tcp" -> 21, aliases included; first line wins
  std::map<std::string, uint16_t> by_name;        // official names, any protocol; first line wins

  // The port of name/proto, or 0 when the guest does not list it.
  uint16_t port(const std::string& name, const std::string& proto) const;
};

EtcServices parse_services(const std::string& text);

}  // namespace decant
