// Small filesystem helpers shared by every stage: reading whole files with a
// size cap, hashing with libcrypto, and writing outputs atomically so that a
// failed run never leaves a half-written file or clobbers what the user had.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/error.h"

namespace decant {

// Reads at most max_bytes of a host file; larger files are an error. A file
// that is missing, not ours to read, not a regular file or too large is bad
// input; a failing read or stat is the environment's (see errno_kind).
Result<std::string> read_file(const std::string& path, uint64_t max_bytes = 64ull << 20);

// Hex sha256 of a host file, streamed.
Result<std::string> sha256_file(const std::string& path);
std::string sha256_hex(const void* data, size_t size);
// Lower-case hex of raw bytes.
std::string to_hex(const void* data, size_t size);

enum class Overwrite { Refuse, Replace };

// Writes content to path through a temporary file in the same directory and
// rename(2), so readers see either the old file or the complete new one.
Status write_file_atomic(const std::string& path, const std::string& content,
                         Overwrite overwrite = Overwrite::Refuse, unsigned mode = 0644);

// Like basename(3) but pure.
std::string path_basename(const std::string& path);
std::string path_dirname(const std::string& path);

// The non-empty components of a path: "/usr//lib/" -> {usr, lib}.
std::vector<std::string> split_path(const std::string& path);

// Collapses "." and "..", duplicate slashes, keeps the result absolute.
// ".." at the root stays at the root. Purely lexical.
std::string normalize_absolute(const std::string& path);

}  // namespace decant
