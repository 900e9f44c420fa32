// `decant discover --root GUEST [-o FILE]`: lists the services a guest starts
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
  bool force = false;
};

int run_discover(const DiscoverArgs& args) {
  auto source = open_source(args.root);
  if (!source) return fail(source.error());
  auto found = discover_services((*source)->root);
  if (!found) return fail(found.error());
  return emit(discovery_to_json(*found), args.output, args.force);
}

Registrar registrar{Command{[](CLI::App& app) -> std::function<int()> {
                              auto args = std::make_shared<DiscoverArgs>();
                              CLI::App* cmd = app.add_subcommand(
                                  "discover", "list the services a guest starts at boot (systemd, SysV, inetd/xinetd)");
                              cmd->add_option("--root", args->root, "the guest: a root directory, an archive of one, or a disk image (docs/sources.md)")->required();
                              cmd->add_option("-o,--output", args->output, "write the JSON to FILE (atomically)");
                              cmd->add_flag("--force", args->force, "replace an existing output file");
                              return [args] { return run_discover(*args); };
                            },
                            5}};

}  // namespace
}  // namespace decant
