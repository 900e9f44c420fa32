// The verdict rules (docs/report.md, "Verdicts"): a service is blocked when
// it did not convert or a hazard says it will not run as converted, needs
// attention when something a person must check or decide remains, and is
// ready otherwise. Each rule that fires leaves a Reason with its evidence.
#include <fmt/format.h>

#include "report/model.h"

namespace decant {
namespace {

EvidenceList from_profile(const Evidence& ev, const std::string& file) {
  EvidenceList out;
  for (const auto& e : ev) out.push_back({e, file});
  return out;
}

void add(VerdictResult& r, std::string rule, Verdict v, std::string text, EvidenceList ev) {
  r.reasons.push_back({std::move(rule), v, std::move(text), std::move(ev)});
  if (static_cast<int>(v) > static_cast<int>(r.verdict)) r.verdict = v;
}

}  // namespace

const char* verdict_name(Verdict v) {
  switch (v) {
    case Verdict::Ready: return "ready";
    case Verdict::Attention: return "needs attention";
    case Verdict::Blocked: return "blocked";
    case Verdict::Skipped: return "skipped";
  }
  return "?";
}

const char* verdict_key(Verdict v) {
  return v == Verdict::Attention ? "attention" : verdict_name(v);
}

VerdictResult decide_verdict(const std::string& status, const std::string& reason, const Profile* p,
                             const std::string& profile_file) {
  VerdictResult r;
  if (status == "skipped") {
    r.verdict = Verdict::Skipped;
    r.reasons.push_back({"S1", Verdict::Skipped, "not converted: " + reason,
                         {{fmt::format("summary: status skipped: {}", reason), "summary.json"}}});
    return r;
  }
  if (status == "failed") {
    add(r, "B1", Verdict::Blocked, "conversion failed: " + reason,
        {{fmt::format("summary: status failed: {}", reason), "summary.json"}});
    return r;
  }
  if (!p) return r;
  for (const auto& h : p->hazards) {
    if (h.severity == "error")
      add(r, "B2", Verdict::Blocked, fmt::format("hazard {}: {}", h.id, h.message), from_profile(h.evidence, profile_file));
    else if (h.severity == "warning")
      add(r, "A1", Verdict::Attention, fmt::format("hazard {}: {}", h.id, h.message),
          from_profile(h.evidence, profile_file));
  }
  if (p->syscalls.unresolved_sites > 0)
    add(r, "A2", Verdict::Attention,
        fmt::format("{} syscall instruction(s) whose number decant could not recover: the allowlist may miss calls "
                    "(run decant learn, or seccomp mode log first)",
                    p->syscalls.unresolved_sites),
        {{fmt::format("profile: syscalls.unresolved_sites: {}", p->syscalls.unresolved_sites), profile_file}});
  if (p->enforcement.seccomp.mode != "enforce")
    add(r, "A3", Verdict::Attention,
        fmt::format("seccomp mode is {}: the container is not confined by its allowlist", p->enforcement.seccomp.mode),
        {{fmt::format("profile: enforcement.seccomp.mode: {}", p->enforcement.seccomp.mode), profile_file}});
  for (const auto& l : p->network.listen)
    if (l.confidence != "high")
      add(r, "A4", Verdict::Attention,
          fmt::format("listen port {}/{} inferred with {} confidence: confirm it before publishing", l.port, l.proto,
                      l.confidence.empty() ? "unknown" : l.confidence),
          from_profile(l.evidence, profile_file));
  return r;
}

}  // namespace decant
