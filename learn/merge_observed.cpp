// Merges learn-mode records into a profile (see merge_observed.h). Every fact
// added or confirmed carries an "observed: ..." evidence line, so a reader
// can tell what learn mode saw from what static analysis guessed.
#include "learn/merge_observed.h"

#include <dirent.h>

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/file_util.h"
#include "common/text.h"

namespace decant {
namespace {

using json = nlohmann::json;

// The shim writes bytes >= 0x7f as \u00XX (paths are byte strings), which a
// JSON reader turns into UTF-8; turn those code points back into bytes.
std::string latin1_bytes(const std::string& utf8) {
  std::string out;
  for (size_t i = 0; i < utf8.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(utf8[i]);
    if ((c == 0xC2 || c == 0xC3) && i + 1 < utf8.size()) {
      out += static_cast<char>(((c & 0x03) << 6) | (static_cast<unsigned char>(utf8[i + 1]) & 0x3F));
      ++i;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? latin1_bytes(it->get<std::string>()) : std::string();
}

long num(const json& j, const char* key, long def = 0) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<long>() : def;
}

void add_evidence(Evidence& ev, const std::string& line) {
  if (std::find(ev.begin(), ev.end(), line) == ev.end()) ev.push_back(line);
}

int access_rank(const std::string& a) { return a == "exec" ? 3 : a == "write" ? 2 : a == "read" ? 1 : 0; }

// Operations whose path is something the app needs to exist or to create.
const std::set<std::string> kFileOps{"open",  "opendir", "mkdir",  "rmdir", "unlink", "rename", "link",  "symlink",
                                     "readlink", "chmod", "chown", "truncate", "utime", "mknod", "chdir", "exec",
                                     "dlopen", "bind",   "connect"};

bool is_library(const Profile& p, const std::string& path) {
  return std::any_of(p.libraries.begin(), p.libraries.end(),
                     [&](const Library& l) { return l.path == path || l.opened_as == path; });
}

bool under(const std::string& path, const std::string& dir) {
  std::string d = dir.size() > 1 && dir.back() == '/' ? dir.substr(0, dir.size() - 1) : dir;
  return path.size() > d.size() && path.compare(0, d.size(), d) == 0 && path[d.size()] == '/';
}

// Paths that are the container's or decant's own, never the app's facts.
bool runtime_path(const std::string& path) {
  for (const char* d : {"/proc", "/sys", "/dev", "/.decant"})
    if (path == d || under(path, d)) return true;
  return false;
}

void merge_file(const json& r, Profile& p) {
  std::string op = str(r, "op"), path = str(r, "path"), access = str(r, "access");
  if (path.empty() || path[0] != '/' || access_rank(access) == 0) return;
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  // The kernel's trees and decant's own files are the container's, not the guest's.
  if (runtime_path(path) || is_library(p, path)) return;
  long err = num(r, "errno");
  std::string what = op == "bind" || op == "connect" ? op + "() on an AF_UNIX socket" : op + " (" + access + ")";
  std::string ev = err ? fmt::format("observed: {} failed with errno {} in learn mode", what, err)
                       : fmt::format("observed: {} in learn mode", what);
  auto it = std::find_if(p.files.begin(), p.files.end(), [&](const FileFact& f) { return f.path == path; });
  if (it == p.files.end()) {
    FileFact f;
    f.path = path;
    f.access = access;
    f.optional = err != 0;  // looked for but absent: the app copes without it
    f.evidence.push_back(ev);
    p.files.push_back(std::move(f));
    return;
  }
  if (access_rank(access) > access_rank(it->access)) it->access = access;
  if (!err) it->optional = false;
  add_evidence(it->evidence, ev);
}

// What the static profile knew before the records were merged.
struct Known {
  std::set<std::string> files, write_dirs, libraries;
  std::set<std::pair<uint16_t, std::string>> ports;

  explicit Known(const Profile& p) {
    for (const auto& f : p.files) {
      files.insert(f.path);
      if (f.access == "write") write_dirs.insert(f.path);
    }
    for (const auto& l : p.libraries) {
      libraries.insert(l.path);
      if (!l.opened_as.empty()) libraries.insert(l.opened_as);
    }
    for (const auto& l : p.network.listen) ports.insert({l.port, l.proto});
  }

  bool writable_parent(const std::string& path) const {
    return std::any_of(write_dirs.begin(), write_dirs.end(), [&](const std::string& d) { return under(path, d); });
  }
};

bool looks_like_library(const std::string& path) {
  std::string base = path.substr(path.rfind('/') + 1);
  size_t so = base.find(".so");
  return so != std::string::npos && (so + 3 == base.size() || base[so + 3] == '.');
}

void find_fact_misses(const Known& known, const Profile& p, LearnSummary& summary) {
  for (const auto& f : p.files) {
    if (known.files.count(f.path) || f.path == "/" || f.path == p.binary.path || runtime_path(f.path) ||
        known.writable_parent(f.path))
      continue;
    bool library = looks_like_library(f.path);
    if (f.optional) {
      // Optional here means every record of it failed; ENOENT is what an image can fix.
      bool absent = std::any_of(f.evidence.begin(), f.evidence.end(),
                                [](const std::string& e) { return e.find("errno 2 ") != std::string::npos; });
      if (absent)
        summary.absent_unlisted.push_back(library ? fmt::format("library {}", f.path)
                                                  : fmt::format("file {} ({})", f.path, f.access));
      continue;
    }
    summary.opened_unlisted.push_back(library ? fmt::format("library {}", f.path)
                                              : fmt::format("file {} ({})", f.path, f.access));
  }
  for (const auto& l : p.network.listen)
    if (!known.ports.count({l.port, l.proto}))
      summary.opened_unlisted.push_back(fmt::format("port {}/{}", l.port, l.proto));
}

}  // namespace

void merge_learn_lines(const std::vector<std::string>& lines, Profile& p, LearnSummary& summary) {
  std::set<long> pids;
  std::vector<json> records;
  std::map<std::string, std::string> name_of_ip;  // from resolve records
  for (const auto& line : lines) {
    if (line.empty()) continue;
    json r = json::parse(line, nullptr, false);
    if (r.is_discarded() || !r.is_object() || !r.contains("op")) {
      if (summary.warnings.size() < 5)
        summary.warnings.push_back(fmt::format("learn: skipping a malformed record: {}", line.substr(0, 80)));
      continue;
    }
    summary.records++;
    if (r.contains("pid")) pids.insert(num(r, "pid"));
    if (str(r, "op") == "resolve" && !str(r, "address").empty() && num(r, "errno") == 0)
      name_of_ip.emplace(str(r, "address"), str(r, "host"));
    records.push_back(std::move(r));
  }
  summary.processes = pids.size();

  const Known known(p);
  std::set<std::string> allow_before(p.syscalls.allow.begin(), p.syscalls.allow.end());
  std::set<std::string> allow(allow_before);
  for (const auto& r : records) {
    std::string op = str(r, "op");
    if (kFileOps.count(op) && r.contains("path")) {
      merge_file(r, p);
    } else if (op == "listen" || (op == "bind" && str(r, "proto") == "udp")) {
      if (num(r, "errno")) continue;
      uint16_t port = static_cast<uint16_t>(num(r, "port"));
      std::string proto = str(r, "proto"), addr = str(r, "address");
      if (port == 0 || (proto != "tcp" && proto != "udp")) continue;
      std::string ev = fmt::format("observed: {}() on {}:{}/{} in learn mode", op, addr, port, proto);
      auto it = std::find_if(p.network.listen.begin(), p.network.listen.end(),
                             [&](const ListenFact& l) { return l.port == port && l.proto == proto; });
      if (it == p.network.listen.end()) {
        p.network.listen.push_back({port, proto, addr, "high", {ev}});
      } else {
        it->confidence = "high";
        if (it->address.empty()) it->address = addr;
        add_evidence(it->evidence, ev);
      }
    } else if (op == "connect" && r.contains("port")) {
      uint16_t port = static_cast<uint16_t>(num(r, "port"));
      std::string proto = str(r, "proto"), addr = str(r, "address");
      if (port == 0 || (proto != "tcp" && proto != "udp")) continue;
      auto n = name_of_ip.find(addr);
      std::string host = n != name_of_ip.end() ? n->second : addr;
      long err = num(r, "errno");
      std::string ev = err ? fmt::format("observed: connect() to {}:{}/{} failed with errno {} in learn mode", addr,
                                         port, proto, err)
                           : fmt::format("observed: connect() to {}:{}/{} in learn mode", addr, port, proto);
      auto it = std::find_if(p.network.connect.begin(), p.network.connect.end(), [&](const ConnectFact& c) {
        return c.port == port && c.proto == proto && (c.host == host || c.host == addr);
      });
      if (it == p.network.connect.end()) {
        p.network.connect.push_back({host, port, proto, "high", {ev}});
      } else {
        it->confidence = "high";
        add_evidence(it->evidence, ev);
      }
    } else if (op == "syscall") {
      std::string name = str(r, "name");
      if (name.empty()) continue;
      add_evidence(p.syscalls.evidence[name], "observed: learn mode (seccomp user notification)");
      if (!allow.count(name)) {
        allow.insert(name);
        if (!allow_before.empty()) summary.analyzer_misses.push_back(name);
      }
    }
  }
  p.syscalls.allow.assign(allow.begin(), allow.end());
  std::sort(summary.analyzer_misses.begin(), summary.analyzer_misses.end());
  find_fact_misses(known, p, summary);
}

Result<LearnSummary> merge_learn_dir(const std::string& dir, Profile& p) {
  DIR* d = opendir(dir.c_str());
  if (!d) return env_error(fmt::format("learn: cannot read the records directory {}", dir));
  std::vector<std::string> names;
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n.size() > 6 && n.compare(n.size() - 6, 6, ".jsonl") == 0) names.push_back(n);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  std::vector<std::string> lines;
  for (const auto& n : names) {
    auto text = read_file(dir + "/" + n);
    if (!text) return text.error();
    for (std::string_view line : decant::lines(*text)) lines.emplace_back(line);
  }
  LearnSummary summary;
  merge_learn_lines(lines, p, summary);
  return summary;
}

}  // namespace decant
