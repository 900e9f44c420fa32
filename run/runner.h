// `decant run`: starts a packaged service under crun or runc. A bundle runs
// in place; an OCI archive or directory is verified, unpacked once into a
// cache keyed by its manifest digest and run from there with the runtime
// config the packager stored in /.decant/runtime.json (run/artifact.h).
// Either config is first checked against decant's own policy for the
// profile the artifact carries (run/config_check.h) unless the user trusts
// the artifact. Knows this host's traps (cgroup hybrid mode, missing
// runtimes) and says what went wrong. A service with its own network
// namespace gets one made by decant, with its recorded ports published on
// the host (port_forward.h). Its stop timeout follows the artifact's
// decant-init unless the user gives one.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "common/error.h"

namespace decant {

// Receives one line for the user ("note: ...", "publishing ..."); the CLI
// prints it. Called from the main thread and, for relay trouble, the relay's.
using NoteSink = std::function<void(const std::string&)>;

struct RunOptions {
  std::string artifact;           // bundle dir, OCI layout dir, or OCI archive
  std::vector<std::string> args;  // replace the entrypoint's arguments when not empty
  std::string runtime;            // crun | runc | "" (first installed, crun preferred)
  std::string id;                 // container id; default decant-<name>-<pid>
  std::string cache_dir;          // default $DECANT_CACHE or ~/.cache/decant, + /run
  std::vector<std::string> publish;  // --publish [ADDR:]HOSTPORT:PORT, replacing PORT's default mapping
  // Seconds between the first SIGINT/SIGTERM and killing the container; -1:
  // the artifact's (decant-init's --stop-timeout in its process.args, the
  // unit's TimeoutStopSec=, plus kStopGraceMargin), 10 when it has none.
  int stop_timeout = -1;
  bool verbose = false;              // print the runtime command line and relay trouble
  bool trust_bundle = false;         // run the artifact's runtime config unchecked
  NoteSink note;                     // where notes go; none: dropped
  // Learning inside the artifact (`decant learn ARTIFACT`): this host
  // directory is bound at kLearnMountPoint and named in DECANT_LEARN, so the
  // shim in the image records what the service does there. Added after the
  // artifact's config was checked: it is decant's own mount, not the artifact's.
  std::string learn_dir;
  // Stop the service (as on SIGTERM) after this many seconds; 0: never.
  double stop_after = 0;
  // A host command (/bin/sh -c) started once the runtime is; when it exits
  // the service is stopped. Its exit status is in RunOutcome::workload_status.
  std::string workload;
};

// Where the learn records directory appears inside the container: in the
// runtime's /dev tmpfs, so no mount point is made in the artifact's rootfs.
inline constexpr const char* kLearnMountPoint = "/dev/.decant-learn";

struct RunOutcome {
  int code = 0;             // the service's exit status (128+N when killed by signal N)
  int workload_status = -1; // wait status of RunOptions::workload; -1 when none ran
};

// Returns the service's exit status (128+N when killed by signal N). The
// runtime's and the service's own stderr pass through to decant's.
Result<int> run_container(const RunOptions& options);
Result<RunOutcome> run_container_outcome(const RunOptions& options);

// The stop timeout a run uses: the one given (0 or more), else the
// artifact's runtime config's (see RunOptions::stop_timeout).
int effective_stop_timeout(int given, const nlohmann::json& config);

// The profile an artifact carries (/.decant/profile.json in its rootfs), as
// text; an OCI image is verified and unpacked into the run cache first.
Result<std::string> artifact_profile(const std::string& artifact, const std::string& cache_dir = "");

// Which OCI runtime would be used; error when none is installed.
Result<std::string> find_runtime(const std::string& preferred);

// True when the host mounts cgroup v1 controllers plus a cgroup2 hierarchy
// at /sys/fs/cgroup/unified, which crun refuses.
bool cgroup_hybrid_mode();

}  // namespace decant
