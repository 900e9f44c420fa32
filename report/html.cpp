// report.html: one self-contained page (inline CSS and SVG, no scripts, no
// fonts or images from the network) that a consultant can hand over as is
// and print to PDF. Every string from a guest goes through html_escape.
// Per service a <details> section lists the verdict's reasons, the hazards
// with what to do, and the facts, each linking to numbered evidence entries
// that link to the OUTDIR file they were read from.
#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "common/version.h"
#include "report/escape.h"
#include "report/render.h"

namespace decant {
namespace {

const char* kStyle = R"css(
:root { --ready: #2e7d32; --attention: #b26a00; --blocked: #c62828; --skipped: #757575; --line: #d0d4d9; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: #1d2329;
       margin: 0 auto; max-width: 1100px; padding: 24px; }
h1 { font-size: 24px; margin: 0 0 4px; } h2 { font-size: 19px; margin: 28px 0 8px; border-bottom: 2px solid var(--line); }
h3 { font-size: 16px; margin: 18px 0 6px; } h4 { font-size: 14px; margin: 12px 0 4px; }
.meta { color: #56606b; margin: 0 0 16px; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; }
th, td { text-align: left; vertical-align: top; padding: 5px 8px; border-bottom: 1px solid var(--line); }
th { background: #f3f5f7; font-weight: 600; }
td.num, .nowrap { text-align: right; white-space: nowrap; } .nowrap { text-align: left; }
code, .mono { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12.5px; overflow-wrap: anywhere; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; color: #fff; font-weight: 600; font-size: 12px;
         white-space: nowrap; }
.ready { background: var(--ready); } .attention { background: var(--attention); }
.blocked { background: var(--blocked); } .skipped { background: var(--skipped); }
.os-supported { color: var(--ready); } .os-extended { color: var(--attention); } .os-end-of-life { color: var(--blocked); }
.counts span { margin-right: 10px; }
details { border: 1px solid var(--line); border-radius: 6px; margin: 8px 0; padding: 0 12px; }
details > summary { cursor: pointer; padding: 8px 0; font-weight: 600; }
details[open] > summary { border-bottom: 1px solid var(--line); margin-bottom: 6px; }
.hazard { border-left: 4px solid var(--attention); padding: 4px 10px; margin: 6px 0; background: #fffaf2; }
.hazard.error { border-color: var(--blocked); background: #fff5f5; } .hazard.info { border-color: var(--skipped); background: #f7f7f7; }
.todo { margin: 2px 0 0; } .ev a, a.ev { font-size: 11px; vertical-align: super; text-decoration: none; margin-left: 2px; }
ol.evidence { font-size: 12.5px; padding-left: 28px; } ol.evidence li { margin: 2px 0; overflow-wrap: anywhere; }
ol.evidence .src { color: #56606b; }
.chart { margin: 8px 0 4px; } .chart text { font-size: 12px; fill: #1d2329; }
footer { margin-top: 32px; color: #56606b; font-size: 12px; border-top: 1px solid var(--line); padding-top: 8px; }
@page { margin: 14mm; }
@media print {
  body { padding: 0; max-width: none; font-size: 11.5px; }
  details::details-content { content-visibility: visible; display: block; }
  details { break-inside: auto; } tr, .hazard { break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
  .badge { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
)css";

std::string badge(Verdict v) {
  return fmt::format("<span class=\"badge {}\">{}</span>", verdict_key(v), verdict_name(v));
}

// The evidence entries of one service, numbered in first-use order.
class EvidenceIndex {
 public:
  explicit EvidenceIndex(std::string prefix) : prefix_(std::move(prefix)) {}
  // Links to the entries for ev, adding them.
  std::string refs(const EvidenceList& ev) {
    std::vector<size_t> numbers;
    for (const auto& e : ev) numbers.push_back(number(e));
    return ref_runs(numbers, [&](size_t n) {
      return fmt::format("<a class=\"ev\" href=\"#{}-e{}\">[{}]</a>", prefix_, n, n);
    });
  }
  std::string list(const VmReport& vm, const std::string& report_dir) const {
    if (items_.empty()) return "";
    std::string out = "<h4>Evidence</h4>\n<ol class=\"evidence\">\n";
    for (size_t i = 0; i < items_.size(); ++i) {
      const auto& e = items_[i];
      std::string src = e.file.empty()
                            ? std::string()
                            : fmt::format(" <span class=\"src\">— <a href=\"{}\">{}</a></span>",
                                          html_escape(evidence_href(vm.outdir, e.file, report_dir)), html_escape(e.file));
      out += fmt::format("<li id=\"{}-e{}\"><span class=\"mono\">{}</span>{}</li>\n", prefix_, i + 1,
                         html_escape(e.text), src);
    }
    return out + "</ol>\n";
  }

 private:
  size_t number(const EvidenceItem& e) {
    auto key = std::make_pair(e.text, e.file);
    auto it = index_.find(key);
    if (it == index_.end()) {
      items_.push_back(e);
      it = index_.emplace(key, items_.size()).first;
    }
    return it->second;
  }
  std::string prefix_;
  std::vector<EvidenceItem> items_;
  std::map<std::pair<std::string, std::string>, size_t> index_;
};

// Horizontal bars: label, value, text after the bar, CSS class.
struct Bar {
  std::string label;
  double value;
  std::string note, cls;
};

std::string bar_chart(const std::string& title, const std::vector<Bar>& bars, double max) {
  const int label_w = 190, bar_w = 560, row_h = 24, width = 900;
  int height = 26 + row_h * static_cast<int>(bars.size());
  std::string out = fmt::format(
      "<svg class=\"chart\" role=\"img\" aria-label=\"{0}\" width=\"{1}\" height=\"{2}\" viewBox=\"0 0 {1} {2}\" "
      "xmlns=\"http://www.w3.org/2000/svg\">\n<title>{0}</title>\n<text x=\"0\" y=\"14\" "
      "font-weight=\"600\">{0}</text>\n",
      html_escape(title), width, height);
  for (size_t i = 0; i < bars.size(); ++i) {
    const Bar& b = bars[i];
    int y = 24 + row_h * static_cast<int>(i);
    double w = max > 0 ? b.value / max * bar_w : 0;
    if (b.value > 0 && w < 2) w = 2;
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n", label_w - 8, y + 15,
                       html_escape(b.label));
    out += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{:.1f}\" height=\"16\" rx=\"2\" fill=\"{}\"/>\n", label_w, y + 3,
                       w, b.cls);
    out += fmt::format("<text x=\"{:.1f}\" y=\"{}\">{}</text>\n", label_w + w + 6, y + 15, html_escape(b.note));
  }
  return out + "</svg>\n";
}

// Stacked bars of verdict counts, one per VM.
std::string verdict_chart(const Fleet& fleet) {
  const int label_w = 190, bar_w = 560, row_h = 24, width = 900;
  int height = 50 + row_h * static_cast<int>(fleet.vms.size());
  size_t max = 1;
  for (const auto& vm : fleet.vms) max = std::max(max, vm.services.size());
  std::string out = fmt::format(
      "<svg class=\"chart\" role=\"img\" aria-label=\"Verdicts per VM\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 "
      "{0} {1}\" xmlns=\"http://www.w3.org/2000/svg\">\n<title>Verdicts per VM</title>\n<text x=\"0\" y=\"14\" "
      "font-weight=\"600\">Verdicts per VM</text>\n",
      width, height);
  const std::pair<Verdict, const char*> kinds[] = {{Verdict::Ready, "#2e7d32"},
                                                   {Verdict::Attention, "#b26a00"},
                                                   {Verdict::Blocked, "#c62828"},
                                                   {Verdict::Skipped, "#9e9e9e"}};
  for (size_t i = 0; i < fleet.vms.size(); ++i) {
    const VmReport& vm = fleet.vms[i];
    int y = 24 + row_h * static_cast<int>(i);
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n", label_w - 8, y + 15,
                       html_escape(vm.name));
    double x = label_w;
    for (const auto& [v, color] : kinds) {
      size_t n = vm.count(v);
      if (n == 0) continue;
      double w = static_cast<double>(n) / static_cast<double>(max) * bar_w;
      out += fmt::format("<rect x=\"{:.1f}\" y=\"{}\" width=\"{:.1f}\" height=\"16\" fill=\"{}\"><title>{} {}</title></rect>\n",
                         x, y + 3, w, color, n, verdict_name(v));
      if (w >= 18)
        out += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\" fill=\"#fff\" style=\"fill:#fff\">{}</text>\n",
                           x + w / 2, y + 15, n);
      x += w;
    }
  }
  int ly = 24 + row_h * static_cast<int>(fleet.vms.size()) + 10;
  double lx = label_w;
  for (const auto& [v, color] : kinds) {
    out += fmt::format("<rect x=\"{:.0f}\" y=\"{}\" width=\"12\" height=\"12\" fill=\"{}\"/><text x=\"{:.0f}\" "
                       "y=\"{}\">{}</text>\n",
                       lx, ly, color, lx + 16, ly + 11, verdict_name(v));
    lx += 140;
  }
  return out + "</svg>\n";
}

std::string size_chart(const VmReport& vm) {
  std::vector<Bar> bars;
  double max = 0;
  if (vm.guest_size) {
    bars.push_back({"guest (whole VM)", static_cast<double>(*vm.guest_size), human_size(*vm.guest_size), "#9e9e9e"});
    max = static_cast<double>(*vm.guest_size);
  }
  const char* colors[] = {"#2e7d32", "#b26a00", "#c62828", "#9e9e9e"};
  for (const auto& s : vm.services) {
    if (s.image_size == 0) continue;
    std::string note = human_size(s.image_size);
    if (vm.guest_size && *vm.guest_size > 0)
      note += fmt::format(" ({:.1f}% of the guest)", 100.0 * static_cast<double>(s.image_size) / static_cast<double>(*vm.guest_size));
    bars.push_back({s.name, static_cast<double>(s.image_size), note, colors[static_cast<int>(s.verdict)]});
    max = std::max(max, static_cast<double>(s.image_size));
  }
  if (bars.size() <= (vm.guest_size ? 1u : 0u)) return "<p>No image was built, so there is no size to compare.</p>\n";
  return bar_chart("Image size per service" + std::string(vm.guest_size ? " vs the guest" : ""), bars, max);
}

std::string counts(size_t ready, size_t attention, size_t blocked, size_t skipped) {
  return fmt::format("<p class=\"counts\"><span>{} {}</span><span>{} {}</span><span>{} {}</span><span>{} {}</span></p>\n",
                     ready, badge(Verdict::Ready), attention, badge(Verdict::Attention), blocked,
                     badge(Verdict::Blocked), skipped, badge(Verdict::Skipped));
}

std::string vm_facts(const VmReport& vm) {
  std::string out = "<table class=\"vm-facts\">\n";
  auto row = [&](const char* k, const std::string& v) { out += fmt::format("<tr><th>{}</th><td>{}</td></tr>\n", k, v); };
  row("Source", "<span class=\"mono\">" + html_escape(vm.source) + "</span>");
  row("OUTDIR", "<span class=\"mono\">" + html_escape(vm.outdir_shown.empty() ? vm.outdir : vm.outdir_shown) + "</span>");
  row("Operating system", html_escape(vm.os_pretty.empty() ? "unknown" : vm.os_pretty));
  if (vm.age)
    row("OS age", fmt::format("<span class=\"os-{}\">{}</span> <span class=\"meta\">({}; dates: {})</span>", vm.age->status,
                              html_escape(vm.age->text), html_escape(vm.os_evidence), html_escape(vm.os->source)));
  else
    row("OS age", vm.os_evidence.empty() ? "unknown (no converted service carries os-release's ID and VERSION_ID)"
                                         : "not in decant's table (report/data/os-eol.json): " + html_escape(vm.os_evidence));
  row("Init", html_escape(vm.init));
  row("Guest size", vm.guest_size ? fmt::format("{} in {} regular files", human_size(*vm.guest_size), vm.guest_files)
                                  : std::string("unknown (the source is not readable from here)"));
  return out + "</table>\n";
}

std::string service_table(const VmReport& vm, size_t vi) {
  std::string out = "<table class=\"services\">\n<tr><th>Service</th><th>Verdict</th><th>Why</th><th>Ports</th>"
                    "<th>Image</th></tr>\n";
  for (size_t si = 0; si < vm.services.size(); ++si) {
    const auto& s = vm.services[si];
    std::string why;
    for (const auto& r : s.reasons) why += (why.empty() ? "" : "<br>") + html_escape(r.text);
    if (why.empty()) why = "no hazard, no open question";
    std::string ports;
    if (s.profile)
      for (const auto& l : s.profile->network.listen) ports += fmt::format("{}{}/{}", ports.empty() ? "" : "<br>", l.port, l.proto);
    out += fmt::format("<tr><td><a href=\"#s{}-{}\">{}</a> <span class=\"meta\">{}</span></td><td>{}</td><td>{}</td>"
                       "<td class=\"mono nowrap\">{}</td><td class=\"num\">{}</td></tr>\n",
                       vi, si, html_escape(s.name), html_escape(s.manager), badge(s.verdict), why, ports,
                       s.image_size ? human_size(s.image_size) : "—");
  }
  return out + "</table>\n";
}

std::string service_details(const VmReport& vm, size_t vi, size_t si, const std::string& report_dir) {
  const ServiceReport& s = vm.services[si];
  std::string id = fmt::format("s{}-{}", vi, si);
  EvidenceIndex ev(id);
  std::string out = fmt::format("<details id=\"{}\"><summary>{} <span class=\"meta\">({})</span> {}</summary>\n", id,
                                html_escape(s.name), html_escape(s.manager), badge(s.verdict));
  out += "<h4>Verdict</h4>\n<ul>\n";
  if (s.reasons.empty()) out += "<li>Ready: no rule of docs/report.md raises it.</li>\n";
  for (const auto& r : s.reasons)
    out += fmt::format("<li><span class=\"mono\">{}</span> {}{}</li>\n", r.rule, html_escape(r.text), ev.refs(r.evidence));
  out += "</ul>\n";
  if (!s.hazards.empty()) {
    out += "<h4>Hazards and what to do</h4>\n";
    for (const auto& h : s.hazards)
      out += fmt::format("<div class=\"hazard {}\"><strong class=\"mono\">{}</strong> ({}) — {}{}<p class=\"todo\"><em>What "
                         "to do:</em> {}</p></div>\n",
                         html_escape(h.severity), html_escape(h.id), html_escape(h.severity), html_escape(h.message),
                         ev.refs(h.evidence),
                         h.what_to_do.empty() ? "not documented in docs/hazards.md" : html_escape(h.what_to_do));
  }
  out += "<h4>Facts</h4>\n<table class=\"facts\">\n";
  for (const auto& f : s.facts)
    out += fmt::format("<tr><th>{}</th><td><span class=\"mono\">{}</span>{}</td></tr>\n", html_escape(f.label),
                       html_escape(f.value), ev.refs(f.evidence));
  out += "</table>\n" + ev.list(vm, report_dir) + "</details>\n";
  return out;
}

}  // namespace

std::string ref_runs(const std::vector<size_t>& numbers, const std::function<std::string(size_t)>& ref) {
  std::string out;
  for (size_t i = 0; i < numbers.size();) {
    size_t j = i;
    while (j + 1 < numbers.size() && numbers[j + 1] == numbers[j] + 1) ++j;
    if (j - i >= 2) {
      out += ref(numbers[i]) + "–" + ref(numbers[j]);
    } else {
      for (size_t k = i; k <= j; ++k) out += ref(numbers[k]);
    }
    i = j + 1;
  }
  return out;
}

std::string render_html(const Fleet& fleet, const std::string& report_dir) {
  bool single = fleet.vms.size() == 1;
  std::string title = single ? "Container readiness: " + fleet.vms[0].name
                             : fmt::format("Container readiness: fleet of {} VMs", fleet.vms.size());
  std::string out = fmt::format("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                                "<title>{}</title>\n<style>{}</style>\n</head>\n<body>\n",
                                html_escape(title), kStyle);
  out += fmt::format("<header><h1>{}</h1><p class=\"meta\">Written by {} on {} from {} convert output(s). Verdict rules: "
                     "docs/report.md; what to do: docs/hazards.md.</p></header>\n",
                     html_escape(title), kVersionString, iso_date(fleet.now), fleet.vms.size());
  out += counts(fleet.count(Verdict::Ready), fleet.count(Verdict::Attention), fleet.count(Verdict::Blocked),
                fleet.count(Verdict::Skipped));
  out += single ? size_chart(fleet.vms[0]) : verdict_chart(fleet);
  for (size_t vi = 0; vi < fleet.vms.size(); ++vi) {
    const VmReport& vm = fleet.vms[vi];
    out += fmt::format("<section class=\"vm\" id=\"vm{}\">\n<h2>{}</h2>\n", vi, html_escape(vm.name));
    out += vm_facts(vm);
    if (!single) {
      out += counts(vm.count(Verdict::Ready), vm.count(Verdict::Attention), vm.count(Verdict::Blocked),
                    vm.count(Verdict::Skipped));
      out += size_chart(vm);
    }
    out += "<h3>Services</h3>\n" + service_table(vm, vi);
    out += "<h3>Per service: reasons, hazards, facts and their evidence</h3>\n";
    for (size_t si = 0; si < vm.services.size(); ++si) out += service_details(vm, vi, si, report_dir);
    out += "</section>\n";
  }
  out += fmt::format("<footer>Docker's default seccomp profile: moby/profiles seccomp v0.2.3 ({} syscall names on "
                     "amd64 with Docker's default capabilities). OS dates: report/data/os-eol.json. Sizes are apparent "
                     "sizes of regular files.</footer>\n</body>\n</html>\n",
                     docker_default_allowlist().size());
  return out;
}

}  // namespace decant
