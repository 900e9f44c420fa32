// Compiles a profile into the shim's plan (see plan.h and docs/shim.md).
// Everything that can be checked is checked here, at plan time, with a
// message naming the profile field: the shim, running inside someone else's
// process, can only report a bad plan and do nothing.
#include "policy/plan.h"

#include <arpa/inet.h>

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "common/file_util.h"
#include "policy/seccomp.h"
#include "shim/plan_contract.h"

namespace decant {
namespace {

bool is_ip_literal(const std::string& s, int* family = nullptr) {
  unsigned char buf[16];
  if (inet_pton(AF_INET, s.c_str(), buf) == 1) {
    if (family) *family = AF_INET;
    return true;
  }
  if (inet_pton(AF_INET6, s.c_str(), buf) == 1) {
    if (family) *family = AF_INET6;
    return true;
  }
  return false;
}

std::string hex(const std::string& bytes) { return to_hex(bytes.data(), bytes.size()); }

}  // namespace

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
  CompiledPlan out;
  std::string& t = out.text;
  t += fmt::format("# decant plan for {} ({}); see docs/shim.md\n",
                   plan_escape(p.metadata.name.empty() ? p.binary.path : p.metadata.name), p.metadata.generator);
  t += DECANT_PLAN_MAGIC "\n";

  // Paths: normalized, trailing slashes dropped, one target per source.
  std::map<std::string, std::string> paths;
  for (const auto& r : p.redirects.paths) {
    if (r.from.empty() || r.from[0] != '/' || r.to.empty() || r.to[0] != '/')
      return bad_input(fmt::format("redirects.paths: '{}' -> '{}' must both be absolute", r.from, r.to));
    std::string from = normalize_absolute(r.from), to = normalize_absolute(r.to);
    if (from.find('\0') != std::string::npos || to.find('\0') != std::string::npos)
      return bad_input("redirects.paths: a path contains a NUL byte");
    auto [it, inserted] = paths.emplace(from, to);
    if (!inserted && it->second != to)
      return bad_input(fmt::format("redirects.paths: '{}' redirected twice ('{}' and '{}')", from, it->second, to));
    if (from == to) out.warnings.push_back(fmt::format("redirects.paths: '{}' redirects to itself", from));
  }
  std::vector<std::pair<std::string, std::string>> sorted(paths.begin(), paths.end());
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
  for (const auto& [from, to] : sorted)
    t += fmt::format(DECANT_PLAN_KW_PATH " {} {}\n", plan_escape(from), plan_escape(to));

  // Ports.
  std::map<std::pair<std::string, uint16_t>, uint16_t> ports;
  for (const auto& r : p.redirects.ports) {
    if (r.proto != "tcp" && r.proto != "udp")
      return bad_input(fmt::format("redirects.ports: proto '{}' is not tcp or udp", r.proto));
    if (r.from == 0 || r.to == 0)
      return bad_input(fmt::format("redirects.ports: {} -> {}: ports must be 1-65535", r.from, r.to));
    if (!r.address.empty() && !is_ip_literal(r.address))
      return bad_input(fmt::format("redirects.ports: address '{}' of port {} is not an IP literal", r.address, r.from));
    auto [it, inserted] = ports.emplace(std::make_pair(r.proto, r.from), r.to);
    if (!inserted) return bad_input(fmt::format("redirects.ports: {}/{} redirected twice", r.from, r.proto));
    t += fmt::format(DECANT_PLAN_KW_PORT " {} {} {}{}\n", r.proto, r.from, r.to,
                     r.address.empty() ? "" : " " + r.address);
  }

  // Hosts: names, or IP literals that connect() rewrites.
  for (const auto& r : p.redirects.hosts) {
    if (r.from.empty() || r.to.empty()) return bad_input("redirects.hosts: from and to must not be empty");
    int ff = 0, tf = 0;
    if (is_ip_literal(r.from, &ff) && (!is_ip_literal(r.to, &tf) || tf != ff))
      return bad_input(fmt::format(
          "redirects.hosts: '{}' is an IP literal, so its target must be an IP literal of the same family, not '{}'",
          r.from, r.to));
    t += fmt::format(DECANT_PLAN_KW_HOST " {} {}\n", plan_escape(r.from), plan_escape(r.to));
  }

  // Identity: struct utsname fields hold 64 bytes plus the NUL.
  const Identity& id = p.redirects.identity;
  for (const auto& [key, field, value] :
       std::vector<std::tuple<std::string, std::string, std::string>>{{"release", "uname_release", id.uname_release},
                                                                      {"version", "uname_version", id.uname_version},
                                                                      {"machine", "uname_machine", id.uname_machine},
                                                                      {"nodename", "hostname", id.hostname}}) {
    if (value.empty()) continue;
    if (value.size() > 64)
      return bad_input(fmt::format("redirects.identity.{}: longer than the 64 bytes uname() can report", field));
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
  }
  t += DECANT_PLAN_KW_END "\n";
  return out;
}

}  // namespace decant
