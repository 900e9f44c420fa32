// Code analysis of a whole closure: the `code` step of `decant analyze`.
// Summarizes every object (or takes its summary from the cache), links
// imports to exports the way ld.so binds them, walks the call graph from the
// program's entry points and fills the profile's syscall allowlist, network,
// file and dlopen facts and the code hazards (vsyscall, raw-syscall,
// dlopen-unresolved). The rules are in docs/code-analysis.md.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "guest/guest_root.h"
#include "analyzer/library_resolver.h"
#include "profiles/profile.h"

namespace decant {

// A configuration the program carries as text (LiteralRef::ConfigText) in
// reachable code: its defaults, read under the files of its tree.
struct CompiledConfig {
  std::string text;
  std::string evidence;  // "static: compiled-in configuration ... at 0x..."
};

// A constant that reaches sin_port at run time (LiteralRef::DefaultPort):
// the program's default listen port when its files name none.
struct CodeDefaultPort {
  uint16_t port = 0;
  std::string evidence;  // "static: 21 in the global at 0x..., ..."
};

// What the program's own code says its defaults are, for the configuration
// reader: used only where the files of its tree are silent.
struct CompiledDefaults {
  std::vector<CompiledConfig> configs;
  std::vector<CodeDefaultPort> ports;
};

struct CodeOptions {
  bool enabled = true;
  bool use_cache = true;
  std::string cache_root;  // empty: $DECANT_CACHE, else ~/.cache/decant
  unsigned threads = 0;    // 0: one per core
  // Modules the program's configuration loads (analyzer/config/): called
  // once reachable code is known, with the files it names and the plugin
  // directories it loads from; each module returned joins the closure with
  // its own DT_NEEDED closure (found_via: config) before the facts are read.
  struct ConfigModule {
    std::string path;
    std::string evidence;
  };
  std::function<std::vector<ConfigModule>(const std::vector<std::string>& code_paths,
                                          const std::vector<std::string>& plugin_dirs)>
      config_modules;
  // When set, receives the program's compiled-in configurations and
  // default ports.
  CompiledDefaults* compiled_defaults = nullptr;
};

struct CodeStats {
  double seconds = 0;
  uint64_t instructions = 0;   // disassembled in this run (cache misses only)
  uint64_t code_bytes = 0;
  size_t objects = 0;
  size_t cache_hits = 0;
  size_t reachable_functions = 0;
  size_t total_functions = 0;
};

// Requires: closure.objects[0] is the binary p.binary describes. Libraries
// found through dlopen() are appended to closure.objects and p.libraries.
// Objects that cannot be analyzed (another architecture, malformed code)
// are reported in hazards, never abort the analysis.
Status analyze_code(const GuestRoot& root, Closure& closure, Profile& p, const CodeOptions& options,
                    CodeStats* stats = nullptr);

// The x86-64 name of a syscall number (libseccomp's table); empty if unknown.
std::string syscall_name_x86_64(int number);
int syscall_number_x86_64(const std::string& name);

}  // namespace decant
