// Summary building, data items (object_summary.h: DataItem): data holding
// pointers is cut into items, from one data start (section, data symbol,
// address some relocation points to, GOT slot) to the next, so that a
// table's functions become reachable only with the code that uses the table.
// Items nothing visible refers to are roots.
#include <algorithm>
#include <tuple>

#include "analyzer/code/summary_builder.h"

namespace decant {

bool SummaryBuilder::in_data(uint64_t a) const {
  auto r = std::upper_bound(regions_.begin(), regions_.end(), std::make_pair(a, UINT64_MAX));
  return r != regions_.begin() && a < std::prev(r)->second && !v_.is_code(a);
}

int64_t SummaryBuilder::raw_item_of(uint64_t a) const {
  if (!in_data(a)) return -1;
  auto it = std::upper_bound(bounds_.begin(), bounds_.end(), a);
  if (it == bounds_.begin()) return -1;
  return (it - bounds_.begin()) - 1;
}

// Pointer slots in [lo, hi), as indices into data_slots_ (sorted by address).
std::pair<size_t, size_t> SummaryBuilder::slots_in(uint64_t lo, uint64_t hi) const {
  auto cmp = [](const DataSlot& d, uint64_t a) { return d.at < a; };
  size_t b = std::lower_bound(data_slots_.begin(), data_slots_.end(), lo, cmp) - data_slots_.begin();
  size_t e = std::lower_bound(data_slots_.begin(), data_slots_.end(), hi, cmp) - data_slots_.begin();
  return {b, std::max(b, e)};
}

// Would splitting at `a` (an address code takes with lea) cut an array
// whose base is `prev`? Yes when the pointer slots after `a` repeat those
// after `prev` at the same relative offsets: then `a` may be &table[k],
// and code indexing the table from its base must keep the entries past it.
bool SummaryBuilder::looks_like_array_interior(uint64_t prev, uint64_t a, uint64_t next) const {
  uint64_t len = std::min(a - prev, next - a);
  auto [b1, e1] = slots_in(prev, prev + len);
  auto [b2, e2] = slots_in(a, a + len);
  if (e1 - b1 != e2 - b2) return false;
  if (b1 == e1) return false;  // no pointers before `a`: nothing to lose
  for (size_t k = 0; k < e1 - b1; ++k)
    if (data_slots_[b1 + k].at - prev != data_slots_[b2 + k].at - a) return false;
  return true;
}

void SummaryBuilder::build_data_items() {
  if (!use_items()) return;
  for (auto& sec : v_.sections)
    if ((sec.flags & SHF_ALLOC) && !(sec.flags & SHF_EXECINSTR) && sec.size && sec.type != SHT_NULL &&
        sec.addr + sec.size > sec.addr)
      regions_.push_back({sec.addr, sec.addr + sec.size});
  if (v_.sections.empty())
    for (auto& l : v_.loads)
      if (!(l.flags & PF_X) && l.memsz && l.vaddr + l.memsz > l.vaddr) regions_.push_back({l.vaddr, l.vaddr + l.memsz});
  std::sort(regions_.begin(), regions_.end());
  std::sort(data_slots_.begin(), data_slots_.end(), [](auto& x, auto& y) { return x.at < y.at; });
  data_slots_.erase(std::remove_if(data_slots_.begin(), data_slots_.end(), [&](auto& d) { return !in_data(d.at); }),
                    data_slots_.end());

  // Hard starts: where one object certainly begins.
  std::set<uint64_t> starts;
  for (auto& [lo, hi] : regions_) starts.insert({lo, hi});
  for (auto& sec : v_.sections)  // each GOT slot is its own item: code loads slots one by one
    if ((sec.name == ".got" || sec.name == ".got.plt") && sec.size < (64u << 20))
      for (uint64_t a = sec.addr; a < sec.addr + sec.size; a += 8) starts.insert(a);
  for (auto& sym : v_.symbols)
    if (sym.defined && (sym.type == STT_OBJECT || sym.type == STT_COMMON) && sym.value) {
      starts.insert(sym.value);
      if (sym.size && sym.value + sym.size > sym.value) starts.insert(sym.value + sym.size);
    }
  for (auto& d : data_slots_)  // an address stored in data is the start of what it points to
    if (d.local && in_data(d.local)) starts.insert(d.local);
  // Soft starts: addresses code takes with lea, unless they look like the
  // inside of an array (looks_like_array_interior).
  std::set<uint64_t> leas;
  for (auto& in : insns_)
    if (in.op == Op::Lea && in_data(in.ref) && !starts.count(in.ref)) leas.insert(in.ref);
  std::set<uint64_t> all = starts;
  all.insert(leas.begin(), leas.end());
  for (uint64_t a : leas) {
    auto prev = std::prev(starts.upper_bound(a));
    auto next = all.upper_bound(a);
    if (next == all.end() || a - *prev > (1u << 20)) continue;
    if (!looks_like_array_interior(*prev, a, *next)) starts.insert(a);
  }
  bounds_.assign(starts.begin(), starts.end());

  slot_item_.resize(data_slots_.size());
  for (size_t k = 0; k < data_slots_.size(); ++k) slot_item_[k] = raw_item_of(data_slots_[k].at);
  for (size_t k = 0; k < data_slots_.size(); ++k) {
    int64_t r = slot_item_[k];
    if (r < 0) continue;
    if (!compact_.count(r)) {
      compact_[r] = static_cast<uint32_t>(s_.items.size());
      s_.items.push_back({bounds_[r], {}, {}, {}});
    }
    add_slot_edges(s_.items[compact_[r]], k);
  }
  for (auto& [r, c] : compact_) finish_item(s_.items[c]);
}

// Adds the edges of data_slots_[k] to `item`; item targets are raw item
// numbers until finish_item() maps them.
void SummaryBuilder::add_slot_edges(DataItem& item, size_t k) {
  const DataSlot& d = data_slots_[k];
  if (d.import >= 0) item.imports.push_back(static_cast<uint32_t>(d.import));
  if (d.local && v_.is_code(d.local)) {
    int64_t f = function_of(d.local);
    if (f >= 0) item.functions.push_back(static_cast<uint32_t>(f));
  } else if (d.local) {
    int64_t t = raw_item_of(d.local);
    if (t >= 0 && t != slot_item_[k]) item.items.push_back(static_cast<uint32_t>(t));
  }
}

void SummaryBuilder::finish_item(DataItem& item) {
  std::vector<uint32_t> mapped;
  for (uint32_t t : item.items) {
    auto c = compact_.find(t);
    if (c != compact_.end()) mapped.push_back(c->second);
  }
  item.items = std::move(mapped);
  for (auto* v : {&item.functions, &item.items, &item.imports}) {
    std::sort(v->begin(), v->end());
    v->erase(std::unique(v->begin(), v->end()), v->end());
  }
}

// Code referring to data address `a`: a lea takes an address that may be
// indexed or passed on, so the whole item is used; a load or store
// touches exactly its operand's bytes, so only the slots inside them.
void SummaryBuilder::refer_to_data(FunctionSummary& fn, const Insn& in) {
  uint64_t a = in.ref;
  if (!use_items() || !in_data(a)) return;
  if (in.mem_size == 0) {
    int64_t r = raw_item_of(a);
    if (r < 0) return;
    anchored_.insert(r);
    auto c = compact_.find(r);
    if (c != compact_.end()) fn.data.push_back(c->second);
    return;
  }
  auto [b, e] = slots_in(a, a + in.mem_size);
  if (b == e) return;
  for (size_t k = b; k < e; ++k) seen_slots_.insert(k);
  auto key = std::make_pair(a, static_cast<uint64_t>(in.mem_size));
  auto it = precise_.find(key);
  if (it == precise_.end()) {
    DataItem item{a, {}, {}, {}};
    for (size_t k = b; k < e; ++k) add_slot_edges(item, k);
    finish_item(item);
    it = precise_.emplace(key, static_cast<uint32_t>(s_.items.size())).first;
    s_.items.push_back(std::move(item));
  }
  fn.data.push_back(it->second);
}

// Exported data, and the pointer slots nothing visible refers to: those
// are read by someone we cannot see (ld.so, the unwinder, __start_SECTION
// loops, dlsym), so they stay reachable from load time.
void SummaryBuilder::collect_data_roots(std::set<uint32_t>& roots, std::set<uint32_t>& root_imports) {
  std::set<std::tuple<std::string, std::string>> seen;
  for (auto& sym : v_.symbols) {
    if (!sym.dynamic || !sym.defined || sym.bind == STB_LOCAL) continue;
    if (sym.type != STT_OBJECT && sym.type != STT_COMMON) continue;
    int64_t r = raw_item_of(sym.value);
    if (r < 0) continue;
    anchored_.insert(r);
    auto c = compact_.find(r);
    if (c == compact_.end() || !seen.insert({sym.name, sym.version}).second) continue;
    s_.data_exports.push_back({sym.name, sym.version, sym.default_version, c->second});
  }
  // Visible slots: inside an item code takes the address of or an export
  // names, read by a load, or inside an item a visible slot points to.
  std::map<int64_t, std::pair<size_t, size_t>> item_slots;
  for (size_t k = 0; k < data_slots_.size(); ++k) {
    if (slot_item_[k] < 0) continue;
    auto& range = item_slots.try_emplace(slot_item_[k], k, k).first->second;
    range.second = k + 1;
  }
  std::set<int64_t> visible_items;
  std::vector<size_t> work;
  auto see_item = [&](int64_t r) {
    if (!visible_items.insert(r).second) return;
    auto it = item_slots.find(r);
    if (it == item_slots.end()) return;
    for (size_t k = it->second.first; k < it->second.second; ++k)
      if (seen_slots_.insert(k).second) work.push_back(k);
  };
  for (size_t k : seen_slots_) work.push_back(k);
  for (int64_t r : anchored_) see_item(r);
  while (!work.empty()) {
    size_t k = work.back();
    work.pop_back();
    const DataSlot& d = data_slots_[k];
    if (d.local && !v_.is_code(d.local)) {
      int64_t t = raw_item_of(d.local);
      if (t >= 0) see_item(t);
    }
  }
  // The rest, grouped by item: roots.
  std::map<int64_t, DataItem> unseen;
  for (size_t k = 0; k < data_slots_.size(); ++k) {
    if (slot_item_[k] < 0 || seen_slots_.count(k)) continue;
    auto& item = unseen.try_emplace(slot_item_[k], DataItem{bounds_[slot_item_[k]], {}, {}, {}}).first->second;
    add_slot_edges(item, k);
  }
  for (auto& [r, item] : unseen) {
    finish_item(item);
    s_.root_items.push_back(static_cast<uint32_t>(s_.items.size()));
    s_.items.push_back(std::move(item));
  }
  // Personality routines are found by the unwinder through .eh_frame,
  // which refers to their pointer slot without a relocation.
  for (auto& item : s_.items) {
    for (uint32_t f : item.functions)
      if (s_.functions[f].name.find("_personality") != std::string::npos) roots.insert(f);
    for (uint32_t i : item.imports)
      if (s_.imports[i].name.find("_personality") != std::string::npos) root_imports.insert(i);
  }
}

}  // namespace decant
