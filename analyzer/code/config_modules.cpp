// Pass 3c of code analysis: modules the program's configuration loads
// (LoadModule, load_module, server.modules, module(load=...)). The files
// the reachable code names and its plugin directories go to the
// configuration reader (CodeOptions::config_modules, analyzer/config/);
// each module it returns joins the closure like a dlopen()ed plugin, with
// its own DT_NEEDED closure, marked found_via: config.
#include <fmt/format.h>

#include "analyzer/code/closure_analysis.h"

namespace decant {

void ClosureAnalysis::add_config_modules(LibraryLoads& loads) {
  if (!o_.config_modules) return;
  std::vector<std::string> paths, dirs;
  const ObjectSummary& s = summaries_[0];
  for (const LiteralRef& l : s.literals) {
    if (l.function != UINT32_MAX && !reachable_.count({0, l.function})) continue;
    if (l.kind == LiteralRef::Path) paths.push_back(l.value);
    else if (l.kind == LiteralRef::Dlopen && (l.hint == "dir" || l.hint == "search-path")) dirs.push_back(l.value);
  }
  std::vector<CodeOptions::ConfigModule> modules = o_.config_modules(paths, dirs);
  size_t first_object = closure_.objects.size(), first_library = p_.libraries.size();
  for (auto& m : modules) {
    std::string lib = find_library(loads, m.path);
    if (!lib.empty()) add_library(loads, lib, m.path, 0, m.evidence);
  }
  for (size_t k = first_object; k < closure_.objects.size(); ++k) closure_.objects[k].found_via = "config";
  for (size_t k = first_library; k < p_.libraries.size(); ++k) {
    Library& lib = p_.libraries[k];
    lib.found_via = "config";
    if (!lib.evidence.empty() && lib.evidence[0].compare(0, 7, "static:") == 0)
      lib.evidence[0] = "config: DT_NEEDED of a module the configuration loads (" + lib.evidence[0] + ")";
  }
}

}  // namespace decant
