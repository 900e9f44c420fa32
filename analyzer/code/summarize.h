// What code analysis learns about one ELF object on its own: builds its
// ObjectSummary (object_summary.h) from its code view. The steps are in
// summary_builder.h; the closure-wide passes start from these summaries.
#pragma once

#include "analyzer/code/object_summary.h"
#include "elf/code_view.h"

namespace decant {

// Builds the summary of one object (disassembly, functions, edges, syscall
// sites, literal facts). Never throws; an object that cannot be analyzed
// has `error` set.
ObjectSummary summarize_object(const CodeView& view);

}  // namespace decant
