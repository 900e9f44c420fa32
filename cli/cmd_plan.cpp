// `decant plan PROFILE -o PLANFILE`: compiles a profile (YAML or JSON) into
// the shim's plan, seccomp BPF included, so the shim can be used without
// packaging: LD_PRELOAD=libdecant-shim.so DECANT_PLAN=PLANFILE app.
#include <cstdio>
#include <memory>

#include "cli/command.h"
#include "policy/plan.h"

namespace decant {
namespace {

struct PlanArgs {
  std::string profile, output;
  bool force = false;
};

int run_plan(const PlanArgs& args) {
  auto profile = load_profile(args.profile);
  if (!profile) return fail(profile.error());
  auto plan = compile_plan(*profile);
  if (!plan) return fail(plan.error());
  for (const auto& w : plan->warnings) std::fprintf(stderr, "decant: warning: %s\n", w.c_str());
  return emit(plan->text, args.output, args.force);
}

Registrar registrar{Command{[](CLI::App& app) -> std::function<int()> {
                              auto args = std::make_shared<PlanArgs>();
                              CLI::App* cmd = app.add_subcommand(
                                  "plan", "compile a profile into the shim's runtime plan (seccomp BPF included)");
                              cmd->add_option("profile", args->profile, "profile to compile (YAML or JSON)")
                                  ->required();
                              cmd->add_option("-o,--output", args->output,
                                              "write the plan to FILE (atomically) instead of stdout");
                              cmd->add_flag("--force", args->force, "replace an existing output file");
                              return [args] { return run_plan(*args); };
                            },
                            30}};

}  // namespace
}  // namespace decant
