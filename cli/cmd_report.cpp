// `decant report OUTDIR... [-o FILE.html] [--fail-on blocked|attention]`: the
// readiness report (report.html, report.md, findings.sarif) from existing
// convert outputs; several OUTDIRs merge into one fleet report. --fail-on
// turns the verdicts into a CI gate (exit codes in docs/report.md).
#include <cstdio>
#include <memory>

#include "cli/command.h"
#include "report/write.h"

namespace decant {
namespace {

// Exit status when the report was written and --fail-on matched: distinct
// from 1 (the machine failed) and 2 (bad input), so a CI job can tell them apart.
constexpr int kGateFailed = 3;

struct ReportArgs {
  std::vector<std::string> outdirs;
  std::string output, fail_on;
  bool quiet = false;
};

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
  if (a.fail_on == "blocked" && blocked > 0) return kGateFailed;
  if (a.fail_on == "attention" && blocked + attention > 0) return kGateFailed;
  return 0;
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
                              return [a] { return run_report(*a); };
                            },
                            6}};

}  // namespace
}  // namespace decant
