// libFuzzer target for archive sources (guest/archive_guest.cpp over
// libarchive, guest/indexed_guest.cpp): a guest archive is hostile input
// that names paths, links and sizes. The input is written to a file and
// opened as a guest, then walked the way discovery and the packager walk one
// (resolving symlinks inside the guest, listing, reading files). Nothing may
// crash, hang, escape the guest or grow without bound.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <unistd.h>

#include "guest/archive_guest.h"
#include "guest/guest_root.h"
#include "tests/fuzz/fuzz_guest_walk.h"

using namespace decant;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzFile file(data, size, "archive");
  auto g = ArchiveGuest::open(file.path());
  if (!g) return 0;
  walk_guest(GuestRoot(*g));
  return 0;
}
