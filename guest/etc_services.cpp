// Reads /etc/services text (see etc_services.h).
#include "guest/etc_services.h"

#include <cstdlib>

#include "common/text.h"

namespace decant {

uint16_t EtcServices::port(const std::string& name, const std::string& proto) const {
  auto it = by_name_proto.find(name + "/" + proto);
  return it == by_name_proto.end() ? 0 : it->second;
}

EtcServices parse_services(const std::string& text) {
  EtcServices out;
  for (std::string_view raw : lines(text)) {
    std::vector<std::string> w = split_words(raw.substr(0, raw.find('#')));
    if (w.size() < 2) continue;
    size_t slash = w[1].find('/');
    if (slash == std::string::npos || slash == 0) continue;
    char* end = nullptr;
    unsigned long port = std::strtoul(w[1].c_str(), &end, 10);
    if (end != w[1].c_str() + slash || port == 0 || port > 65535) continue;
    std::string proto = w[1].substr(slash + 1);
    out.by_name.emplace(w[0], static_cast<uint16_t>(port));
    for (size_t i = 0; i < w.size(); ++i)
      if (i != 1) out.by_name_proto.emplace(w[i] + "/" + proto, static_cast<uint16_t>(port));
  }
  return out;
}

}  // namespace decant
