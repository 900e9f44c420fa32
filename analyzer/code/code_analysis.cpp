// The driver of code analysis (code_analysis.h): the passes over the closure,
// in order, one file each. The closure-wide state they share is in
// closure_analysis.h; the per-object summaries they start from are built by
// summarize.h and cached by code_cache.h.
#include "analyzer/code/code_analysis.h"

#include <chrono>
#include <cstdlib>

#include <fmt/format.h>

#include "analyzer/code/closure_analysis.h"
#include "analyzer/code/code_cache.h"

namespace decant {

ClosureAnalysis::ClosureAnalysis(const GuestRoot& root, Closure& closure, Profile& p, const CodeOptions& o)
    : root_(root), closure_(closure), p_(p), o_(o) {
  cache_root_ = o.cache_root.empty() ? default_cache_root() : o.cache_root;
}

Status ClosureAnalysis::run(CodeStats& stats) {
  auto t0 = std::chrono::steady_clock::now();
  summarize(0);                  // one summary per object, cached or built (summaries.cpp)
  reach();                       // bind imports, walk from the entry points (reachability.cpp)
  size_t before = closure_.objects.size();
  LibraryLoads loads(closure_);
  add_dlopen_libraries(loads);   // libraries named in dlopen() calls (dlopen.cpp)
  add_nss_modules(loads);        // NSS modules of reachable lookups (nss.cpp)
  add_glibc_unwinder(loads);     // libgcc_s.so.1 for pthread_exit/cancel, backtrace (nss.cpp)
  add_pam_modules(loads);        // the modules of the service's /etc/pam.d file (pam.cpp)
  add_config_modules(loads);     // modules the configuration loads (config_modules.cpp)
  if (closure_.objects.size() > before) {
    summarize(before);           // the libraries just added, then reachability again
    reach();
  }
  add_glibc_converters();        // the gconv directory when iconv_open is reachable (nss.cpp)
  fill_syscalls();               // the syscall allowlist (syscall_allowlist.cpp)
  fill_literals();               // files, ports, hosts from literals (literal_facts.cpp)
  fill_hazards();                // vsyscall, raw-syscall, code-not-analyzed (code_hazards.cpp)
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  stats.objects = summaries_.size();
  stats.cache_hits = cache_hits_;
  stats.instructions = disassembled_;
  stats.code_bytes = code_bytes_;
  stats.reachable_functions = reachable_.size();
  for (auto& s : summaries_) stats.total_functions += s.functions.size();
  return Status::success();
}

Status analyze_code(const GuestRoot& root, Closure& closure, Profile& p, const CodeOptions& options,
                    CodeStats* stats) {
  if (!options.enabled || closure.objects.empty()) return Status::success();
  CodeStats local;
  CodeStats& st = stats ? *stats : local;
  ClosureAnalysis a(root, closure, p, options);
  Status result = a.run(st);
  // For bench/code_bench.sh: one line of measurements on stderr.
  if (const char* e = std::getenv("DECANT_CODE_STATS"); e && *e == '1')
    fmt::print(stderr, "code analysis: seconds={:.3f} objects={} cache_hits={} instructions={} code_bytes={} functions={} reachable={}\n",
               st.seconds, st.objects, st.cache_hits, st.instructions, st.code_bytes, st.total_functions,
               st.reachable_functions);
  return result;
}

}  // namespace decant
