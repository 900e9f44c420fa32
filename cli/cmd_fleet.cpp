// `decant fleet k8s --sources LIST -o job.yaml` (the Kubernetes Indexed Job
// that converts a list of sources, one pod per source, and its merge Job)
// and `decant fleet merge --sources LIST OUTDIR` (the index and fleet
// report of sharded outputs): docs/fleet.md. Argument parsing and wiring
// only; fleet/ does the work.
#include <cstdio>
#include <memory>

#include <fmt/format.h>

#include "cli/command.h"
#include "common/file_util.h"
#include "fleet/k8s.h"
#include "fleet/merge.h"
#include "fleet/source_list.h"

namespace decant {
namespace {

struct FleetArgs {
  std::string list, output, merge_output;
  K8sFleetOptions k8s;
  std::string outdir;
  bool force = false, quiet = false;
};

// job.yaml -> job.merge.yaml; a name without .yaml gets .merge.yaml added.
std::string merge_path(const std::string& job) {
  for (const char* ext : {".yaml", ".yml"})
    if (std::string e = ext; job.size() > e.size() && job.compare(job.size() - e.size(), e.size(), e) == 0)
      return job.substr(0, job.size() - e.size()) + ".merge" + e;
  return job + ".merge.yaml";
}

int run_k8s(FleetArgs& a) {
  auto sources = read_source_list(a.list);
  if (!sources) return fail(sources.error());
  a.k8s.sources = *sources;
  auto m = k8s_fleet_manifests(a.k8s);
  if (!m) return fail(m.error());
  if (a.output == "-") return emit(m->job + m->merge, "-", false);
  std::string merge = a.merge_output.empty() ? merge_path(a.output) : a.merge_output;
  Overwrite how = a.force ? Overwrite::Replace : Overwrite::Refuse;
  if (Status s = write_file_atomic(a.output, m->job, how); !s) return fail(s.error());
  if (Status s = write_file_atomic(merge, m->merge, how); !s) return fail(s.error());
  if (!a.quiet)
    std::fprintf(stderr, "decant: %zu sources; wrote %s (apply it) and %s (apply it once job/%s-convert is complete)\n",
                 a.k8s.sources.size(), a.output.c_str(), merge.c_str(), a.k8s.name.c_str());
  return 0;
}

int run_merge(const FleetArgs& a) {
  auto sources = read_source_list(a.list);
  if (!sources) return fail(sources.error());
  auto r = merge_fleet(*sources, a.outdir);
  if (!r) return fail(r.error());
  if (!a.quiet)
    std::fprintf(stderr, "decant: merged %zu sources (%zu failed services); wrote %s/summary.json, report.html, report.md, findings.sarif\n",
                 r->sources, r->failed_services, a.outdir.c_str());
  return 0;  // failed services are findings of the report; `decant report --fail-on` gates on them
}

Registrar registrar{Command{[](CLI::App& app) -> std::function<int()> {
                              auto a = std::make_shared<FleetArgs>();
                              CLI::App* cmd = app.add_subcommand("fleet", "convert many sources on an engine you run (Kubernetes)");
                              cmd->require_subcommand(1);
                              CLI::App* k8s = cmd->add_subcommand("k8s", "write a Kubernetes Indexed Job converting a list of sources");
                              k8s->add_option("--sources", a->list, "FILE: one source a line, as the pods see it")->required();
                              k8s->add_option("-o,--output", a->output, "the Job's YAML (- for stdout); the merge Job goes to FILE.merge.yaml")
                                  ->required();
                              k8s->add_option("--merge-output", a->merge_output, "where the merge Job goes instead");
                              k8s->add_option("--image", a->k8s.image, "decant's image (scripts/decant-image.sh)");
                              k8s->add_option("--decant", a->k8s.decant, "decant's path inside the image");
                              k8s->add_option("--pvc", a->k8s.pvc, "claim the outputs go to (default decant-out)");
                              k8s->add_option("--out-dir", a->k8s.out_dir, "where the pods mount it (default /out)");
                              k8s->add_option("--sources-pvc", a->k8s.sources_pvc, "claim holding the sources, mounted read-only");
                              k8s->add_option("--sources-dir", a->k8s.sources_dir, "where the pods mount it (default /sources)");
                              k8s->add_option("--name", a->k8s.name, "prefix of the Jobs' and ConfigMap's names (default decant)");
                              k8s->add_option("--parallelism", a->k8s.parallelism, "pods at once (default: one per source)")
                                  ->check(CLI::PositiveNumber);
                              k8s->add_option("--convert-arg", a->k8s.convert_args, "one more word for decant convert (repeatable)");
                              k8s->add_flag("--force", a->force, "replace existing files");
                              k8s->add_flag("-q,--quiet", a->quiet, "no summary line");
                              CLI::App* merge = cmd->add_subcommand("merge", "index and fleet report of sharded convert outputs");
                              merge->add_option("--sources", a->list, "FILE: the list the shards converted")->required();
                              merge->add_option("outdir", a->outdir, "the OUTDIR every shard wrote into")->required();
                              merge->add_flag("-q,--quiet", a->quiet, "no summary line");
                              return [a, k8s] { return k8s->parsed() ? run_k8s(*a) : run_merge(*a); };
                            },
                            7}};

}  // namespace
}  // namespace decant
