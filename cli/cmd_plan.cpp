// `decant plan PROFILE -o PLANFILE [--json]`: compiles a profile (YAML or JSON) into
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
  bool force = false, json = false;
};

// docs/cli.md, `decant plan --json`.
Json plan_result(const CompiledPlan& plan, const std::string& output) {
  bool to_file = !output.empty() && output != "-";
  return Json{{"output", to_file ? Json(output) : Json(nullptr)},
              {"plan", to_file ? Json(nullptr) : Json(plan.text)},
              {"seccomp_mode", plan.seccomp_mode},
              {"bpf_instructions", plan.bpf_instructions},
              {"warnings", plan.warnings}};
}

int run_plan(const PlanArgs& args) {
  auto profile = load_profile(args.profile);
  if (!profile) return fail(profile.error());
  auto plan = compile_plan(*profile);
  if (!plan) return fail(plan.error());
  for (const auto& w : plan->warnings) std::fprintf(stderr, "decant: warning: %s\n", w.c_str());
  if (!args.json) return emit(plan->text, args.output, args.force);
  if (!args.output.empty() && args.output != "-")
    if (int rc = emit(plan->text, args.output, args.force); rc != 0) return rc;
  return print_json(plan_result(*plan, args.output));
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
                              add_json_flag(cmd, args->json);
                              return [args] { return run_plan(*args); };
                            },
                            30}};

}  // namespace
}  // namespace decant
