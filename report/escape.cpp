// Escaping for the report writers (see escape.h).
#include "report/escape.h"

#include <cstring>

#include <fmt/format.h>

namespace decant {
namespace {

// Length of the well-formed UTF-8 character at s[i] (RFC 3629: no overlongs,
// no surrogates, nothing above U+10FFFF), or 0.
size_t utf8_char(std::string_view s, size_t i) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  if (c < 0x80) return 1;
  size_t n = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k)
    if ((b(i + k) & 0xc0) != 0x80) return 0;
  if (c == 0xe0 && b(i + 1) < 0xa0) return 0;  // overlong
  if (c == 0xed && b(i + 1) > 0x9f) return 0;  // surrogate
  if (c == 0xf0 && b(i + 1) < 0x90) return 0;  // overlong
  if (c == 0xf4 && b(i + 1) > 0x8f) return 0;  // above U+10FFFF
  return n;
}

}  // namespace

std::string displayable(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = utf8_char(s, i);
    bool control = n == 1 && ((c < 0x20 && c != '\t') || c == 0x7f);
    // C1 controls (U+0080..U+009F) are two bytes: c2 80..c2 9f.
    bool c1 = n == 2 && c == 0xc2 && static_cast<unsigned char>(s[i + 1]) < 0xa0;
    if (n == 0 || control || c1) {
      size_t len = n == 0 ? 1 : n;
      for (size_t k = 0; k < len; ++k) out += fmt::format("\\x{:02x}", static_cast<unsigned char>(s[i + k]));
      i += len;
      continue;
    }
    out.append(s.substr(i, n));
    i += n;
  }
  return out;
}

std::string html_escape(std::string_view s) {
  std::string out;
  for (char c : displayable(s)) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string md_escape(std::string_view s) {
  // Only what opens inline syntax in the middle of a line: the writers never
  // start a line with guest text, so list and heading markers (- + # 1.) stay.
  static const char punct[] = "\\`*_[]<>|!~&$";
  std::string out;
  for (char c : displayable(s)) {
    if (c != '\0' && std::strchr(punct, c)) out += '\\';
    out += c;
  }
  return out;
}

std::string human_size(unsigned long long bytes) {
  static const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  return u == 0 ? fmt::format("{} B", bytes) : fmt::format("{:.1f} {}", v, units[u]);
}

}  // namespace decant
