// Implementation of the shared text helpers (see text.h).
#include "common/text.h"

namespace decant {

std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> out;
  for (std::string_view line : lines(text)) out.emplace_back(line);
  return out;
}

std::vector<std::string> split(std::string_view s, char separator) {
  std::vector<std::string> out;
  for (size_t start = 0;;) {
    size_t end = s.find(separator, start);
    out.emplace_back(s.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) return out;
    start = end + 1;
  }
}

std::vector<std::string> split_words(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  while ((i = s.find_first_not_of(kBlanks, i)) != std::string_view::npos) {
    size_t e = s.find_first_of(kBlanks, i);
    out.emplace_back(s.substr(i, e == std::string_view::npos ? std::string_view::npos : e - i));
    i = e;
  }
  return out;
}

std::string trim(std::string_view s, std::string_view chars) {
  size_t b = s.find_first_not_of(chars);
  if (b == std::string_view::npos) return "";
  size_t e = s.find_last_not_of(chars);
  return std::string(s.substr(b, e - b + 1));
}

}  // namespace decant
