// libFuzzer target for disk-image sources (guest/disk_image.cpp): partition
// tables through libblkid and ext2/3/4 through libext2fs (guest/
// ext_guest.cpp), on a small image. DECANT_SOURCE_MOUNT=0 keeps the kernel
// out of it: a fuzzed filesystem is never mounted (that would fuzz the host
// kernel, not decant). The guest found is walked like archive_fuzz's.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "guest/disk_image.h"
#include "tests/fuzz/fuzz_guest_walk.h"

using namespace decant;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  setenv("DECANT_SOURCE_MOUNT", "0", 1);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzFile file(data, size, "image");
  auto img = open_disk_image(file.path(), ImageKind::Raw, "fuzz");
  if (!img) return 0;
  walk_guest(img->root);
  return 0;
}
