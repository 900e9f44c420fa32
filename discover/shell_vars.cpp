// Evaluates the assignments and simple commands of init scripts and
// /etc/default files (see shell_vars.h). Control flow is flattened: every
// assignment is taken in file order whichever branch it is in, which is what
// these files mean in practice (defaults first, overrides after) and what a
// static reader can know.
#include "discover/shell_vars.h"

#include <algorithm>

#include <fmt/format.h>

#include "common/text.h"

namespace decant {
namespace {

bool is_name_char(char c, bool first) {
  return c == '_' || isalpha(static_cast<unsigned char>(c)) || (!first && isdigit(static_cast<unsigned char>(c)));
}

// Index just past the quote, `$(...)`, `${...}` or backquote construct at i.
size_t skip_construct(const std::string& s, size_t i) {
  char c = s[i];
  if (c == '\'') {
    size_t e = s.find('\'', i + 1);
    return e == std::string::npos ? s.size() : e + 1;
  }
  if (c == '`') {
    size_t e = s.find('`', i + 1);
    return e == std::string::npos ? s.size() : e + 1;
  }
  char open = c == '"' ? 0 : s[i + 1], close = open == '(' ? ')' : open == '{' ? '}' : '"';
  int depth = 1;
  for (size_t j = i + (c == '"' ? 1 : 2); j < s.size(); ++j) {
    if (s[j] == '\\') { ++j; continue; }
    if (c == '"' && s[j] == '"') return j + 1;
    if (c == '"' && s[j] == '$' && j + 1 < s.size() && (s[j + 1] == '(' || s[j + 1] == '{')) {
      j = skip_construct(s, j) - 1;
      continue;
    }
    if (c != '"' && s[j] == open) ++depth;
    if (c != '"' && s[j] == close && --depth == 0) return j + 1;
  }
  return s.size();
}

// Raw words and operators (; && || | & ( )) of one logical line, comments dropped.
std::vector<std::string> tokenize(const std::string& line) {
  std::vector<std::string> out;
  std::string word;
  auto flush = [&] {
    if (!word.empty()) out.push_back(word);
    word.clear();
  };
  for (size_t i = 0; i < line.size();) {
    char c = line[i];
    if (c == ' ' || c == '\t') { flush(); ++i; continue; }
    if (c == '#' && word.empty()) break;
    if (c == ';' || c == '&' || c == '|' || c == '(' || c == ')') {
      flush();
      size_t n = (i + 1 < line.size() && line[i + 1] == c && c != '(' && c != ')') ? 2 : 1;
      out.push_back(line.substr(i, n));
      i += n;
      continue;
    }
    if (c == '\\' && i + 1 < line.size()) { word += line.substr(i, 2); i += 2; continue; }
    if (c == '\'' || c == '"' || c == '`' || (c == '$' && i + 1 < line.size() && (line[i + 1] == '(' || line[i + 1] == '{'))) {
      size_t e = skip_construct(line, i);
      word += line.substr(i, e - i);
      i = e;
      continue;
    }
    word += c;
    ++i;
  }
  flush();
  return out;
}

// The text between the quote at i and its closing quote (e is one past it;
// an unterminated quote runs to the end).
std::string quoted_body(const std::string& w, size_t i, size_t e) {
  bool closed = e >= i + 2 && e <= w.size() && w[e - 1] == w[i];
  return w.substr(i + 1, closed ? e - i - 2 : e - i - 1);
}

// A hostile script can double a value per line (`a=$a$a`) or nest
// `${a:-${a:-...}}` thousands deep; real scripts do neither, so past these
// bounds the result is cut and marked unknown instead of growing.
constexpr size_t kMaxExpandedBytes = 64 * 1024;  // per expansion (one word list or one value)
constexpr int kMaxExpansionDepth = 16;

struct Expander {
  const std::map<std::string, ShellValue>& vars;
  bool known = true;
  size_t budget = kMaxExpandedBytes;
  int depth = 0;

  std::string lookup(const std::string& name) {
    auto it = vars.find(name);
    if (it == vars.end()) return "";
    if (!it->second.known) known = false;
    if (it->second.value.size() > budget) {
      known = false;
      budget = 0;
      return "";
    }
    budget -= it->second.value.size();
    return it->second.value;
  }

  // ${...} body: NAME, NAME:-word, NAME-word, NAME:=word, NAME:+word.
  std::string braced(const std::string& body) {
    if (depth >= kMaxExpansionDepth) {
      known = false;
      return "";
    }
    ++depth;
    struct Leave {
      int& depth;
      ~Leave() { --depth; }
    } leave{depth};
    size_t n = 0;
    while (n < body.size() && is_name_char(body[n], n == 0)) ++n;
    std::string name = body.substr(0, n), rest = body.substr(n);
    auto it = vars.find(name);
    bool set = it != vars.end(), nonempty = set && !it->second.value.empty();
    auto word = [&](size_t skip) { return expand_one(rest.substr(skip)); };
    if (rest.rfind(":-", 0) == 0 || rest.rfind(":=", 0) == 0) return nonempty ? lookup(name) : word(2);
    if (rest.rfind("-", 0) == 0 || rest.rfind("=", 0) == 0) return set ? lookup(name) : word(1);
    if (rest.rfind(":+", 0) == 0) return nonempty ? word(2) : "";
    if (!rest.empty()) known = false;  // ${#x}, ${x%y}...: beyond a static reader
    return lookup(name);
  }

  // The fields of every raw word, in order.
  std::vector<std::string> words(const std::vector<std::string>& raw) {
    std::vector<std::string> out;
    for (const auto& w : raw)
      for (auto& f : fields(w)) out.push_back(std::move(f));
    return out;
  }

  // Expands one raw word into fields; unquoted expansions split at blanks.
  std::vector<std::string> fields(const std::string& w) {
    std::vector<std::string> out;
    std::string cur;
    bool have = false;
    auto add_unquoted = [&](const std::string& v) {
      size_t i = 0;
      bool first = true;
      while (i <= v.size()) {
        size_t b = v.find_first_of(" \t\n", i);
        std::string part = v.substr(i, b == std::string::npos ? std::string::npos : b - i);
        if (!first) {
          if (have) out.push_back(cur);
          cur.clear();
          have = false;
        }
        if (!part.empty()) { cur += part; have = true; }
        first = false;
        if (b == std::string::npos) break;
        i = b + 1;
      }
    };
    for (size_t i = 0; i < w.size();) {
      char c = w[i];
      if (c == '\\' && i + 1 < w.size()) { cur += w[i + 1]; have = true; i += 2; continue; }
      if (c == '\'') {
        size_t e = skip_construct(w, i);
        cur += quoted_body(w, i, e);
        have = true;
        i = e;
        continue;
      }
      if (c == '"') {
        size_t e = skip_construct(w, i);
        cur += expand_one(quoted_body(w, i, e), true);
        have = true;
        i = e;
        continue;
      }
      if (c == '`' || (c == '$' && i + 1 < w.size() && w[i + 1] == '(')) {
        known = false;
        i = skip_construct(w, i);
        have = true;
        continue;
      }
      if (c == '$' && i + 1 < w.size() && w[i + 1] == '{') {
        size_t e = skip_construct(w, i);
        add_unquoted(braced(w.substr(i + 2, e - i - 3)));
        i = e;
        continue;
      }
      if (c == '$' && i + 1 < w.size() && is_name_char(w[i + 1], true)) {
        size_t e = i + 1;
        while (e < w.size() && is_name_char(w[e], false)) ++e;
        add_unquoted(lookup(w.substr(i + 1, e - i - 1)));
        i = e;
        continue;
      }
      cur += c;
      have = true;
      ++i;
    }
    if (have) out.push_back(cur);
    return out;
  }

  // The text of a word with expansions joined, as inside double quotes.
  std::string expand_one(const std::string& w, bool in_double_quotes = false) {
    if (!in_double_quotes) {
      std::string joined;
      for (const auto& f : fields(w)) joined += (joined.empty() ? "" : " ") + f;
      return joined;
    }
    std::string out;
    for (size_t i = 0; i < w.size();) {
      if (w[i] == '\\' && i + 1 < w.size() && std::string("$`\"\\").find(w[i + 1]) != std::string::npos) {
        out += w[i + 1];
        i += 2;
      } else if (w[i] == '$' || w[i] == '`') {
        size_t e = i + 1;
        if (w[i] == '`' || (e < w.size() && (w[e] == '(' || w[e] == '{'))) e = skip_construct(w, i);
        else
          while (e < w.size() && is_name_char(w[e], e == i + 1)) ++e;
        if (e == i + 1) { out += '$'; ++i; continue; }
        // Inside double quotes a value is not split: "$A -x" keeps A's blanks.
        if (w[i] == '`' || w[i + 1] == '(') known = false;
        else if (w[i + 1] == '{') out += braced(w.substr(i + 2, e - i - 3));
        else out += lookup(w.substr(i + 1, e - i - 1));
        i = e;
      } else out += w[i++];
    }
    return out;
  }
};

const char* const kKeywords[] = {"if", "then", "else", "elif", "do", "while", "until", "!", "{", "}", "fi", "done", "esac"};

bool is_keyword(const std::string& w) {
  for (const char* k : kKeywords)
    if (w == k) return true;
  return false;
}

// Splits a NAME=value word; false when w is not an assignment.
bool split_assignment(const std::string& w, std::string& name, std::string& raw) {
  size_t eq = w.find('=');
  if (eq == std::string::npos || eq == 0) return false;
  for (size_t i = 0; i < eq; ++i)
    if (!is_name_char(w[i], i == 0)) return false;
  name = w.substr(0, eq);
  raw = w.substr(eq + 1);
  return true;
}

// One expansion inside an evaluation draws on the whole script's budget too,
// so many lines each expanding a large value cannot add up without bound.
Expander script_expander(const ShellScript& out) {
  Expander ex{out.vars};
  ex.budget = std::min(kMaxExpandedBytes, out.expansion_budget);
  return ex;
}

void charge(ShellScript& out, const Expander& ex) {
  out.expansion_budget -= std::min(kMaxExpandedBytes, out.expansion_budget) - ex.budget;
}

}  // namespace

std::vector<std::string> expand_shell_words(const std::vector<std::string>& raw,
                                            const std::map<std::string, ShellValue>& vars, bool* known) {
  Expander ex{vars};
  std::vector<std::string> out = ex.words(raw);
  if (known) *known = ex.known;
  return out;
}

std::vector<std::string> expand_shell_words(const std::vector<std::string>& raw, ShellScript& script, bool* known) {
  Expander ex = script_expander(script);
  std::vector<std::string> out = ex.words(raw);
  charge(script, ex);
  if (known) *known = ex.known;
  return out;
}

std::vector<std::string> expand_shell_words(const std::string& text, const std::map<std::string, ShellValue>& vars,
                                            bool* known) {
  return expand_shell_words(tokenize(text), vars, known);
}

void evaluate_shell(const std::string& text, const std::string& display, const ShellReader& read, ShellScript& out,
                    int depth) {
  std::string logical;
  size_t line_no = 0, start_line = 0;
  for (std::string_view raw : lines(text)) {
    ++line_no;
    std::string line(raw);
    if (logical.empty()) start_line = line_no;
    if (!line.empty() && line.back() == '\\') {
      logical += line.substr(0, line.size() - 1);
      continue;
    }
    logical += line;
    std::string origin = fmt::format("{}:{}", display, start_line);
    std::vector<std::string> tokens = tokenize(logical);
    logical.clear();
    // Each simple command between operators.
    for (size_t i = 0; i < tokens.size();) {
      size_t j = i;
      while (j < tokens.size() && std::string(";&|()").find(tokens[j][0]) == std::string::npos) ++j;
      std::vector<std::string> words(tokens.begin() + i, tokens.begin() + j);
      i = j + 1;
      while (!words.empty() && is_keyword(words.front())) words.erase(words.begin());
      if (words.empty() || words.front() == "case" || words.front() == "for") continue;
      if (words.front() == "export" || words.front() == "readonly" || words.front() == "local")
        words.erase(words.begin());
      size_t k = 0;
      std::string name, value_raw;
      std::vector<std::pair<std::string, std::string>> assigns;
      for (; k < words.size() && split_assignment(words[k], name, value_raw); ++k) assigns.emplace_back(name, value_raw);
      if (k == words.size()) {  // only assignments: they set shell variables
        for (const auto& [n, v] : assigns) {
          Expander ex = script_expander(out);
          std::string value = ex.expand_one(v, false);
          charge(out, ex);
          out.vars[n] = ShellValue{value, origin, ex.known};
        }
        continue;
      }
      Expander ex = script_expander(out);
      ShellCommand cmd{{}, std::vector<std::string>(words.begin() + k, words.end()), origin};
      for (size_t w = k; w < words.size(); ++w)
        for (auto& f : ex.fields(words[w])) cmd.words.push_back(std::move(f));
      charge(out, ex);
      if (cmd.words.empty()) continue;
      if (cmd.words[0] == "." || cmd.words[0] == "source") {
        const std::string& file = cmd.words.size() >= 2 ? cmd.words[1] : std::string();
        bool cycle = file == display || std::find(out.active.begin(), out.active.end(), file) != out.active.end();
        if (!file.empty() && depth < 8 && !cycle && out.sourced.size() < kMaxSourcedFiles)
          if (auto sourced = read(file); sourced && out.sourced_bytes + sourced->size() <= kMaxSourcedBytes) {
            out.sourced_bytes += sourced->size();
            out.sourced.push_back(file);
            out.active.push_back(display);
            evaluate_shell(*sourced, file, read, out, depth + 1);
            out.active.pop_back();
          }
        continue;
      }
      out.commands.push_back(std::move(cmd));
    }
  }
}

}  // namespace decant
