// The artifact `decant run` was given, opened: a bundle in place (its
// config.json), or an OCI image layout or archive verified against its
// digests and unpacked once into a cache keyed by its manifest digest (the
// runtime config then comes from /.decant/runtime.json inside the image).
// Nothing here judges the config; run/config_check.h does, before any
// volume of a cached image is created.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "common/error.h"

namespace decant {

struct Artifact {
  std::string base;  // directory the config's relative paths (rootfs, volumes/...) hang off
  nlohmann::json config;
  bool cached = false;  // an unpacked OCI image: its volumes are made by decant (prepare_volumes)
};

// artifact: bundle dir, OCI layout dir or OCI archive. cache_root: where
// images are unpacked. label names the artifact in messages.
Result<Artifact> open_artifact(const std::string& artifact, const std::string& label, const std::string& cache_root);

// Creates the volumes a cached image's bind mounts name, as the image has
// those directories (owner, mode). Every source is resolved inside the
// cache directory and refused when it would leave it; absolute sources
// (only in a config run with --trust-bundle) are not decant's to create.
Status prepare_volumes(const Artifact& artifact, const std::string& label);

}  // namespace decant
