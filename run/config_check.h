// What `decant run` lets an artifact ask for. A bundle's config.json and an
// OCI image's /.decant/runtime.json are written by whoever made the artifact,
// so before either reaches the runtime it is compared with what decant's own
// policy (packager/oci_config.h, fed the profile the artifact carries in
// /.decant/profile.json) would have written: capabilities no more than that
// policy grants, the seccomp filter it derives, no_new_privs, a read-only
// rootfs, the namespaces decant creates, and only the mounts decant makes
// (pseudo filesystems and binds from the artifact's own volumes/). Anything
// else is refused, naming the setting, unless the user trusts the artifact.
// Also: the one place that turns a path taken from an artifact into a host
// path, refusing any that would leave the artifact.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "common/error.h"

namespace decant {

// Ok when config (its relative paths hanging off base, which holds rootfs/
// and volumes/) asks for nothing beyond decant's policy for the profile in
// base/rootfs/.decant/profile.json. Otherwise bad input naming the setting,
// e.g. "bundle: process.capabilities.bounding: CAP_SYS_ADMIN is beyond ...".
// label names the artifact in messages.
Status check_runtime_config(const nlohmann::json& config, const std::string& base, const std::string& label);

// Host path of rel, a relative path taken from an artifact, inside base:
// lexically normalized, refused when absolute or when ".." climbs out, and
// refused when a component that exists is a symlink (it could point anywhere
// on the host). Missing components are fine: the caller may create them.
Result<std::string> path_inside(const std::string& base, const std::string& rel);

}  // namespace decant
