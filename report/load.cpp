// Reading a convert OUTDIR into the report model (see model.h): summary.json
// for the outcomes, each service's profile.yaml through the profile reader,
// the artifacts' sizes, the guest's size when the source is still there, and
// the facts with their evidence.
#include <ftw.h>
#include <sys/stat.h>

#include <set>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/file_util.h"
#include "report/escape.h"
#include "report/hazard_doc.h"
#include "report/model.h"

namespace decant {
namespace {

using json = nlohmann::json;

// A guest may have millions of files; the size is a comparison, not an audit.
constexpr uint64_t kMaxWalk = 4'000'000;

struct Walk {
  uint64_t bytes = 0, files = 0, entries = 0;
  std::set<std::pair<dev_t, ino_t>> seen;  // hard links count once
};
thread_local Walk* g_walk = nullptr;

int visit(const char*, const struct stat* st, int type, struct FTW*) {
  if (++g_walk->entries > kMaxWalk) return 1;
  if (type == FTW_F && S_ISREG(st->st_mode) && g_walk->seen.emplace(st->st_dev, st->st_ino).second) {
    g_walk->bytes += static_cast<uint64_t>(st->st_size);
    ++g_walk->files;
  }
  return 0;
}

// Apparent size of the regular files under dir, on its filesystem only,
// without following symlinks (a guest's absolute links point at the host).
std::optional<Walk> tree_size(const std::string& dir) {
  struct stat st;
  if (::lstat(dir.c_str(), &st) != 0) return std::nullopt;
  Walk w;
  if (S_ISREG(st.st_mode)) {
    w.bytes = static_cast<uint64_t>(st.st_size);
    w.files = 1;
    return w;
  }
  if (!S_ISDIR(st.st_mode)) return std::nullopt;
  g_walk = &w;
  int rc = ::nftw(dir.c_str(), visit, 64, FTW_PHYS | FTW_MOUNT);
  g_walk = nullptr;
  if (rc < 0) return std::nullopt;
  return w;
}

// A path summary.json gives, relative to OUTDIR and staying inside it.
Result<std::string> inside(const std::string& summary, const std::string& rel) {
  if (rel.empty() || rel[0] == '/') return bad_input(fmt::format("{}: path '{}' is not relative to OUTDIR", summary, rel));
  for (const auto& part : split_path(rel))
    if (part == "..") return bad_input(fmt::format("{}: path '{}' leaves OUTDIR", summary, rel));
  return rel;
}

std::string str(const json& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && it->is_string() ? it->get<std::string>() : "";
}

std::string joined(const std::vector<std::string>& v, const char* sep = " ") {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

EvidenceList ev(const Evidence& e, const std::string& file, size_t limit = 20) {
  EvidenceList out;
  for (size_t i = 0; i < e.size() && i < limit; ++i) out.push_back({e[i], file});
  if (e.size() > limit) out.push_back({fmt::format("… and {} more in the profile", e.size() - limit), file});
  return out;
}

void add_binary_facts(ServiceReport& s, const Profile& p) {
  const std::string& f = s.profile_file;
  s.facts.push_back({"Binary", fmt::format("{} ({} {}, {}, {})", p.binary.path, p.binary.arch, p.binary.elf_class,
                                           p.binary.linkage, human_size(p.binary.size)),
                     {{fmt::format("static: ELF header of {}, sha256 {}", p.binary.path, p.binary.sha256), f}}});
  if (!p.entrypoint.empty())
    s.facts.push_back({"Entrypoint", joined(p.entrypoint), {{"profile: entrypoint (the command line the init ran)", f}}});
  s.facts.push_back({"User", p.user.empty() ? "root (none given)" : p.user, {{"profile: user", f}}});
}

void add_network_facts(ServiceReport& s, const Profile& p) {
  const std::string& f = s.profile_file;
  if (p.network.listen.empty())
    s.facts.push_back({"Listen ports", "none found", {{"profile: network.listen is empty", f}}});
  for (const auto& l : p.network.listen)
    s.facts.push_back({"Listen port", fmt::format("{}/{}{} (confidence {})", l.port, l.proto,
                                                  l.address.empty() ? "" : " on " + l.address, l.confidence),
                       ev(l.evidence, f)});
  for (const auto& c : p.network.connect)
    s.facts.push_back({"Connects to", fmt::format("{}:{}/{} (confidence {})", c.host, c.port, c.proto, c.confidence),
                       ev(c.evidence, f)});
}

void add_file_facts(ServiceReport& s, const Profile& p) {
  const std::string& f = s.profile_file;
  EvidenceList reads;
  size_t nread = 0;
  for (const auto& file : p.files) {
    if (file.access == "write") {
      s.facts.push_back({"Volume (writable path)", file.path, ev(file.evidence, f)});
      continue;
    }
    ++nread;
    if (reads.size() < 25)
      reads.push_back({fmt::format("{} ({}{}): {}", file.path, file.access, file.optional ? ", optional" : "",
                                   file.evidence.empty() ? "profile" : file.evidence.front()),
                       f});
  }
  if (nread > reads.size()) reads.push_back({fmt::format("… and {} more in the profile", nread - reads.size()), f});
  s.facts.push_back({"Paths the image holds", fmt::format("{} file(s) read or executed", nread), reads});
}

void add_library_facts(ServiceReport& s, const Profile& p) {
  const std::string& f = s.profile_file;
  EvidenceList libs;
  for (const auto& l : p.libraries)
    if (libs.size() < 40) libs.push_back({fmt::format("{} -> {} (via {})", l.soname, l.path, l.found_via), f});
  if (p.libraries.size() > libs.size())
    libs.push_back({fmt::format("… and {} more in the profile", p.libraries.size() - libs.size()), f});
  s.facts.push_back({"Libraries", fmt::format("{} in the closure", p.libraries.size()), libs});
  auto glibc_ev = p.requires_.evidence.count("GLIBC") ? p.requires_.evidence.at("GLIBC") : Evidence{};
  s.facts.push_back({"glibc floor", p.requires_.glibc.empty() ? "none (no GLIBC_ versions needed)" : p.requires_.glibc,
                     glibc_ev.empty() ? EvidenceList{{"profile: requires.glibc", f}} : ev(glibc_ev, f)});
  if (!p.requires_.kernel.empty()) {
    auto kev = p.requires_.evidence.count("kernel") ? p.requires_.evidence.at("kernel") : Evidence{};
    s.facts.push_back({"Kernel floor", p.requires_.kernel, kev.empty() ? EvidenceList{{"profile: requires.kernel", f}} : ev(kev, f)});
  }
  for (const auto& m : p.missing_libraries)
    s.facts.push_back({"Missing library", m.soname, {{"needed by " + joined(m.needed_by, ", "), f}}});
}

void add_syscall_facts(ServiceReport& s, const Profile& p) {
  const std::string& f = s.profile_file;
  const auto& docker = docker_default_allowlist();
  for (const auto& name : p.syscalls.allow)
    if (!docker.count(name)) s.not_in_docker.push_back(name);
  EvidenceList e;
  for (const auto& name : s.not_in_docker) {
    auto it = p.syscalls.evidence.find(name);
    e.push_back({fmt::format("{}: {}", name, it == p.syscalls.evidence.end() || it->second.empty()
                                                 ? "in syscalls.allow"
                                                 : it->second.front()),
                 f});
  }
  e.push_back({fmt::format("Docker's default profile allows {} syscall names on amd64 (moby/profiles seccomp v0.2.3, "
                           "report/data/docker-seccomp-default.json)",
                           docker.size()),
               ""});
  std::string value = fmt::format("{} syscalls allowed; Docker's default profile allows {}", p.syscalls.allow.size(),
                                  docker.size());
  if (!s.not_in_docker.empty())
    value += fmt::format("; {} not in Docker's default: {}", s.not_in_docker.size(), joined(s.not_in_docker, ", "));
  s.facts.push_back({"Syscall allowlist", value, e});
  s.facts.push_back({"Seccomp", fmt::format("mode {}, default action {}", p.enforcement.seccomp.mode,
                                            p.enforcement.seccomp.default_action),
                     {{"profile: enforcement.seccomp", f}}});
}

void add_image_fact(ServiceReport& s, const json& artifacts, const std::string& outdir, const std::string& summary) {
  for (const auto& a : artifacts) {
    if (!a.is_object()) continue;
    auto rel = inside(summary, str(a, "path"));
    if (!rel) continue;
    auto size = tree_size(outdir + "/" + *rel);
    if (!size || size->bytes == 0) continue;
    s.image_size = size->bytes;
    s.image_file = *rel;
    s.facts.push_back({"Image size", fmt::format("{} ({})", human_size(size->bytes), str(a, "format")),
                       {{fmt::format("{}: {} bytes in {} file(s), digest {}", *rel, size->bytes, size->files,
                                     str(a, "digest")),
                         *rel}}});
    return;
  }
}

Result<ServiceReport> load_service(const json& o, const std::string& outdir, const std::string& summary) {
  ServiceReport s;
  s.name = str(o, "name");
  s.manager = str(o, "manager");
  s.binary = str(o, "binary");
  s.status = str(o, "status");
  s.reason = str(o, "reason");
  if (s.name.empty()) return bad_input(fmt::format("{}: a service has no name", summary));
  if (s.status != "converted" && s.status != "unchanged" && s.status != "failed" && s.status != "skipped")
    return bad_input(fmt::format("{}: service {}: unknown status '{}'", summary, s.name, s.status));
  bool converted = s.status == "converted" || s.status == "unchanged";
  if (converted) {
    auto rel = inside(summary, str(o, "profile"));
    if (!rel) return rel.error();
    s.profile_file = *rel;
    auto p = load_profile(outdir + "/" + *rel);
    if (!p) return p.error();
    s.profile = std::move(*p);
  }
  auto v = decide_verdict(s.status, s.reason, s.profile ? &*s.profile : nullptr, s.profile_file);
  s.verdict = v.verdict;
  s.reasons = std::move(v.reasons);
  s.facts.push_back({"Outcome", s.status + (s.reason.empty() ? "" : ": " + s.reason),
                     {{fmt::format("summary: {} ({}), status {}", s.name, s.manager, s.status), "summary.json"}}});
  if (!s.profile) return s;
  const Profile& p = *s.profile;
  const auto& docs = builtin_hazard_docs();
  for (const auto& h : p.hazards) {
    HazardFinding f{h.id, h.severity, h.message, ev(h.evidence, s.profile_file), "", "", ""};
    if (auto it = docs.find(h.id); it != docs.end()) {
      f.what_to_do = it->second.what_to_do;
      f.what_to_do_md = it->second.what_to_do_md;
      f.meaning = it->second.meaning;
    }
    s.hazards.push_back(std::move(f));
  }
  add_binary_facts(s, p);
  add_network_facts(s, p);
  add_file_facts(s, p);
  add_library_facts(s, p);
  add_syscall_facts(s, p);
  auto artifacts = o.find("artifacts");
  if (artifacts != o.end() && artifacts->is_array()) add_image_fact(s, *artifacts, outdir, summary);
  return s;
}

// The OS of the guest: every profile carries os-release's ID and VERSION_ID.
void set_os(VmReport& vm, int64_t now) {
  for (const auto& s : vm.services) {
    if (!s.profile || s.profile->source.os.id.empty()) continue;
    const OsInfo& os = s.profile->source.os;
    vm.os_evidence = fmt::format("{}: source.os id {}, version {} (the guest's os-release)", s.profile_file, os.id,
                                 os.version);
    vm.os = find_os_lifecycle(os.id, os.version);
    if (vm.os) vm.age = os_age(*vm.os, now);
    return;
  }
}

void measure_guest(VmReport& vm) {
  std::string root;
  for (const auto& s : vm.services)
    if (s.profile && !s.profile->source.root.empty()) {
      root = s.profile->source.root;
      break;
    }
  if (root.empty()) root = vm.source;
  if (root.empty()) return;
  if (auto w = tree_size(root)) {
    vm.guest_size = w->bytes;
    vm.guest_files = w->files;
  }
}

}  // namespace

size_t VmReport::count(Verdict v) const {
  size_t n = 0;
  for (const auto& s : services) n += s.verdict == v;
  return n;
}

size_t Fleet::count(Verdict v) const {
  size_t n = 0;
  for (const auto& vm : vms) n += vm.count(v);
  return n;
}

Result<VmReport> load_vm(const std::string& outdir, const LoadOptions& options) {
  std::string summary = outdir + "/summary.json";
  struct stat st;
  if (::stat(outdir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return bad_input(fmt::format("{}: not a directory (give a decant convert OUTDIR)", outdir));
  if (::stat(summary.c_str(), &st) != 0)
    return bad_input(fmt::format("{}: not a decant convert OUTDIR (no summary.json)", outdir));
  auto text = read_file(summary, 64 << 20);
  if (!text) return text.error();
  json j = json::parse(*text, nullptr, false);
  if (j.is_discarded()) return bad_input(fmt::format("{}: not valid JSON", summary));
  if (!j.is_object() || !j.contains("services") || !j["services"].is_array() ||
      str(j, "generator").rfind("decant", 0) != 0)
    return bad_input(fmt::format("{}: not a decant convert summary (no generator or services)", summary));
  VmReport vm;
  vm.outdir = outdir;
  vm.source = str(j, "source");
  vm.os_pretty = str(j, "os");
  vm.init = str(j, "init");
  vm.generator = str(j, "generator");
  vm.name = vm.source.empty() ? path_basename(outdir) : path_basename(vm.source);
  for (const auto& o : j["services"]) {
    if (!o.is_object()) return bad_input(fmt::format("{}: a service is not an object", summary));
    auto s = load_service(o, outdir, summary);
    if (!s) return s.error();
    vm.services.push_back(std::move(*s));
  }
  set_os(vm, options.now);
  if (options.measure_guest) measure_guest(vm);
  return vm;
}

Result<Fleet> load_fleet(const std::vector<std::string>& outdirs, const LoadOptions& options) {
  Fleet fleet;
  fleet.now = options.now;
  std::set<std::string> names;
  for (const auto& d : outdirs) {
    auto vm = load_vm(d, options);
    if (!vm) return vm.error();
    // Two OUTDIRs of guests with one basename: name them by OUTDIR too.
    std::string name = vm->name;
    for (int k = 2; names.count(name); ++k) name = fmt::format("{} ({})", vm->name, k == 2 ? d : std::to_string(k));
    names.insert(name);
    vm->name = name;
    fleet.vms.push_back(std::move(*vm));
  }
  return fleet;
}

}  // namespace decant
