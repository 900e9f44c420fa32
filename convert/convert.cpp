// The convert driver (see convert.h): discover, then per service analyze →
// profile → package into a staged service directory that is renamed into
// OUTDIR only when complete. A re-run compares each service's input digest
// (decant's version, the profile, the content of every object in the
// closure and of the files the profile reads) and keeps an unchanged
// service's outputs.
#include "convert/convert.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "analyzer/analyze.h"
#include "analyzer/guest_facts.h"
#include "common/fs_tree.h"
#include "common/file_util.h"
#include "discover/discover.h"
#include "guest/source.h"
#include "packager/manifests.h"
#include "packager/staged_output.h"

namespace decant {
namespace {

using json = nlohmann::ordered_json;

const char* artifact_name(PackageFormat f) {
  switch (f) {
    case PackageFormat::OciArchive: return "image.oci.tar";
    case PackageFormat::OciDir: return "image.oci";
    case PackageFormat::Bundle: return "bundle";
    case PackageFormat::Lxc: return "lxc";
  }
  return "artifact";
}

// "#!" at the start of the program: a script whose interpreter, not the
// daemon, would be analyzed.
std::string script_interpreter(const GuestRoot& root, const std::string& path) {
  auto canonical = root.resolve(path);
  if (!canonical) return "";
  int fd = ::open(root.host_path(*canonical).c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return "";
  char buf[128] = {};
  ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n < 2 || buf[0] != '#' || buf[1] != '!') return "";
  std::string line(buf + 2, static_cast<size_t>(n) - 2);
  return line.substr(0, line.find('\n'));
}

json outcome_json(const ServiceOutcome& s) {
  json o;
  o["name"] = s.name;
  o["manager"] = s.manager;
  o["binary"] = s.binary;
  o["status"] = s.status;
  if (!s.reason.empty()) o["reason"] = s.reason;
  if (!s.profile.empty()) o["profile"] = s.profile;
  o["artifacts"] = json::array();
  for (const auto& a : s.artifacts) o["artifacts"].push_back({{"format", a.format}, {"path", a.path}, {"digest", a.digest}});
  o["listen"] = s.listen;
  o["hazards"] = s.hazards;
  if (!s.input_digest.empty()) o["input_digest"] = s.input_digest;
  return o;
}

// The outcome a previous run left in OUTDIR/<service>/outcome.json.
std::optional<ServiceOutcome> previous_outcome(const std::string& dir) {
  auto text = read_file(dir + "/outcome.json", 1 << 20);
  if (!text) return std::nullopt;
  json o = json::parse(*text, nullptr, false);
  if (o.is_discarded() || !o.is_object()) return std::nullopt;
  ServiceOutcome s;
  s.status = "unchanged";
  s.input_digest = o.value("input_digest", "");
  s.profile = o.value("profile", "");
  for (const auto& a : o.value("artifacts", json::array()))
    if (a.is_object()) s.artifacts.push_back({a.value("format", ""), a.value("path", ""), a.value("digest", "")});
  return s;
}

// Arguments naming guest files (`/etc/redis/redis.conf`, `--config=/etc/x`)
// are what the daemon reads first: the image must hold them.
void add_argument_files(const GuestRoot& root, const DiscoveredService& d, Profile& p) {
  for (size_t i = 1; i < d.argv.size(); ++i) {
    const std::string& arg = d.argv[i];
    size_t slash = arg.find('/');
    if (slash == std::string::npos || (slash != 0 && arg[slash - 1] != '=')) continue;
    std::string path = arg.substr(slash);
    if (!root.is_regular_file(path)) continue;
    bool known = false;
    for (auto& f : p.files)
      if (f.path == path) {
        f.optional = false;
        f.evidence.push_back(fmt::format("discover: argument {} of {}", i, d.name));
        known = true;
      }
    if (!known) p.files.push_back({path, "read", false, {fmt::format("discover: argument {} of {}", i, d.name)}});
  }
}

// Discovery's facts go into the profile: they are how the VM really ran it.
void add_discovered_facts(const DiscoveredService& d, Profile& p) {
  p.metadata.name = d.name;
  p.entrypoint = d.argv;
  if (!d.user.empty()) p.user = d.user;
  if (!d.workdir.empty()) p.workdir = d.workdir;
  for (const auto& [k, v] : d.env) p.env[k] = v;
  for (const auto& w : d.writable) {
    auto it = std::find_if(p.files.begin(), p.files.end(), [&](const FileFact& f) { return f.path == w.path; });
    if (it == p.files.end()) p.files.push_back({w.path, "write", false, {"discover: " + w.evidence}});
    else {
      it->access = "write";
      it->evidence.push_back("discover: " + w.evidence);
    }
  }
  for (const auto& l : d.listen) {
    ListenFact f;
    f.port = l.port;
    f.proto = l.proto;
    f.confidence = "high";
    f.evidence = {l.evidence};
    p.network.listen.push_back(f);
  }
}

std::string input_digest(const GuestRoot& root, const Analysis& a, const std::string& profile_text) {
  std::string key = std::string(kGenerator) + "\n" + profile_text;
  for (const auto& obj : a.closure.objects)
    if (obj.elf) key += obj.canonical_path + " " + obj.elf->sha256 + "\n";
  for (const auto& f : a.profile.files)
    if (f.access == "read")
      if (auto text = root.read_file(f.path, 16 << 20)) key += f.path + " " + sha256_hex(text->data(), text->size()) + "\n";
  return "sha256:" + sha256_hex(key.data(), key.size());
}

// Packages the service into scratch/<name>/ and fills the outcome; an error
// leaves the outcome failed.
// k8s.yaml and compose.yaml for the OCI image, with the seccomp allowlist
// both reference (seccomp.json; install it as the kubelet's
// <seccomp root>/decant/<name>.json).
Status write_manifests(const PackageReport& r, const std::string& dir) {
  std::string seccomp_name;
  if (!r.spec.seccomp.is_null()) {
    if (Status s = write_file_atomic(dir + "/seccomp.json", r.spec.seccomp.dump(2) + "\n"); !s) return s;
    seccomp_name = "seccomp.json";
  }
  std::string localhost = seccomp_name.empty() ? "" : "decant/" + k8s_name(r.spec.name) + ".json";
  if (Status s = write_file_atomic(dir + "/k8s.yaml", k8s_manifest(r.spec, r.image_ref, localhost)); !s) return s;
  return write_file_atomic(dir + "/compose.yaml", compose_manifest(r.spec, r.image_ref, seccomp_name));
}

Status package_service(const ConvertOptions& o, const std::optional<ShimNeeds>& shim, const std::string& dir,
                       ServiceOutcome& out) {
  std::optional<PackageReport> last;  // of the OCI image, for the manifests
  for (PackageFormat f : o.formats) {
    if (o.progress) o.progress(fmt::format("{}: package {}", out.name, format_name(f)));
    PackageOptions po;
    po.profile_path = dir + "/profile.yaml";
    po.root = o.source;
    po.output = dir + "/" + artifact_name(f);
    po.format = f;
    po.mode = o.mode;
    po.shim = shim;
    po.mtime = o.mtime;
    auto r = package(po);
    if (!r) return r.error();
    out.artifacts.push_back({format_name(f), out.name + "/" + artifact_name(f), r->digest});
    if (f == PackageFormat::OciArchive || f == PackageFormat::OciDir) last = std::move(*r);
  }
  if (last) {
    if (Status s = write_manifests(*last, dir); !s) return s;
  }
  return Status();
}

ServiceOutcome convert_service(const GuestRoot& root, const DiscoveredService& d, const ConvertOptions& o,
                               const std::optional<ShimNeeds>& shim, ElfCache& cache) {
  ServiceOutcome out;
  out.name = d.name;
  out.manager = d.manager;
  out.binary = d.argv.empty() ? "" : d.argv[0];
  auto failed = [&](const std::string& why) {
    out.status = "failed";
    out.reason = why;
    return out;
  };
  if (d.manager == "inetd" || d.manager == "xinetd")
    return failed("started per connection by a superserver (the socket on stdin): not a standalone daemon");
  if (std::string interp = script_interpreter(root, out.binary); !interp.empty())
    return failed(fmt::format("{} is a script (#!{}); decant converts the ELF daemon it starts", out.binary, interp));
  if (o.progress) o.progress(fmt::format("{}: analyze {}", d.name, out.binary));
  auto analysis = analyze_binary(root, out.binary, AnalyzeOptions{}, cache);
  if (!analysis) return failed(analysis.error().message);
  add_discovered_facts(d, analysis->profile);
  add_argument_files(root, d, analysis->profile);
  for (const auto& h : analysis->profile.hazards) out.hazards.push_back(h.id);
  for (const auto& l : analysis->profile.network.listen) out.listen.push_back(fmt::format("{}/{}", l.port, l.proto));
  std::string profile_text = to_yaml(analysis->profile);
  out.input_digest = input_digest(root, *analysis, profile_text);
  out.profile = d.name + "/profile.yaml";

  std::string final_dir = o.outdir + "/" + d.name;
  if (auto prev = previous_outcome(final_dir); prev && !o.force && prev->input_digest == out.input_digest) {
    out.status = "unchanged";
    out.artifacts = prev->artifacts;
    return out;
  }
  auto staged = StagedOutput::create(final_dir, true);
  if (!staged) return failed(staged.error().message);
  std::string dir = staged->scratch() + "/" + d.name;
  if (Status s = make_directories(dir); !s) return failed(s.error().message);
  if (Status s = write_file_atomic(dir + "/profile.yaml", profile_text); !s) return failed(s.error().message);
  if (Status s = package_service(o, shim, dir, out); !s) {
    out.artifacts.clear();
    return failed(s.error().message);
  }
  out.status = "converted";
  if (Status s = write_file_atomic(dir + "/outcome.json", outcome_json(out).dump(2) + "\n"); !s)
    return failed(s.error().message);
  if (Status s = staged->commit(dir); !s) return failed(s.error().message);
  return out;
}

}  // namespace

bool ConvertReport::all_converted() const {
  for (const auto& s : services)
    if (s.status == "failed") return false;
  return true;
}

Result<ConvertReport> convert_guest(const ConvertOptions& o) {
  auto source = open_source(o.source);  // alive for the whole conversion; package() reuses it
  if (!source) return source.error();
  Result<GuestRoot> root = (*source)->root;
  auto found = discover_services(*root);
  if (!found) return found.error();
  // A mistyped --only or an OUTDIR that is a file are bad input, found before any work.
  for (const auto& name : o.only)
    if (std::none_of(found->services.begin(), found->services.end(),
                     [&](const DiscoveredService& d) { return d.name == name; }))
      return bad_input(fmt::format("--only {}: the guest has no such service (decant discover lists them)", name));
  struct stat st;
  if (::stat(o.outdir.c_str(), &st) == 0 && !S_ISDIR(st.st_mode))
    return bad_input(fmt::format("{}: exists and is not a directory", o.outdir));
  if (Status s = make_directories(o.outdir); !s) return s.error();
  std::optional<ShimNeeds> shim;
  if (!o.shim_path.empty()) {
    auto needs = inspect_shim(*root, o.shim_path);
    if (!needs) return needs.error();
    shim = std::move(*needs);
  }
  ConvertReport report;
  report.source = o.source;
  report.os = detect_os(*root).pretty;
  report.init = found->init;
  ElfCache cache;  // one per guest: fifty services share one libc
  for (const auto& d : found->services) {
    if (!o.only.empty() && std::find(o.only.begin(), o.only.end(), d.name) == o.only.end()) continue;
    if (!d.enabled || !d.reason.empty()) {
      ServiceOutcome skipped;
      skipped.name = d.name;
      skipped.manager = d.manager;
      skipped.binary = d.argv.empty() ? "" : d.argv[0];
      skipped.status = "skipped";
      skipped.reason = d.reason.empty() ? "not started at boot" : d.reason;
      report.services.push_back(std::move(skipped));
      continue;
    }
    report.services.push_back(convert_service(*root, d, o, shim, cache));
    if (o.progress) o.progress(fmt::format("{}: {}{}", d.name, report.services.back().status,
                                           report.services.back().reason.empty() ? "" : ": " + report.services.back().reason));
  }
  return report;
}

std::string summary_json(const ConvertReport& r) {
  json j;
  j["generator"] = kGenerator;
  j["source"] = r.source;
  j["os"] = r.os;
  j["init"] = r.init;
  j["services"] = json::array();
  for (const auto& s : r.services) j["services"].push_back(outcome_json(s));
  return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace decant
