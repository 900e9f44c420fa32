// The report's three renderings of one Fleet model: report.html (for
// people, self-contained, printable), report.md (the same for a wiki or a
// ticket) and findings.sarif (SARIF 2.1.0 for code-scanning UIs). Pure
// functions of the model: the writers in write.cpp put them on disk.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>
#include <optional>
#include <string>

#include "report/model.h"

namespace decant {

// report_dir: the directory the file will be written to, so that links to
// the evidence files in each OUTDIR are relative and survive moving the
// whole tree (or opening it from a CI artifact).
std::string render_html(const Fleet& fleet, const std::string& report_dir);
std::string render_markdown(const Fleet& fleet, const std::string& report_dir);
std::string render_sarif(const Fleet& fleet);

// Where in the guest a piece of evidence points: an object and an address
// ("static: libfoo.so.1+0x1a2b in parse_conf" -> the library's guest path,
// 0x1a2b, parse_conf), or the first guest path it names, or else the
// service's binary.
struct GuestLocation {
  std::string path;
  std::optional<uint64_t> address;
  std::string function;
};
GuestLocation locate_evidence(const std::string& evidence, const Profile& profile);

// Evidence references "[1][2][3][4][7]" written as "[1]–[4][7]": a run of
// three or more consecutive numbers keeps its first and last. ref(n)
// renders one reference.
std::string ref_runs(const std::vector<size_t>& numbers, const std::function<std::string(size_t)>& ref);

// Percent-encodes what RFC 3986 does not allow in a path (keeps '/').
std::string uri_path_encode(const std::string& path);

// The href from report_dir to OUTDIR/file, relative when both are on one tree.
std::string evidence_href(const std::string& outdir, const std::string& file, const std::string& report_dir);


}  // namespace decant
