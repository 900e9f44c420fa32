// Deployment manifests for one packaged service, derived from the same
// ImageSpec as its OCI config so that they cannot disagree: a Kubernetes
// Deployment (read-only root, no privilege escalation, only the capabilities
// decant grants, the seccomp allowlist as a Localhost profile), a Service for
// its listen ports and a PersistentVolumeClaim per writable directory; and a
// compose file with the same settings. The stop grace of both
// (terminationGracePeriodSeconds, stop_grace_period) is decant-init's
// --stop-timeout in the entrypoint plus a margin, absent when it has none.
// Pure functions, the same text every time.
#pragma once

#include <string>

#include "packager/oci_config.h"

namespace decant {

// A DNS-1123 label for Kubernetes names: lower case, [a-z0-9-], at most 63,
// starting and ending alphanumeric ("Redis_Server@1" -> "redis-server-1").
std::string k8s_name(const std::string& name);

// image: the image reference the cluster pulls (e.g. decant/redis-server:latest).
// seccomp_profile: the Localhost profile path relative to the kubelet's
// seccomp root (e.g. decant/redis-server.json); empty for none.
std::string k8s_manifest(const ImageSpec& spec, const std::string& image, const std::string& seccomp_profile);

// seccomp_file: path of the seccomp JSON relative to the compose file; empty for none.
std::string compose_manifest(const ImageSpec& spec, const std::string& image, const std::string& seccomp_file);

}  // namespace decant
