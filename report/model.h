// The readiness report's model: per VM (guest, OS and its age, size), per
// service (verdict with reasons, hazards with what to do, facts), each fact
// carrying the evidence it rests on. Built from a convert OUTDIR
// (summary.json, <service>/profile.yaml, the artifacts) by load_vm; the
// HTML, Markdown and SARIF writers only render it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "profiles/profile.h"
#include "report/reference_data.h"

namespace decant {

// One piece of evidence: the text (as the profile or summary has it) and the
// OUTDIR file it was read from, relative to OUTDIR ("redis-server/profile.yaml").
struct EvidenceItem {
  std::string text;
  std::string file;
};
using EvidenceList = std::vector<EvidenceItem>;

struct Fact {
  std::string label, value;
  EvidenceList evidence;
};

enum class Verdict { Ready, Attention, Blocked, Skipped };
const char* verdict_name(Verdict v);  // "ready", "needs attention", "blocked", "skipped"
const char* verdict_key(Verdict v);   // "ready", "attention", "blocked", "skipped" (CSS, --fail-on)

// Why a service got its verdict: the rule of docs/report.md that fired.
struct Reason {
  std::string rule;  // B1, A2, ...
  Verdict raises_to = Verdict::Ready;
  std::string text;
  EvidenceList evidence;
};

struct HazardFinding {
  std::string id, severity, message;
  EvidenceList evidence;
  std::string what_to_do, what_to_do_md, meaning;  // from docs/hazards.md; empty if the doc lacks the id
};

struct ServiceReport {
  std::string name, manager, binary, status, reason;
  std::string profile_file;        // relative to OUTDIR; empty without a profile
  std::optional<Profile> profile;  // for converted and unchanged services
  Verdict verdict = Verdict::Ready;
  std::vector<Reason> reasons;
  std::vector<HazardFinding> hazards;
  std::vector<Fact> facts;
  uint64_t image_size = 0;  // bytes of the first artifact that has a size; 0 when none
  std::string image_file;   // that artifact, relative to OUTDIR
  std::vector<std::string> not_in_docker;  // allowed syscalls Docker's default profile refuses
};

struct VmReport {
  std::string outdir;  // as given
  // OUTDIR as the report shows it: relative to the report's directory ("."
  // when the report is inside it), so the text does not depend on where the
  // conversion ran. Set by the writer; empty: outdir.
  std::string outdir_shown;
  std::string name;    // shown in the report; unique within a fleet
  std::string source, os_pretty, init, generator;
  std::optional<OsLifecycle> os;
  std::optional<OsAge> age;
  std::string os_evidence;               // where the OS id and version were read
  std::optional<uint64_t> guest_size;    // apparent bytes of the guest's regular files, when it is readable
  uint64_t guest_files = 0;
  std::vector<ServiceReport> services;
  size_t count(Verdict v) const;
};

struct Fleet {
  std::vector<VmReport> vms;
  int64_t now = 0;  // the report's date, seconds since the epoch
  size_t count(Verdict v) const;
};

// The verdict rules of docs/report.md. status and reason as summary.json has
// them; profile for converted and unchanged services (nullptr otherwise);
// profile_file for the evidence links.
struct VerdictResult {
  Verdict verdict = Verdict::Ready;
  std::vector<Reason> reasons;
};
VerdictResult decide_verdict(const std::string& status, const std::string& reason, const Profile* profile,
                             const std::string& profile_file);

struct LoadOptions {
  int64_t now = 0;
  bool measure_guest = true;  // walk summary.json's source for the guest's size when it is readable
};

// Reads a convert OUTDIR. Bad input (one line, naming the file): no
// summary.json, summary.json that is not a decant summary, a profile that
// does not parse, a path in the summary that leaves OUTDIR.
Result<VmReport> load_vm(const std::string& outdir, const LoadOptions& options);

// Several OUTDIRs into one fleet; VM names made unique.
Result<Fleet> load_fleet(const std::vector<std::string>& outdirs, const LoadOptions& options);

}  // namespace decant
