// Everything decant does with tar streams, through libarchive: writing a
// file set as a deterministic pax tar (sorted entries, fixed mtime, numeric
// owners only), compressing a blob with stable settings, and unpacking a
// layer into a directory. Every writer hashes what it writes, because OCI
// names blobs by their sha256.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/error.h"
#include "packager/file_set.h"

namespace decant {

enum class Compression { None, Gzip, Zstd, Xz };

struct Blob {
  std::string digest;  // "sha256:<hex>"
  uint64_t size = 0;
};

// Writes set as a pax tar (no compression) to out_path. Requires: out_path's
// directory exists; out_path does not.
Result<Blob> write_layer_tar(const FileSet& set, const std::string& out_path, int64_t mtime);

// Compresses in_path into out_path (gzip without timestamp or name, or zstd),
// the same bytes for the same input every time.
Result<Blob> compress_file(const std::string& in_path, const std::string& out_path, Compression c);

// A small deterministic tar of named in-memory or host-file members, for the
// outer OCI archive and LXC metadata. Directories end with '/'.
struct TarMember {
  std::string name;
  std::string content;    // used when host_path is empty
  std::string host_path;  // streamed from this host file
  unsigned mode = 0644;
};
Result<Blob> write_simple_tar(const std::vector<TarMember>& members, const std::string& out_path, int64_t mtime,
                              Compression c);

// Unpacks a (possibly compressed) tar into dest, keeping modes, owners,
// xattrs, holes and the stored mtimes; refuses ".." and writing through
// symlinks. Requires: dest exists.
Status extract_tar(const std::string& tar_path, const std::string& dest);

// sha256 of a host file as an OCI digest.
Result<Blob> blob_of_file(const std::string& path);

}  // namespace decant
