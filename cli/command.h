// How subcommands plug into the `decant` executable: each cmd_*.cpp file
// defines one Command and registers it with a static Registrar, so adding a
// subcommand never touches main.cpp. Errors leave a command as one line on
// stderr (fail()) and an exit code; every code is in docs/cli.md. `--json`
// results go through print_json, the one writer of a command's JSON object.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "common/error.h"

namespace decant {

// Results keep the key order docs/cli.md lists.
using Json = nlohmann::ordered_json;

// Exit codes shared by every command (docs/cli.md): 0 done, 1 the machine
// failed us (or convert: a service failed), 2 bad input or usage, 3 the
// report was written and --fail-on matched.
inline constexpr int kExitGateTripped = 3;

struct Command {
  // Adds the subcommand and its options to app; returns the function that
  // runs it once parsing succeeded (it may capture state owned by setup).
  std::function<std::function<int()>(CLI::App& app)> setup;
  int order = 100;  // position in --help
};

std::vector<Command>& command_registry();

struct Registrar {
  explicit Registrar(Command c) { command_registry().push_back(std::move(c)); }
};

// Prints "decant: MESSAGE" and returns the error's exit code.
int fail(const Error& e);

// Writes text to output atomically (refusing to replace unless force), or to
// stdout when output is empty or "-".
int emit(const std::string& text, const std::string& output, bool force);

// Adds --json to cmd: "print the result as one JSON object on stdout".
void add_json_flag(CLI::App* cmd, bool& flag);

// Writes the result object and a newline on stdout; 0, or 1 when stdout
// cannot be written.
int print_json(const Json& result);

// While alive, whatever decant's children write to stdout goes to stderr, so
// that with --json stdout carries the JSON object only (run's service and
// learn's command inherit decant's descriptors). restore() ends it early.
class StdoutToStderr {
 public:
  explicit StdoutToStderr(bool active);
  ~StdoutToStderr() { restore(); }
  StdoutToStderr(const StdoutToStderr&) = delete;
  StdoutToStderr& operator=(const StdoutToStderr&) = delete;
  void restore();

 private:
  int saved_ = -1;
};

// A document (profile, discovery) as a JSON value for embedding in a result.
Json parse_json_document(const std::string& text);

}  // namespace decant
