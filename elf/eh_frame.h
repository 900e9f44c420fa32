// The .eh_frame reader: the start address (pc_begin) of every FDE, the
// compiler's own function boundaries, present even in stripped objects.
// Code analysis uses them as function starts (analyzer/code/functions.cpp).
#pragma once

#include <cstdint>
#include <vector>

namespace decant {

// pc_begin of each FDE in the .eh_frame bytes [data, data+size), which are
// mapped at `addr`. Pointer encodings are resolved when pc-relative, or
// absolute when `absolute_ok` (a non-PIE file: values need no relocating).
// Records this does not resolve (indirect or data-relative encodings,
// unknown augmentations) are skipped, and a malformed length ends the walk:
// a start fewer only merges functions, it never loses code. Every read is
// bounds-checked against size.
std::vector<uint64_t> eh_frame_fde_starts(const uint8_t* data, uint64_t size, uint64_t addr, bool absolute_ok);

}  // namespace decant
