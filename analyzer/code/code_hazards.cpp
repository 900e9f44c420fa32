// Last pass of code analysis: hazards found in machine code (objects that
// could not be analyzed, the vsyscall page, raw syscalls outside glibc).
// Each id is documented in docs/hazards.md.
#include <fmt/format.h>

#include "analyzer/code/closure_analysis.h"

namespace decant {

void ClosureAnalysis::add_hazard(const std::string& id, const std::string& severity, const std::string& message,
                const std::string& evidence) {
  for (auto& h : p_.hazards)
    if (h.id == id) {
      if (h.evidence.size() < 10) h.evidence.push_back(evidence);
      return;
    }
  p_.hazards.push_back({id, severity, message, {evidence}});
}

void ClosureAnalysis::fill_hazards() {
  for (uint32_t o = 0; o < summaries_.size(); ++o) {
    const ObjectSummary& s = summaries_[o];
    if (!s.error.empty())
      add_hazard("code-not-analyzed", "warning",
                 "machine code of an object could not be analyzed; its syscalls are missing from the allowlist",
                 fmt::format("static: {}: {}", object_name(o), s.error));
    bool glibc = o != 0 && is_glibc_object(object_name(o));
    bool app_static = o == 0 && p_.binary.linkage != "dynamic";
    for (uint32_t f = 0; f < s.functions.size(); ++f) {
      const FunctionSummary& fn = s.functions[f];
      for (uint64_t a : fn.vsyscall)
        add_hazard("vsyscall", "error",
                   "calls the legacy vsyscall page; kernels booted with vsyscall=none (the default on many "
                   "distributions) kill the process",
                   fmt::format("static: {}+{:#x} in {} branches to or loads the vsyscall page", object_name(o), a,
                               s.function_name(f)));
      if (glibc || app_static || !reachable_.count({o, f})) continue;
      for (uint64_t a : fn.raw_sites) {
        std::string nr;
        for (auto& u : fn.syscalls)
          if (u.site == a) nr = syscall_name_x86_64(u.number);
        add_hazard("raw-syscall", "warning",
                   "the application makes system calls without libc; the LD_PRELOAD shim cannot redirect them "
                   "(the seccomp filter still covers them)",
                   fmt::format("static: syscall instruction at {}+{:#x} in {}{}", object_name(o), a,
                               s.function_name(f), nr.empty() ? "" : " (" + nr + ")"));
      }
    }
  }
}

}  // namespace decant
