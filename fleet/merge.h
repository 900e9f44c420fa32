// `decant fleet merge`: joins the per-source outputs that shards of one list
// wrote (`decant convert --shard-index`, on pods or runners, into one
// OUTDIR) into what one `decant convert` of the whole list writes at the
// top: the index OUTDIR/summary.json and the fleet report (report.html,
// report.md, findings.sarif), sources in list order (docs/fleet.md).
#pragma once

#include <string>
#include <vector>

#include "common/error.h"

namespace decant {

struct FleetMergeResult {
  size_t sources = 0, failed_services = 0;
};

// Bad input when a source of the list has no OUTDIR/<name>/summary.json
// (its shard has not run, or failed before writing) or it is unreadable;
// nothing is written then.
Result<FleetMergeResult> merge_fleet(const std::vector<std::string>& sources, const std::string& outdir);

}  // namespace decant
