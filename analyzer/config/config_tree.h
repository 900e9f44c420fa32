// Configuration trees: starting from a service's configuration files (its
// package's conffiles, its command line, the files its code names), reads
// every file they include the way the daemon would, with one reader for
// the generic include syntaxes (`include`, `Include`, `IncludeOptional`,
// `!include`, `!includedir`, `.include`, `$IncludeConfig`,
// `include(file="...")`, `include_shell "cat FILE"`, globs, directories and
// the `*-enabled` directories a config names), bounded in depth and size,
// every path resolved inside the guest (symlinks never leave it). The
// rules are in docs/config.md.
#pragma once

#include <string>
#include <vector>

#include "guest/guest_root.h"

namespace decant {

struct ConfigSeed {
  std::string path;      // guest path: a file, a directory or a glob
  std::string evidence;  // "dpkg: apache2.conffiles", "config: command line: -f FILE"
};

struct ConfigFile {
  std::string path;       // as named by the seed or include (may be a symlink)
  std::string canonical;  // every symlink resolved inside the guest
  std::string evidence;   // the seed's, or "config: FILE:LINE: DIRECTIVE" of the include
  int depth = 0;          // 0 for a seed
  std::string text;       // contents, at most ConfigLimits::max_bytes
};

// A guest's configuration is outside data: every bound below ends a tree
// a hostile or broken guest makes endless or huge, with a note.
struct ConfigLimits {
  int max_depth = 8;
  size_t max_files = 512;
  uint64_t max_bytes = 1 << 20;         // one file
  uint64_t max_total_bytes = 16 << 20;  // all files together: 512 files of 1 MiB would be 512 MiB held
  size_t max_dirs = 1024;               // directories listed (`include /` walks the whole guest)
  size_t max_patterns = 256;            // distinct include patterns: each is a glob over the guest
  size_t max_glob_wildcards = 3;        // wildcard components of one pattern (symlink loops multiply them)
  size_t max_glob_matches = 65536;      // matches of all globs together
};

struct ConfigTree {
  std::vector<ConfigFile> files;    // seeds and includes, in reading order, each once
  std::vector<std::string> notes;   // limits hit, includes that name nothing
};

// The include targets one configuration line names: patterns as written
// (relative ones are resolved by the reader), [] when the line is no
// include. The line's comment is already removed.
std::vector<std::string> include_targets(const std::string& line);

// The program an `include_shell "COMMAND"` line runs (its first word, as
// written), "" for any other line and for a plain `cat` of files (an
// include). The daemon runs COMMAND through /bin/sh -c.
std::string include_shell_program(const std::string& line);

ConfigTree read_config_tree(const GuestRoot& root, const std::vector<ConfigSeed>& seeds,
                            const ConfigLimits& limits = {});

// A configuration line without its comment: '#' or ';' at the start, or
// '#' after a blank (so "a#b" and quoted "#" stay), trimmed.
std::string strip_config_comment(const std::string& line);

}  // namespace decant
