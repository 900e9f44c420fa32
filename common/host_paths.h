// Where things are on the host decant runs on: absolute paths, programs on
// $PATH, decant's cache directory and the LD_PRELOAD shim. One definition
// each, so that `decant learn`, `decant package` and `decant run` agree.
#pragma once

#include <string>

namespace decant {

// p made absolute against the current directory and normalized lexically
// (normalize_absolute); p itself when the current directory is unknown.
std::string absolute_path(const std::string& p);

// path as seen from directory dir, both made absolute first (lexically;
// "." for dir itself), or the absolute path when there is no relative form.
std::string relative_path(const std::string& path, const std::string& dir);

// The file execvp(3) would run for command, or "" when there is none: a
// command with a '/' is taken as it is, otherwise each directory of
// search_path (':'-separated, an empty entry meaning ".") is tried in turn.
// Only regular files this process may execute count.
std::string find_executable(const std::string& command, const std::string& search_path);
// The same with $PATH, or execvp's default path (confstr _CS_PATH) when
// PATH is unset.
std::string find_executable(const std::string& command);

// decant's cache directory: $DECANT_CACHE, else $XDG_CACHE_HOME/decant (an
// absolute XDG_CACHE_HOME only, as the XDG spec says), else
// $HOME/.cache/decant, else /tmp/decant-cache. Not created here.
std::string cache_dir();

// The directory holding the running executable, or "" when /proc is missing.
std::string executable_dir();

// The shim to preload: $DECANT_SHIM when set, else the first readable
// libdecant-shim.so beside the decant executable (the build tree), in
// ../lib/decant/ (an install) or in shim/ (older build trees). When none is
// readable, the path beside the executable, so a message can name where it
// was looked for; the caller checks it. Always absolute unless /proc is
// missing, then "libdecant-shim.so".
std::string locate_shim();

// decant-proxy (docs/proxy.md), looked for the same way (DECANT_PROXY overrides).
std::string locate_proxy();

}  // namespace decant
