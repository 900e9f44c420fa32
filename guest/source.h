// open_source: the one entry point from a SOURCE argument (`decant convert
// SOURCE`, `decant discover --root SOURCE`) to a GuestRoot. A SOURCE is a
// guest root directory, an archive of one (anything libarchive reads), or a
// disk image (raw, qcow2, vmdk...; MBR, GPT or no partition table). The
// OpenedSource owns whatever reading it needs (work copies, a raw copy of a
// qcow2, a mount) and releases it when the last handle goes. Nothing here
// ever writes to the source (docs/sources.md).
#pragma once

#include <memory>
#include <string>

#include "common/error.h"
#include "guest/guest_root.h"

namespace decant {

struct OpenedSource {
  GuestRoot root;
  std::string kind;  // "directory", "archive", "qcow2 disk image, partition 2 (ext4)"...
  std::shared_ptr<void> keep_alive;
};

// While one OpenedSource of a path is alive, opening the same path again
// returns it (so convert's per-service packaging shares one index). Errors
// are bad input: one line naming the source and, when a tool or privilege is
// missing, what to install or to run as root.
Result<std::shared_ptr<const OpenedSource>> open_source(const std::string& path);

}  // namespace decant
