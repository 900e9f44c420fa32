// Facts from a configuration tree, generically rather than per daemon:
// every absolute path token of an active line that the guest has (or that
// names a place a daemon writes) is classified — a shared object is a
// module to load (closure, `found_via: config`), a directory or file the
// daemon reads is packaged, a log/pid/state/socket path is writable — and
// bare module names of a module directive (`server.modules = ("mod_x")`,
// `module(load="imuxsock")`, `$ModLoad x`) are found in the program's
// module directories. The rules are in docs/config.md.
#pragma once

#include <string>
#include <vector>

#include "analyzer/code/code_analysis.h"
#include "analyzer/config/config_tree.h"
#include "guest/etc_services.h"
#include "guest/guest_root.h"
#include "profiles/profile.h"

namespace decant {

struct ConfigPathFact {
  std::string path;
  std::string access;    // read | write | exec (a command the configuration runs)
  std::string evidence;  // "config: FILE:LINE: TEXT"
  bool exists = true;
};

struct ConfigModuleRef {
  std::string path;      // guest path of the .so
  std::string evidence;
};

struct ConfigFacts {
  std::vector<ConfigPathFact> paths;
  std::vector<ConfigModuleRef> modules;
};

// plugin_dirs: directories the program's code loads modules from (its
// dlopen() directory literals); bare module names are looked up there and
// in the directories of the modules the configuration names by path.
ConfigFacts extract_config_facts(const GuestRoot& root, const ConfigTree& tree,
                                 const std::vector<std::string>& plugin_dirs);

// Records the tree's files (read, with their `config:`/`dpkg:` evidence)
// and the path facts in p.files; listen ports via add_config_ports when
// listens (the program's code may listen, or was not analyzed).
// services: the guest's /etc/services, for ports a configuration names;
// compiled: the program's compiled-in configurations (code analysis).
void add_config_facts(const ConfigTree& tree, const ConfigFacts& facts, bool listens, Profile& p,
                      const EtcServices& services = EtcServices{},
                      const CompiledDefaults& compiled = {});

}  // namespace decant
