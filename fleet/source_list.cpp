// Reading a fleet's source list (see source_list.h).
#include "fleet/source_list.h"

#include "common/file_util.h"
#include "common/text.h"

namespace decant {

Result<std::vector<std::string>> read_source_list(const std::string& path) {
  auto text = read_file(path);
  if (!text) return text.error();
  std::vector<std::string> out;
  for (std::string_view raw : Lines(*text)) {
    std::string line = trim(raw);
    if (!line.empty() && line[0] != '#') out.push_back(line);
  }
  return out;
}

}  // namespace decant
