// report.md: the readiness report as Markdown, for a wiki page or a ticket.
// The same content as report.html without the chart; every guest string goes
// through md_escape, and evidence is a numbered list per service whose
// entries link to the OUTDIR file they were read from.
#include <map>

#include <fmt/format.h>

#include "common/version.h"
#include "report/escape.h"
#include "report/render.h"

namespace decant {
namespace {

// The evidence of one service, numbered in first-use order: "[3]" in the text.
class MdEvidence {
 public:
  std::string refs(const EvidenceList& ev) {
    std::vector<size_t> numbers;
    for (const auto& e : ev) {
      auto key = std::make_pair(e.text, e.file);
      auto it = index_.find(key);
      if (it == index_.end()) {
        items_.push_back(e);
        it = index_.emplace(key, items_.size()).first;
      }
      numbers.push_back(it->second);
    }
    return numbers.empty() ? "" : " " + ref_runs(numbers, [](size_t n) { return fmt::format("\\[{}\\]", n); });
  }
  std::string list(const VmReport& vm, const std::string& report_dir) const {
    if (items_.empty()) return "";
    std::string out = "\nEvidence:\n\n";
    for (size_t i = 0; i < items_.size(); ++i) {
      const auto& e = items_[i];
      out += fmt::format("{}. {}", i + 1, md_escape(e.text));
      if (!e.file.empty())
        out += fmt::format(" — [{}](<{}>)", md_escape(e.file), evidence_href(vm.outdir, e.file, report_dir));
      out += "\n";
    }
    return out;
  }

 private:
  std::vector<EvidenceItem> items_;
  std::map<std::pair<std::string, std::string>, size_t> index_;
};

std::string vm_section(const VmReport& vm, const std::string& report_dir) {
  std::string out = fmt::format("## {}\n\n", md_escape(vm.name));
  out += "| | |\n|---|---|\n";
  out += fmt::format("| Source | {} |\n| OUTDIR | {} |\n| Operating system | {} |\n", md_escape(vm.source),
                     md_escape(vm.outdir_shown.empty() ? vm.outdir : vm.outdir_shown), md_escape(vm.os_pretty.empty() ? "unknown" : vm.os_pretty));
  if (vm.age)
    out += fmt::format("| OS age | **{}**: {} ({}) |\n", vm.age->status, md_escape(vm.age->text), md_escape(vm.os_evidence));
  else
    out += "| OS age | unknown or not in decant's table (report/data/os\\-eol.json) |\n";
  out += fmt::format("| Init | {} |\n", md_escape(vm.init));
  out += fmt::format("| Guest size | {} |\n\n",
                     vm.guest_size ? fmt::format("{} in {} regular files", human_size(*vm.guest_size), vm.guest_files)
                                   : std::string("unknown (the source is not readable from here)"));
  out += fmt::format("Verdicts: {} ready, {} needs attention, {} blocked, {} skipped.\n\n", vm.count(Verdict::Ready),
                     vm.count(Verdict::Attention), vm.count(Verdict::Blocked), vm.count(Verdict::Skipped));
  out += "| Service | Verdict | Why | Ports | Image |\n|---|---|---|---|---|\n";
  for (const auto& s : vm.services) {
    std::string why, ports;
    for (const auto& r : s.reasons) why += (why.empty() ? "" : "<br>") + md_escape(r.text);
    if (s.profile)
      for (const auto& l : s.profile->network.listen) ports += fmt::format("{}{}/{}", ports.empty() ? "" : ", ", l.port, l.proto);
    std::string image = "—";
    if (s.image_size) {
      image = human_size(s.image_size);
      if (vm.guest_size && *vm.guest_size)
        image += fmt::format(" ({:.1f}% of the guest)",
                             100.0 * static_cast<double>(s.image_size) / static_cast<double>(*vm.guest_size));
    }
    out += fmt::format("| {} ({}) | **{}** | {} | {} | {} |\n", md_escape(s.name), md_escape(s.manager),
                       verdict_name(s.verdict), why.empty() ? "no hazard, no open question" : why, ports, image);
  }
  for (const auto& s : vm.services) {
    MdEvidence ev;
    out += fmt::format("\n### {} ({}): {}\n\n", md_escape(s.name), md_escape(s.manager), verdict_name(s.verdict));
    for (const auto& r : s.reasons) out += fmt::format("- {} {}{}\n", r.rule, md_escape(r.text), ev.refs(r.evidence));
    if (s.reasons.empty()) out += "- Ready: no rule of docs/report.md raises it.\n";
    if (!s.hazards.empty()) out += "\nHazards and what to do:\n\n";
    for (const auto& h : s.hazards)
      out += fmt::format("- **{}** ({}): {}{}\n  What to do: {}\n", md_escape(h.id), h.severity, md_escape(h.message),
                         ev.refs(h.evidence), h.what_to_do_md.empty() ? "not documented in docs/hazards.md" : h.what_to_do_md);
    if (!s.facts.empty()) out += "\n| Fact | Value |\n|---|---|\n";
    for (const auto& f : s.facts)
      out += fmt::format("| {} | {}{} |\n", md_escape(f.label), md_escape(f.value), ev.refs(f.evidence));
    out += ev.list(vm, report_dir);
  }
  return out + "\n";
}

}  // namespace

std::string render_markdown(const Fleet& fleet, const std::string& report_dir) {
  std::string out = fleet.vms.size() == 1
                        ? fmt::format("# Container readiness: {}\n\n", md_escape(fleet.vms[0].name))
                        : fmt::format("# Container readiness: fleet of {} VMs\n\n", fleet.vms.size());
  out += fmt::format("Written by {} on {}. Verdict rules: docs/report.md; what to do: docs/hazards.md.\n\n", kVersionString,
                     iso_date(fleet.now));
  out += fmt::format("Verdicts: {} ready, {} needs attention, {} blocked, {} skipped.\n\n", fleet.count(Verdict::Ready),
                     fleet.count(Verdict::Attention), fleet.count(Verdict::Blocked), fleet.count(Verdict::Skipped));
  if (fleet.vms.size() > 1) {
    out += "| VM | Ready | Needs attention | Blocked | Skipped |\n|---|---|---|---|---|\n";
    for (const auto& vm : fleet.vms)
      out += fmt::format("| {} | {} | {} | {} | {} |\n", md_escape(vm.name), vm.count(Verdict::Ready),
                         vm.count(Verdict::Attention), vm.count(Verdict::Blocked), vm.count(Verdict::Skipped));
    out += "\n";
  }
  for (const auto& vm : fleet.vms) out += vm_section(vm, report_dir);
  return out;
}

}  // namespace decant
