// The closure-wide half of code analysis (code_analysis.h), shared by its
// passes: per-object summaries in, profile facts out. Each pass is one file;
// code_analysis.cpp runs them in order. Everything program-specific (import
// binding, reachability, evidence paths) happens here and is cheap; the
// expensive per-object work is cached (code_cache.h).
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "analyzer/code/code_analysis.h"
#include "analyzer/code/object_summary.h"

namespace decant {

// A function (or, for live data, an item) of one object of the closure.
struct Node {
  uint32_t obj, fn;
  bool operator<(const Node& o) const { return obj != o.obj ? obj < o.obj : fn < o.fn; }
};

// glibc's own objects (libc, ld.so, libpthread, NSS modules, ...); reachability.cpp.
bool is_glibc_object(const std::string& soname);

// What the dlopen() and NSS passes share: the objects already known by
// path or name, and where to look for a library by name.
struct LibraryLoads {
  explicit LibraryLoads(const Closure& closure);
  std::set<std::string> known;
  std::vector<std::string> dirs;  // ld.so.conf, then system directories
  ElfCache elf_cache;
};

class ClosureAnalysis {
 public:
  ClosureAnalysis(const GuestRoot& root, Closure& closure, Profile& p, const CodeOptions& o);
  Status run(CodeStats& stats);

 private:
  // summaries.cpp
  void summarize(size_t from);
  // reachability.cpp
  std::string object_name(size_t i) const;
  std::optional<Node> bind(const ImportRef& imp) const;
  std::optional<Node> bind_data(const ImportRef& imp) const;
  void reach();
  std::string node_name(Node n) const;
  std::string path_to(Node n) const;
  // dlopen.cpp
  std::string find_library(const LibraryLoads& loads, const std::string& name) const;
  void add_library(LibraryLoads& loads, const std::string& canonical, const std::string& requested, size_t loader,
                   const std::string& evidence);
  bool calls_dlopen(uint32_t o) const;
  void add_plugin_directory(LibraryLoads& loads, uint32_t o, const LiteralRef& l, const std::string& ev, bool& any);
  void add_dlopen_libraries(LibraryLoads& loads);
  // nss.cpp
  std::string reachable_glibc_function(const std::set<std::string>& names) const;
  void add_nss_modules(LibraryLoads& loads);
  void add_nss_databases(const std::map<std::string, std::vector<std::string>>& nsswitch);
  void add_glibc_unwinder(LibraryLoads& loads);
  void add_glibc_converters();
  // pam.cpp
  void add_pam_modules(LibraryLoads& loads);
  bool helper_program(const LiteralRef& l) const;
  // syscall_allowlist.cpp
  void add_syscall(int nr, const std::string& evidence);
  void fill_syscalls();
  // literal_facts.cpp
  void fill_literals();
  // config_modules.cpp
  void add_config_modules(LibraryLoads& loads);
  // code_hazards.cpp
  void add_hazard(const std::string& id, const std::string& severity, const std::string& message,
                  const std::string& evidence);
  void fill_hazards();

  const GuestRoot& root_;
  Closure& closure_;
  Profile& p_;
  const CodeOptions& o_;
  std::string cache_root_;
  std::vector<ObjectSummary> summaries_;
  std::map<std::string, std::vector<std::pair<uint32_t, uint32_t>>> exports_;
  std::map<std::string, std::vector<std::pair<uint32_t, uint32_t>>> data_exports_;
  std::set<Node> reachable_;
  std::set<Node> live_items_;  // (object, index into items)
  std::set<size_t> app_plugins_;  // objects the program itself dlopen()s
  std::set<size_t> dlopen_targets_;  // objects some dlopen() call names (their exports are roots)
  std::map<Node, std::pair<Node, std::string>> parent_;
  std::map<std::string, Evidence> evidence_;
  std::vector<std::string> unresolved_;
  std::set<std::string> network_apis_;  // socket functions reachable in the program's own code
  size_t cache_hits_ = 0;
  uint64_t disassembled_ = 0, code_bytes_ = 0;
};

}  // namespace decant
