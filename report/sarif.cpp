// findings.sarif: one SARIF 2.1.0 run per VM, one result per hazard of each
// service and one per blocked service. Rule ids are hazard ids and their
// help is docs/hazards.md's text; locations point at the guest file (with
// the address when the evidence names one) under the uriBaseId GUESTROOT.
#include <cctype>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/file_util.h"
#include "common/host_paths.h"
#include "common/version.h"
#include "report/escape.h"
#include "report/hazard_doc.h"
#include "report/render.h"

namespace decant {
namespace {

using json = nlohmann::ordered_json;

constexpr const char* kBlockedRule = "service-blocked";

const char* level(const std::string& severity) {
  return severity == "error" ? "error" : severity == "warning" ? "warning" : "note";
}

std::string first_sentence(const std::string& text) {
  size_t dot = text.find(". ");
  return dot == std::string::npos ? text : text.substr(0, dot + 1);
}

json rule_for(const std::string& id, const HazardDoc* doc, const std::string& fallback_severity) {
  json r;
  r["id"] = id;
  if (doc) {
    r["shortDescription"] = {{"text", first_sentence(doc->meaning)}};
    r["fullDescription"] = {{"text", doc->meaning}};
    r["help"] = {{"text", "What to do: " + doc->what_to_do},
                 {"markdown", "**What it means.** " + doc->meaning_md + "\n\n**What to do.** " + doc->what_to_do_md}};
  } else {
    r["shortDescription"] = {{"text", "Hazard " + id + " (not documented in docs/hazards.md)"}};
  }
  r["defaultConfiguration"] = {{"level", level(doc ? doc->severity : fallback_severity)}};
  r["properties"] = {{"tags", json::array({"decant", "hazard"})}};
  return r;
}

json blocked_rule() {
  json r;
  r["id"] = kBlockedRule;
  r["shortDescription"] = {{"text", "A service that will not run as converted."}};
  r["fullDescription"] = {{"text", "decant could not convert the service, or a hazard of severity error says the "
                                   "converted container will not run (docs/report.md, verdict rules B1 and B2)."}};
  r["help"] = {{"text", "What to do: read the reasons; each names the hazard or the conversion error and its "
                        "evidence. Fix the cause in the guest or the profile and convert again."},
               {"markdown", "**What to do.** Read the reasons: each names the hazard or the conversion error and "
                            "its evidence. Fix the cause in the guest or the profile and convert again."}};
  r["defaultConfiguration"] = {{"level", "error"}};
  r["properties"] = {{"tags", json::array({"decant", "verdict"})}};
  return r;
}

json physical(const GuestLocation& loc) {
  json p;
  std::string rel = loc.path.size() > 1 && loc.path[0] == '/' ? loc.path.substr(1) : loc.path;
  p["artifactLocation"] = {{"uri", uri_path_encode(displayable(rel))}, {"uriBaseId", "GUESTROOT"}};
  if (loc.address) p["address"] = {{"absoluteAddress", *loc.address}, {"kind", "instruction"}};
  return p;
}

json location(const GuestLocation& loc, const std::string& evidence, int id) {
  json l;
  if (id >= 0) l["id"] = id;
  l["physicalLocation"] = physical(loc);
  if (!loc.function.empty())
    l["logicalLocations"] = json::array({{{"name", displayable(loc.function)}, {"kind", "function"}}});
  l["message"] = {{"text", displayable(evidence)}};
  return l;
}

json evidence_texts(const EvidenceList& ev) {
  json a = json::array();
  for (const auto& e : ev) a.push_back(displayable(e.text));
  return a;
}

json hazard_result(const VmReport& vm, const ServiceReport& s, const HazardFinding& h, int rule_index) {
  json r;
  r["ruleId"] = h.id;
  r["ruleIndex"] = rule_index;
  r["level"] = level(h.severity);
  r["message"] = {{"text", displayable(fmt::format("{}: {}", s.name, h.message))}};
  json locs = json::array(), related = json::array();
  for (size_t i = 0; i < h.evidence.size(); ++i) {
    GuestLocation loc = locate_evidence(h.evidence[i].text, *s.profile);
    if (i == 0) locs.push_back(location(loc, h.evidence[i].text, -1));
    else related.push_back(location(loc, h.evidence[i].text, static_cast<int>(i)));
  }
  if (locs.empty()) locs.push_back(location({s.profile->binary.path, std::nullopt, ""}, "the service's binary", -1));
  r["locations"] = locs;
  if (!related.empty()) r["relatedLocations"] = related;
  r["properties"] = {{"vm", displayable(vm.name)}, {"service", displayable(s.name)},
                     {"manager", displayable(s.manager)}, {"evidence", evidence_texts(h.evidence)}};
  return r;
}

json blocked_result(const VmReport& vm, const ServiceReport& s, int rule_index) {
  std::string why;
  for (const auto& r : s.reasons)
    if (r.raises_to == Verdict::Blocked) why += (why.empty() ? "" : "; ") + r.text;
  json r;
  r["ruleId"] = kBlockedRule;
  r["ruleIndex"] = rule_index;
  r["level"] = "error";
  r["message"] = {{"text", displayable(fmt::format("{} is blocked: {}", s.name, why))}};
  std::string binary = s.profile ? s.profile->binary.path : s.binary;
  if (!binary.empty()) r["locations"] = json::array({location({binary, std::nullopt, ""}, "the service's binary", -1)});
  json ev = json::array();
  for (const auto& reason : s.reasons)
    for (const auto& e : reason.evidence) ev.push_back(displayable(e.text));
  r["properties"] = {{"vm", displayable(vm.name)}, {"service", displayable(s.name)},
                     {"manager", displayable(s.manager)}, {"status", s.status}, {"evidence", ev}};
  return r;
}

std::string guest_root(const VmReport& vm) {
  for (const auto& s : vm.services)
    if (s.profile && !s.profile->source.root.empty()) return s.profile->source.root;
  return vm.source.empty() ? "/" : absolute_path(vm.source);
}

json run_for(const VmReport& vm) {
  const auto& docs = builtin_hazard_docs();
  json rules = json::array();
  std::map<std::string, int> index;
  for (const auto& [id, doc] : docs) {
    index[id] = static_cast<int>(rules.size());
    rules.push_back(rule_for(id, &doc, doc.severity));
  }
  for (const auto& s : vm.services)
    for (const auto& h : s.hazards)
      if (!index.count(h.id)) {
        index[h.id] = static_cast<int>(rules.size());
        rules.push_back(rule_for(h.id, nullptr, h.severity));
      }
  index[kBlockedRule] = static_cast<int>(rules.size());
  rules.push_back(blocked_rule());

  json results = json::array();
  for (const auto& s : vm.services) {
    for (const auto& h : s.hazards) results.push_back(hazard_result(vm, s, h, index[h.id]));
    if (s.verdict == Verdict::Blocked) results.push_back(blocked_result(vm, s, index[kBlockedRule]));
  }
  std::string root = guest_root(vm);
  if (root.empty() || root.back() != '/') root += '/';
  json run;
  run["tool"] = {{"driver",
                  {{"name", "decant"},
                   {"version", kVersion},
                   {"semanticVersion", kVersion},
                   {"rules", rules}}}};
  run["automationDetails"] = {{"id", displayable("decant-report/" + vm.name + "/")}};
  run["originalUriBaseIds"] = {
      {"GUESTROOT",
       {{"uri", "file://" + uri_path_encode(displayable(root))},
        {"description", {{"text", "The guest root directory convert read (as it was on the converting host)."}}}}}};
  run["results"] = results;
  run["properties"] = {{"vm", displayable(vm.name)}, {"os", displayable(vm.os_pretty)},
                       {"outdir", displayable(vm.outdir_shown.empty() ? vm.outdir : vm.outdir_shown)}};
  return run;
}

// The object named "NAME+0xHEX" in evidence, as a guest path.
std::string object_path(const std::string& name, const Profile& p) {
  if (name == path_basename(p.binary.path)) return p.binary.path;
  for (const auto& l : p.libraries)
    if (l.soname == name || path_basename(l.path) == name) return l.path;
  return "";
}

}  // namespace

std::string uri_path_encode(const std::string& path) {
  std::string out;
  for (unsigned char c : path) {
    if (std::isalnum(c) || c == '/' || c == '-' || c == '.' || c == '_' || c == '~') out += static_cast<char>(c);
    else out += fmt::format("%{:02X}", c);
  }
  return out;
}

GuestLocation locate_evidence(const std::string& e, const Profile& p) {
  GuestLocation loc;
  // "NAME+0xHEX" where NAME is a word of the text.
  for (size_t plus = e.find("+0x"); plus != std::string::npos; plus = e.find("+0x", plus + 1)) {
    size_t start = e.rfind(' ', plus);
    start = start == std::string::npos ? 0 : start + 1;
    std::string obj = object_path(e.substr(start, plus - start), p);
    if (obj.empty()) continue;
    size_t end = plus + 3;
    while (end < e.size() && std::isxdigit(static_cast<unsigned char>(e[end]))) ++end;
    if (end == plus + 3 || end - plus - 3 > 16) continue;
    loc.path = obj;
    loc.address = std::stoull(e.substr(plus + 3, end - plus - 3), nullptr, 16);
    size_t in = e.find(" in ", end);
    if (in != std::string::npos) {
      size_t fstart = in + 4, fend = e.find_first_of(" ,;()", fstart);
      loc.function = e.substr(fstart, fend == std::string::npos ? std::string::npos : fend - fstart);
    }
    return loc;
  }
  // "static: OBJECT: … referenced at 0xHEX" or "static: OBJECT calls …" (the
  // code analysis's evidence): the object, and the address of the code that
  // uses the literal when there is one.
  size_t colon = e.find(": ");
  if (colon != std::string::npos) {
    size_t start = colon + 2, end = e.find_first_of(" :", start);
    std::string obj = end == std::string::npos ? "" : object_path(e.substr(start, end - start), p);
    if (!obj.empty()) {
      loc.path = obj;
      size_t at = e.rfind("referenced at 0x");
      size_t hex = at == std::string::npos ? std::string::npos : at + 16;
      size_t stop = hex;
      while (stop != std::string::npos && stop < e.size() && std::isxdigit(static_cast<unsigned char>(e[stop]))) ++stop;
      if (hex != std::string::npos && stop > hex && stop - hex <= 16)
        loc.address = std::stoull(e.substr(hex, stop - hex), nullptr, 16);
      return loc;
    }
  }
  // The first absolute path the text names.
  for (size_t i = e.find('/'); i != std::string::npos; i = e.find('/', i + 1)) {
    if (i > 0 && e[i - 1] != ' ' && e[i - 1] != '(' && e[i - 1] != '=' && e[i - 1] != '\'' && e[i - 1] != '"') continue;
    size_t end = e.find_first_of(" ,;:)'\"", i);
    std::string path = e.substr(i, end == std::string::npos ? std::string::npos : end - i);
    if (path.size() > 1) {
      loc.path = path;
      return loc;
    }
  }
  loc.path = p.binary.path;
  return loc;
}

std::string evidence_href(const std::string& outdir, const std::string& file, const std::string& report_dir) {
  return uri_path_encode(displayable(relative_path(outdir + "/" + file, report_dir)));
}

std::string render_sarif(const Fleet& fleet) {
  json log;
  log["$schema"] = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";
  log["version"] = "2.1.0";
  log["runs"] = json::array();
  for (const auto& vm : fleet.vms) log["runs"].push_back(run_for(vm));
  return log.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace decant
