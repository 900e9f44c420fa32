// The list of sources a fleet converts (`--sources FILE`, the Kubernetes
// ConfigMap): one source a line, in the order that names their outputs.
#pragma once

#include <string>
#include <vector>

#include "common/error.h"

namespace decant {

// Blank lines and lines starting with `#` are skipped, blanks around a
// source trimmed; an unreadable file is an error naming it.
Result<std::vector<std::string>> read_source_list(const std::string& path);

}  // namespace decant
