// The format writers the driver (package.cpp) chooses between. Each gets the
// same finished layer tar and image spec and writes one artifact into a
// staging path inside the scratch directory; the driver renames it into place.
#pragma once

#include <cstdint>
#include <string>

#include "common/error.h"
#include "packager/file_set.h"
#include "packager/oci_config.h"
#include "packager/tar_writer.h"
#include "profiles/profile.h"

namespace decant {

struct LayerInput {
  std::string tar_path;  // the uncompressed layer, in scratch
  Blob diff_id;          // its digest
  const FileSet* files = nullptr;
  const ImageSpec* spec = nullptr;
  const Profile* profile = nullptr;
  std::string scratch;
  int64_t mtime = 0;
  Compression compression = Compression::Gzip;
  std::string tag;
};

struct WriterResult {
  Blob digest;               // what identifies the artifact
  uint64_t image_bytes = 0;  // its size as shipped
};

// OCI image layout (oci-layout, index.json, blobs/sha256) at out, a directory,
// or a tar of it when archive.
Result<WriterResult> write_oci(const LayerInput& in, const std::string& out, bool archive);

// OCI runtime bundle: out/config.json, out/rootfs, out/volumes/<dir>.
Result<WriterResult> write_bundle(const LayerInput& in, const std::string& out, bool network_namespace);

// LXC/Incus image: out/metadata.yaml, out/metadata.tar.xz, out/rootfs.tar.xz,
// out/config (LXC keys) and out/seccomp.policy.
Result<WriterResult> write_lxc(const LayerInput& in, const std::string& out);

// The LXC `config` keys for a service (init command, ids, env, caps, tmpfs
// mounts, seccomp). LXC's format has no quoting, so a value holding a line
// break or another control character is bad input naming its field.
Result<std::string> lxc_config(const ImageSpec& spec, const Profile& profile, std::vector<std::string>& warnings);

// LXC's seccomp policy text (version 2, allowlist) for an allowlist, plus
// what lxc-start itself calls after loading it (and the shim's own calls when
// shim); empty when there is no allowlist. Bad input when a name or the arch
// holds a control character (the format is one name a line).
Result<std::string> lxc_seccomp_policy(const Profile& profile, const std::vector<std::string>& allow, bool shim);

}  // namespace decant
