// The configuration tree reader (config_tree.h). Line-based and generic on
// purpose: every include form a daemon's configuration uses is one per line
// in every format decant reads, so one reader serves Apache, nginx,
// lighttpd, BIND, squid, sshd, rsyslog, MySQL and the rest without a parser
// per daemon. What is not a plain include (a shell command other than
// `cat`) is never run; only the `*-enabled` directory it names is read.
#include "analyzer/config/config_tree.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <map>
#include <set>

#include <fmt/format.h>

#include "common/file_util.h"
#include "common/text.h"

namespace decant {

namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string unquote(std::string v) {
  v = trim(v);
  while (!v.empty() && (v.back() == ';' || v.back() == ',')) v.pop_back();
  if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) v = v.substr(1, v.size() - 2);
  return v;
}

// Words of s, a quoted string being one word.
std::vector<std::string> quoted_words(const std::string& s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && isspace(static_cast<unsigned char>(s[i]))) ++i;
    if (i >= s.size()) break;
    if (s[i] == '"' || s[i] == '\'') {
      char q = s[i];
      size_t end = s.find(q, i + 1);
      if (end == std::string::npos) end = s.size();
      out.push_back(s.substr(i + 1, end - i - 1));
      i = end + 1;
    } else {
      size_t end = i;
      while (end < s.size() && !isspace(static_cast<unsigned char>(s[end]))) ++end;
      out.push_back(unquote(s.substr(i, end - i)));
      i = end;
    }
  }
  return out;
}

// "<word>-enabled" directory names inside s ("include-conf-enabled.pl" ->
// "conf-enabled"): what a generated include reads.
std::vector<std::string> enabled_dirs_named(const std::string& s) {
  std::vector<std::string> out;
  for (size_t pos = s.find("-enabled"); pos != std::string::npos; pos = s.find("-enabled", pos + 1)) {
    size_t start = pos;
    while (start > 0 && (isalnum(static_cast<unsigned char>(s[start - 1])) || s[start - 1] == '_')) --start;
    if (start < pos) out.push_back(s.substr(start, pos - start) + "-enabled");
  }
  return out;
}

bool backup_name(const std::string& name) {
  if (name.empty() || name[0] == '.' || name.back() == '~') return true;
  for (const char* suffix : {".dpkg-old", ".dpkg-dist", ".dpkg-new", ".dpkg-tmp", ".ucf-old", ".ucf-dist", ".ucf-new",
                             ".bak", ".swp", ".orig", ".rpmnew", ".rpmsave", ".disabled"})
    if (name.size() > strlen(suffix) && name.compare(name.size() - strlen(suffix), strlen(suffix), suffix) == 0)
      return true;
  return false;
}

bool has_glob(const std::string& s) { return s.find_first_of("*?[") != std::string::npos; }

}  // namespace

std::string strip_config_comment(const std::string& raw) {
  std::string line = trim(raw);
  if (line.empty() || line[0] == '#' || line[0] == ';') return "";
  char quote = 0;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quote) {
      if (c == quote) quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '#' && i > 0 && isspace(static_cast<unsigned char>(line[i - 1]))) {
      return trim(line.substr(0, i));
    }
  }
  return line;
}

namespace {

// The words of include_shell's command: `"cat /a /b"` quoted whole, or
// `"/usr/share/lighttpd/use-ipv6.pl " + server.port` (lighttpd's string
// concatenation: the first string is the command's start).
std::vector<std::string> shell_words(const std::string& rest) {
  auto words = quoted_words(rest);
  if (!words.empty() && !rest.empty() && (rest[0] == '"' || rest[0] == '\'')) words = quoted_words(words[0]);
  return words;
}

std::string line_key(const std::string& line, std::string* rest) {
  size_t end = 0;
  while (end < line.size() && !isspace(static_cast<unsigned char>(line[end])) && line[end] != '(' && line[end] != '=')
    ++end;
  std::string key = lower(line.substr(0, end));
  while (!key.empty() && (key[0] == '!' || key[0] == '.' || key[0] == '$' || key[0] == '@')) key.erase(0, 1);
  *rest = trim(line.substr(end));
  return key;
}

}  // namespace

std::string include_shell_program(const std::string& line) {
  std::string rest;
  if (line_key(line, &rest) != "include_shell") return "";
  auto words = shell_words(rest);
  if (words.empty() || path_basename(words[0]) == "cat") return "";
  return words[0];
}

std::vector<std::string> include_targets(const std::string& line) {
  std::string rest;
  std::string key = line_key(line, &rest);
  if (key == "include" && !rest.empty() && rest[0] == '(') {
    // rsyslog's include(file="/etc/rsyslog.d/*.conf" mode="optional").
    size_t f = rest.find("file=");
    if (f == std::string::npos) return {};
    auto words = quoted_words(rest.substr(f + 5));
    return words.empty() ? std::vector<std::string>{} : std::vector<std::string>{words[0]};
  }
  if (!rest.empty() && rest[0] == '=') rest = trim(rest.substr(1));  // "include = FILE" (INI forms)
  if (key == "include_shell") {
    // Only a plain cat of files is an include; any other command's output
    // is unknown, but the *-enabled directory it names is what it reads.
    auto words = shell_words(rest);
    if (!words.empty() && path_basename(words[0]) == "cat")
      return std::vector<std::string>(words.begin() + 1, words.end());
    return enabled_dirs_named(rest);
  }
  static const std::set<std::string> include_keys{"include",    "includeoptional", "include_try", "includedir",
                                                  "include_dir", "includeconfig",  "include_optional"};
  if (!include_keys.count(key) || rest.empty()) return {};
  std::vector<std::string> out;
  for (auto& w : quoted_words(rest))
    if (!w.empty()) out.push_back(w);
  return out;
}

namespace {

class TreeReader {
 public:
  TreeReader(const GuestRoot& root, const ConfigLimits& limits, ConfigTree& tree)
      : root_(root), limits_(limits), tree_(tree) {}

  // A pattern (file, directory or glob) named at `depth`; relative ones
  // resolve against each of base_dirs in turn (the including file's
  // directory, then the top configuration's: Apache's ServerRoot).
  void add(const std::string& pattern, const std::vector<std::string>& base_dirs, const std::string& evidence,
           int depth) {
    if (depth > limits_.max_depth) {
      note(fmt::format("config: include depth {} reached at {} ({})", limits_.max_depth, pattern, evidence));
      return;
    }
    std::vector<std::string> candidates;
    if (!pattern.empty() && pattern[0] == '/') candidates.push_back(normalize_absolute(pattern));
    else
      for (auto& b : base_dirs) candidates.push_back(normalize_absolute(b + "/" + pattern));
    if (!first_expansion(candidates, evidence, depth)) return;
    for (auto& path : candidates) {
      if (has_glob(path)) {
        auto matches = glob(path, evidence);
        if (matches.empty()) continue;
        for (auto& m : matches)
          if (!backup_name(path_basename(m))) add_path(m, base_dirs, evidence, depth);
        return;
      }
      if (root_.exists(path)) {
        add_path(path, base_dirs, evidence, depth);
        return;
      }
    }
    note(fmt::format("config: {} names nothing in the guest", evidence));
  }

 private:
  void note(std::string n) {
    if (tree_.notes.size() < 32) tree_.notes.push_back(std::move(n));
  }

  // Whether a pattern (its candidate paths) is to be expanded: each once,
  // unless first met deeper (the depth bound may have cut it short). A
  // file repeating one include line thousands of times globs once, and the
  // distinct patterns are bounded.
  bool first_expansion(const std::vector<std::string>& candidates, const std::string& evidence, int depth) {
    std::string key;
    for (auto& c : candidates) key += c + '\n';
    auto seen = patterns_.find(key);
    if (seen != patterns_.end()) {
      if (depth >= seen->second) return false;
      seen->second = depth;
      return true;
    }
    if (patterns_.size() >= limits_.max_patterns) {
      note(fmt::format("config: more than {} include patterns; {} and later ones not followed", limits_.max_patterns,
                       evidence));
      return false;
    }
    patterns_.emplace(std::move(key), depth);
    return true;
  }

  // GuestRoot::glob within the bounds: every wildcard component multiplies
  // the paths tried (a directory of symlinks to itself makes k^n of them).
  std::vector<std::string> glob(const std::string& pattern, const std::string& evidence) {
    size_t wild = 0;
    for (auto& comp : split_path(pattern))
      if (has_glob(comp)) ++wild;
    if (wild > limits_.max_glob_wildcards) {
      note(fmt::format("config: {} not followed: more than {} wildcard components", evidence,
                       limits_.max_glob_wildcards));
      return {};
    }
    if (glob_matches_ >= limits_.max_glob_matches) {
      note(fmt::format("config: {} not followed: more than {} glob matches", evidence, limits_.max_glob_matches));
      return {};
    }
    auto matches = root_.glob(pattern);
    if (matches.size() > limits_.max_glob_matches - glob_matches_) {
      note(fmt::format("config: {}: only {} glob matches followed", evidence, limits_.max_glob_matches));
      matches.resize(limits_.max_glob_matches - glob_matches_);
    }
    glob_matches_ += matches.size();
    return matches;
  }

  void add_path(const std::string& path, const std::vector<std::string>& base_dirs, const std::string& evidence,
                int depth) {
    auto canonical = root_.resolve(path);
    if (!canonical) return;
    if (root_.is_directory(*canonical)) {
      if (dirs_.count(*canonical)) return;
      if (dirs_.size() >= limits_.max_dirs) {
        note(fmt::format("config: more than {} directories; {} and later ones not read", limits_.max_dirs, path));
        return;
      }
      dirs_.insert(*canonical);
      if (depth + 1 > limits_.max_depth) return;
      auto entries = root_.list_directory(*canonical);
      if (!entries) return;
      for (auto& e : *entries)
        if (!backup_name(e)) add_path(path + "/" + e, base_dirs, evidence, depth + 1);
      return;
    }
    if (!root_.is_regular_file(*canonical) || !seen_.insert(*canonical).second) return;  // a cycle ends here
    if (tree_.files.size() >= limits_.max_files) {
      note(fmt::format("config: more than {} configuration files; {} and later ones not read", limits_.max_files, path));
      return;
    }
    if (bytes_spent_) return;  // noted once
    auto text = root_.read_file(*canonical, limits_.max_bytes);
    ConfigFile f{path, *canonical, evidence, depth, text ? *text : std::string()};
    if (f.text.size() > limits_.max_total_bytes - bytes_) {
      bytes_spent_ = true;  // later files, however small, are not read either: one cut, in reading order
      note(fmt::format("config: more than {} bytes of configuration; {} and later files not read",
                       limits_.max_total_bytes, path));
      return;
    }
    bytes_ += f.text.size();
    // Binary files (a compiled database, a key store) are packaged, not parsed.
    if (f.text.find('\0') != std::string::npos) f.text.clear();
    tree_.files.push_back(f);
    if (f.text.compare(0, 2, "#!") == 0) return;  // a script: packaged, never followed
    std::vector<std::string> bases{path_dirname(path)};
    for (auto& b : base_dirs)
      if (std::find(bases.begin(), bases.end(), b) == bases.end()) bases.push_back(b);
    size_t line_no = 0;
    for (std::string_view lv : lines(f.text)) {
      ++line_no;
      std::string line = strip_config_comment(std::string(lv));
      if (line.empty() || line.size() > 1024) continue;
      for (auto& target : include_targets(line))
        add(target, bases, fmt::format("config: {}:{}: {}", path, line_no, line), depth + 1);
    }
  }

  const GuestRoot& root_;
  const ConfigLimits& limits_;
  ConfigTree& tree_;
  std::set<std::string> seen_, dirs_;
  std::map<std::string, int> patterns_;  // candidate paths of an include -> shallowest depth expanded at
  size_t glob_matches_ = 0;
  uint64_t bytes_ = 0;
  bool bytes_spent_ = false;
};

}  // namespace

ConfigTree read_config_tree(const GuestRoot& root, const std::vector<ConfigSeed>& seeds, const ConfigLimits& limits) {
  ConfigTree tree;
  TreeReader reader(root, limits, tree);
  for (auto& s : seeds) {
    if (s.path.empty() || s.path[0] != '/') continue;
    reader.add(s.path, {path_dirname(normalize_absolute(s.path))}, s.evidence, 0);
  }
  return tree;
}

}  // namespace decant
