// The builder of one object's summary (summarize.h), shared by the files that
// implement its steps: functions.cpp (disassembly, relocations, PLT stubs,
// function starts), data_items.cpp (data holding pointers), call_graph.cpp
// (edges, non-returning functions, exports and roots) and syscall_numbers.cpp
// (syscall numbers at each site). summarize.cpp runs the steps in order.
#pragma once

#include <elf.h>

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "analyzer/code/disassembly.h"
#include "analyzer/code/object_summary.h"
#include "analyzer/code/syscall_sites.h"
#include "elf/code_view.h"

namespace decant {

// Where a GOT slot leads: an imported symbol (resolved in the global scope at
// run time) or a local address (RELATIVE/IRELATIVE, or a constant slot).
struct SlotTarget {
  int64_t import = -1;
  uint64_t local = 0;
};

class SummaryBuilder {
 public:
  SummaryBuilder(const CodeView& v, ObjectSummary& s) : v_(v), s_(s) {}
  void run();

 private:
  // functions.cpp
  void disassemble();
  uint32_t import_index(const std::string& name, const std::string& version);
  void index_relocations();
  SlotTarget slot(uint64_t addr) const;
  void find_plt_stubs();
  void add_start(uint64_t a);
  void collect_starts();
  void collect_fde_starts();
  void assign_functions();
  int64_t function_of(uint64_t addr) const;

  // data_items.cpp. Items only for relocatable objects (PIE, shared
  // libraries): there every pointer in data carries a relocation, so the
  // graph of who points where is complete. Non-PIE files keep the load-time rule.
  bool use_items() const { return v_.type != ET_EXEC; }
  bool in_data(uint64_t a) const;
  int64_t raw_item_of(uint64_t a) const;
  std::pair<size_t, size_t> slots_in(uint64_t lo, uint64_t hi) const;
  bool looks_like_array_interior(uint64_t prev, uint64_t a, uint64_t next) const;
  void build_data_items();
  void add_slot_edges(DataItem& item, size_t k);
  void finish_item(DataItem& item);
  void refer_to_data(FunctionSummary& fn, const Insn& in);
  void collect_data_roots(std::set<uint32_t>& roots, std::set<uint32_t>& root_imports);

  // call_graph.cpp
  void edge_to_slot(FunctionSummary& fn, uint64_t slot_addr, bool& resolved);
  static bool noreturn_name(const std::string& n);
  bool calls_noreturn(const Insn& in) const;
  void find_noreturn();
  void build_edges();
  void add_jump_table_edges(size_t f, FunctionSummary& fn);
  void collect_exports_and_roots();

  // syscall_numbers.cpp
  const PredecessorMap& preds_of(size_t f);
  void record(FunctionSummary& fn, const TrackedValue& tv, uint64_t site);
  void resolve_syscall_numbers();
  void propagate_number_params();

  // A pointer-sized relocation in data: to a local address, an import, or both.
  struct DataSlot {
    uint64_t at = 0;
    uint64_t local = 0;
    int64_t import = -1;
  };
  const CodeView& v_;
  ObjectSummary& s_;
  std::vector<Insn> insns_;
  std::vector<CodeRange> plt_ranges_;
  std::map<uint64_t, SlotTarget> slots_;
  std::map<uint64_t, uint64_t> stubs_;  // stub address -> GOT slot
  std::vector<uint64_t> data_code_;  // code addresses stored in data: function starts
  std::set<uint32_t> data_imports_;
  std::vector<DataSlot> data_slots_;
  std::vector<uint64_t> irelative_;
  std::set<uint32_t> copy_imports_;
  std::vector<std::pair<uint64_t, uint64_t>> regions_;  // allocated non-code address ranges, sorted
  std::vector<uint64_t> bounds_;                        // item starts (and region ends), sorted
  std::map<int64_t, uint32_t> compact_;                 // raw item -> index into s_.items
  std::vector<int64_t> slot_item_;                      // data_slots_[k] -> raw item
  std::set<int64_t> anchored_;                          // raw items code or an export refers to
  std::set<size_t> seen_slots_;                         // slots a load reads (then: every visible slot)
  std::map<std::pair<uint64_t, uint64_t>, uint32_t> precise_;  // (address, size) of a load -> item
  std::set<uint64_t> starts_;
  std::set<uint64_t> referenced_;  // every rip-relative address code names (jump-table bounds)
  std::vector<uint64_t> starts_vec_;
  std::map<uint64_t, std::string> names_;
  std::map<uint64_t, bool> name_dynamic_;
  std::vector<size_t> first_;
  std::map<ImportRef, uint32_t> import_ids_;
  std::map<size_t, PredecessorMap> pred_cache_;
  std::vector<bool> noreturn_;
  std::set<std::pair<uint64_t, int>> handled_;
};

}  // namespace decant
