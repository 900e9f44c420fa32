// `decant convert SOURCE... -o OUTDIR [-j N] [--service NAME=CMD]... [--only NAME]...
// [--format LIST] [--json] [--fail-on blocked|attention] [--sources FILE]
// [--shard-index I --shard-count N]`: whole guests in, one container per boot
// service out (docs/convert.md; shards: docs/fleet.md). Exit 0 when every
// started service converted, 1 when one failed, 2 for bad input, 3 when
// --fail-on matched a verdict of the readiness report (docs/cli.md).
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <sstream>

#include <fmt/format.h>

#include "cli/command.h"
#include "common/host_paths.h"
#include "common/file_util.h"
#include "convert/convert.h"
#include "convert/progress.h"
#include "fleet/source_list.h"
#include "packager/shim_payload.h"
#include "packager/staged_output.h"
#include "report/model.h"
#include "report/write.h"

namespace decant {
namespace {

struct ConvertArgs {
  std::vector<std::string> sources, only, services;
  int jobs = 1;
  std::string output, formats = "oci-archive,bundle", mode = "minimal", shim;
  bool force = false, no_shim = false, quiet = false;
  bool json = false;    // --json: the result object on stdout (docs/cli.md)
  std::string fail_on;  // --fail-on blocked|attention
  std::string source_list;               // --sources FILE (docs/fleet.md)
  int shard_index = -1, shard_count = 0;  // --shard-index/--shard-count
  bool exit_zero = false;                 // --exit-zero: failed services are findings, not a failed run
};

// The readiness verdicts of what convert wrote, read back as `decant report`
// reads them, for --json and --fail-on.
Result<Fleet> read_verdicts(const std::vector<std::string>& outdirs) {
  LoadOptions lo;
  lo.measure_guest = false;
  return load_fleet(outdirs, lo);
}

bool gate_tripped(const std::string& fail_on, const Fleet& fleet) {
  size_t blocked = fleet.count(Verdict::Blocked), attention = fleet.count(Verdict::Attention);
  return (fail_on == "blocked" && blocked > 0) || (fail_on == "attention" && blocked + attention > 0);
}

// docs/cli.md, `decant convert --json`.
Json convert_result(const ConvertArgs& a, const ConvertReport& report, const Fleet& fleet, bool tripped) {
  Json sources = Json::array();
  std::map<std::string, size_t> counts{{"converted", 0}, {"unchanged", 0}, {"failed", 0}, {"skipped", 0}};
  for (size_t i = 0; i < report.sources.size(); ++i) {
    const SourceReport& src = report.sources[i];
    const VmReport* vm = i < fleet.vms.size() ? &fleet.vms[i] : nullptr;
    Json services = Json::array();
    for (const auto& svc : src.services) {
      ++counts[svc.status];
      Json verdict = nullptr;
      if (vm)
        for (const auto& sr : vm->services)
          if (sr.name == svc.name && sr.manager == svc.manager) verdict = verdict_key(sr.verdict);
      Json artifacts = Json::array();
      for (const auto& art : svc.artifacts)
        artifacts.push_back(Json{{"format", art.format}, {"path", art.path}, {"digest", art.digest}});
      services.push_back(Json{{"name", svc.name},
                              {"manager", svc.manager},
                              {"status", svc.status},
                              {"reason", svc.reason.empty() ? Json(nullptr) : Json(svc.reason)},
                              {"verdict", verdict},
                              {"profile", svc.profile.empty() ? Json(nullptr) : Json(svc.profile)},
                              {"artifacts", artifacts}});
    }
    sources.push_back(Json{{"name", src.name.empty() ? Json(nullptr) : Json(src.name)},
                           {"source", src.source},
                           {"os", src.os},
                           {"init", src.init},
                           {"services", services}});
  }
  Json status = Json::object();
  for (const char* k : {"converted", "unchanged", "failed", "skipped"}) status[k] = counts[k];
  Json verdicts = Json::object();
  for (Verdict v : {Verdict::Ready, Verdict::Attention, Verdict::Blocked, Verdict::Skipped})
    verdicts[verdict_key(v)] = fleet.count(v);
  return Json{{"output", a.output},
              {"sources", sources},
              {"status", status},
              {"verdicts", verdicts},
              {"report",
               Json{{"html", a.output + "/report.html"},
                    {"markdown", a.output + "/report.md"},
                    {"sarif", a.output + "/findings.sarif"}}},
              {"fail_on", a.fail_on.empty() ? Json(nullptr) : Json(a.fail_on)},
              {"gate_tripped", tripped}};
}

// The sources: the arguments, then --sources FILE's lines (blank lines and
// `#` comments skipped); a shard needs both shard options, index < count.
Result<std::vector<std::string>> convert_sources(const ConvertArgs& a) {
  std::vector<std::string> out = a.sources;
  if (!a.source_list.empty()) {
    auto listed = read_source_list(a.source_list);
    if (!listed) return listed.error();
    out.insert(out.end(), listed->begin(), listed->end());
  }
  if (out.empty()) return bad_input("convert: no SOURCE given (arguments or --sources FILE)");
  if ((a.shard_index >= 0) != (a.shard_count > 0))
    return bad_input("--shard-index and --shard-count go together");
  if (a.shard_count > 0 && a.shard_index >= a.shard_count)
    return bad_input(fmt::format("--shard-index {}: want 0..{} for --shard-count {}", a.shard_index,
                                 a.shard_count - 1, a.shard_count));
  return out;
}

Result<std::vector<PackageFormat>> parse_formats(const std::string& list) {
  std::vector<PackageFormat> out;
  std::stringstream in(list);
  for (std::string item; std::getline(in, item, ',');) {
    PackageFormat f;
    if (!parse_format(item, f)) return bad_input(fmt::format("--format: unknown format '{}'", item));
    out.push_back(f);
  }
  if (out.empty()) return bad_input("--format: no format given");
  return out;
}

int run_convert(const ConvertArgs& a) {
  StagedOutput::remove_scratch_on_interrupt();
  ConvertOptions o;
  auto formats = parse_formats(a.formats);
  if (!formats) return fail(formats.error());
  o.formats = *formats;
  o.mode = a.mode == "system" ? PackageMode::System : PackageMode::Minimal;
  o.only = a.only;
  o.force = a.force;
  if (!a.no_shim) {
    o.shim_path = a.shim.empty() ? locate_shim() : a.shim;
    if (access(o.shim_path.c_str(), R_OK) != 0) {
      if (!a.shim.empty()) return fail(bad_input(fmt::format("{}: cannot read the shim", a.shim)));
      std::fprintf(stderr, "decant: warning: no shim at %s; converting without redirects\n", o.shim_path.c_str());
      o.shim_path.clear();
    }
  }
  if (const char* sde = std::getenv("SOURCE_DATE_EPOCH")) o.mtime = std::strtoll(sde, nullptr, 10);
  for (const auto& spec : a.services) {
    auto m = parse_manual_service(spec);
    if (!m) return fail(m.error());
    o.manual.push_back(std::move(*m));
  }
  auto sources = convert_sources(a);
  if (!sources) return fail(sources.error());
  o.sources = *sources;
  o.shard_index = std::max(a.shard_index, 0);
  o.shard_count = a.shard_count;
  o.outdir = a.output;
  o.jobs = a.jobs;
  // A bar on a terminal, plain lines elsewhere (a log, CI), nothing with -q.
  std::unique_ptr<ProgressPrinter> printer;
  if (!a.quiet) {
    const char* term = std::getenv("TERM");
    bool tty = isatty(STDERR_FILENO) && !(term && std::string(term) == "dumb");
    struct winsize ws {};
    int width = tty && ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 ? ws.ws_col : 80;
    printer = std::make_unique<ProgressPrinter>(stderr, tty ? ProgressPrinter::Style::Bar : ProgressPrinter::Style::Lines,
                                                width);
    o.progress = [p = printer.get()](const ProgressEvent& e) { (*p)(e); };
  }
  auto report = convert_guests(o);
  if (printer) printer->finish();
  if (!report) return fail(report.error());
  std::vector<std::string> outdirs;  // for the readiness report: one per source
  for (const auto& src : report->sources) outdirs.push_back(src.name.empty() ? a.output : a.output + "/" + src.name);
  if (a.shard_count > 0) {  // one report per source: the fleet's is `decant fleet merge`'s, once all shards are done
    if (outdirs.empty() && !a.quiet)
      std::fprintf(stderr, "decant: shard %d of %d has no sources\n", a.shard_index, a.shard_count);
    for (const auto& d : outdirs)
      if (Status s = write_convert_reports(d, {d}); !s) return fail(s.error());
  } else if (Status s = write_convert_reports(a.output, outdirs); !s) {
    return fail(s.error());
  }
  int rc = report->all_converted() || a.exit_zero ? 0 : 1;
  if (!a.json && a.fail_on.empty()) return rc;
  auto fleet = read_verdicts(outdirs);
  if (!fleet) return fail(fleet.error());
  bool tripped = gate_tripped(a.fail_on, *fleet);
  if (tripped) rc = kExitGateTripped;  // a failed service is blocked: the gate says more than 1 would
  if (a.json)
    if (int j = print_json(convert_result(a, *report, *fleet, tripped)); j != 0) return j;
  return rc;
}

Registrar registrar{Command{[](CLI::App& app) -> std::function<int()> {
                              auto a = std::make_shared<ConvertArgs>();
                              CLI::App* cmd = app.add_subcommand(
                                  "convert", "convert every boot service of a guest into a container");
                              cmd->add_option("source", a->sources, "guest root directory (one or more)");
                              cmd->add_option("--sources", a->source_list, "FILE: more sources, one a line");
                              cmd->add_option("--shard-index", a->shard_index,
                                              "convert only sources k with k % COUNT == this")
                                  ->check(CLI::NonNegativeNumber);
                              cmd->add_option("--shard-count", a->shard_count, "COUNT: shards the sources are split in")
                                  ->check(CLI::PositiveNumber);
                              cmd->add_flag("--exit-zero", a->exit_zero,
                                            "exit 0 when a service failed (for engines that retry failed pods)");
                              cmd->add_option("-j,--jobs", a->jobs, "services converted at once (default 1)")
                                  ->check(CLI::Range(1, 256));
                              cmd->add_option("--service", a->services,
                                              "NAME=CMD: add a service or replace a found one's command (repeatable)");
                              cmd->add_option("-o,--output", a->output, "output directory")->required();
                              cmd->add_option("--only", a->only, "convert only this service (repeatable)");
                              cmd->add_option("--format", a->formats,
                                              "artifacts, comma-separated: oci-archive,bundle (default), oci-dir, lxc");
                              cmd->add_option("--mode", a->mode, "minimal (default) or system")
                                  ->check(CLI::IsMember({"minimal", "system"}));
                              cmd->add_option("--shim", a->shim, "libdecant-shim.so to include (default: next to decant)");
                              cmd->add_flag("--no-shim", a->no_shim, "package without the shim and plan");
                              cmd->add_flag("--force", a->force, "redo services whose inputs are unchanged");
                              cmd->add_flag("-q,--quiet", a->quiet, "no progress lines");
                              add_json_flag(cmd, a->json);
                              cmd->add_option("--fail-on", a->fail_on,
                                              "exit 3 when a service is blocked, or blocked or needs attention "
                                              "(the readiness report's verdicts)")
                                  ->check(CLI::IsMember({"blocked", "attention"}));
                              return [a] { return run_convert(*a); };
                            },
                            4}};

}  // namespace
}  // namespace decant
