// The convert driver (see convert.h): open and discover every source, then
// per service analyze → profile → package into a staged service directory
// that is renamed into place only when complete, on a small pool of worker
// threads that fill pre-sized result slots (so -j N writes what -j 1 does).
// A re-run compares each service's input digest (decant's version, the
// profile, the content of every object in the closure and of the files the
// profile reads) and keeps an unchanged service's outputs.
#include "convert/convert.h"

#include <fcntl.h>
#include <cerrno>
#include <cstring>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "analyzer/analyze.h"
#include "analyzer/config/config_sources.h"
#include "analyzer/guest_facts.h"
#include "common/fs_tree.h"
#include "common/file_util.h"
#include "discover/discover.h"
#include "discover/shell_vars.h"
#include "discover/tmpfiles.h"
#include "guest/source.h"
#include "packager/manifests.h"
#include "packager/staged_output.h"
#include "convert/wrapper.h"

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

// A service started through a script runs it in its image as the VM did:
// the script, its interpreter and the programs it runs are exec files
// (add_helper_programs brings their closures), what it sources is read.
void add_wrapper_files(const ServiceWrapper& w, const DiscoveredService& d, Profile& p) {
  // optional: only for paths the guest may lack (what the script creates).
  auto add = [&](const std::string& path, const std::string& access, const std::string& why, bool optional = false) {
    auto it = std::find_if(p.files.begin(), p.files.end(), [&](const FileFact& f) { return f.path == path; });
    if (it == p.files.end()) {
      p.files.push_back({path, access, optional, {why}});
      return;
    }
    if (access == "write" || (access == "exec" && it->access == "read")) it->access = access;
    if (!optional) it->optional = false;
    it->evidence.push_back(why);
  };
  add(w.script, "exec",
      fmt::format("discover: {} starts through {}, which starts {} ({})", d.name, w.script, w.daemon, w.why));
  for (const auto& prog : w.programs) add(prog, "exec", fmt::format("discover: {} may run it", w.script));
  for (const auto& f : w.sourced) add(f, "read", fmt::format("discover: {} sources it", w.script));
  for (const auto& f : w.support) add(f, "read", fmt::format("discover: {}'s package, for {}", w.interpreter, w.script));
  for (const auto& [path, origin] : w.creates)
    add(path, "write", fmt::format("discover: {} names it at {}", w.script, origin), true);
}

// The directories the guest's tmpfiles.d makes below /run at boot for this
// service: those of the files its program's package installs (a file of
// /etc/tmpfiles.d that replaces a packaged one counts as that package's).
// The package, not a name, ties a file to a service: bind9 installs both
// /usr/sbin/named and named.conf there, and a tmpfiles.d file nobody
// packaged (an administrator's) is tied to none. Each cites its line.
void add_tmpfiles_directories(const GuestRoot& root, Profile& p) {
  auto index = dpkg_index(root);
  if (!index || p.binary.path.empty()) return;
  std::string package = owning_package(root, *index, p.binary.path);
  if (package.empty()) return;
  ServiceInfo& s = p.service;
  for (const auto& t : guest_tmpfiles_runtime_dirs(root)) {
    bool ours = owning_package(root, *index, t.file) == package;
    for (const auto& f : t.shadowed) ours = ours || owning_package(root, *index, f) == package;
    if (!ours) continue;
    // One a RuntimeDirectory= also names is listed once, citing both.
    if (std::find(s.runtime_directories.begin(), s.runtime_directories.end(), t.path) == s.runtime_directories.end())
      s.runtime_directories.push_back(t.path);
    s.evidence.push_back(fmt::format("discover: {}:{}: {}", t.file, t.line, t.text));
  }
}

// How the init ran it, for decant-init: the unit's Type= and PIDFile= (a
// SysV script is forking with its --pidfile), its RuntimeDirectory=
// entries, which systemd creates at each start (discovery lists them among
// the writable directories, citing the key), the directories tmpfiles.d
// creates for it at boot (add_tmpfiles_directories), and its stop timeout
// (TimeoutStopSec=/TimeoutSec=, citing the line). Superserver entries are
// not daemons of their own: they stay simple.
void add_service_section(const GuestRoot& root, const DiscoveredService& d, Profile& p) {
  static const std::set<std::string> kTypes{"simple", "exec", "forking", "notify", "notify-reload", "idle", "dbus"};
  ServiceInfo& s = p.service;
  if (kTypes.count(d.type) && d.type != "simple") {
    s.type = d.type;
    s.evidence.push_back(fmt::format("discover: {} service {}: type {}", d.manager, d.name, d.type));
  }
  if (!d.pidfile.empty() && d.pidfile[0] == '/' && d.pidfile != "/") {
    s.pidfile = normalize_absolute(d.pidfile);
    s.evidence.push_back(fmt::format("discover: {} service {}: PID file {}", d.manager, d.name, d.pidfile));
  }
  for (const auto& w : d.writable)
    if (w.evidence.find(": RuntimeDirectory=") != std::string::npos && w.path.rfind("/run/", 0) == 0 &&
        std::find(s.runtime_directories.begin(), s.runtime_directories.end(), w.path) == s.runtime_directories.end()) {
      s.runtime_directories.push_back(normalize_absolute(w.path));
      s.evidence.push_back("discover: " + w.evidence);
    }
  add_tmpfiles_directories(root, p);
  if (d.stop_timeout) {
    s.stop_timeout = d.stop_timeout;
    s.evidence.push_back("discover: " + d.stop_timeout_evidence);
  }
}

// Discovery's facts go into the profile: they are how the VM really ran it.
void add_discovered_facts(const GuestRoot& root, const DiscoveredService& d, Profile& p) {
  p.metadata.name = d.name;
  p.entrypoint = d.argv;
  if (!d.user.empty()) p.user = d.user;
  if (!d.workdir.empty()) p.workdir = d.workdir;
  for (const auto& [k, v] : d.env) p.env[k] = v;
  add_service_section(root, d, p);
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

// One source as the workers see it: shared read-only, except the ElfCache,
// which locks.
struct SourceState {
  std::string source, name, outdir;
  std::shared_ptr<const OpenedSource> opened;  // alive for the whole conversion; package() reuses it
  std::optional<GuestRoot> root;
  Discovery found;
  std::optional<ShimNeeds> shim;
  ElfCache cache;  // one per guest: fifty services share one libc
};

struct Context {
  const ConvertOptions& o;
  std::mutex progress_mutex;
  void report(ProgressEvent e) {
    if (!o.progress) return;
    std::lock_guard<std::mutex> lock(progress_mutex);
    o.progress(e);
  }
};

Status package_service(Context& c, const SourceState& src, const std::string& dir, ServiceOutcome& out) {
  const ConvertOptions& o = c.o;
  std::optional<PackageReport> last;  // of the OCI image, for the manifests
  for (PackageFormat f : o.formats) {
    c.report({ProgressEvent::Stage, src.name, out.name, fmt::format("package {}", format_name(f))});
    PackageOptions po;
    po.profile_path = dir + "/profile.yaml";
    po.root = src.source;  // package() reopens it by name and gets the source this run holds open
    po.output = dir + "/" + artifact_name(f);
    po.format = f;
    po.mode = o.mode;
    po.shim = src.shim;
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

// One child program's facts join its superserver's profile: libraries by
// path, files by path (its own evidence kept), syscalls as a union.
void merge_child(const Profile& child, Profile& p, const std::string& why) {
  for (const auto& lib : child.libraries) {
    auto it = std::find_if(p.libraries.begin(), p.libraries.end(), [&](const Library& l) { return l.path == lib.path; });
    if (it == p.libraries.end()) {
      p.libraries.push_back(lib);
    } else {
      for (const auto& n : lib.needed_by)
        if (std::find(it->needed_by.begin(), it->needed_by.end(), n) == it->needed_by.end()) it->needed_by.push_back(n);
    }
  }
  for (const auto& m : child.missing_libraries)
    if (std::none_of(p.missing_libraries.begin(), p.missing_libraries.end(),
                     [&](const MissingLibrary& x) { return x.soname == m.soname; }))
      p.missing_libraries.push_back(m);
  for (const auto& f : child.files) {
    auto it = std::find_if(p.files.begin(), p.files.end(), [&](const FileFact& x) { return x.path == f.path; });
    if (it == p.files.end()) {
      p.files.push_back(f);
      p.files.back().evidence.push_back(why);
      continue;
    }
    if (f.access == "write") it->access = "write";
    if (!f.optional) it->optional = false;
  }
  std::set<std::string> allow(p.syscalls.allow.begin(), p.syscalls.allow.end());
  allow.insert(child.syscalls.allow.begin(), child.syscalls.allow.end());
  p.syscalls.allow.assign(allow.begin(), allow.end());
}

// A superserver's image must run what it execs per connection: each
// enabled entry it serves brings its program and wrapper (files with exec
// access), their library closures, the files they read and the system calls
// they make (the filter is inherited across exec), and its argument paths
// (tftpd's /srv/tftp). The superserver binds exactly its entries' sockets, as
// discovery read them from its own configuration, so those replace the
// ports the analyzer guessed from the same files (every `port =` line read
// as tcp, disabled entries included).
void add_superserver_children(const GuestRoot& root, SourceState& src, const DiscoveredService& d, Analysis& a) {
  Profile& p = a.profile;
  bool serves = false;
  std::set<std::string> programs;
  for (const auto& e : src.found.services) {
    if (e.superserver != d.name) continue;
    serves = true;
    if (!e.enabled || e.argv.empty()) continue;
    std::string why = fmt::format("discover: {} execs it for {} {}", d.name, e.manager, e.name);
    std::vector<std::string> execs = {e.argv[0]};
    if (!e.wrapper.empty()) execs.insert(execs.begin(), e.wrapper);
    for (const auto& program : execs) {
      if (!programs.insert(program).second || program == p.binary.path) continue;
      p.files.push_back({program, "exec", false, {why}});
      auto child = analyze_binary(root, program, AnalyzeOptions{}, src.cache);
      if (!child) {
        p.files.back().evidence.push_back("analysis failed: " + child.error().message);
        continue;
      }
      merge_child(child->profile, p, why);
      a.closure.objects.insert(a.closure.objects.end(), child->closure.objects.begin(), child->closure.objects.end());
    }
    for (size_t i = 1; i < e.argv.size(); ++i)
      if (e.argv[i].size() > 1 && e.argv[i][0] == '/' && root.exists(e.argv[i]) &&
          std::none_of(p.files.begin(), p.files.end(), [&](const FileFact& f) { return f.path == e.argv[i]; }))
        p.files.push_back({e.argv[i], "read", false, {fmt::format("discover: argument {} of {} {}", i, e.manager, e.name)}});
  }
  if (!serves) return;
  p.network.listen.clear();
  for (const auto& l : d.listen) p.network.listen.push_back({l.port, l.proto, "", "high", {l.evidence}});
}

// A helper that is a script (lighttpd's include_shell perl scripts) runs
// through its interpreter: the interpreter is an exec file (analyzed below
// like any helper), its package's modules and the files the script names
// are read.
void add_script_interpreters(const GuestRoot& root, Profile& p, const std::vector<std::string>& helpers) {
  auto add = [&](const std::string& path, const std::string& access, const std::string& why) {
    auto it = std::find_if(p.files.begin(), p.files.end(), [&](const FileFact& f) { return f.path == path; });
    if (it == p.files.end()) p.files.push_back({path, access, false, {why}});
    else if (access == "exec" && it->access == "read") it->access = "exec";
  };
  for (const auto& program : helpers) {
    std::string line = script_interpreter(root, program);
    if (line.empty()) continue;
    std::string interpreter = script_interpreter_path(root, line);
    if (interpreter.empty()) continue;
    add(interpreter, "exec", fmt::format("code: {} is a script run by {}", program, interpreter));
    for (const auto& f : interpreter_support(root, interpreter))
      add(f, "read", fmt::format("code: {}'s package, for {}", interpreter, program));
    for (const auto& f : script_data_files(root, program)) add(f, "read", fmt::format("code: {} names it", program));
  }
}

// Helper programs the service runs (files with exec access the analyzer
// found: squid's unlinkd from its built-in defaults, lighttpd's
// include_shell commands) come with their closures, files and system
// calls, as a superserver's children do. Those a superserver step already
// analyzed are merged once.
void add_helper_programs(const GuestRoot& root, SourceState& src, Analysis& a,
                         const std::set<std::string>& analyzed) {
  Profile& p = a.profile;
  auto helpers_of = [&] {
    std::vector<std::pair<std::string, std::string>> helpers;  // path, why the service runs it
    for (const auto& f : p.files)
      if (f.access == "exec" && f.path != p.binary.path && !analyzed.count(f.path) && root.is_regular_file(f.path))
        helpers.push_back({f.path, f.evidence.empty() ? "" : f.evidence.front()});
    return helpers;
  };
  std::vector<std::string> programs;
  for (const auto& h : helpers_of()) programs.push_back(h.first);
  add_script_interpreters(root, p, programs);
  for (const auto& [program, found] : helpers_of()) {
    std::string why = fmt::format("code: {} runs {} ({})", path_basename(p.binary.path), program,
                                  found.empty() ? "a built-in default" : found);
    auto child = analyze_binary(root, program, AnalyzeOptions{}, src.cache);
    if (!child) continue;  // a script or a broken ELF stays a plain file of the image
    merge_child(child->profile, p, why);
    a.closure.objects.insert(a.closure.objects.end(), child->closure.objects.begin(), child->closure.objects.end());
  }
}

ServiceOutcome convert_service(Context& c, SourceState& src, const DiscoveredService& d) {
  const ConvertOptions& o = c.o;
  const GuestRoot& root = *src.root;
  ServiceOutcome out;
  out.name = d.name;
  out.manager = d.manager;
  out.binary = d.argv.empty() ? "" : d.argv[0];
  auto failed = [&](const std::string& why) {
    out.status = "failed";
    out.reason = why;
    return out;
  };
  if (!d.reason.empty()) return failed(d.reason);  // a --service whose program this guest lacks
  if (d.manager == "inetd" || d.manager == "xinetd") {
    // Its superserver's image runs it per connection (add_superserver_children).
    if (!d.superserver.empty()) {
      out.status = "skipped";
      out.reason = fmt::format("started per connection by {}: its image runs it", d.superserver);
      return out;
    }
    return failed("started per connection by a superserver (the socket on stdin): not a standalone daemon");
  }
  if (out.binary.empty()) return failed("no program to run");
  std::optional<ServiceWrapper> wrapper;
  if (std::string interp = script_interpreter(root, out.binary); !interp.empty()) {
    wrapper = read_service_wrapper(root, out.binary, interp, d.name);
    if (wrapper->daemon.empty())
      return failed(fmt::format("{} is a script (#!{}) and {}", out.binary, interp, wrapper->why));
  }
  c.report({ProgressEvent::Stage, src.name, d.name, "analyze"});
  AnalyzeOptions analyze_options;
  // The configuration files its command line names (analyzer/config/); a
  // wrapper's own arguments say nothing about the daemon's.
  analyze_options.argv = wrapper ? std::vector<std::string>{wrapper->daemon} : d.argv;
  auto analysis = analyze_binary(root, wrapper ? wrapper->daemon : out.binary, analyze_options, src.cache);
  if (!analysis) return failed(analysis.error().message);
  add_discovered_facts(root, d, analysis->profile);
  if (wrapper) add_wrapper_files(*wrapper, d, analysis->profile);
  else add_argument_files(root, d, analysis->profile);
  std::set<std::string> before_children;
  for (const auto& f : analysis->profile.files)
    if (f.access == "exec") before_children.insert(f.path);
  add_superserver_children(root, src, d, *analysis);
  std::set<std::string> by_superserver;
  for (const auto& f : analysis->profile.files)
    if (f.access == "exec" && !before_children.count(f.path)) by_superserver.insert(f.path);
  add_helper_programs(root, src, *analysis, by_superserver);
  for (const auto& h : analysis->profile.hazards) out.hazards.push_back(h.id);
  for (const auto& l : analysis->profile.network.listen) out.listen.push_back(fmt::format("{}/{}", l.port, l.proto));
  std::string profile_text = to_yaml(analysis->profile);
  out.input_digest = input_digest(root, *analysis, profile_text);
  out.profile = d.name + "/profile.yaml";

  std::string final_dir = src.outdir + "/" + d.name;
  if (auto prev = previous_outcome(final_dir); prev && !o.force && prev->input_digest == out.input_digest) {
    out.status = "unchanged";
    out.artifacts = prev->artifacts;
    return out;
  }
  auto staged = StagedOutput::create(final_dir, true);
  if (!staged) return failed(staged.error().message);
  std::string dir = staged->scratch() + "/" + d.name;
  // mkdir, not make_directories: after an interrupt removed the scratch
  // directory, nothing may create it again.
  if (::mkdir(dir.c_str(), 0755) != 0) return failed(fmt::format("{}: cannot create: {}", dir, std::strerror(errno)));
  if (Status s = write_file_atomic(dir + "/profile.yaml", profile_text); !s) return failed(s.error().message);
  if (Status s = package_service(c, src, dir, out); !s) {
    out.artifacts.clear();
    return failed(s.error().message);
  }
  out.status = "converted";
  if (Status s = write_file_atomic(dir + "/outcome.json", outcome_json(out).dump(2) + "\n"); !s)
    return failed(s.error().message);
  if (Status s = staged->commit(dir); !s) return failed(s.error().message);
  return out;
}


ServiceOutcome skipped_outcome(const DiscoveredService& d) {
  ServiceOutcome skipped;
  skipped.name = d.name;
  skipped.manager = d.manager;
  skipped.binary = d.argv.empty() ? "" : d.argv[0];
  skipped.status = "skipped";
  skipped.reason = d.reason.empty() ? "not started at boot" : d.reason;
  return skipped;
}

// A --service program: a path as given, a bare name looked up in the
// guest's usual PATH as a shell would.
std::string resolve_program(const GuestRoot& root, const std::string& word) {
  if (word.find('/') != std::string::npos) return word[0] == '/' && root.is_regular_file(word) ? word : "";
  return find_program(root, word);
}

// Merges the --service entries into one source's discovery: a new service
// is added; for a found one, the command line is replaced and the rest of
// what the init knew (user, environment, ports, writable directories) kept,
// and the found entries are listed as skipped, overridden.
void add_manual_services(const GuestRoot& root, const std::vector<ManualService>& manual, Discovery& found) {
  for (const auto& m : manual) {
    DiscoveredService svc;
    const DiscoveredService* base = nullptr;
    for (auto& d : found.services)
      if (d.name == m.name && d.manager != "manual" && (!base || (d.enabled && d.reason.empty()))) base = &d;
    if (base) svc = *base;
    svc.name = m.name;
    svc.manager = "manual";
    svc.enabled = true;
    svc.reason.clear();
    svc.argv = m.argv;
    std::string program = resolve_program(root, m.argv[0]);
    if (program.empty()) svc.reason = fmt::format("--service {}: {} is not a program in this guest", m.name, m.argv[0]);
    else svc.argv[0] = program;
    svc.evidence.push_back("--service " + m.name);
    for (auto& d : found.services)
      if (d.name == m.name && d.manager != "manual") {
        d.enabled = false;
        d.reason = "overridden by --service " + m.name;
      }
    found.services.push_back(std::move(svc));
  }
  std::stable_sort(found.services.begin(), found.services.end(), [](const auto& a, const auto& b) {
    return a.name != b.name ? a.name < b.name : a.manager < b.manager;
  });
}

bool wanted(const ConvertOptions& o, const DiscoveredService& d) {
  return o.only.empty() || std::find(o.only.begin(), o.only.end(), d.name) != o.only.end();
}

// A manual service whose program this guest lacks is a failure of that
// service, not a skip: the user asked for it.
bool to_convert(const DiscoveredService& d) {
  return (d.enabled && d.reason.empty()) || (d.manager == "manual");
}

// Opens and discovers every source, and checks --only and --service against
// what was found: all bad input is found before any work.
Result<std::vector<std::unique_ptr<SourceState>>> open_sources(const ConvertOptions& o) {
  std::vector<std::unique_ptr<SourceState>> out;
  for (size_t i = 0; i < o.manual.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (o.manual[i].name == o.manual[j].name)
        return bad_input(fmt::format("--service {}: given twice (one directory per name)", o.manual[i].name));
  std::vector<std::string> names = source_dir_names(o.sources, o.shard_count > 0);
  std::vector<size_t> mine = shard_sources(o.sources.size(), o.shard_index, o.shard_count);
  for (size_t i : mine) {
    auto src = std::make_unique<SourceState>();
    src->source = o.sources[i];
    src->name = names[i];
    src->outdir = src->name.empty() ? o.outdir : o.outdir + "/" + src->name;
    auto opened = open_source(src->source);
    if (!opened) return opened.error();
    src->opened = *opened;
    src->root = (*opened)->root;
    auto found = discover_services(*src->root);
    if (!found) return found.error();
    src->found = std::move(*found);
    add_manual_services(*src->root, o.manual, src->found);
    out.push_back(std::move(src));
  }
  // A --service program must be in some guest; where it is missing, that
  // service fails. A shard sees only its own guests, so it cannot tell.
  for (const auto& m : (o.shard_count > 0 ? std::vector<ManualService>{} : o.manual)) {
    bool somewhere = std::any_of(out.begin(), out.end(), [&](const auto& src) {
      return std::any_of(src->found.services.begin(), src->found.services.end(),
                         [&](const auto& d) { return d.name == m.name && d.manager == "manual" && d.reason.empty(); });
    });
    if (!somewhere)
      return bad_input(fmt::format("--service {}: {} is not a program in {}", m.name, m.argv[0],
                                   o.sources.size() == 1 ? "the guest" : "any of the guests"));
  }
  for (const auto& name : (o.shard_count > 0 ? std::vector<std::string>{} : o.only))
    if (std::none_of(out.begin(), out.end(), [&](const auto& src) {
          return std::any_of(src->found.services.begin(), src->found.services.end(),
                             [&](const auto& d) { return d.name == name; });
        }))
      return bad_input(fmt::format("--only {}: the guest has no such service (decant discover lists them)", name));
  struct stat st;
  if (::stat(o.outdir.c_str(), &st) == 0 && !S_ISDIR(st.st_mode))
    return bad_input(fmt::format("{}: exists and is not a directory", o.outdir));
  for (auto& src : out)
    if (!o.shim_path.empty()) {
      auto needs = inspect_shim(*src->root, o.shim_path);
      if (!needs) return needs.error();
      src->shim = std::move(*needs);
    }
  return out;
}

// Replaces path's content whole: written inside a scratch directory an
// interrupt removes, then renamed over it.
Status write_staged(const std::string& path, const std::string& text) {
  auto staged = StagedOutput::create(path, true);
  if (!staged) return staged.error();
  std::string tmp = staged->scratch() + "/" + path_basename(path);
  if (Status s = write_file_atomic(tmp, text); !s) return s;
  return staged->commit(tmp);
}

std::string status_line(const ServiceOutcome& s) {
  return s.reason.empty() ? s.status : s.status + ": " + s.reason;
}

}  // namespace

std::vector<size_t> shard_sources(size_t sources, int index, int count) {
  std::vector<size_t> out;
  for (size_t k = 0; k < sources; ++k)
    if (count <= 0 || static_cast<int>(k % static_cast<size_t>(count)) == index) out.push_back(k);
  return out;
}

std::vector<std::string> source_dir_names(const std::vector<std::string>& sources, bool always_named) {
  if (sources.size() == 1 && !always_named) return {""};
  std::vector<std::string> names;
  for (const auto& source : sources) {
    std::string path = source;
    while (path.size() > 1 && path.back() == '/') path.pop_back();
    std::string base = path_basename(path);
    for (const char* suffix : {".gz", ".xz", ".zst", ".bz2", ".tar", ".tgz", ".txz", ".cpio", ".zip", ".qcow2",
                               ".vmdk", ".raw", ".img"})
      if (size_t n = std::strlen(suffix); base.size() > n && base.compare(base.size() - n, n, suffix) == 0)
        base.resize(base.size() - n);
    std::string safe;
    for (char ch : base) safe += std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_' || ch == '.' ? ch : '-';
    // "/", ".", hidden names, and the index's own name.
    if (safe.empty() || safe[0] == '.' || safe == "summary.json") safe = "source";
    std::string name = safe;
    for (int n = 2; std::find(names.begin(), names.end(), name) != names.end(); ++n) name = fmt::format("{}-{}", safe, n);
    names.push_back(name);
  }
  return names;
}

bool ConvertReport::all_converted() const {
  for (const auto& src : sources)
    for (const auto& s : src.services)
      if (s.status == "failed") return false;
  return true;
}

Result<ManualService> parse_manual_service(const std::string& spec) {
  size_t eq = spec.find('=');
  if (eq == std::string::npos || eq == 0)
    return bad_input(fmt::format("--service {}: want NAME=CMD", spec));
  ManualService m;
  m.name = spec.substr(0, eq);
  if (m.name == "." || m.name == ".." || m.name.find_first_of("/\n") != std::string::npos || m.name[0] == '.')
    return bad_input(fmt::format("--service {}: NAME must be a plain file name", m.name));
  std::string cmd = spec.substr(eq + 1);
  // A simple command only: what a shell would expand or redirect is refused, not guessed.
  if (cmd.find_first_of("$`|&;<>()\n") != std::string::npos)
    return bad_input(fmt::format("--service {}: CMD may hold words and quotes only (no $, `, |, &, ;, <, >, ( or newline)", m.name));
  bool known = true;
  m.argv = expand_shell_words(cmd, {}, &known);
  if (m.argv.empty() || m.argv[0].empty()) return bad_input(fmt::format("--service {}: no command given", m.name));
  return m;
}

Result<ConvertReport> convert_guests(const ConvertOptions& o) {
  auto opened = open_sources(o);
  if (!opened) return opened.error();
  std::vector<std::unique_ptr<SourceState>>& sources = *opened;
  if (Status s = make_directories(o.outdir); !s) return s.error();
  ConvertReport report;
  struct Job {
    size_t source, slot;
    const DiscoveredService* service;
  };
  std::vector<Job> jobs;
  Context ctx{o, {}};
  for (size_t i = 0; i < sources.size(); ++i) {
    SourceState& src = *sources[i];
    if (!src.name.empty())
      if (Status s = make_directories(src.outdir); !s) return s.error();
    SourceReport r;
    r.name = src.name;
    r.source = src.source;
    r.os = detect_os(*src.root).pretty;
    r.init = src.found.init;
    size_t skipped = 0, todo = 0;
    for (const auto& d : src.found.services) {
      if (!wanted(o, d)) continue;
      if (to_convert(d)) {
        jobs.push_back({i, r.services.size(), &d});
        r.services.emplace_back();
        ++todo;
      } else {
        r.services.push_back(skipped_outcome(d));
        ++skipped;
      }
    }
    ctx.report({ProgressEvent::Discovered, src.name, "",
                fmt::format("{} services, {} to convert, {} skipped", todo + skipped, todo, skipped), todo});
    report.sources.push_back(std::move(r));
  }
  // Workers take jobs in order and write only their own slot.
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t j; (j = next.fetch_add(1)) < jobs.size();) {
      const Job& job = jobs[j];
      SourceState& src = *sources[job.source];
      ctx.report({ProgressEvent::Started, src.name, job.service->name, ""});
      ServiceOutcome out = convert_service(ctx, src, *job.service);
      ctx.report({ProgressEvent::Finished, src.name, out.name, status_line(out)});
      report.sources[job.source].services[job.slot] = std::move(out);
    }
  };
  size_t threads = std::min<size_t>(static_cast<size_t>(std::max(1, o.jobs)), jobs.size());
  if (threads <= 1) worker();
  else {
    std::vector<std::thread> pool;
    for (size_t t = 0; t < threads; ++t) pool.emplace_back(worker);
    for (auto& t : pool) t.join();
  }
  for (size_t i = 0; i < sources.size(); ++i)
    if (Status s = write_staged(sources[i]->outdir + "/summary.json", summary_json(report.sources[i])); !s)
      return s.error();
  if (sources.size() > 1 && o.shard_count == 0)
    if (Status s = write_staged(o.outdir + "/summary.json", index_json(report)); !s) return s.error();
  return report;
}

std::string summary_json(const SourceReport& r) {
  json j;
  j["generator"] = kGenerator;
  j["source"] = r.source;
  j["os"] = r.os;
  j["init"] = r.init;
  j["services"] = json::array();
  for (const auto& s : r.services) j["services"].push_back(outcome_json(s));
  return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string index_json(const ConvertReport& report) {
  json j;
  j["generator"] = kGenerator;
  j["sources"] = json::array();
  for (const auto& r : report.sources) {
    json counts = {{"converted", 0}, {"unchanged", 0}, {"failed", 0}, {"skipped", 0}};
    for (const auto& s : r.services) counts[s.status] = counts.value(s.status, 0) + 1;
    j["sources"].push_back({{"name", r.name}, {"source", r.source}, {"os", r.os}, {"init", r.init},
                            {"summary", r.name + "/summary.json"}, {"services", counts}});
  }
  return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace decant
