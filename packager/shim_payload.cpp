// Adds the shim and its plan to a file set (see shim_payload.h). The plan
// and BPF come from the plan compiler (policy/); what the shim needs from the
// guest comes from the analyzer (analyzer/shim_needs.h); this file only
// places their bytes in the image.
#include "packager/shim_payload.h"

#include <climits>
#include <set>
#include <unistd.h>

#include <fmt/format.h>

#include "common/file_util.h"
#include "packager/oci_config.h"
#include "policy/plan.h"

namespace decant {

static Status add_shim_files(const GuestRoot& root, const Profile& p, const ShimNeeds* shim, FileSet& set,
                             std::vector<std::string>& warnings) {
  // The shim runs on the guest's glibc, not the one it was built on.
  const std::string& guest_glibc = p.source.libc.version;
  if (!shim->glibc_floor.empty() && !guest_glibc.empty() && p.source.libc.name == "glibc" &&
      compare_versions(shim->glibc_floor, guest_glibc) > 0)
    return bad_input(fmt::format("{} needs GLIBC_{} but the guest's glibc is {}: ld.so would refuse to start the "
                                 "application; rebuild the shim or package with --no-shim",
                                 shim->host_path, shim->glibc_floor, guest_glibc));

  Status s = set.add_host_file("/.decant/libdecant-shim.so", shim->host_path, 0755);
  if (!s) return s;

  // Libraries the shim needs that the application does not load (libdl on
  // an old glibc) come from the guest, like the rest of the closure.
  std::set<std::string> have;
  for (const auto& lib : p.libraries) {
    have.insert(lib.soname);
    have.insert(lib.path);
  }
  GuestUser root_user;
  for (const auto& path : shim->libraries) {
    if (have.count(path) || have.count(path_basename(path))) continue;
    s = add_guest_path(root, path, false, set, PackageMode::Minimal, root_user);
    if (!s) return s;
  }
  for (const auto& soname : shim->missing)
    warnings.push_back(fmt::format("the shim needs {}, which is not in the guest", soname));
  return Status{};
}

Result<ShimPayload> add_shim_payload(const GuestRoot& root, const Profile& p, const ShimNeeds* shim,
                                     FileSet& set, std::vector<std::string>& warnings) {
  ShimPayload out;
  bool dynamic = p.binary.linkage == "dynamic";
  if (shim && dynamic) {
    Status s = add_shim_files(root, p, shim, set, warnings);
    if (!s) return s.error();
    out.preload = true;
  }
  // Without the shim the plan still serves the init's seccomp proxy, which
  // reaches static and raw-syscall programs (docs/proxy.md); init_runs_proxy
  // is the rule the plan's proxy line follows.
  if (!out.preload && !init_runs_proxy(p)) {
    if (shim && !dynamic)
      set.notes.push_back(fmt::format("{} is {}: LD_PRELOAD cannot reach it, so no shim; the runtime's seccomp "
                                      "filter still confines it",
                                      p.binary.path, p.binary.linkage));
    return out;
  }
  auto plan = compile_plan(p);
  if (!plan) {
    if (out.preload || p.enforcement.proxy == "on") return plan.error();
    warnings.push_back("plan: " + plan.error().message + ": no seccomp proxy");
    return out;
  }
  if (!out.preload && !dynamic)
    set.notes.push_back(fmt::format("{} is {}: LD_PRELOAD cannot reach it, so the plan goes to the init's seccomp "
                                    "proxy instead of a shim (docs/proxy.md)",
                                    p.binary.path, p.binary.linkage.empty() ? "not dynamic" : p.binary.linkage));
  else if (!out.preload)
    set.notes.push_back(fmt::format("{}: no shim; the plan goes to the init's seccomp proxy (docs/proxy.md)",
                                    p.binary.path));
  for (const auto& w : plan->warnings) warnings.push_back("plan: " + w);
  set.add_inline("/.decant/plan", plan->text);
  out.plan = true;
  out.bpf = std::move(plan->bpf);
  return out;
}

}  // namespace decant
