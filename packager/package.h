// The packager driver: profile + guest -> file set -> one tar layer -> one
// writer per format (OCI archive/dir, OCI runtime bundle, LXC image). Reads
// like a table of contents; each step lives in its own file.
#pragma once

#include <optional>

#include <cstdint>
#include <string>
#include <vector>

#include "analyzer/shim_needs.h"
#include "common/error.h"
#include "packager/file_set.h"
#include "packager/oci_config.h"
#include "packager/tar_writer.h"

namespace decant {

enum class PackageFormat { OciArchive, OciDir, Bundle, Lxc };

// Default bound on the file data an image may hold, counted as apparent size
// (a hole counts: container tools unpack holes as written zeros).
inline constexpr uint64_t kDefaultMaxImageBytes = 64ull << 30;

struct PackageOptions {
  std::string profile_path;
  std::string root;
  std::string output;
  PackageFormat format = PackageFormat::OciArchive;
  PackageMode mode = PackageMode::Minimal;
  Compression compression = Compression::Gzip;
  std::string tag;        // NAME:TAG; default decant/<name>:latest
  std::optional<ShimNeeds> shim;  // absent: no shim (cli fills it from analyzer/shim_needs.h)
  bool init = true;                // /.decant/init starts the service (docs/init.md)
  std::string init_path;           // host path of decant-init; empty: locate_init()
  bool force = false;
  bool network_namespace = false;  // bundle: run in its own network namespace
  int64_t mtime = 0;               // SOURCE_DATE_EPOCH
  uint64_t max_bytes = kDefaultMaxImageBytes;  // --max-size
};

struct PackageReport {
  std::string output;
  std::string digest;  // OCI: manifest digest; bundle/lxc: sha256 of the rootfs layer tar
  uint64_t image_bytes = 0;  // compressed layer (OCI), rootfs bytes (bundle), rootfs tarball (lxc)
  uint64_t files = 0;
  std::vector<std::string> notes;
  std::vector<std::string> warnings;
  ImageSpec spec;         // what the artifact's configs were made from (manifests use it too)
  std::string image_ref;  // NAME:TAG of the image
};

Result<PackageReport> package(const PackageOptions& options);

// Parses "oci-archive" etc.; format_name is its inverse.
bool parse_format(const std::string& s, PackageFormat& out);
const char* format_name(PackageFormat format);

// Parses a byte count with an optional binary suffix: "100", "512M", "64G",
// "2T" (K, M, G, T: powers of 1024).
bool parse_size(const std::string& s, uint64_t& out);

}  // namespace decant
