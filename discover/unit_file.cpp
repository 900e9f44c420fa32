// Reads the systemd unit-file language (see unit_file.h). The rules follow
// systemd.syntax(7) and systemd.service(5) "Command lines"; where systemd is
// lenient (an unknown specifier, a stray backslash) this reader keeps the
// text rather than guessing, so evidence shows what the unit really says.
#include "discover/unit_file.h"

#include <fmt/format.h>

#include "common/text.h"

namespace decant {

std::vector<const UnitAssignment*> UnitFile::all(const std::string& section, const std::string& key) const {
  std::vector<const UnitAssignment*> out;
  for (const auto& a : assignments) {
    if (a.section != section || a.key != key) continue;
    if (a.value.empty()) out.clear();  // `Key=` resets a list setting
    else out.push_back(&a);
  }
  return out;
}

const UnitAssignment* UnitFile::last(const std::string& section, const std::string& key) const {
  const UnitAssignment* found = nullptr;
  for (const auto& a : assignments)
    if (a.section == section && a.key == key) found = &a;
  return found;
}

std::string UnitFile::get(const std::string& section, const std::string& key, const std::string& fallback) const {
  const UnitAssignment* a = last(section, key);
  return a ? a->value : fallback;
}

Status parse_unit_text(const std::string& text, const std::string& display, UnitFile& unit) {
  std::string section, pending;
  size_t pending_line = 0, line_no = 0;
  bool continuing = false;
  Status status;
  for_each_line(text, [&](std::string_view raw) {
    ++line_no;
    std::string line = trim(std::string(raw));
    // Comment lines end nothing: systemd skips them even inside a continuation.
    if (!line.empty() && (line[0] == '#' || line[0] == ';')) return;
    if (!continuing) {
      if (line.empty()) return;
      if (line.front() == '[' && line.back() == ']') {
        section = line.substr(1, line.size() - 2);
        return;
      }
      pending_line = line_no;
      pending.clear();
    }
    bool more = !line.empty() && line.back() == '\\';
    if (more) line.pop_back();
    if (continuing && !pending.empty()) pending += ' ';
    pending += more ? trim(line) : line;
    continuing = more;
    if (continuing) return;
    size_t eq = pending.find('=');
    if (eq == std::string::npos) return;  // systemd logs and ignores such lines
    if (section.empty()) {
      if (status) status = bad_input(fmt::format("{}:{}: assignment outside of any [Section]", display, pending_line));
      return;
    }
    unit.assignments.push_back({section, trim(pending.substr(0, eq)), trim(pending.substr(eq + 1)),
                                fmt::format("{}:{}", display, pending_line)});
  });
  return status;
}

namespace {

// systemd's unit-name unescaping: "-" is "/", "\xNN" a byte (systemd.unit(5)).
std::string unescape_unit_name(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '-') out += '/';
    else if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] == 'x' && isxdigit(static_cast<unsigned char>(s[i + 2])) &&
             isxdigit(static_cast<unsigned char>(s[i + 3]))) {
      out += static_cast<char>(std::stoi(s.substr(i + 2, 2), nullptr, 16));
      i += 3;
    } else out += s[i];
  }
  return out;
}

}  // namespace

UnitNames unit_names(const std::string& unit_name) {
  UnitNames n;
  n.full = unit_name;
  std::string stem = unit_name.substr(0, unit_name.rfind('.'));
  size_t at = stem.find('@');
  n.prefix = at == std::string::npos ? stem : stem.substr(0, at);
  if (at != std::string::npos) n.instance = stem.substr(at + 1);
  return n;
}

std::string expand_specifiers(const std::string& value, const UnitNames& n) {
  std::string out;
  std::string stem = n.full.substr(0, n.full.rfind('.'));
  for (size_t i = 0; i < value.size(); ++i) {
    if (value[i] != '%' || i + 1 == value.size()) {
      out += value[i];
      continue;
    }
    char c = value[++i];
    switch (c) {
      case '%': out += '%'; break;
      case 'n': out += n.full; break;
      case 'N': out += stem; break;
      case 'p': out += n.prefix; break;
      case 'P': out += unescape_unit_name(n.prefix); break;
      case 'i': out += n.instance; break;
      case 'I': out += unescape_unit_name(n.instance); break;
      case 'f': out += "/" + unescape_unit_name(n.instance.empty() ? n.prefix : n.instance); break;
      case 't': out += "/run"; break;
      case 'S': out += "/var/lib"; break;
      case 'C': out += "/var/cache"; break;
      case 'L': out += "/var/log"; break;
      case 'E': out += "/etc"; break;
      case 'T': out += "/tmp"; break;
      case 'V': out += "/var/tmp"; break;
      case 'h': out += n.user_home; break;
      case 'u': out += "root"; break;
      case 'U': out += "0"; break;
      default: out += '%'; out += c;  // %H, %m, %b...: the running machine's, unknown here
    }
  }
  return out;
}

Result<std::vector<std::string>> split_unit_words(const std::string& value) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  char quote = 0;
  for (size_t i = 0; i < value.size(); ++i) {
    char c = value[i];
    if (!quote && (c == ' ' || c == '\t' || c == '\n')) {
      if (in_word) words.push_back(word);
      word.clear();
      in_word = false;
      continue;
    }
    in_word = true;
    if (!quote && (c == '"' || c == '\'')) {
      quote = c;
      continue;
    }
    if (quote && c == quote) {
      quote = 0;
      continue;
    }
    if (c == '\\' && i + 1 < value.size()) {
      char e = value[++i];
      switch (e) {
        case 'n': word += '\n'; break;
        case 't': word += '\t'; break;
        case 'r': word += '\r'; break;
        case 'a': word += '\a'; break;
        case 's': word += ' '; break;
        case 'x':
          if (i + 2 < value.size() && isxdigit(static_cast<unsigned char>(value[i + 1])) &&
              isxdigit(static_cast<unsigned char>(value[i + 2]))) {
            word += static_cast<char>(std::stoi(value.substr(i + 1, 2), nullptr, 16));
            i += 2;
          } else word += "\\x";
          break;
        default: word += e;  // \\ \" \' \; and anything else: the character itself
      }
      continue;
    }
    word += c;
  }
  if (quote) return bad_input(fmt::format("unterminated {} quote in \"{}\"", quote, value));
  if (in_word) words.push_back(word);
  return words;
}

namespace {

// systemd reads unit lines up to 1 MiB (LONG_LINE_MAX); a command line that
// expands past that is hostile (`${A}` repeated over a long A), not a daemon.
constexpr size_t kMaxExpandedExec = 1 << 20;

// "${NAME}" anywhere in a word becomes the variable's value (unset: empty).
std::string substitute_braced(const std::string& word, const std::map<std::string, std::string>& env, size_t budget) {
  std::string out;
  for (size_t i = 0; i < word.size() && out.size() <= budget; ++i) {
    size_t close;
    if (word.compare(i, 2, "${") == 0 && (close = word.find('}', i + 2)) != std::string::npos) {
      auto it = env.find(word.substr(i + 2, close - i - 2));
      if (it != env.end()) out.append(it->second, 0, budget - std::min(budget, out.size()) + 1);
      i = close;
    } else out += word[i];
  }
  return out;
}

}  // namespace

Result<ExecCommand> parse_exec(const std::string& value, const UnitNames& names,
                               const std::map<std::string, std::string>& env) {
  auto words = split_unit_words(value);
  if (!words) return words.error();
  ExecCommand cmd;
  bool argv0_given = false;
  if (!words->empty()) {
    std::string& first = words->front();
    size_t k = 0;
    for (; k < first.size() && std::string("-@+!:|").find(first[k]) != std::string::npos; ++k) {
      if (first[k] == '-') cmd.ignore_failure = true;
      if (first[k] == '@') argv0_given = true;
      if (first[k] == '+' || first[k] == '!') cmd.privileged = true;
    }
    first.erase(0, k);
    if (first.empty()) words->erase(words->begin());
  }
  std::vector<std::string> expanded;
  size_t total = 0;
  for (const auto& w : *words) {
    if (total > kMaxExpandedExec) return bad_input(fmt::format("command line expands past {} bytes", kMaxExpandedExec));
    std::string s = expand_specifiers(w, names);
    // A lone $NAME is replaced by the value split at whitespace (systemd.service(5)).
    if (s.size() > 1 && s[0] == '$' && s[1] != '{' && s.find_first_of(" ${}", 1) == std::string::npos) {
      auto it = env.find(s.substr(1));
      if (it != env.end())
        for (auto& part : split_words(it->second)) total += part.size(), expanded.push_back(part);
      continue;
    }
    expanded.push_back(substitute_braced(s, env, kMaxExpandedExec - std::min(total, kMaxExpandedExec)));
    total += expanded.back().size();
  }
  if (total > kMaxExpandedExec) return bad_input(fmt::format("command line expands past {} bytes", kMaxExpandedExec));
  if (expanded.empty()) return bad_input(fmt::format("no command in \"{}\"", value));
  cmd.path = expanded.front();
  if (argv0_given) expanded.erase(expanded.begin());  // '@': the second word is argv[0]
  if (expanded.empty()) return bad_input(fmt::format("'@' without argv[0] in \"{}\"", value));
  cmd.argv = expanded;
  return cmd;
}

void parse_environment_assignments(const std::string& value, std::map<std::string, std::string>& env) {
  auto words = split_unit_words(value);
  if (!words) return;  // systemd ignores a malformed Environment= line
  for (const auto& w : *words) {
    size_t eq = w.find('=');
    if (eq == std::string::npos || eq == 0) continue;
    env[w.substr(0, eq)] = w.substr(eq + 1);
  }
}

}  // namespace decant
