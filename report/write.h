// Writing the readiness report to disk: report.html, report.md and
// findings.sarif from one or more convert OUTDIRs (docs/report.md). All
// inputs are read and all three texts rendered before anything is written;
// each file is written under a temporary name and renamed into place.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/error.h"
#include "report/model.h"

namespace decant {

struct ReportOptions {
  // The HTML file; report.md and findings.sarif go beside it (FILE.html ->
  // FILE.md, FILE.sarif). Empty: OUTDIR/report.html, OUTDIR/report.md,
  // OUTDIR/findings.sarif, which needs exactly one OUTDIR.
  std::string output;
  int64_t now = -1;  // the report's date; -1: $SOURCE_DATE_EPOCH, else the clock
  bool measure_guest = true;
};

struct ReportFiles {
  std::string html, markdown, sarif;
};

// Where the three files go for these OUTDIRs and options (bad input: several
// OUTDIRs without an output, or an output naming a directory).
Result<ReportFiles> report_files(const std::vector<std::string>& outdirs, const ReportOptions& options);

// Reads the OUTDIRs, writes the three files, returns the model (for
// --fail-on). Bad input (not a convert OUTDIR, corrupt summary.json or
// profile): nothing is written.
Result<Fleet> write_reports(const std::vector<std::string>& outdirs, const ReportOptions& options);

// What `decant convert` calls when it is done: each OUTDIR gets its own
// report; with several sources converted into subdirectories of output, a
// fleet report of them all goes to output/ too (report.html, report.md,
// findings.sarif, the names one OUTDIR's files have).
Status write_convert_reports(const std::string& output, const std::vector<std::string>& outdirs);

}  // namespace decant
