// `decant analyze BINARY... [--root DIR] [--format yaml|json] [-o FILE] [--json]`:
// analyzes binaries inside a guest filesystem and prints their profiles (with
// --json and one binary, a summary object holding the profile or naming its
// file). Several binaries share one process and one library cache, so a whole
// /usr/bin costs one start-up and each library is read once; their profiles
// form one stream (YAML documents each opened by "---", or one JSON document
// per line's start), and a binary that fails is reported and skipped.
#include <unistd.h>

#include <memory>

#include "analyzer/analyze.h"
#include "cli/command.h"

namespace decant {
namespace {

struct AnalyzeArgs {
  std::vector<std::string> binaries;
  std::string root = "/", format = "yaml", output, target_glibc;
  bool force = false;
  bool no_code = false;
  bool json = false;
};

// docs/cli.md, `decant analyze --json`.
Json analyze_result(const Profile& p, const std::string& output) {
  Json listen = Json::array(), hazards = Json::array();
  for (const auto& l : p.network.listen) listen.push_back(std::to_string(l.port) + "/" + l.proto);
  for (const auto& h : p.hazards) hazards.push_back(Json{{"id", h.id}, {"severity", h.severity}});
  bool to_file = !output.empty() && output != "-";
  return Json{{"output", to_file ? Json(output) : Json(nullptr)},
              {"profile", to_file ? Json(nullptr) : parse_json_document(to_json(p))},
              {"name", p.metadata.name},
              {"binary", p.binary.path},
              {"libraries", p.libraries.size()},
              {"missing_libraries", p.missing_libraries.size()},
              {"syscalls", p.syscalls.allow.size()},
              {"listen", listen},
              {"hazards", hazards}};
}

// The guest path of one BINARY argument, or an error.
Result<std::string> binary_path(const GuestRoot& root, std::string path) {
  if (path.empty()) return bad_input("analyze: empty binary path");
  if (path[0] != '/') {
    if (root.is_host()) {
      char cwd[4096];
      if (!getcwd(cwd, sizeof cwd)) return env_error("cannot determine the current directory");
      path = std::string(cwd) + "/" + path;
    } else {
      path = "/" + path;  // a guest path given without its leading slash
    }
  }
  return path;
}

int run_analyze(const AnalyzeArgs& args) {
  auto root = GuestRoot::open(args.root);
  if (!root) return fail(root.error());
  // Without code analysis no stage needs the libraries' bytes or hashes.
  ElfCache cache(args.no_code ? ElfRead::Headers : ElfRead::Content);
  AnalyzeOptions options;
  options.target_glibc = args.target_glibc;
  options.code = !args.no_code;
  ProfileFormat format = args.format == "json" ? ProfileFormat::Json : ProfileFormat::Yaml;
  if (args.json) {
    if (args.binaries.size() != 1) return fail(bad_input("analyze: --json takes exactly one BINARY"));
    auto path = binary_path(*root, args.binaries[0]);
    auto analysis = path ? analyze_binary(*root, *path, options, cache) : Result<Analysis>(path.error());
    if (!analysis) return fail(analysis.error());
    if (!args.output.empty() && args.output != "-")
      if (int rc = emit(serialize(analysis->profile, format), args.output, args.force); rc != 0) return rc;
    return print_json(analyze_result(analysis->profile, args.output));
  }
  const bool stream = args.binaries.size() > 1;
  std::string text;
  int code = 0;
  for (const auto& binary : args.binaries) {
    auto path = binary_path(*root, binary);
    auto analysis = path ? analyze_binary(*root, *path, options, cache) : Result<Analysis>(path.error());
    if (!analysis) {
      int c = fail(analysis.error());
      if (!stream) return c;
      if (code == 0) code = c;
      continue;
    }
    if (stream && format == ProfileFormat::Yaml) text += "---\n";
    text += serialize(analysis->profile, format);
  }
  int written = emit(text, args.output, args.force);
  return code != 0 ? code : written;
}

Registrar registrar{Command{[](CLI::App& app) -> std::function<int()> {
                              auto args = std::make_shared<AnalyzeArgs>();
                              CLI::App* cmd = app.add_subcommand(
                                  "analyze", "analyze a binary inside a guest filesystem and print its profile");
                              cmd->add_option("binary", args->binaries,
                                              "binaries to analyze (guest paths when --root is given)")
                                  ->required();
                              cmd->add_option("--root", args->root, "guest filesystem root directory (default /)");
                              cmd->add_option("--format", args->format, "output format: yaml (default) or json")
                                  ->check(CLI::IsMember({"yaml", "json"}));
                              cmd->add_option("-o,--output", args->output,
                                              "write the profile to FILE (atomically) instead of stdout");
                              cmd->add_option("--target-glibc", args->target_glibc,
                                              "glibc version of the target; a closure needing newer is a hazard");
                              cmd->add_flag("--force", args->force, "replace an existing output file");
                              cmd->add_flag("--no-code", args->no_code,
                                            "skip machine-code analysis (syscalls, ports, paths): structure only");
                              add_json_flag(cmd, args->json);
                              return [args] { return run_analyze(*args); };
                            },
                            10}};

}  // namespace
}  // namespace decant
