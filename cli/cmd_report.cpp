// `decant report OUTDIR... [-o FILE.html] [--fail-on blocked|attention] [--json]`:
// the readiness report (report.html, report.md, findings.sarif) from existing
// convert outputs; several OUTDIRs merge into one fleet report. --fail-on
// turns the verdicts into a CI gate (exit codes in docs/cli.md).
#include <cstdio>
#include <memory>

#include "cli/command.h"
#include "report/write.h"

namespace decant {
namespace {

struct ReportArgs {
  std::vector<std::string> outdirs;
  std::string output, fail_on;
  bool quiet = false, json = false;
};

// docs/cli.md, `decant report --json`.
Json report_result(const ReportArgs& a, const ReportFiles& files, const Fleet& fleet, bool tripped) {
  Json vms = Json::array();
  for (const auto& vm : fleet.vms) {
    Json services = Json::array();
    for (const auto& s : vm.services) {
      Json rules = Json::array();
      for (const auto& r : s.reasons) rules.push_back(r.rule);
      services.push_back(Json{{"name", s.name}, {"manager", s.manager}, {"status", s.status},
                              {"verdict", verdict_key(s.verdict)}, {"rules", rules}});
    }
    vms.push_back(Json{{"name", vm.name}, {"outdir", vm.outdir}, {"os", vm.os_pretty}, {"services", services}});
  }
  Json verdicts = Json::object();
  for (Verdict v : {Verdict::Ready, Verdict::Attention, Verdict::Blocked, Verdict::Skipped})
    verdicts[verdict_key(v)] = fleet.count(v);
  return Json{{"report", Json{{"html", files.html}, {"markdown", files.markdown}, {"sarif", files.sarif}}},
              {"vms", vms},
              {"verdicts", verdicts},
              {"fail_on", a.fail_on.empty() ? Json(nullptr) : Json(a.fail_on)},
              {"gate_tripped", tripped}};
}

int run_report(const ReportArgs& a) {
  ReportOptions o;
  o.output = a.output;
  auto files = report_files(a.outdirs, o);
  if (!files) return fail(files.error());
  auto fleet = write_reports(a.outdirs, o);
  if (!fleet) return fail(fleet.error());
  size_t blocked = fleet->count(Verdict::Blocked), attention = fleet->count(Verdict::Attention);
  if (!a.quiet)
    std::fprintf(stderr, "decant: %zu ready, %zu needs attention, %zu blocked, %zu skipped; wrote %s, %s, %s\n",
                 fleet->count(Verdict::Ready), attention, blocked, fleet->count(Verdict::Skipped), files->html.c_str(),
                 files->markdown.c_str(), files->sarif.c_str());
  bool tripped = (a.fail_on == "blocked" && blocked > 0) || (a.fail_on == "attention" && blocked + attention > 0);
  if (a.json)
    if (int rc = print_json(report_result(a, *files, *fleet, tripped)); rc != 0) return rc;
  return tripped ? kExitGateTripped : 0;
}

Registrar registrar{Command{[](CLI::App& app) -> std::function<int()> {
                              auto a = std::make_shared<ReportArgs>();
                              CLI::App* cmd = app.add_subcommand(
                                  "report", "readiness report (HTML, Markdown, SARIF) from convert outputs");
                              cmd->add_option("outdir", a->outdirs, "convert OUTDIR (several: one fleet report)")
                                  ->required();
                              cmd->add_option("-o,--output", a->output,
                                              "the HTML file; FILE.md and FILE.sarif go beside it (default: "
                                              "OUTDIR/report.html, report.md, findings.sarif)");
                              cmd->add_option("--fail-on", a->fail_on,
                                              "exit 3 when a service is blocked, or blocked or needs attention")
                                  ->check(CLI::IsMember({"blocked", "attention"}));
                              cmd->add_flag("-q,--quiet", a->quiet, "no summary line");
                              add_json_flag(cmd, a->json);
                              return [a] { return run_report(*a); };
                            },
                            6}};

}  // namespace
}  // namespace decant
