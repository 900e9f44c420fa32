// What docs/hazards.md says about each hazard id: its severity, what it
// means and what to do. The report's advice and SARIF's rule help come from
// the doc's tables, read from the copy compiled into decant, so the doc is
// the one place that text is written and a new hazard documented there
// reaches both without a code change.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "common/error.h"

namespace decant {

struct HazardDoc {
  std::string id, severity;
  std::string meaning_md, what_to_do_md;  // the cells as written (Markdown)
  std::string meaning, what_to_do;        // the same as plain text
  std::string section;                    // the heading above the table
};

using HazardDocs = std::map<std::string, HazardDoc>;

// Reads every table whose header row starts with `id | severity` and ends
// with `what to do`. Errors name the line: a row with the wrong number of
// cells, an unknown severity, an id documented twice, or no table at all.
Result<HazardDocs> parse_hazard_doc(std::string_view markdown);

// The compiled-in docs/hazards.md, parsed once. Its parse is a unit test
// (report.HazardDoc.BuiltinDocParses), so an empty map here means a broken build.
const HazardDocs& builtin_hazard_docs();

// Markdown inline syntax to plain text: `code` -> code, [text](url) -> text,
// **strong** -> strong.
std::string markdown_to_text(std::string_view md);

}  // namespace decant
