// The systemd unit-file language as systemd itself reads it (systemd.syntax(7),
// systemd.service(5)): sections, `Key=Value` assignments with backslash line
// continuations, an empty assignment resetting a list, drop-ins appended in
// order, command lines split into words with systemd's quoting and `$VAR`
// rules, `-`/`@`/`+`/`!` prefixes and `%` specifiers. Pure text in, structs
// out, so every awkward case is unit-tested from a string.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/error.h"

namespace decant {

struct UnitAssignment {
  std::string section;  // "Service"
  std::string key;      // "ExecStart"
  std::string value;    // continuation lines joined with a space
  std::string origin;   // "guest/path:line" for evidence
};

struct UnitFile {
  std::vector<UnitAssignment> assignments;  // in file order, drop-ins after the main file

  // Every value of a list setting in order, honouring `Key=` (empty) resets.
  std::vector<const UnitAssignment*> all(const std::string& section, const std::string& key) const;
  // The last value of a single-valued setting; nullptr when unset.
  const UnitAssignment* last(const std::string& section, const std::string& key) const;
  std::string get(const std::string& section, const std::string& key, const std::string& fallback = "") const;
};

// Appends the assignments of one file (the main unit or a drop-in) to unit.
// display names the file in origins and errors. Fails only on text that is
// not a unit file at all (an assignment before any [Section]).
Status parse_unit_text(const std::string& text, const std::string& display, UnitFile& unit);

// What `%x` specifiers expand to for one unit (systemd.unit(5), "Specifiers").
struct UnitNames {
  std::string full;      // %n: "getty@tty1.service"
  std::string prefix;    // %p: "getty"
  std::string instance;  // %i: "tty1" (escaped form)
  std::string fragment;  // %f-less: path of the unit file, for evidence only
  std::string user_home = "/root";  // %h for the system manager
};
UnitNames unit_names(const std::string& unit_name);
// Expands % specifiers; unknown ones are kept verbatim so nothing is lost.
std::string expand_specifiers(const std::string& value, const UnitNames& names);

// Splits a value into words the way systemd does for ExecStart= and list
// settings: whitespace separates, "double" and 'single' quotes group, C
// escapes (\n, \t, \\, \", \x41) apply, a backslash-newline was already
// joined. Fails on an unterminated quote.
Result<std::vector<std::string>> split_unit_words(const std::string& value);

struct ExecCommand {
  std::string path;               // the program (argv[0] unless '@' gave another)
  std::vector<std::string> argv;  // argv as the program sees it
  bool ignore_failure = false;    // '-'
  bool privileged = false;        // '+', '!' or '!!': run with full privileges / no User= change
};

// Parses one ExecStart= value: prefixes, specifiers, then words, then
// `${VAR}` (one word) and `$VAR` (split into words) from env. An empty
// result (no command) is an error.
Result<ExecCommand> parse_exec(const std::string& value, const UnitNames& names,
                               const std::map<std::string, std::string>& env);

// Parses Environment= values ("A=1" "B=two words" C=3) into env, in order.
void parse_environment_assignments(const std::string& value, std::map<std::string, std::string>& env);

}  // namespace decant
