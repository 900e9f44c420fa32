// Path, module and port facts of a configuration tree (config_facts.h).
#include "analyzer/config/config_facts.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <fstream>
#include <map>
#include <set>

#include <fmt/format.h>

#include "analyzer/code/config_hints.h"
#include "common/file_util.h"
#include "common/text.h"

namespace decant {

namespace {

bool starts_with(const std::string& s, const char* p) { return s.compare(0, strlen(p), p) == 0; }

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
  return s;
}

// Absolute path tokens of a line: split at blanks, quotes and the
// punctuation configuration syntaxes put around values.
std::vector<std::string> path_tokens(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  auto flush = [&] {
    while (!cur.empty() && (cur.back() == '.' || cur.back() == ':')) cur.pop_back();
    if (cur.size() > 2 && cur[0] == '-' && cur[1] == '/') cur.erase(0, 1);  // rsyslog's "-/var/log/syslog" (no sync)
    if (cur.size() >= 2 && cur[0] == '/' && cur[1] != '/' && cur.find_first_of("*?$%@|\\") == std::string::npos)
      out.push_back(cur);
    cur.clear();
  };
  // "${APACHE_LOG_DIR}/error.log" stays one token (and is dropped for its
  // '$'): the variable's value is not known here.
  bool in_variable = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (c == '$' && i + 1 < line.size() && (line[i + 1] == '{' || line[i + 1] == '(')) in_variable = true;
    else if (in_variable && (c == '}' || c == ')')) {
      in_variable = false;
      cur += c;
      continue;
    }
    bool delimiter = isspace(static_cast<unsigned char>(c)) || strchr("\"'=,;(){}<>", c);
    if (delimiter && !in_variable) flush();
    else cur += c;
  }
  flush();
  return out;
}

// Where daemons write: logs, pid files, sockets, state, spools, caches.
bool write_location(const std::string& p) {
  for (const char* d : {"/var/log/", "/run/", "/var/run/", "/var/lib/", "/var/spool/", "/var/cache/", "/tmp/",
                        "/var/tmp/", "/var/mail/", "/dev/shm/"})
    if (starts_with(p, d) && p.size() > strlen(d)) return true;
  return false;
}

// A directive whose name says it names something written.
bool write_directive(const std::string& key) {
  for (const char* w : {"log", "pid", "lock", "sock", "state", "spool", "cache", "dump", "temp", "tmp", "run",
                        "journal", "save", "upload"})
    if (key.find(w) != std::string::npos) return true;
  return false;
}

bool system_location(const std::string& p) {
  for (const char* d : {"/etc/", "/usr/", "/lib/", "/lib64/", "/bin/", "/sbin/", "/opt/"})
    if (starts_with(p, d)) return true;
  return false;
}

// Directories too general to package whole (`<Directory /usr/share>`).
bool too_general(const std::string& dir) {
  auto comps = split_path(dir);
  if (comps.size() < 2) return true;
  static const std::set<std::string> general{"/usr/share", "/usr/lib",   "/usr/lib64", "/usr/local", "/usr/bin",
                                             "/usr/sbin",  "/usr/include", "/usr/libexec", "/var/lib", "/var/cache",
                                             "/var/log",   "/var/spool", "/var/tmp",   "/var/run",   "/var/mail",
                                             "/usr/src",   "/usr/games", "/var/backups", "/var/opt", "/usr/lib32"};
  if (general.count(dir)) return true;
  if (comps.size() == 3 && comps[0] == "usr" && comps[1] == "lib" && comps[2].find("-linux-gnu") != std::string::npos)
    return true;
  return false;
}

bool module_directive(const std::string& key) {
  return key.find("module") != std::string::npos || key.find("plugin") != std::string::npos ||
         key == "modload" || key == "load_module" || key == "loadmodule";
}

// Bare names in a module directive's value: `("mod_access", "mod_alias")`,
// `module(load="imuxsock")`, `$ModLoad imklog`, `load_module x.so`.
std::vector<std::string> module_names(const std::string& value) {
  std::vector<std::string> out;
  std::string cur;
  auto flush = [&] {
    if (cur.size() >= 2 && cur.size() < 64 && cur[0] != '/' && cur != "load" &&
        std::all_of(cur.begin(), cur.end(), [](char c) { return isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' || c == '/'; }))
      out.push_back(cur);
    cur.clear();
  };
  for (char c : value) {
    if (isspace(static_cast<unsigned char>(c)) || strchr("\"'=,;(){}+", c)) flush();
    else cur += c;
  }
  flush();
  return out;
}

class FactReader {
 public:
  FactReader(const GuestRoot& root, const std::vector<std::string>& plugin_dirs, ConfigFacts& facts)
      : root_(root), module_dirs_(plugin_dirs), facts_(facts) {}

  void file(const ConfigFile& f, const std::string& top_dir) {
    // A script among the configuration (a maintainer or resolvconf hook)
    // is packaged, but its paths are commands, not the daemon's settings.
    if (f.text.compare(0, 2, "#!") == 0) return;
    size_t line_no = 0;
    std::vector<std::pair<std::string, std::string>> bare;  // module names, evidence
    for (std::string_view lv : lines(f.text)) {
      ++line_no;
      std::string line = strip_config_comment(std::string(lv));
      if (line.empty() || line.size() > 1024) continue;
      size_t end = 0;
      while (end < line.size() && !isspace(static_cast<unsigned char>(line[end])) && line[end] != '=' &&
             line[end] != '(')
        ++end;
      std::string key = lower(line.substr(0, end));
      while (!key.empty() && (key[0] == '$' || key[0] == '<' || key[0] == '.')) key.erase(0, 1);
      std::string ev = fmt::format("config: {}:{}: {}", f.path, line_no, line);
      if (std::string program = include_shell_program(line); !program.empty()) shell_command(program, ev);
      if (!include_targets(line).empty()) continue;  // the tree reader followed it
      // A directive starts with a name (or a selector: rsyslog's
      // "auth,authpriv.*"); a data table's "0 string ..." is none.
      if (key.empty() || !(isalpha(static_cast<unsigned char>(key[0])) || strchr("*-_", key[0]))) continue;
      if (key == "include_shell") continue;  // a command, not paths the daemon uses
      for (auto& token : path_tokens(line.substr(end))) path(normalize_absolute(token), key, ev);
      if (module_directive(key))
        for (auto& name : module_names(line.substr(end))) {
          if (name.size() > 3 && name.find(".so") != std::string::npos &&
              module_at({path_dirname(f.path), top_dir}, name, ev))
            continue;
          if (name.find('/') == std::string::npos) bare.push_back({name, ev});
        }
    }
    for (auto& [name, ev] : bare) pending_.push_back({name, ev});
  }

  // Bare names, once every module path (and so every module directory)
  // of the tree is known.
  void finish() {
    for (auto& [name, ev] : pending_) {
      std::vector<std::string> names{name};
      if (name.find(".so") == std::string::npos) names = {name + ".so", "mod_" + name + ".so", "lib" + name + ".so"};
      for (auto& n : names)
        if (module_at(module_dirs_, n, ev)) break;
    }
  }

 private:
  bool module_at(const std::vector<std::string>& dirs, const std::string& name, const std::string& ev) {
    for (auto& d : dirs) {
      std::string p = normalize_absolute(d + "/" + name);
      if (root_.is_regular_file(p) && is_elf_file(root_, p)) {
        add_module(p, ev);
        return true;
      }
    }
    return false;
  }

  void add_module(const std::string& p, const std::string& ev) {
    if (!seen_.insert(p).second) return;
    facts_.modules.push_back({p, ev});
    std::string dir = path_dirname(p);
    if (std::find(module_dirs_.begin(), module_dirs_.end(), dir) == module_dirs_.end()) module_dirs_.push_back(dir);
  }

  void path(const std::string& p, const std::string& key, const std::string& ev) {
    if (p == "/" || starts_with(p, "/dev/") || starts_with(p, "/proc/") || starts_with(p, "/sys/") || p == "/dev/null")
      return;
    bool exists = root_.exists(p);
    bool writes = write_location(p) || (write_directive(key) && !system_location(p));
    if (!exists) {
      // A log or pid file the daemon creates: its directory must be writable.
      if (writes && root_.is_directory(path_dirname(p))) add_path(p, "write", ev, false);
      return;
    }
    if (root_.is_regular_file(p) && p.find(".so") != std::string::npos && is_elf_file(root_, p)) {
      add_module(p, ev);
      return;
    }
    if (root_.is_directory(p) && !writes && too_general(normalize_absolute(p))) return;
    if (writes && too_general(normalize_absolute(p))) return;
    add_path(p, writes ? "write" : "read", ev, true);
  }

  // lighttpd's `include_shell "/usr/share/lighttpd/use-ipv6.pl " + server.port`:
  // the daemon runs the command through /bin/sh -c at every start and reads
  // its output as configuration, so the shell and the command's program are
  // programs of the service (convert brings their closures and a script's
  // interpreter). A plain `cat` of files is an include, read by the tree.
  void shell_command(const std::string& word, const std::string& ev) {
    if (word.empty() || word[0] != '/') return;  // a bare name: which one the shell finds is not known here
    std::string program = normalize_absolute(word);
    if (!root_.is_regular_file(program)) return;
    add_path(program, "exec", ev, true);
    if (root_.exists("/bin/sh")) add_path("/bin/sh", "exec", ev + " (run through /bin/sh -c)", true);
  }

  void add_path(const std::string& p, const std::string& access, const std::string& ev, bool exists) {
    auto it = index_.find(p);
    if (it != index_.end()) {
      std::string& was = facts_.paths[it->second].access;
      if (access == "write" || (access == "exec" && was == "read")) was = access;
      return;
    }
    index_[p] = facts_.paths.size();
    facts_.paths.push_back({p, access, ev, exists});
  }

  const GuestRoot& root_;
  std::vector<std::string> module_dirs_;
  ConfigFacts& facts_;
  std::vector<std::pair<std::string, std::string>> pending_;
  std::set<std::string> seen_;
  std::map<std::string, size_t> index_;
};

}  // namespace

ConfigFacts extract_config_facts(const GuestRoot& root, const ConfigTree& tree,
                                 const std::vector<std::string>& plugin_dirs) {
  ConfigFacts facts;
  FactReader reader(root, plugin_dirs, facts);
  std::string top_dir = tree.files.empty() ? "/" : path_dirname(tree.files.front().path);
  for (auto& f : tree.files) {
    if (f.depth == 0) top_dir = path_dirname(f.path);
    reader.file(f, top_dir);
  }
  reader.finish();
  return facts;
}

void add_config_facts(const ConfigTree& tree, const ConfigFacts& facts, bool listens, Profile& p,
                      const EtcServices& services, const CompiledDefaults& compiled) {
  auto find = [&](const std::string& path) -> FileFact* {
    for (auto& f : p.files)
      if (f.path == path) return &f;
    return nullptr;
  };
  for (auto& cf : tree.files) {
    if (FileFact* f = find(cf.path)) {
      if (f->evidence.size() < 6) f->evidence.push_back(cf.evidence);
      f->optional = false;
      continue;
    }
    p.files.push_back({cf.path, "read", false, {cf.evidence}});
  }
  for (auto& pf : facts.paths) {
    if (FileFact* f = find(pf.path)) {
      if (pf.access == "write" || (pf.access == "exec" && f->access == "read")) f->access = pf.access;
      if (f->evidence.size() < 6) f->evidence.push_back(pf.evidence);
      continue;
    }
    p.files.push_back({pf.path, pf.access, !pf.exists, {pf.evidence}});
  }
  if (listens) add_config_ports(tree, path_basename(p.binary.path), p, services, compiled);
}

}  // namespace decant
