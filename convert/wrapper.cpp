// Reading a service's start script for the daemon it starts (wrapper.h).
// Nothing in the guest runs: a script is text, its variables are what the
// shell reader can know, and a program counts only when the guest has it
// as an executable file.
#include "convert/wrapper.h"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <set>

#include <fmt/format.h>

#include "analyzer/config/config_sources.h"
#include "common/file_util.h"
#include "discover/shell_vars.h"

namespace decant {
namespace {

constexpr uint64_t kMaxScriptBytes = 1 << 20;
constexpr size_t kMaxSupportFiles = 4000;  // perl-base lists ~1,000; a whole language runtime is not copied

bool is_shell(const std::string& interpreter) {
  static const std::set<std::string> kShells{"sh", "dash", "bash", "ksh", "mksh", "ash", "busybox"};
  return kShells.count(path_basename(interpreter)) > 0;
}

// Shell words that never name a program on the guest's PATH.
bool is_builtin(const std::string& w) {
  static const std::set<std::string> kBuiltins{
      ".", ":", "[", "[[", "alias", "bg", "break", "cd", "command", "continue", "declare", "echo", "eval", "exec",
      "exit", "export", "false", "fg", "getopts", "hash", "jobs", "kill", "let", "local", "printf", "pwd", "read",
      "readonly", "return", "set", "shift", "source", "test", "times", "trap", "true", "type", "ulimit", "umask",
      "unalias", "unset", "wait"};
  return kBuiltins.count(w) > 0;
}

// Programs that ask the VM's service manager to act: a container has none
// (decant-init runs the service), so a script's branch that calls them
// cannot work there, and packaging systemctl would bring systemd's state
// paths (/run/systemd...) into the image.
bool service_manager_tool(const std::string& program) {
  static const std::set<std::string> kTools{"systemctl", "service", "invoke-rc.d", "initctl"};
  return kTools.count(path_basename(program)) > 0;
}

bool executable_file(const GuestRoot& root, const std::string& path) {
  auto st = root.stat(path);
  return st && S_ISREG(st->st_mode) && (st->st_mode & 0111);
}

bool elf_program(const GuestRoot& root, const std::string& path) {
  return executable_file(root, path) && is_elf_file(root, path);
}

// A command word as the guest would find it: absolute, or on the PATH.
std::string command_program(const GuestRoot& root, const std::string& word) {
  if (word.empty()) return "";
  if (word[0] == '/') return executable_file(root, word) ? normalize_absolute(word) : "";
  if (word.find('/') != std::string::npos || is_builtin(word)) return "";
  std::string found = find_program(root, word);
  return !found.empty() && executable_file(root, found) ? found : "";
}

// Absolute paths in any text (perl, python): a word of path characters
// starting at a '/' that follows a quote, a blank or the start.
std::vector<std::string> absolute_paths(const std::string& text) {
  std::vector<std::string> out;
  auto path_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || (c != '\0' && std::strchr("/._+-@", c) != nullptr);
  };
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '/' || (i > 0 && path_char(text[i - 1]))) continue;
    size_t e = i;
    while (e < text.size() && path_char(text[e])) ++e;
    if (e - i > 1 && e - i < 256) out.push_back(text.substr(i, e - i));
    i = e;
  }
  return out;
}

struct Candidates {
  std::vector<std::string> elf;    // ELF programs it names, in order
  std::set<std::string> exec;      // ...of those, the ones an `exec` line runs
  std::set<std::string> by_path;   // ...named by absolute path (not found on the PATH)
  std::vector<std::string> other;  // everything else it runs
};

void add_program(const GuestRoot& root, const std::string& program, bool by_path, bool on_exec, Candidates& c) {
  if (program.empty() || service_manager_tool(program)) return;
  if (is_elf_file(root, program)) {
    if (std::find(c.elf.begin(), c.elf.end(), program) == c.elf.end()) c.elf.push_back(program);
    if (by_path) c.by_path.insert(program);
    if (on_exec) c.exec.insert(program);
  } else if (std::find(c.other.begin(), c.other.end(), program) == c.other.end()) {
    c.other.push_back(program);
  }
}

// The bodies of $(...) and `...`: the shell reader leaves substitutions
// unknown, but the commands in them run all the same (`id -u`, `mktemp`).
std::vector<std::string> substitutions(const std::string& text) {
  std::vector<std::string> out;
  for (size_t i = 0; i + 1 < text.size() && out.size() < 256; ++i) {
    if (text[i] == '`') {
      size_t e = text.find('`', i + 1);
      if (e == std::string::npos) break;
      out.push_back(text.substr(i + 1, e - i - 1));
      i = e;
    } else if (text[i] == '$' && text[i + 1] == '(' && (i + 2 >= text.size() || text[i + 2] != '(')) {
      int depth = 0;
      size_t e = i + 1;
      for (; e < text.size(); ++e) {
        if (text[e] == '(') ++depth;
        else if (text[e] == ')' && --depth == 0) break;
      }
      if (e >= text.size()) break;
      out.push_back(text.substr(i + 2, e - i - 2));
    }
  }
  return out;
}

void scan_shell(const GuestRoot& root, const std::string& script, const std::string& text, ServiceWrapper& w,
                Candidates& c) {
  ShellScript sc;
  auto reader = [&root](const std::string& path) { return root.read_file(path, kMaxScriptBytes); };
  evaluate_shell(text, script, reader, sc);
  w.sourced = sc.sourced;
  std::vector<ShellCommand> commands = sc.commands;
  for (const auto& body : substitutions(text)) {
    ShellScript inner;
    inner.vars = sc.vars;
    inner.active = {script};  // a substitution that sources the script itself is not re-read
    evaluate_shell(body, script, reader, inner);
    commands.insert(commands.end(), inner.commands.begin(), inner.commands.end());
  }
  for (const auto& cmd : commands) {
    std::vector<std::string> words = cmd.words;
    bool on_exec = !words.empty() && words[0] == "exec";
    if (on_exec) words.erase(words.begin());
    if (words.empty()) continue;
    add_program(root, command_program(root, words[0]), words[0][0] == '/', on_exec, c);
    // start-stop-daemon --exec /usr/sbin/foo, nice /usr/sbin/foo, ...
    for (size_t i = 1; i < words.size(); ++i) {
      const std::string& a = words[i];
      if (a[0] != '/') continue;
      if (elf_program(root, a)) add_program(root, normalize_absolute(a), true, on_exec, c);
      std::string n = normalize_absolute(a);
      if (a.find_first_of("*?[") == std::string::npos && n != "/" && !root.exists(n) &&
          root.is_directory(n.substr(0, n.rfind('/') == 0 ? 1 : n.rfind('/'))) &&
          std::none_of(w.creates.begin(), w.creates.end(), [&](const auto& x) { return x.first == n; }))
        w.creates.emplace_back(n, cmd.origin);
    }
  }
  for (const auto& [name, v] : sc.vars) {
    if (v.value.empty() || v.value[0] != '/') continue;
    if (elf_program(root, v.value))
      add_program(root, normalize_absolute(v.value), true, false, c);
    // APACHE_LOG_DIR=/var/log/apache2: a state directory the script hands
    // the daemon (its configuration says ${APACHE_LOG_DIR}): writable.
    std::string n = normalize_absolute(v.value);
    bool state = false;
    for (const char* d : {"/var/log/", "/var/lib/", "/var/cache/", "/var/spool/", "/var/run/", "/run/", "/var/lock/", "/var/tmp/"})
      state |= n.rfind(d, 0) == 0;
    if (state && std::none_of(w.creates.begin(), w.creates.end(), [&](const auto& x) { return x.first == n; }))
      w.creates.emplace_back(root.is_directory(n) ? n + "/" : n, v.origin);
  }
}

// The interpreter's own package (perl-base's modules): what `use strict`
// needs, without a language-specific search path.
std::vector<std::string> package_support(const GuestRoot& root, const std::string& interpreter) {
  auto index = dpkg_index(root);
  if (!index) return {};
  std::string pkg = owning_package(root, *index, interpreter);
  auto it = index->files.find(pkg);
  if (pkg.empty() || it == index->files.end() || it->second.size() > kMaxSupportFiles) return {};
  std::vector<std::string> out;
  for (const auto& f : it->second) {
    if (f.rfind("/usr/share/doc/", 0) == 0 || f.rfind("/usr/share/man/", 0) == 0 ||
        f.rfind("/usr/share/lintian/", 0) == 0 || !root.is_regular_file(f))
      continue;
    out.push_back(f);
  }
  return out;
}

void choose_daemon(const Candidates& c, const std::string& service, ServiceWrapper& w) {
  std::vector<std::string> elf;
  for (const auto& e : c.elf)
    if (e != w.interpreter) elf.push_back(e);
  auto pick = [&](const std::string& d, const std::string& why) {
    w.daemon = d;
    w.why = why;
  };
  for (const auto& e : elf)
    if (path_basename(e) == service) return pick(e, "named like the service");
  std::vector<std::string> on_exec, named;
  for (const auto& e : elf) {
    if (c.exec.count(e)) on_exec.push_back(e);
    if (c.by_path.count(e)) named.push_back(e);
  }
  if (on_exec.size() == 1) return pick(on_exec[0], "the program it execs");
  if (named.size() == 1) return pick(named[0], "the one program it names by path");
  if (elf.empty()) {
    w.why = "it names no ELF program the guest has";
    return;
  }
  std::string list;
  for (const auto& e : named.empty() ? elf : named) list += (list.empty() ? "" : ", ") + e;
  w.why = fmt::format("it may start any of {}; name the daemon with --service NAME=COMMAND", list);
}

}  // namespace

namespace {

// The interpreter as the "#!" line names it: its first word, or the word
// after env (#!/usr/bin/env perl).
std::string interpreter_word(const std::string& interp_line) {
  size_t b = interp_line.find_first_not_of(" \t");
  std::string line = b == std::string::npos ? "" : interp_line.substr(b);
  std::string first = line.substr(0, line.find_first_of(" \t"));
  std::string rest = first.size() < line.size() ? line.substr(first.size()) : "";
  if (path_basename(first) == "env") {
    size_t s = rest.find_first_not_of(" \t");
    first = s == std::string::npos ? "" : rest.substr(s, rest.find_first_of(" \t", s) - s);
  }
  return first;
}

}  // namespace

std::string script_interpreter_path(const GuestRoot& root, const std::string& interp_line) {
  std::string word = interpreter_word(interp_line);
  return word.empty() ? "" : command_program(root, word);
}

std::vector<std::string> script_data_files(const GuestRoot& root, const std::string& script) {
  auto text = root.read_file(script, kMaxScriptBytes);
  if (!text) return {};
  std::vector<std::string> out;
  for (const auto& p : absolute_paths(*text)) {
    std::string n = normalize_absolute(p);
    if (n.rfind("/proc/", 0) == 0 || n.rfind("/sys/", 0) == 0 || n.rfind("/dev/", 0) == 0) continue;
    if (!root.is_regular_file(n) || executable_file(root, n)) continue;
    if (std::find(out.begin(), out.end(), n) == out.end()) out.push_back(n);
  }
  return out;
}

std::vector<std::string> interpreter_support(const GuestRoot& root, const std::string& interpreter) {
  return is_shell(interpreter) ? std::vector<std::string>{} : package_support(root, interpreter);
}

ServiceWrapper read_service_wrapper(const GuestRoot& root, const std::string& script, const std::string& interp_line,
                                    const std::string& service) {
  ServiceWrapper w;
  w.script = script;
  w.interpreter = script_interpreter_path(root, interp_line);
  if (w.interpreter.empty()) {
    std::string first = interpreter_word(interp_line);
    w.why = fmt::format("its interpreter {} is not in the guest", first.empty() ? "(none)" : first);
    return w;
  }
  auto text = root.read_file(script, kMaxScriptBytes);
  if (!text) {
    w.why = text.error().message;
    return w;
  }
  Candidates c;
  if (is_shell(w.interpreter)) {
    scan_shell(root, script, *text, w, c);
  } else {
    for (const auto& p : absolute_paths(*text))
      if (executable_file(root, p)) add_program(root, normalize_absolute(p), true, false, c);
    w.support = interpreter_support(root, w.interpreter);
  }
  choose_daemon(c, service, w);
  w.programs.push_back(w.interpreter);
  for (const auto& e : c.elf)
    if (e != w.daemon && e != w.interpreter) w.programs.push_back(e);
  for (const auto& o : c.other)
    if (o != script) w.programs.push_back(o);
  return w;
}

}  // namespace decant
