// Merging sharded convert outputs (see merge.h): every source's
// summary.json is read and checked against the list before anything is
// written, then the index and the fleet report are written as `decant
// convert` writes them for the whole list.
#include "fleet/merge.h"

#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include "common/file_util.h"
#include "convert/convert.h"
#include "report/write.h"

namespace decant {
namespace {

using json = nlohmann::json;

// What the index needs of one source's summary.json: its source, OS, init
// and each service's status.
Result<SourceReport> read_source_summary(const std::string& dir, const std::string& name, const std::string& source) {
  std::string path = dir + "/summary.json";
  auto text = read_file(path);
  if (!text)
    return bad_input(fmt::format("{}: no summary.json for source {} (has its shard run?)", dir, source));
  json j = json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("services") || !j["services"].is_array())
    return bad_input(fmt::format("{}: not the summary.json of one converted source", path));
  SourceReport r;
  r.name = name;
  r.source = j.value("source", "");
  r.os = j.value("os", "");
  r.init = j.value("init", "");
  if (r.source != source)
    return bad_input(fmt::format("{}: converted {}, but the list has {} there (another list, or another order?)", path,
                                 r.source, source));
  for (const auto& s : j["services"]) {
    ServiceOutcome out;
    out.name = s.is_object() ? s.value("name", "") : "";
    out.status = s.is_object() ? s.value("status", "") : "";
    if (out.status.empty()) return bad_input(fmt::format("{}: a service without a status", path));
    r.services.push_back(std::move(out));
  }
  return r;
}

}  // namespace

Result<FleetMergeResult> merge_fleet(const std::vector<std::string>& sources, const std::string& outdir) {
  if (sources.empty()) return bad_input("fleet merge: the source list is empty");
  // Named over the whole list, as every shard named its own source.
  std::vector<std::string> names = source_dir_names(sources, true);
  ConvertReport all;
  std::vector<std::string> outdirs;
  for (size_t i = 0; i < sources.size(); ++i) {
    outdirs.push_back(outdir + "/" + names[i]);
    auto r = read_source_summary(outdirs.back(), names[i], sources[i]);
    if (!r) return r.error();
    all.sources.push_back(std::move(*r));
  }
  FleetMergeResult result;
  result.sources = sources.size();
  for (const auto& src : all.sources)
    for (const auto& s : src.services) result.failed_services += s.status == "failed";
  if (Status s = write_file_atomic(outdir + "/summary.json", index_json(all)); !s) return s.error();
  if (Status s = write_convert_reports(outdir, outdirs); !s) return s.error();
  return result;
}

}  // namespace decant
