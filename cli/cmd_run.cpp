// `decant run OUT [--json] [-- ARGS]`: runs a packaged bundle or OCI image
// under crun or runc, publishing its ports when it has its own network
// namespace, and exits with the service's status. The runner's notes are
// printed here; with --json the service's stdout goes to stderr and stdout
// gets one object when it exits. Without --stop-timeout the artifact's own
// stop timeout applies (run/runner.h).
#include <cstdio>
#include <limits>
#include <memory>

#include <fmt/format.h>

#include "cli/command.h"
#include "packager/init_payload.h"
#include "run/runner.h"

namespace decant {
namespace {

int run_run(RunOptions o, bool json) {
  o.note = [](const std::string& line) { std::fprintf(stderr, "decant: %s\n", line.c_str()); };
  StdoutToStderr aside(json);
  auto r = run_container(o);
  aside.restore();
  if (!r) return fail(r.error());
  if (!json) return *r;
  auto runtime = find_runtime(o.runtime);
  // docs/cli.md, `decant run --json`.
  int rc = print_json(Json{{"artifact", o.artifact},
                           {"runtime", runtime ? Json(*runtime) : Json(nullptr)},
                           {"exit_status", *r}});
  return rc != 0 ? rc : *r;
}

Registrar registrar{Command{[](CLI::App& app) -> std::function<int()> {
                              auto o = std::make_shared<RunOptions>();
                              auto json = std::make_shared<bool>(false);
                              CLI::App* cmd = app.add_subcommand(
                                  "run", "run a bundle or OCI image written by decant package under crun or runc");
                              cmd->add_option("artifact", o->artifact, "bundle directory, OCI archive or OCI directory")
                                  ->required();
                              cmd->add_option("args", o->args, "arguments replacing the entrypoint's (after --)");
                              cmd->add_option("--runtime", o->runtime, "crun or runc (default: crun if installed)")
                                  ->check(CLI::IsMember({"crun", "runc"}));
                              cmd->add_option("--name", o->id, "container id (default decant-<name>-<pid>)");
                              cmd->add_option("-p,--publish", o->publish,
                                              "[ADDR:]HOSTPORT:PORT: publish the service's PORT on the host's "
                                              "HOSTPORT instead of the same port (own network namespace only; TCP)")
                                  ->allow_extra_args(false);
                              cmd->add_option("--stop-timeout", o->stop_timeout,
                                              fmt::format("seconds the service gets to exit after SIGINT/SIGTERM "
                                                          "before it is killed (default: the stop timeout of the "
                                                          "artifact's init, the unit's TimeoutStopSec=, plus {}; "
                                                          "else {})",
                                                          kStopGraceMargin, kInitStopTimeout))
                                  ->check(CLI::Range(0, std::numeric_limits<int>::max()));
                              cmd->add_flag("-v,--verbose", o->verbose, "print the runtime command and relay trouble");
                              cmd->add_flag("--trust-bundle", o->trust_bundle,
                                            "run the artifact's runtime config as given, even when it asks for more "
                                            "than decant's policy grants (capabilities, host mounts, namespaces)");
                              add_json_flag(cmd, *json);
                              return [o, json] { return run_run(*o, *json); };
                            },
                            30}};

}  // namespace
}  // namespace decant
