// The `decant` executable: collects the registered subcommands (cmd_*.cpp),
// parses the command line with CLI11 and runs the chosen one. Parse errors
// are bad input (exit 2), like every other malformed input.
#include <cstdio>
#include <memory>

#include <CLI/CLI.hpp>

#include "cli/command.h"
#include "common/file_util.h"
#include "common/version.h"

namespace decant {

std::vector<Command>& command_registry() {
  static std::vector<Command> registry;
  return registry;
}

int fail(const Error& e) {
  std::fprintf(stderr, "decant: %s\n", e.message.c_str());
  return static_cast<int>(e.kind);
}

int emit(const std::string& text, const std::string& output, bool force) {
  if (output.empty() || output == "-") {
    std::fwrite(text.data(), 1, text.size(), stdout);
    return std::fflush(stdout) == 0 ? 0 : 1;
  }
  Status s = write_file_atomic(output, text, force ? Overwrite::Replace : Overwrite::Refuse);
  return s ? 0 : fail(s.error());
}

}  // namespace decant

int main(int argc, char** argv) {
  using namespace decant;
  CLI::App app{"decant: move legacy Linux services out of VMs into system containers"};
  app.set_version_flag("--version", std::string(kVersionString));
  app.require_subcommand(1);

  auto& registry = command_registry();
  std::stable_sort(registry.begin(), registry.end(), [](const Command& a, const Command& b) { return a.order < b.order; });
  std::vector<std::pair<CLI::App*, std::function<int()>>> runners;
  for (auto& c : registry) {
    size_t before = app.get_subcommands({}).size();
    auto run = c.setup(app);
    auto subs = app.get_subcommands({});
    if (subs.size() > before) runners.emplace_back(subs.back(), std::move(run));
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "decant: %s (see decant --help)\n", e.what());
    return 2;
  }
  for (auto& [sub, run] : runners) {
    if (!sub->parsed()) continue;
    // The boundary: an exception a library let through is one line and exit 2,
    // never an abort, and unwinding removes scratch directories.
    try {
      return run();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "decant: %s\n", e.what());
      return 2;
    }
  }
  return 2;
}
