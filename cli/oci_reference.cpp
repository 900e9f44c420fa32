// The reference grammar behind oci_reference.h, written as small scanners
// rather than one regular expression so that each error names its part.
#include "cli/oci_reference.h"

#include <fmt/format.h>

namespace decant {
namespace {

bool lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool alnum(char c) { return lower_alnum(c) || (c >= 'A' && c <= 'Z'); }
bool word(char c) { return alnum(c) || c == '_'; }

// [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*
bool path_component(const std::string& s) {
  size_t i = 0, n = s.size();
  if (n == 0 || !lower_alnum(s[0])) return false;
  while (i < n) {
    while (i < n && lower_alnum(s[i])) ++i;
    if (i == n) return true;
    size_t sep = i;
    if (s[i] == '.') {
      ++i;
    } else if (s[i] == '_') {
      ++i;
      if (i < n && s[i] == '_') ++i;
    } else if (s[i] == '-') {
      while (i < n && s[i] == '-') ++i;
    } else {
      return false;
    }
    if (i == n || !lower_alnum(s[i]) || i == sep) return false;
  }
  return true;
}

bool dns_label(const std::string& s) {
  if (s.empty() || s.front() == '-' || s.back() == '-') return false;
  for (char c : s)
    if (!alnum(c) && c != '-') return false;
  return true;
}

// label(.label)*[:digits]
bool host(const std::string& s) {
  std::string name = s;
  size_t colon = s.find(':');
  if (colon != std::string::npos) {
    std::string port = s.substr(colon + 1);
    if (port.empty() || port.size() > 5) return false;
    for (char c : port)
      if (c < '0' || c > '9') return false;
    name = s.substr(0, colon);
  }
  size_t start = 0;
  while (true) {
    size_t dot = name.find('.', start);
    if (!dns_label(name.substr(start, dot == std::string::npos ? std::string::npos : dot - start))) return false;
    if (dot == std::string::npos) return true;
    start = dot + 1;
  }
}

Status check_digest(const std::string& d, const std::string& what, const std::string& ref) {
  size_t colon = d.find(':');
  std::string algo = colon == std::string::npos ? "" : d.substr(0, colon);
  std::string hex = colon == std::string::npos ? "" : d.substr(colon + 1);
  size_t want = algo == "sha256" ? 64 : algo == "sha512" ? 128 : 0;
  if (want == 0)
    return bad_input(fmt::format("{} {}: digest '{}' is not sha256:HEX or sha512:HEX", what, ref, d));
  bool ok = hex.size() == want;
  for (char c : hex) ok = ok && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
  if (!ok)
    return bad_input(fmt::format("{} {}: digest '{}' needs {} lowercase hex digits after '{}:'", what, ref, d, want, algo));
  return Status::success();
}

}  // namespace

Status check_image_reference(const std::string& ref, const std::string& what) {
  if (ref.empty()) return bad_input(what + ": empty image reference");
  std::string rest = ref;
  if (size_t at = rest.find('@'); at != std::string::npos) {
    if (Status s = check_digest(rest.substr(at + 1), what, ref); !s) return s;
    rest.resize(at);
  }
  size_t slash = rest.rfind('/');
  size_t colon = rest.rfind(':');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
    std::string tag = rest.substr(colon + 1);
    bool ok = !tag.empty() && tag.size() <= 128 && word(tag[0]);
    for (char c : tag) ok = ok && (word(c) || c == '.' || c == '-');
    if (!ok)
      return bad_input(fmt::format("{} {}: tag '{}' must be 1 to 128 of [A-Za-z0-9_.-], not starting with '.' or '-'",
                                   what, ref, tag));
    rest.resize(colon);
  }
  if (rest.empty()) return bad_input(fmt::format("{} {}: no image name", what, ref));
  if (rest.size() > 255)
    return bad_input(fmt::format("{} {}: the name is {} characters, at most 255 are allowed", what, ref.substr(0, 40) + "...",
                                 rest.size()));
  size_t start = 0;
  for (bool first = true;; first = false) {
    size_t end = rest.find('/', start);
    std::string comp = rest.substr(start, end == std::string::npos ? std::string::npos : end - start);
    bool is_host = first && end != std::string::npos &&
                   (comp.find('.') != std::string::npos || comp.find(':') != std::string::npos || comp == "localhost");
    if (is_host ? !host(comp) : !path_component(comp))
      return bad_input(fmt::format(
          is_host ? "{} {}: '{}' is not a registry HOST[:PORT]"
                  : "{} {}: name component '{}' must be lowercase letters and digits, separated by '.', '_', '__' or '-'",
          what, ref, comp));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return Status::success();
}

}  // namespace decant
