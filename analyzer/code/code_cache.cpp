// Cache of object summaries (see code_cache.h). JSON because it is easy to
// inspect when a cached result looks wrong; arrays of numbers are kept flat
// so that loading libc's summary stays a few milliseconds.
#include "analyzer/code/code_cache.h"

#include <cstdlib>
#include <sys/stat.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/file_util.h"
#include "common/host_paths.h"

namespace decant {

using json = nlohmann::json;

std::string default_cache_root() { return cache_dir(); }

namespace {

std::string entry_path(const std::string& root, const std::string& sha) {
  return fmt::format("{}/code/v{}-{}.json", root, ObjectSummary::kFormatVersion, sha);
}

json literal_json(const LiteralRef& l) {
  return json::array({static_cast<int>(l.kind), l.value, l.hint, l.confidence, l.evidence, l.function});
}

}  // namespace

std::string summary_to_json(const ObjectSummary& s) {
  json j;
  j["version"] = ObjectSummary::kFormatVersion;
  j["sha256"] = s.sha256;
  j["error"] = s.error;
  j["instructions"] = s.instructions;
  j["code_bytes"] = s.code_bytes;
  j["entry"] = s.entry_function;
  json imports = json::array();
  for (auto& i : s.imports) imports.push_back({i.name, i.version});
  j["imports"] = std::move(imports);
  json exports = json::array();
  for (auto& e : s.exports) exports.push_back({e.name, e.version, e.default_version, e.function});
  j["exports"] = std::move(exports);
  j["roots"] = s.roots;
  j["root_imports"] = s.root_imports;
  json items = json::array();
  for (auto& d : s.items) items.push_back({d.addr, d.functions, d.items, d.imports});
  j["items"] = std::move(items);
  j["root_items"] = s.root_items;
  json dexports = json::array();
  for (auto& e : s.data_exports) dexports.push_back({e.name, e.version, e.default_version, e.function});
  j["data_exports"] = std::move(dexports);
  json fns = json::array();
  for (auto& f : s.functions) {
    json o;
    o["a"] = f.addr;
    if (!f.name.empty()) o["n"] = f.name;
    if (!f.calls.empty()) o["c"] = f.calls;
    if (!f.imports.empty()) o["i"] = f.imports;
    if (!f.syscalls.empty()) {
      json sc = json::array();
      for (auto& u : f.syscalls) sc.push_back({u.number, u.site});
      o["s"] = std::move(sc);
    }
    if (!f.unresolved.empty()) o["u"] = f.unresolved;
    if (!f.raw_sites.empty()) o["r"] = f.raw_sites;
    if (!f.vsyscall.empty()) o["v"] = f.vsyscall;
    if (f.number_param != kNoReg) o["p"] = f.number_param;
    if (!f.import_args.empty()) {
      json ia = json::array();
      for (auto& c : f.import_args) ia.push_back({c.import, c.site, c.values});
      o["x"] = std::move(ia);
    }
    if (!f.data.empty()) o["d"] = f.data;
    fns.push_back(std::move(o));
  }
  j["functions"] = std::move(fns);
  json lits = json::array();
  for (auto& l : s.literals) lits.push_back(literal_json(l));
  j["literals"] = std::move(lits);
  return j.dump();
}

std::optional<ObjectSummary> summary_from_json(const std::string& text) {
  try {
    json j = json::parse(text);
    if (j.at("version").get<int>() != ObjectSummary::kFormatVersion) return std::nullopt;
    ObjectSummary s;
    s.sha256 = j.at("sha256").get<std::string>();
    s.error = j.at("error").get<std::string>();
    s.instructions = j.at("instructions").get<uint64_t>();
    s.code_bytes = j.at("code_bytes").get<uint64_t>();
    s.entry_function = j.at("entry").get<int64_t>();
    for (auto& i : j.at("imports")) s.imports.push_back({i.at(0).get<std::string>(), i.at(1).get<std::string>()});
    for (auto& e : j.at("exports"))
      s.exports.push_back({e.at(0).get<std::string>(), e.at(1).get<std::string>(), e.at(2).get<bool>(),
                           e.at(3).get<uint32_t>()});
    s.roots = j.at("roots").get<std::vector<uint32_t>>();
    s.root_imports = j.at("root_imports").get<std::vector<uint32_t>>();
    const size_t nfn = j.at("functions").size();
    for (auto& d : j.at("items"))
      s.items.push_back({d.at(0).get<uint64_t>(), d.at(1).get<std::vector<uint32_t>>(),
                         d.at(2).get<std::vector<uint32_t>>(), d.at(3).get<std::vector<uint32_t>>()});
    s.root_items = j.at("root_items").get<std::vector<uint32_t>>();
    for (auto& e : j.at("data_exports"))
      s.data_exports.push_back({e.at(0).get<std::string>(), e.at(1).get<std::string>(), e.at(2).get<bool>(),
                                e.at(3).get<uint32_t>()});
    const size_t nitems = s.items.size();
    for (auto& d : s.items) {
      for (auto f : d.functions)
        if (f >= nfn) return std::nullopt;
      for (auto t : d.items)
        if (t >= nitems) return std::nullopt;
      for (auto i : d.imports)
        if (i >= s.imports.size()) return std::nullopt;
    }
    for (auto r : s.root_items)
      if (r >= nitems) return std::nullopt;
    for (auto& e : s.data_exports)
      if (e.function >= nitems) return std::nullopt;
    for (auto& o : j.at("functions")) {
      FunctionSummary f;
      f.addr = o.at("a").get<uint64_t>();
      if (o.contains("n")) f.name = o["n"].get<std::string>();
      if (o.contains("c")) f.calls = o["c"].get<std::vector<uint32_t>>();
      if (o.contains("i")) f.imports = o["i"].get<std::vector<uint32_t>>();
      if (o.contains("s"))
        for (auto& u : o["s"]) f.syscalls.push_back({u.at(0).get<int>(), u.at(1).get<uint64_t>()});
      if (o.contains("u")) f.unresolved = o["u"].get<std::vector<uint64_t>>();
      if (o.contains("r")) f.raw_sites = o["r"].get<std::vector<uint64_t>>();
      if (o.contains("v")) f.vsyscall = o["v"].get<std::vector<uint64_t>>();
      if (o.contains("p")) f.number_param = o["p"].get<int8_t>();
      if (o.contains("x"))
        for (auto& c : o["x"])
          f.import_args.push_back({c.at(0).get<uint32_t>(), c.at(1).get<uint64_t>(), c.at(2).get<std::vector<int64_t>>()});
      if (o.contains("d")) f.data = o["d"].get<std::vector<uint32_t>>();
      for (auto d : f.data)
        if (d >= nitems) return std::nullopt;
      // Indices must stay inside the summary: a corrupt entry is a miss.
      for (auto c : f.calls)
        if (c >= nfn) return std::nullopt;
      for (auto i : f.imports)
        if (i >= s.imports.size()) return std::nullopt;
      for (auto& c : f.import_args)
        if (c.import >= s.imports.size()) return std::nullopt;
      s.functions.push_back(std::move(f));
    }
    for (auto& e : s.exports)
      if (e.function >= nfn) return std::nullopt;
    for (auto r : s.roots)
      if (r >= nfn) return std::nullopt;
    for (auto r : s.root_imports)
      if (r >= s.imports.size()) return std::nullopt;
    if (s.entry_function >= static_cast<int64_t>(nfn)) return std::nullopt;
    for (auto& l : j.at("literals")) {
      LiteralRef r;
      int kind = l.at(0).get<int>();
      if (kind < 0 || kind > LiteralRef::DefaultPort) return std::nullopt;
      r.kind = static_cast<LiteralRef::Kind>(kind);
      r.value = l.at(1).get<std::string>();
      r.hint = l.at(2).get<std::string>();
      r.confidence = l.at(3).get<std::string>();
      r.evidence = l.at(4).get<std::string>();
      r.function = l.at(5).get<uint32_t>();
      if (r.function != UINT32_MAX && r.function >= nfn) return std::nullopt;
      s.literals.push_back(std::move(r));
    }
    return s;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::optional<ObjectSummary> load_cached_summary(const std::string& cache_root, const std::string& sha256) {
  auto text = read_file(entry_path(cache_root, sha256), 512ull << 20);
  if (!text) return std::nullopt;
  auto s = summary_from_json(*text);
  if (s && s->sha256 != sha256) return std::nullopt;
  return s;
}

void store_cached_summary(const std::string& cache_root, const ObjectSummary& s) {
  std::string dir = cache_root + "/code";
  // mkdir -p, ignoring errors: a failed store only costs time next run.
  for (size_t i = 1; i <= dir.size(); ++i)
    if (i == dir.size() || dir[i] == '/') ::mkdir(dir.substr(0, i).c_str(), 0755);
  std::string text;
  try {
    text = summary_to_json(s);
  } catch (const nlohmann::json::exception&) {
    return;  // names that are not UTF-8 (a guest's symbols are bytes) cannot be JSON: not cached
  }
  (void)write_file_atomic(entry_path(cache_root, s.sha256), text, Overwrite::Replace);
}

}  // namespace decant
