// The reader of docs/hazards.md's tables (see hazard_doc.h).
#include "report/hazard_doc.h"

#include <vector>

#include <fmt/format.h>

#include "common/text.h"
#include "report/embedded.h"

namespace decant {
namespace {

// The cells of a table row "| a | b |", split on '|' outside code spans
// (`a|b` stays one cell) and not escaped as \|.
std::vector<std::string> cells(std::string_view line) {
  std::vector<std::string> out;
  std::string cur;
  bool code = false;
  std::string_view body = line.substr(1);  // after the leading '|'
  for (size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (c == '\\' && i + 1 < body.size() && body[i + 1] == '|') {
      cur += '|';
      ++i;
    } else if (c == '`') {
      code = !code;
      cur += c;
    } else if (c == '|' && !code) {
      out.push_back(trim(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!trim(cur).empty()) out.push_back(trim(cur));  // a row without the closing '|'
  return out;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return s;
}

bool is_header(const std::vector<std::string>& c) {
  return c.size() >= 4 && lower(c[0]) == "id" && lower(c[1]) == "severity" &&
         lower(c.back()).find("what to do") != std::string::npos;
}

bool is_separator(std::string_view line) {
  for (char c : line)
    if (c != '|' && c != '-' && c != ':' && c != ' ') return false;
  return true;
}

}  // namespace

std::string markdown_to_text(std::string_view md) {
  std::string out;
  for (size_t i = 0; i < md.size(); ++i) {
    char c = md[i];
    if (c == '`') continue;
    if (c == '*' && i + 1 < md.size() && md[i + 1] == '*') {
      ++i;
      continue;
    }
    if (c == '[') {
      size_t close = md.find("](", i);
      size_t end = close == std::string_view::npos ? close : md.find(')', close);
      if (end != std::string_view::npos) {
        out += markdown_to_text(md.substr(i + 1, close - i - 1));
        i = end;
        continue;
      }
    }
    out += c;
  }
  return out;
}

Result<HazardDocs> parse_hazard_doc(std::string_view markdown) {
  HazardDocs docs;
  std::string section;
  size_t columns = 0;  // of the table being read; 0 outside a table
  int n = 0;
  for (std::string_view raw : lines(markdown)) {
    ++n;
    std::string line = trim(raw);
    if (line.rfind("#", 0) == 0) section = trim(line.substr(line.find_first_not_of('#')));
    if (line.empty() || line[0] != '|') {
      columns = 0;
      continue;
    }
    auto c = cells(line);
    if (columns == 0) {
      if (is_header(c)) columns = c.size();
      continue;
    }
    if (is_separator(line)) continue;
    if (c.size() != columns)
      return bad_input(fmt::format("hazards.md: line {}: {} cells, the table has {}", n, c.size(), columns));
    HazardDoc d;
    d.id = markdown_to_text(c[0]);
    d.severity = c[1];
    if (d.severity != "info" && d.severity != "warning" && d.severity != "error")
      return bad_input(fmt::format("hazards.md: line {}: hazard '{}' has unknown severity '{}'", n, d.id, d.severity));
    d.meaning_md = c[2];
    d.what_to_do_md = c.back();
    d.meaning = markdown_to_text(d.meaning_md);
    d.what_to_do = markdown_to_text(d.what_to_do_md);
    d.section = section;
    if (d.id.empty()) return bad_input(fmt::format("hazards.md: line {}: empty hazard id", n));
    if (!docs.emplace(d.id, d).second)
      return bad_input(fmt::format("hazards.md: line {}: hazard '{}' is documented twice", n, d.id));
  }
  if (docs.empty()) return bad_input("hazards.md: no table with an 'id | severity | … | what to do' header");
  return docs;
}

const HazardDocs& builtin_hazard_docs() {
  static const HazardDocs docs = [] {
    auto parsed = parse_hazard_doc(hazards_doc_text());
    return parsed ? *parsed : HazardDocs{};
  }();
  return docs;
}

}  // namespace decant
