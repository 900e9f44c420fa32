// The driver of summary building (summarize.h): the steps over one object,
// in order, each in the file named beside it.
#include "analyzer/code/summarize.h"

#include "analyzer/code/literals.h"
#include "analyzer/code/summary_builder.h"

namespace decant {

void SummaryBuilder::run() {
  disassemble();                // executable ranges into insns_ (functions.cpp)
  index_relocations();          // GOT slots, pointers stored in data (functions.cpp)
  find_plt_stubs();             // PLT stub -> GOT slot (functions.cpp)
  collect_starts();             // symbols, entry, init/fini, call targets, FDEs (functions.cpp)
  assign_functions();           // every instruction to the start at or below it (functions.cpp)
  build_data_items();           // data holding pointers, cut into items (data_items.cpp)
  build_edges();                // calls, imports, data references, fall-through (call_graph.cpp)
  resolve_syscall_numbers();    // rax at each syscall, constant import arguments (syscall_numbers.cpp)
  propagate_number_params();    // numbers passed to syscall()-like functions (syscall_numbers.cpp)
  collect_exports_and_roots();  // exports, entry, init/fini, data roots (call_graph.cpp)
  extract_literals(v_, insns_, first_, s_);  // paths, hosts, ports, dlopen names (literals.cpp)
}

ObjectSummary summarize_object(const CodeView& view) {
  ObjectSummary s;
  try {
    SummaryBuilder(view, s).run();
  } catch (const std::exception& e) {
    s = ObjectSummary{};
    s.error = e.what();
  }
  return s;
}

}  // namespace decant
