// The plan compiler: turns a profile's redirects, identity and enforcement
// into the compact text plan the shim parses once at load (format in
// docs/shim.md), with the seccomp BPF compiled here so the shim never needs
// libseccomp or a YAML parser. Used by `decant plan`, `decant learn` and the
// packager (/.decant/plan).
#pragma once

#include <string>
#include <vector>

#include "common/error.h"
#include "profiles/profile.h"

namespace decant {

struct PlanOptions {
  // Learn mode observes instead of enforcing: the plan carries no filter
  // (decant learn installs its own notifying filter).
  bool learn = false;
};

struct CompiledPlan {
  std::string text;                   // the plan file's content
  std::vector<std::string> warnings;  // one line each, for stderr
  size_t bpf_instructions = 0;        // 0: no filter in the plan
  std::string bpf;                    // that filter (struct sock_filter[]), for /.decant/seccomp.bpf
  std::string seccomp_mode;           // what the plan tells the shim: enforce | log | off
};

// Validates what the shim will rely on (absolute paths, IP literals where
// needed, uname fields that fit struct utsname, known syscalls) and compiles.
Result<CompiledPlan> compile_plan(const Profile& profile, const PlanOptions& options = {});

// The profile's enforcement.proxy as it applies (docs/proxy.md): "auto"
// stays "auto" only for programs LD_PRELOAD cannot reach (static, or the
// raw-syscall / static-binary-no-preload hazards), otherwise "off".
std::string effective_proxy_mode(const Profile& profile);

// Percent-encodes a plan field: bytes <= 0x20, >= 0x7f and '%'.
std::string plan_escape(const std::string& field);

}  // namespace decant
