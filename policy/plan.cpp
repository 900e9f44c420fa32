// Compiles a profile into the shim's plan (see plan.h and docs/shim.md).
// What the shim relies on is checked before it runs, by validate_profile
// (profiles/), with a message naming the profile field: the shim, running
// inside someone else's process, can only report a bad plan and do nothing.
#include "policy/plan.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "common/file_util.h"
#include "policy/seccomp.h"
#include "shim/plan_contract.h"

namespace decant {
namespace {

std::string hex(const std::string& bytes) { return to_hex(bytes.data(), bytes.size()); }

}  // namespace

std::string effective_proxy_mode(const Profile& p) {
  std::string proxy = p.enforcement.proxy;
  if (proxy == DECANT_PLAN_PROXY_AUTO) {
    bool unreachable = p.binary.linkage == "static" || p.binary.linkage == "static-pie";
    for (const auto& h : p.hazards) unreachable |= h.id == "raw-syscall" || h.id == "static-binary-no-preload";
    if (!unreachable) proxy = DECANT_PLAN_PROXY_OFF;
  }
  return proxy;
}

std::string plan_escape(const std::string& field) {
  static const char digits[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : field) {
    if (c <= 0x20 || c >= 0x7f || c == '%') {
      out += '%';
      out += digits[c >> 4];
      out += digits[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

Result<CompiledPlan> compile_plan(const Profile& p, const PlanOptions& options) {
  // A loaded profile was validated by its reader; one built in code is here.
  if (!p.validated)
    if (Status valid = validate_profile(p, ""); !valid) return valid.error();
  CompiledPlan out;
  std::string& t = out.text;
  t += fmt::format("# decant plan for {} ({}); see docs/shim.md\n",
                   plan_escape(p.metadata.name.empty() ? p.binary.path : p.metadata.name), p.metadata.generator);
  t += DECANT_PLAN_MAGIC "\n";

  // Paths: normalized, trailing slashes dropped, one target per source.
  std::map<std::string, std::string> paths;
  for (const auto& r : p.redirects.paths) {
    std::string from = normalize_absolute(r.from), to = normalize_absolute(r.to);
    paths.emplace(from, to);
    if (from == to) out.warnings.push_back(fmt::format("redirects.paths: '{}' redirects to itself", from));
  }
  std::vector<std::pair<std::string, std::string>> sorted(paths.begin(), paths.end());
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
  for (const auto& [from, to] : sorted)
    t += fmt::format(DECANT_PLAN_KW_PATH " {} {}\n", plan_escape(from), plan_escape(to));

  // Ports.
  for (const auto& r : p.redirects.ports)
    t += fmt::format(DECANT_PLAN_KW_PORT " {} {} {}{}\n", r.proto, r.from, r.to, r.address.empty() ? "" : " " + r.address);

  // Hosts: names, or IP literals that connect() rewrites.
  for (const auto& r : p.redirects.hosts) t += fmt::format(DECANT_PLAN_KW_HOST " {} {}\n", plan_escape(r.from), plan_escape(r.to));

  // Identity (each field fits struct utsname).
  const Identity& id = p.redirects.identity;
  for (const auto& [key, field, value] :
       std::vector<std::tuple<std::string, std::string, std::string>>{{"release", "uname_release", id.uname_release},
                                                                      {"version", "uname_version", id.uname_version},
                                                                      {"machine", "uname_machine", id.uname_machine},
                                                                      {"nodename", "hostname", id.hostname}}) {
    if (value.empty()) continue;
    t += fmt::format(DECANT_PLAN_KW_UNAME " {} {}\n", key, plan_escape(value));
  }

  // Enforcement.
  auto spec = seccomp_spec_from_profile(p);
  if (!spec) return spec.error();
  std::string mode = p.enforcement.seccomp.mode;
  if (options.learn) {
    mode = "off";
  } else if (mode != "off" && p.syscalls.allow.empty()) {
    out.warnings.push_back(
        "the profile's syscalls.allow is empty: the plan carries no seccomp filter (a filter with no allowlist would "
        "stop the app at its first call)");
    mode = "off";
  }
  out.seccomp_mode = mode;
  if (mode == "off") {
    t += fmt::format(DECANT_PLAN_KW_SECCOMP " " DECANT_PLAN_SECCOMP_OFF " {}\n", plan_escape(spec->arch));
  } else {
    auto bpf = compile_seccomp_bpf(*spec);
    if (!bpf) return bpf.error();
    out.bpf_instructions = bpf->size() / 8;
    t += fmt::format(DECANT_PLAN_KW_SECCOMP " {} {} {}\n", mode, plan_escape(spec->arch), hex(*bpf));
    out.bpf = std::move(*bpf);
  }
  // The seccomp proxy (docs/proxy.md), for the container init: auto turns
  // on for the programs LD_PRELOAD cannot reach, and stays best effort.
  t += fmt::format(DECANT_PLAN_KW_PROXY " {}\n", effective_proxy_mode(p));
  t += DECANT_PLAN_KW_END "\n";
  return out;
}

}  // namespace decant
