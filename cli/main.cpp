// The `decant` executable: collects the registered subcommands (cmd_*.cpp),
// parses the command line with CLI11 and runs the chosen one. Parse errors
// are bad input (exit 2), like every other malformed input, and name the
// nearest valid command or option. `decant help [CMD]` is `decant [CMD] --help`.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <memory>

#include <CLI/CLI.hpp>

#include "cli/command.h"
#include "cli/suggest.h"
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

void add_json_flag(CLI::App* cmd, bool& flag) {
  cmd->add_flag("--json", flag, "print the result as one JSON object on stdout (keys: docs/cli.md)");
}

int print_json(const Json& result) {
  // Guest strings may hold bytes that are not UTF-8; they must not make the
  // result unprintable after the work is done.
  std::string text = result.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
  std::fwrite(text.data(), 1, text.size(), stdout);
  if (std::fflush(stdout) != 0) return fail(env_error("cannot write the JSON result to stdout"));
  return 0;
}

Json parse_json_document(const std::string& text) { return Json::parse(text); }

StdoutToStderr::StdoutToStderr(bool active) {
  if (!active) return;
  std::fflush(stdout);
  saved_ = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
  if (saved_ >= 0) dup2(STDERR_FILENO, STDOUT_FILENO);
}

void StdoutToStderr::restore() {
  if (saved_ < 0) return;
  std::fflush(stdout);
  dup2(saved_, STDOUT_FILENO);
  close(saved_);
  saved_ = -1;
}

namespace {

CLI::App* find_command(CLI::App& app, const std::string& name) {
  for (CLI::App* sub : app.get_subcommands({}))
    if (sub->get_name() == name) return sub;
  return nullptr;
}

std::string unknown_command(CLI::App& app, const std::string& name) {
  std::vector<std::string> names;
  for (CLI::App* sub : app.get_subcommands({})) names.push_back(sub->get_name());
  std::string near = nearest_word(name, names);
  if (near.empty()) return "unknown command '" + name + "' (see decant help)";
  return "unknown command '" + name + "'; did you mean '" + near + "'? (see decant " + near + " --help)";
}

// The first option of cmd's arguments that cmd does not have, with the
// nearest one it has; "" when every option is known.
std::string unknown_option(CLI::App* cmd, const std::vector<std::string>& args) {
  std::vector<std::string> names;
  for (const CLI::Option* o : cmd->get_options()) {
    for (const auto& l : o->get_lnames()) names.push_back("--" + l);
    for (const auto& s : o->get_snames()) names.push_back("-" + s);
  }
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") break;
    if (a.size() < 2 || a[0] != '-') continue;
    bool is_long = a[1] == '-';
    std::string name = is_long ? a.substr(0, a.find('=')) : a.substr(0, 2);
    const CLI::Option* opt = cmd->get_option_no_throw(name);
    if (!opt) {
      std::string near = nearest_word(name, names);
      std::string where = "(see decant " + cmd->get_name() + " --help)";
      return cmd->get_name() + ": unknown option " + name +
             (near.empty() ? " " + where : "; did you mean " + near + "? " + where);
    }
    bool value_attached = is_long ? a.find('=') != std::string::npos : a.size() > 2;
    if (opt->get_type_size_max() > 0 && !value_attached) ++i;  // skip its value, which may start with '-'
  }
  return "";
}

// One line for a command line CLI11 refused, naming what to type instead.
std::string explain(CLI::App& app, const std::vector<std::string>& args, const CLI::ParseError& e) {
  if (args.size() < 2) return "a command is required (see decant help)";
  if (args[1][0] != '-') {
    CLI::App* cmd = find_command(app, args[1]);
    if (!cmd) return unknown_command(app, args[1]);
    std::string u = unknown_option(cmd, std::vector<std::string>(args.begin() + 2, args.end()));
    if (!u.empty()) return u;
    return cmd->get_name() + ": " + e.what() + " (see decant " + cmd->get_name() + " --help)";
  }
  std::string u = unknown_option(&app, std::vector<std::string>(args.begin() + 1, args.end()));
  return (u.empty() ? std::string(e.what()) + " (see decant help)" : u.substr(u.find(": ") + 2));
}

// `decant help` -> `decant --help`; `decant help CMD` -> `decant CMD --help`.
// Returns the arguments to parse, or an error line for an unknown CMD.
Result<std::vector<std::string>> rewrite_help(CLI::App& app, std::vector<std::string> args) {
  if (args.size() < 2 || args[1] != "help") return args;
  if (args.size() == 2) return std::vector<std::string>{args[0], "--help"};
  if (args.size() > 3) return bad_input("help: one command at a time (decant help CMD)");
  if (args[2].empty() || args[2][0] == '-') return std::vector<std::string>{args[0], "--help"};
  if (!find_command(app, args[2])) return bad_input(unknown_command(app, args[2]));
  return std::vector<std::string>{args[0], args[2], "--help"};
}

}  // namespace
}  // namespace decant

int main(int argc, char** argv) {
  using namespace decant;
  CLI::App app{"decant: move legacy Linux services out of VMs into system containers"};
  app.set_version_flag("--version", std::string(kVersionString));
  app.require_subcommand(1);
  app.footer("decant help CMD (or decant CMD --help) shows a command's options; exit codes and --json keys: docs/cli.md");

  auto& registry = command_registry();
  std::stable_sort(registry.begin(), registry.end(), [](const Command& a, const Command& b) { return a.order < b.order; });
  std::vector<std::pair<CLI::App*, std::function<int()>>> runners;
  for (auto& c : registry) {
    size_t before = app.get_subcommands({}).size();
    auto run = c.setup(app);
    auto subs = app.get_subcommands({});
    if (subs.size() > before) runners.emplace_back(subs.back(), std::move(run));
  }
  // Listed in --help; the command line is rewritten before parsing (rewrite_help).
  std::string help_topic;
  app.add_subcommand("help", "show the commands, or a command's options: decant help CMD")
      ->add_option("command", help_topic, "the command");

  auto args = rewrite_help(app, std::vector<std::string>(argv, argv + argc));
  if (!args) return fail(args.error());
  std::vector<char*> cargs;
  for (auto& a : *args) cargs.push_back(a.data());
  try {
    app.parse(static_cast<int>(cargs.size()), cargs.data());
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "decant: %s\n", explain(app, *args, e).c_str());
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
