// Pass 3 of code analysis: libraries the program loads with dlopen(), from
// names read out of reachable code (sonames, absolute paths, plugin
// directories). Each is resolved in the guest with its own closure and
// appended to the closure and the profile's libraries; nss.cpp adds glibc's
// NSS modules the same way.
#include <algorithm>

#include <fmt/format.h>

#include "analyzer/code/closure_analysis.h"
#include "common/file_util.h"

namespace decant {

LibraryLoads::LibraryLoads(const Closure& closure) {
  for (auto& o : closure.objects) {
    known.insert(o.canonical_path);
    for (auto& n : o.names) known.insert(n);
    if (o.elf && !o.elf->soname.empty()) known.insert(o.elf->soname);
  }
  dirs = closure.loader.ld_so_conf_dirs;
  dirs.insert(dirs.end(), closure.loader.system_dirs.begin(), closure.loader.system_dirs.end());
}

// Canonical path of the library dlopen(name) would open, or empty.
std::string ClosureAnalysis::find_library(const LibraryLoads& loads, const std::string& name) const {
  if (name.empty()) return {};
  if (name[0] == '/') {
    auto c = root_.resolve(name);
    return c && root_.is_regular_file(*c) ? *c : std::string();
  }
  for (auto& d : loads.dirs) {
    auto c = root_.resolve(d + "/" + name);
    if (c && root_.is_regular_file(*c)) return *c;
  }
  return {};
}

// Appends a dlopen()ed library and the part of its closure not loaded yet.
void ClosureAnalysis::add_library(LibraryLoads& loads, const std::string& canonical, const std::string& requested,
                                  size_t loader, const std::string& evidence) {
  if (loads.known.count(canonical)) {
    // Already loaded (a DT_NEEDED library, say): dlopen() returns it and
    // dlsym() may fetch any of its exports.
    for (size_t k = 0; k < closure_.objects.size(); ++k)
      if (closure_.objects[k].canonical_path == canonical) dlopen_targets_.insert(k);
    // Opened through another path (lua/5.1/cjson.so -> ../../liblua5.1-cjson.so.0):
    // that symlink must be in the image too, or dlopen() fails there.
    if (requested[0] == '/' && loads.known.insert(requested).second)
      p_.files.push_back({requested, "read", false, {evidence + "; the same object as " + canonical}});
    return;
  }
  auto elf = loads.elf_cache.get(root_, canonical);
  if (!elf || (*elf)->ident.machine != closure_.objects[0].elf->ident.machine) return;
  Closure sub = resolve_closure(root_, canonical, canonical, *elf, loads.elf_cache);
  for (size_t k = 0; k < sub.objects.size(); ++k) {
    LoadedObject lo = sub.objects[k];
    if (loads.known.count(lo.canonical_path)) continue;
    bool is_plugin = k == 0;
    lo.found_via = "dlopen";
    lo.needed_by = {is_plugin ? closure_.objects[loader].canonical_path : canonical};
    if (is_plugin) lo.names = {requested};
    if (is_plugin && loader == 0) app_plugins_.insert(closure_.objects.size());
    if (is_plugin) dlopen_targets_.insert(closure_.objects.size());
    loads.known.insert(lo.canonical_path);
    Library lib;
    lib.soname = lo.elf->soname.empty() ? path_basename(lo.canonical_path) : lo.elf->soname;
    lib.path = lo.canonical_path;
    lib.opened_as = lo.found_path;
    lib.needed_by = lo.needed_by;
    lib.found_via = "dlopen";
    lib.evidence = {is_plugin ? evidence : fmt::format("static: DT_NEEDED of dlopen()ed {}", canonical)};
    p_.libraries.push_back(std::move(lib));
    closure_.objects.push_back(std::move(lo));
  }
}

// Does reachable code of object o call dlopen() (or contain it, in a static binary)?
bool ClosureAnalysis::calls_dlopen(uint32_t o) const {
  const ObjectSummary& s = summaries_[o];
  bool calls = false;
  for (const Node& n : reachable_)
    if (n.obj == o)
      for (uint32_t i : s.functions[n.fn].imports)
        if (s.imports[i].name == "dlopen" || s.imports[i].name == "dlmopen") calls = true;
  if (o == 0)
    for (const Node& n : reachable_)
      if (n.obj == 0 && s.functions[n.fn].name == "dlopen") calls = true;  // static binaries
  return calls;
}

// The .so files of a plugin directory the program's code names. Only for
// the program itself: a library's own module directory (PAM, SASL, OpenSSL
// engines) depends on its configuration, not on its code
// (docs/code-analysis.md). A module search path ("DIR/?.so") is the
// exception: an embedded interpreter's modules are whatever the program's
// scripts require, and a search path names only module directories.
void ClosureAnalysis::add_plugin_directory(LibraryLoads& loads, uint32_t o, const LiteralRef& l,
                                           const std::string& ev, bool& any) {
  if (o != 0 && !app_plugins_.count(o) && l.hint != "search-path") return;
  auto c = root_.resolve(l.value);
  if (!c || !root_.is_directory(*c)) return;
  auto entries = root_.list_directory(*c);
  if (!entries) return;
  size_t added = 0;
  for (auto& e : *entries)
    if (e.size() > 3 && e.compare(e.size() - 3, 3, ".so") == 0 && added < 128) {
      auto lib = find_library(loads, *c + "/" + e);
      if (!lib.empty()) {
        add_library(loads, lib, *c + "/" + e, o, ev + " (plugin directory)");
        ++added;
        any = true;
      }
    }
}

void ClosureAnalysis::add_dlopen_libraries(LibraryLoads& loads) {
  for (uint32_t o = 0; o < summaries_.size(); ++o) {
    if (!calls_dlopen(o)) continue;
    const ObjectSummary& s = summaries_[o];
    bool any = false;
    for (const LiteralRef& l : s.literals) {
      if (l.kind != LiteralRef::Dlopen) continue;
      if (l.function != UINT32_MAX && !reachable_.count({o, l.function})) continue;
      std::string ev = fmt::format("static: {}: {}", object_name(o), l.evidence.substr(8));
      if (l.hint == "dir" || l.hint == "search-path") {
        add_plugin_directory(loads, o, l, ev, any);
        continue;
      }
      any = true;
      if (loads.known.count(l.value)) {
        for (size_t k = 0; k < closure_.objects.size(); ++k) {
          const LoadedObject& lo = closure_.objects[k];
          bool named = lo.canonical_path == l.value || (lo.elf && lo.elf->soname == l.value) ||
                       std::find(lo.names.begin(), lo.names.end(), l.value) != lo.names.end();
          if (named) dlopen_targets_.insert(k);
        }
        continue;
      }
      std::string lib = find_library(loads, l.value);
      if (lib.empty()) {
        add_hazard("dlopen-unresolved", "warning",
                   "a library the program loads with dlopen() is not in the guest; the code path using it will fail",
                   fmt::format("{} not found in the guest", ev));
        continue;
      }
      add_library(loads, lib, l.value, o, ev);
    }
    if (!any && !is_glibc_object(object_name(o)))
      add_hazard("dlopen-unresolved", "warning",
                 "the program calls dlopen() with a name computed at run time; the libraries it loads are not in the "
                 "profile (add them by hand or run learn mode)",
                 fmt::format("static: {} calls dlopen() and no library name was found in its code", object_name(o)));
  }
}

}  // namespace decant
