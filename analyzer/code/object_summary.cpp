// Helpers of the per-object summary (object_summary.h).
#include "analyzer/code/object_summary.h"

#include <fmt/format.h>

namespace decant {

std::string ObjectSummary::function_name(uint32_t f) const {
  if (f >= functions.size()) return "?";
  if (!functions[f].name.empty()) return functions[f].name;
  return fmt::format("fn_{:x}", functions[f].addr);
}

}  // namespace decant
