// `decant discover --root GUEST [-o FILE] [--json]`: lists the services a guest starts
// at boot (systemd, SysV init, inetd/xinetd) with their command lines, users,
// listen ports and the evidence for each, and those found but not started
// with the reason, as JSON (docs/discover.md).
#include <memory>

#include "cli/command.h"
#include "discover/discover.h"
#include "guest/source.h"

namespace decant {
namespace {

struct DiscoverArgs {
  std::string root, output;
  bool force = false, json = false;
};

// docs/cli.md, `decant discover --json`.
Json discover_result(const Discovery& d, const std::string& text, const std::string& output) {
  size_t started = 0;
  for (const auto& s : d.services) started += s.enabled ? 1 : 0;
  bool to_file = !output.empty() && output != "-";
  return Json{{"output", to_file ? Json(output) : Json(nullptr)},
              {"discovery", to_file ? Json(nullptr) : parse_json_document(text)},
              {"init", d.init},
              {"services", d.services.size()},
              {"started", started}};
}

int run_discover(const DiscoverArgs& args) {
  auto source = open_source(args.root);
  if (!source) return fail(source.error());
  auto found = discover_services((*source)->root);
  if (!found) return fail(found.error());
  std::string text = discovery_to_json(*found);
  if (!args.json) return emit(text, args.output, args.force);
  if (!args.output.empty() && args.output != "-")
    if (int rc = emit(text, args.output, args.force); rc != 0) return rc;
  return print_json(discover_result(*found, text, args.output));
}

Registrar registrar{Command{[](CLI::App& app) -> std::function<int()> {
                              auto args = std::make_shared<DiscoverArgs>();
                              CLI::App* cmd = app.add_subcommand(
                                  "discover", "list the services a guest starts at boot (systemd, SysV, inetd/xinetd)");
                              cmd->add_option("--root", args->root, "the guest: a root directory, an archive of one, or a disk image (docs/sources.md)")->required();
                              cmd->add_option("-o,--output", args->output, "write the JSON to FILE (atomically)");
                              cmd->add_flag("--force", args->force, "replace an existing output file");
                              add_json_flag(cmd, args->json);
                              return [args] { return run_discover(*args); };
                            },
                            5}};

}  // namespace
}  // namespace decant
