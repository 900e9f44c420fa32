// What a packaged service looks like to a container runtime, derived once
// from the profile (ImageSpec) and rendered as the OCI image config, the OCI
// runtime config.json of a bundle and the seccomp policy both runtimes and
// LXC read. Pure functions of their inputs, so they are unit-tested without
// a guest and give the same JSON every time.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "packager/file_set.h"
#include "profiles/profile.h"

namespace decant {

struct WritableDir {
  std::string path;    // container directory that must be writable
  std::string reason;  // "redirect /var/log/x -> /data/log" or "files: /var/lib/redis (write)"
};

struct ImageSpec {
  std::string name;
  std::vector<std::string> entrypoint;  // the binary
  std::vector<std::string> cmd;         // its default arguments
  std::vector<std::string> env;         // "KEY=VALUE", sorted by key
  uint32_t uid = 0, gid = 0;
  std::string workdir = "/";
  std::string hostname;
  std::vector<std::pair<uint16_t, std::string>> ports;  // listened ports after redirects, sorted
  std::vector<WritableDir> writable;                    // sorted by path
  std::vector<std::string> scratch_dirs;                // get a tmpfs at run time (/tmp, /run)
  std::vector<std::string> capabilities;                // CAP_* names the container's process gets, sorted
  std::vector<std::string> service_capabilities;        // those the service keeps (decant-init drops the rest)
  nlohmann::json seccomp;                               // OCI linux.seccomp, or null for none
  std::vector<std::string> seccomp_allow;               // the allowlist it holds (for LXC)
  std::map<std::string, std::string> labels;
};

struct SpecOptions {
  bool preload_shim = false;    // LD_PRELOAD the shim from /.decant/
  bool plan = false;            // a plan is in /.decant/plan
  std::string profile_digest;   // "sha256:…" of the profile as packaged
  int64_t created = 0;          // SOURCE_DATE_EPOCH
  std::string mode = "minimal";
  bool init = true;             // /.decant/init starts the service (when init_supports the profile)
};

// True when decant-init (built for decant's own architecture) can run the
// profile's service: the same architecture.
bool init_supports(const Profile& profile);

// What decant-init itself calls once the runtime's filter is in place
// (setup, the syslog relay, the service's fork and credentials), for the
// architecture of init_supports. make_image_spec adds them to the filter.
const std::vector<std::string>& init_own_syscalls();

// True when the plan turns on decant-init's seccomp proxy (docs/proxy.md):
// enforcement.proxy on, or auto for a static or raw-syscall program.
bool init_runs_proxy(const Profile& profile);

// What the proxy calls in decant-init and in the service before exec (the
// filter's install, the supervisor's reads, writes and redirected calls);
// allowed with init_own_syscalls when init_runs_proxy.
const std::vector<std::string>& init_proxy_syscalls();

// Capabilities decant-init needs beyond the service's to prepare the
// container (CHOWN, DAC_OVERRIDE, FOWNER for runtime directories and volume
// seeds; SETUID, SETGID to switch to a service user that is not root, and
// KILL to signal it; SYS_PTRACE for the proxy's access to such a service).
std::vector<std::string> init_capabilities(const Profile& profile);

// Fails on values a runtime would reject (unknown errno name, ...). Warnings
// (no allowlist yet, guessed capabilities) are appended to warnings.
Result<ImageSpec> make_image_spec(const Profile& profile, const FileSet& files, const SpecOptions& options,
                                  std::vector<std::string>& warnings);

// OCI linux.seccomp for the profile: default action from enforcement
// (errno/kill, or log), one allow rule. Null when mode is off or the
// allowlist is empty (a filter without one would stop the container). With
// the shim preloaded, the shim's own calls are allowed when they carry its
// tag, exactly as in the BPF the plan compiler writes for the shim.
// init: decant-init's own calls are allowed too (init_own_syscalls).
nlohmann::json oci_seccomp(const Profile& profile, bool shim, std::vector<std::string>& warnings, bool init = false);

// Capability names the process needs: NET_BIND_SERVICE for a port < 1024
// still bound, SETUID/SETGID/CHOWN/SYS_CHROOT when the allowlist has those
// calls, file capabilities of the binary; a broad set when the allowlist is
// unknown. binary_caps: raw security.capability of the binary (may be empty).
std::vector<std::string> needed_capabilities(const Profile& profile, const std::string& binary_caps,
                                             const std::vector<std::pair<uint16_t, std::string>>& ports,
                                             std::vector<std::string>& warnings);

// The OCI image config (application/vnd.oci.image.config.v1+json).
nlohmann::json image_config(const ImageSpec& spec, const std::string& arch, const std::string& diff_id,
                            int64_t created);

// The OCI runtime config.json of a bundle. Writable directories are bind
// mounts from volumes/<path> relative to the bundle.
struct RuntimeConfigOptions {
  bool network_namespace = false;
};
nlohmann::json runtime_config(const ImageSpec& spec, const RuntimeConfigOptions& options);

// Runtime config annotation listing the ports the service binds (after
// redirects) as a JSON array in a string, '[{"port":53,"proto":"udp"},
// {"port":17070,"proto":"tcp"}]' (OCI annotation values are strings): what
// `decant run` publishes when the service has its own network namespace.
// Absent when it binds none.
inline constexpr const char* kPortsAnnotation = "io.decant.ports";

// Bundle-relative source of the bind mount for a writable directory.
std::string volume_source(const std::string& container_dir);

// RFC 3339 UTC time of a Unix time ("1970-01-01T00:00:00Z").
std::string rfc3339(int64_t t);

// OCI/Go architecture name of an ELF machine name ("x86_64" -> "amd64").
std::string oci_arch(const std::string& elf_arch);

}  // namespace decant
