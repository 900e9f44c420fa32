// The part of POSIX sh that SysV init scripts and the /etc/default files
// they source use to say how a daemon starts: variable assignments (quoted,
// concatenated, `${VAR:-default}`), `export`, `.`/`source` of another file,
// and commands whose words are expanded from those variables. Not a shell:
// nothing runs, command substitutions stay unknown, and every value keeps
// the file and line it came from, because a consultant asks "why".
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/error.h"

namespace decant {

struct ShellValue {
  std::string value;
  std::string origin;  // "guest/path:line"
  bool known = true;   // false when a $(...) or `...` was involved
};

struct ShellCommand {
  std::vector<std::string> words;  // expanded with the variables set when it was read
  std::vector<std::string> raw;    // unexpanded, to expand again once the whole file is read
  std::string origin;
};

struct ShellScript {
  std::map<std::string, ShellValue> vars;
  std::vector<ShellCommand> commands;   // simple commands, top level and in functions, in order
  std::vector<std::string> sourced;     // files read through `.`/source, in order
  std::vector<std::string> active;      // the chain of files being read now (a cycle is not re-entered)
  // Bytes that variable expansions may still produce in this evaluation; a
  // hostile script that exhausts it gets empty, unknown values from then on.
  size_t expansion_budget = 4 << 20;
  size_t sourced_bytes = 0;  // text read through `.`/source so far
};

// A hostile guest can make a file source itself or fan out: at most this
// many `.`/source reads per evaluation, none re-entering a file being read.
inline constexpr size_t kMaxSourcedFiles = 64;
// ...and at most this much sourced text in all (/lib/lsb/init-functions,
// the largest file init scripts source, is about 12 KB, and its hooks in
// /lib/lsb/init-functions.d a few KB more).
inline constexpr size_t kMaxSourcedBytes = 256 << 10;

// Reads a sourced file: returns its text, or an error when it is absent
// (a `[ -r F ] && . F` guard makes absence normal).
using ShellReader = std::function<Result<std::string>(const std::string& guest_path)>;

// Evaluates script text into vars/commands. Sourced files are read through
// read (at most 8 levels deep, kMaxSourcedFiles in all). display names the
// file in origins.
void evaluate_shell(const std::string& text, const std::string& display, const ShellReader& read, ShellScript& out,
                    int depth = 0);

// Expands $VAR, ${VAR}, ${VAR:-x}, ${VAR-x}, ${VAR:=x} and quotes in one
// shell word list, splitting unquoted expansions at blanks.
std::vector<std::string> expand_shell_words(const std::string& text, const std::map<std::string, ShellValue>& vars,
                                            bool* known = nullptr);
// The same for words a ShellCommand kept raw.
std::vector<std::string> expand_shell_words(const std::vector<std::string>& raw,
                                            const std::map<std::string, ShellValue>& vars, bool* known = nullptr);
// The same with script's final variables, drawing on its expansion budget,
// so that re-expanding every command of a hostile script stays bounded.
std::vector<std::string> expand_shell_words(const std::vector<std::string>& raw, ShellScript& script,
                                            bool* known = nullptr);

}  // namespace decant
