// How subcommands plug into the `decant` executable: each cmd_*.cpp file
// defines one Command and registers it with a static Registrar, so adding a
// subcommand never touches main.cpp. Errors leave a command as one line on
// stderr (fail()) and an exit code: 2 bad input, 1 environment failure.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "common/error.h"

namespace decant {

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

}  // namespace decant
