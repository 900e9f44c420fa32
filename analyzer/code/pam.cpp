// Pass 3c of code analysis: PAM. libpam dlopen()s the modules that the
// service's /etc/pam.d file lists (following @include, include and
// substack), so no DT_NEEDED and no literal names them; a program that
// reaches pam_start gets its PAM configuration as files, each module as a
// dlopen()ed library with its own closure, and the files modules read
// (/etc/security, /etc/login.defs) as optional files. The service name is
// taken to be the program's basename (vsftpd, sshd, cron, as Debian's
// daemons call pam_start), with PAM's fallback "other".
#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "analyzer/code/closure_analysis.h"
#include "common/file_util.h"
#include "common/text.h"

namespace decant {

namespace {

// One line of a pam.d file: the module it loads, or the service file it
// includes ("@include common-auth", "auth include system-auth",
// "-session optional pam_systemd.so").
struct PamLine {
  std::string module;   // pam_unix.so or an absolute path
  std::string include;  // another service file
};

std::optional<PamLine> parse_pam_line(std::string line) {
  if (size_t hash = line.find('#'); hash != std::string::npos) line.resize(hash);
  std::vector<std::string> words;
  for (size_t at = 0; (at = line.find_first_not_of(" \t", at)) != std::string::npos;) {
    size_t end = line[at] == '[' ? line.find(']', at) : line.find_first_of(" \t", at);
    end = end == std::string::npos ? line.size() : end + (line[at] == '[' ? 1 : 0);
    words.push_back(line.substr(at, end - at));
    at = end;
  }
  if (words.empty()) return std::nullopt;
  if (words[0] == "@include") return words.size() > 1 ? std::optional<PamLine>(PamLine{"", words[1]}) : std::nullopt;
  if (words.size() < 3) return std::nullopt;
  if (words[1] == "include" || words[1] == "substack") return PamLine{"", words[2]};
  return PamLine{words[2], ""};
}

}  // namespace

void ClosureAnalysis::add_pam_modules(LibraryLoads& loads) {
  std::string trigger;
  size_t libpam = 0;
  for (const Node& n : reachable_)
    if (summaries_[n.obj].functions[n.fn].name == "pam_start" && object_name(n.obj).rfind("libpam.so", 0) == 0) {
      trigger = node_name(n);
      libpam = n.obj;
    }
  if (trigger.empty()) return;
  std::string lib_dir = path_dirname(closure_.objects[libpam].canonical_path);
  const std::vector<std::string> module_dirs{lib_dir + "/security", "/lib/security", "/usr/lib/security"};
  auto add_file = [&](const std::string& path, bool optional, const std::string& why) {
    if (std::any_of(p_.files.begin(), p_.files.end(), [&](const FileFact& f) { return f.path == path; })) return;
    p_.files.push_back({path, "read", optional, {why}});
  };
  // libpam reads "other" too: it stands in for the service, and for any
  // module type the service's file does not configure.
  std::vector<std::string> queue{path_basename(p_.binary.path), "other"};
  std::set<std::string> seen;
  for (size_t q = 0; q < queue.size() && q < 64; ++q) {
    std::string file = "/etc/pam.d/" + queue[q];
    if (queue[q].find('/') != std::string::npos || !seen.insert(file).second || !root_.is_regular_file(file)) continue;
    add_file(file, false, fmt::format("static: {} is reachable and PAM reads {}", trigger, file));
    auto text = root_.read_file(file, 1 << 20);
    if (!text) continue;
    size_t line_no = 0;
    for (std::string_view raw : lines(*text)) {
      ++line_no;
      auto line = parse_pam_line(std::string(raw));
      if (!line) continue;
      std::string text_of_line;
      for (char c : trim(std::string(raw))) {
        bool blank = c == ' ' || c == '\t';
        if (!blank) text_of_line += c;
        else if (!text_of_line.empty() && text_of_line.back() != ' ') text_of_line += ' ';
      }
      std::string where = fmt::format("{}:{}: {}", file, line_no, text_of_line);
      if (!line->include.empty()) {
        queue.push_back(line->include);
        continue;
      }
      std::string lib;
      if (line->module[0] == '/') lib = find_library(loads, line->module);
      for (size_t d = 0; lib.empty() && d < module_dirs.size(); ++d)
        lib = find_library(loads, module_dirs[d] + "/" + line->module);
      if (lib.empty()) continue;  // a "-" module the guest lacks, as PAM skips it
      add_library(loads, lib, line->module, libpam, fmt::format("config: {} (libpam dlopen()s it)", where));
    }
  }
  if (seen.empty()) return;
  for (const char* extra : {"/etc/security", "/etc/login.defs"})
    if (root_.exists(extra))
      add_file(extra, true, fmt::format("static: PAM modules read {} ({} is reachable)", extra, trigger));
}

}  // namespace decant
