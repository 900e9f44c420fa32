// What the guest's dynamic loader searches, learned from the guest itself:
// its trusted system directories (read out of the guest's ld.so binary, the
// way glibc compiled them in), the value of $LIB and $PLATFORM, and the
// directories listed by /etc/ld.so.conf with its include globs.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "guest/guest_root.h"

namespace decant {

struct LoaderConfig {
  std::vector<std::string> system_dirs;    // e.g. /lib/x86_64-linux-gnu, /usr/lib/x86_64-linux-gnu, /lib, /usr/lib
  std::vector<std::string> ld_so_conf_dirs;
  std::vector<std::string> ld_so_conf_files;  // files read, for evidence
  std::vector<std::string> limits;  // evidence of ld.so.conf content ignored past a bound (issue 14)
  std::string lib_dst;   // expansion of $LIB
  std::string platform;  // expansion of $PLATFORM
  std::string system_dirs_source;  // "interpreter <path>" or "default for <arch>"
};

// interpreter_guest_path may be empty (static binaries); the defaults for
// machine are used then.
LoaderConfig load_loader_config(const GuestRoot& root, const std::string& interpreter_guest_path, bool is64,
                                uint16_t machine);

// Parses ld.so.conf text (exposed for tests). Appends directories to `dirs`
// and calls `include` for each include pattern, already made absolute.
void parse_ld_so_conf(const std::string& text, const std::string& conf_dir, std::vector<std::string>& dirs,
                      std::vector<std::string>& include_patterns);

// Finds the run of NUL-separated absolute directory strings ending in '/'
// that glibc's ld.so embeds as its system search path.
std::vector<std::string> scan_system_dirs(const std::string& ld_so_bytes);

// Parses /etc/nsswitch.conf text into database -> its services in order
// ("hosts" -> {files, dns}); action brackets such as [NOTFOUND=return] are
// left out. Lives beside ld.so.conf's parser: both read glibc's own files.
std::map<std::string, std::vector<std::string>> parse_nsswitch_conf(const std::string& text);

}  // namespace decant
