// Literal facts of one object (literals.cpp): strings its code references
// (paths, host names, port strings, dlopen names, service names) and port
// numbers stored as immediates into a sockaddr, each attributed to the
// function that references it.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "analyzer/code/disassembly.h"
#include "analyzer/code/object_summary.h"
#include "elf/code_view.h"

namespace decant {

// Adds literal facts to `summary`.
// Requires: summary's functions were built from this view; insns is its
// disassembly and function_first_insn[f] the index of function f's first
// instruction (one entry per function, then insns.size()).
void extract_literals(const CodeView& view, const std::vector<Insn>& insns,
                      const std::vector<size_t>& function_first_insn, ObjectSummary& summary);

// Whether a long string is a configuration carried as text (printable
// lines, most of them a directive and a value or two) rather than a
// message or a usage text: only then is it read for listen directives.
bool is_config_text(const std::string& s);

}  // namespace decant
