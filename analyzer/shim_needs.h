// What the LD_PRELOAD shim needs from a guest: the newest GLIBC_ symbol
// version it references and the guest libraries ld.so would load for it,
// resolved by the same ld.so-faithful resolver as the application's closure.
// The packager places these; it reads no ELF itself (so it links no LIEF).
#pragma once

#include <string>
#include <vector>

#include "common/error.h"
#include "guest/guest_root.h"

namespace decant {

struct ShimNeeds {
  std::string host_path;            // the shim on the host
  std::string glibc_floor;          // newest GLIBC_x.y it needs, e.g. "2.2.5"; empty when none
  std::vector<std::string> libraries;  // guest paths ld.so opens for it (found path, links kept)
  std::vector<std::string> missing;    // sonames the guest lacks
};

// Reads the shim at shim_path (a host file) and resolves its DT_NEEDED
// inside root as ld.so would for a preloaded object.
Result<ShimNeeds> inspect_shim(const GuestRoot& root, const std::string& shim_path);

}  // namespace decant
