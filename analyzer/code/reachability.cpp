// Pass 2 of code analysis: imports bound to exports the way ld.so binds
// them, and the functions reachable from the program's entry points through
// calls, imports and live data (docs/code-analysis.md), with the parent of
// each for evidence paths.
#include <deque>

#include <fmt/format.h>

#include "analyzer/code/closure_analysis.h"
#include "common/file_util.h"

namespace decant {

bool is_glibc_object(const std::string& soname) {
  static const char* names[] = {"libc.so.6", "libpthread.so.0", "ld-linux-x86-64.so.2", "librt.so.1",
                                "libdl.so.2", "libm.so.6", "libresolv.so.2", "libnsl.so.1",
                                "libanl.so.1", "libutil.so.1", "libBrokenLocale.so.1", "libmvec.so.1"};
  for (auto n : names)
    if (soname == n) return true;
  return soname.compare(0, 7, "libnss_") == 0;
}

std::string ClosureAnalysis::object_name(size_t i) const {
  const LoadedObject& o = closure_.objects[i];
  if (i == 0) return path_basename(p_.binary.path);
  if (o.elf && !o.elf->soname.empty()) return o.elf->soname;
  return path_basename(o.canonical_path);
}

// Binds an import of object `from` the way ld.so does: the first object
// in load order defining the name with a compatible version.
std::optional<Node> ClosureAnalysis::bind(const ImportRef& imp) const {
  auto it = exports_.find(imp.name);
  if (it == exports_.end()) return std::nullopt;
  const ExportRef* fallback = nullptr;
  Node fallback_node{};
  for (auto& [obj, idx] : it->second) {
    const ExportRef& e = summaries_[obj].exports[idx];
    bool match = imp.version.empty() ? e.default_version : (e.version == imp.version || e.version.empty());
    if (match) return Node{obj, e.function};
    if (!fallback) {
      fallback = &e;
      fallback_node = Node{obj, e.function};
    }
  }
  if (fallback) return fallback_node;
  return std::nullopt;
}

// The data item an import names, when it is a variable holding pointers.
std::optional<Node> ClosureAnalysis::bind_data(const ImportRef& imp) const {
  auto it = data_exports_.find(imp.name);
  if (it == data_exports_.end()) return std::nullopt;
  std::optional<Node> fallback;
  for (auto& [obj, idx] : it->second) {
    const ExportRef& e = summaries_[obj].data_exports[idx];
    bool match = imp.version.empty() ? e.default_version : (e.version == imp.version || e.version.empty());
    if (match) return Node{obj, e.function};
    if (!fallback) fallback = Node{obj, e.function};
  }
  return fallback;
}

// Functions reachable from the entry points (docs/code-analysis.md):
// calls, imports and live data items, to a fixpoint. A data item is live
// once reachable code refers to it, a live item points to it, or nothing
// visible refers to it (root_items); its code pointers are then reachable,
// with the referring function as their parent in evidence paths.
void ClosureAnalysis::reach() {
  exports_.clear();
  data_exports_.clear();
  for (uint32_t o = 0; o < summaries_.size(); ++o) {
    for (uint32_t k = 0; k < summaries_[o].exports.size(); ++k)
      exports_[summaries_[o].exports[k].name].push_back({o, k});
    for (uint32_t k = 0; k < summaries_[o].data_exports.size(); ++k)
      data_exports_[summaries_[o].data_exports[k].name].push_back({o, k});
  }
  reachable_.clear();
  live_items_.clear();
  parent_.clear();
  std::deque<Node> queue;
  const Node none{UINT32_MAX, UINT32_MAX};
  auto visit = [&](Node n, Node from, std::string how) {
    if (!reachable_.insert(n).second) return;
    parent_[n] = {from, std::move(how)};
    queue.push_back(n);
  };
  // Items are walked on their own stack; `from` is the function (or none)
  // that made the first of a chain of items live.
  std::vector<std::tuple<Node, Node, std::string>> items;
  auto visit_item = [&](Node item, Node from, std::string how) {
    if (live_items_.insert(item).second) items.push_back({item, from, std::move(how)});
  };
  auto drain_items = [&] {
    while (!items.empty()) {
      auto [item, from, how] = items.back();
      items.pop_back();
      const ObjectSummary& s = summaries_[item.obj];
      const DataItem& d = s.items[item.fn];
      std::string via = from.obj == UINT32_MAX ? how : fmt::format("via data at {:#x}", d.addr);
      for (uint32_t f : d.functions) visit({item.obj, f}, from, via);
      for (uint32_t t : d.items) visit_item({item.obj, t}, from, how);
      for (uint32_t i : d.imports) {
        if (auto t = bind(s.imports[i])) visit(*t, from, via);
        if (auto t = bind_data(s.imports[i])) visit_item(*t, from, how);
      }
    }
  };
  for (uint32_t o = 0; o < summaries_.size(); ++o) {
    const ObjectSummary& s = summaries_[o];
    const LoadedObject& lo = closure_.objects[o];
    bool runs_entry = o == 0 || lo.found_via == "interpreter";
    if (runs_entry && s.entry_function >= 0)
      visit({o, static_cast<uint32_t>(s.entry_function)}, none, "entry point");
    for (uint32_t r : s.roots) visit({o, r}, none, "init/fini, IRELATIVE resolver or address stored in data");
    for (uint32_t r : s.root_items)
      visit_item({o, r}, none, fmt::format("address stored in data at {:#x} that no visible code reads", s.items[r].addr));
    // Only what dlopen() itself returns is open to dlsym(): the DT_NEEDED
    // libraries a plugin pulls in are ordinary libraries.
    if (dlopen_targets_.count(o)) {
      for (auto& e : s.exports) visit({o, e.function}, none, "export of a dlopen()ed library");
      for (auto& e : s.data_exports) visit_item({o, e.function}, none, "data export of a dlopen()ed library");
    }
    for (uint32_t ri : s.root_imports) {
      std::string how = fmt::format("address of {} stored in data of {}", s.imports[ri].name, object_name(o));
      if (auto t = bind(s.imports[ri])) visit(*t, none, how);
      if (auto t = bind_data(s.imports[ri])) visit_item(*t, none, how);
    }
  }
  drain_items();
  while (!queue.empty()) {
    Node n = queue.front();
    queue.pop_front();
    const ObjectSummary& s = summaries_[n.obj];
    const FunctionSummary& f = s.functions[n.fn];
    for (uint32_t c : f.calls) visit({n.obj, c}, n, "");
    for (uint32_t i : f.imports) {
      if (auto t = bind(s.imports[i])) visit(*t, n, "import");
      if (auto t = bind_data(s.imports[i])) visit_item(*t, n, "");
    }
    for (uint32_t d : f.data) visit_item({n.obj, d}, n, "");
    drain_items();
  }
}

std::string ClosureAnalysis::node_name(Node n) const {
  return fmt::format("{}:{}", object_name(n.obj), summaries_[n.obj].function_name(n.fn));
}

// "libc.so.6:__socket <- redis-server:anetTcpServer <- … <- redis-server:_start (entry point)".
std::string ClosureAnalysis::path_to(Node n) const {
  std::vector<std::string> hops;
  std::string root_how;
  Node cur = n;
  for (int guard = 0; guard < 10000; ++guard) {
    hops.push_back(node_name(cur));
    auto it = parent_.find(cur);
    if (it == parent_.end()) break;
    if (it->second.first.obj == UINT32_MAX) {
      root_how = it->second.second;
      break;
    }
    if (!it->second.second.empty() && it->second.second != "import") hops.back() += " (" + it->second.second + ")";
    cur = it->second.first;
  }
  if (hops.size() > 6) {
    hops.erase(hops.begin() + 3, hops.end() - 2);
    hops.insert(hops.begin() + 3, "…");
  }
  std::string s;
  for (size_t i = 0; i < hops.size(); ++i) s += (i ? " <- " : "") + hops[i];
  if (!root_how.empty()) s += " (" + root_how + ")";
  return s;
}

}  // namespace decant
