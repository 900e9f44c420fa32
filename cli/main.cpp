// The `decant` executable: parses the command line with CLI11 and wires the
// stages together. Each subcommand is one function; errors from the
// libraries arrive as values and leave here as one line on stderr plus an
// exit code (2 for bad input, 1 for environment failures).
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "analyzer/analyze.h"
#include "common/file_util.h"
#include "profiles/profile.h"

namespace decant {
namespace {

int fail(const Error& e) {
  std::fprintf(stderr, "decant: %s\n", e.message.c_str());
  return static_cast<int>(e.kind);
}

// Writes to -o atomically, or to stdout.
int emit(const std::string& text, const std::string& output, bool force) {
  if (output.empty() || output == "-") {
    std::fwrite(text.data(), 1, text.size(), stdout);
    return std::fflush(stdout) == 0 ? 0 : 1;
  }
  Status s = write_file_atomic(output, text, force ? Overwrite::Replace : Overwrite::Refuse);
  return s ? 0 : fail(s.error());
}

struct AnalyzeArgs {
  std::string binary, root = "/", format = "yaml", output, target_glibc;
  bool force = false;
};

int run_analyze(const AnalyzeArgs& args) {
  auto root = GuestRoot::open(args.root);
  if (!root) return fail(root.error());
  std::string path = args.binary;
  if (path.empty()) return fail(bad_input("analyze: empty binary path"));
  if (path[0] != '/') {
    if (root->is_host()) {
      char cwd[4096];
      if (!getcwd(cwd, sizeof cwd)) return fail(env_error("cannot determine the current directory"));
      path = std::string(cwd) + "/" + path;
    } else {
      path = "/" + path;  // a guest path given without its leading slash
    }
  }
  ElfCache cache;
  AnalyzeOptions options;
  options.target_glibc = args.target_glibc;
  auto analysis = analyze_binary(*root, path, options, cache);
  if (!analysis) return fail(analysis.error());
  ProfileFormat fmt = args.format == "json" ? ProfileFormat::Json : ProfileFormat::Yaml;
  return emit(serialize(analysis->profile, fmt), args.output, args.force);
}

}  // namespace
}  // namespace decant

int main(int argc, char** argv) {
  using namespace decant;
  CLI::App app{"decant: move legacy Linux services out of VMs into system containers"};
  app.set_version_flag("--version", std::string(kGenerator));
  app.require_subcommand(1);

  AnalyzeArgs analyze;
  CLI::App* cmd_analyze = app.add_subcommand("analyze", "analyze a binary inside a guest filesystem and print its profile");
  cmd_analyze->add_option("binary", analyze.binary, "binary to analyze (a guest path when --root is given)")->required();
  cmd_analyze->add_option("--root", analyze.root, "guest filesystem root directory (default /)");
  cmd_analyze->add_option("--format", analyze.format, "output format")->check(CLI::IsMember({"yaml", "json"}));
  cmd_analyze->add_option("-o,--output", analyze.output, "write the profile to FILE (atomically) instead of stdout");
  cmd_analyze->add_option("--target-glibc", analyze.target_glibc, "glibc version of the target; newer needs are a hazard");
  cmd_analyze->add_flag("--force", analyze.force, "replace an existing output file");

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
  if (*cmd_analyze) return run_analyze(analyze);
  return 2;
}
