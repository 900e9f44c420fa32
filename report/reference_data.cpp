// The OS lifecycle table and Docker's default seccomp allowlist (see
// reference_data.h). Both are parsed from the compiled-in copies once.
#include "report/reference_data.h"

#include <ctime>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "report/embedded.h"

namespace decant {
namespace {

using json = nlohmann::json;

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
// days_from_civil), so dates compare without the C library's time zone.
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  unsigned yoe = static_cast<unsigned>(y - era * 400);
  unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

// Days since the epoch of "YYYY-MM-DD", or nullopt.
std::optional<int64_t> parse_day(const std::string& s) {
  unsigned y, m, d;
  char tail;
  if (s.size() != 10 || std::sscanf(s.c_str(), "%4u-%2u-%2u%c", &y, &m, &d, &tail) != 3 || m < 1 || m > 12 ||
      d < 1 || d > 31)
    return std::nullopt;
  return days_from_civil(y, m, d);
}

const std::vector<OsLifecycle>& builtin_os_table() {
  static const std::vector<OsLifecycle> table = [] {
    auto t = parse_os_table(std::string(os_eol_table_text()));
    return t ? *t : std::vector<OsLifecycle>{};
  }();
  return table;
}

// Docker's default capabilities (moby daemon/pkg/oci/caps/defaults.go).
const std::set<std::string> kDockerDefaultCaps = {
    "CAP_CHOWN",  "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER",           "CAP_MKNOD",
    "CAP_NET_RAW", "CAP_SETGID",      "CAP_SETUID", "CAP_SETFCAP",          "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",           "CAP_SYS_CHROOT", "CAP_KILL",         "CAP_AUDIT_WRITE"};

bool any_of_caps(const json& list) {
  for (const auto& c : list)
    if (c.is_string() && kDockerDefaultCaps.count(c.get<std::string>())) return true;
  return false;
}

bool all_caps(const json& list) {
  for (const auto& c : list)
    if (!c.is_string() || !kDockerDefaultCaps.count(c.get<std::string>())) return false;
  return true;
}

bool has_arch(const json& list, const char* arch) {
  for (const auto& a : list)
    if (a == arch) return true;
  return false;
}

// Whether a rule of the profile applies to a default amd64 container.
bool applies(const json& rule) {
  json inc = rule.value("includes", json::object()), exc = rule.value("excludes", json::object());
  if (inc.contains("arches") && !has_arch(inc["arches"], "amd64")) return false;
  if (inc.contains("caps") && !all_caps(inc["caps"])) return false;
  if (exc.contains("arches") && has_arch(exc["arches"], "amd64")) return false;
  if (exc.contains("caps") && any_of_caps(exc["caps"])) return false;
  return true;
}

}  // namespace

std::string iso_date(int64_t t) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  return fmt::format("{:04}-{:02}-{:02}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

Result<std::vector<OsLifecycle>> parse_os_table(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("releases") || !j["releases"].is_array())
    return bad_input("os-eol.json: not an object with a 'releases' array");
  std::vector<OsLifecycle> out;
  json sources = j.value("sources", json::object());
  for (const auto& r : j["releases"]) {
    if (!r.is_object()) return bad_input("os-eol.json: a release is not an object");
    OsLifecycle o;
    try {
      o.id = r.at("id").get<std::string>();
      o.version = r.at("version").get<std::string>();
      o.name = r.at("name").get<std::string>();
      o.released = r.at("released").get<std::string>();
      o.security_end = r.at("security_end").get<std::string>();
      o.extended_end = r.value("extended_end", "");
      o.extended_name = r.value("extended_name", "");
    } catch (const json::exception& e) {
      return bad_input(fmt::format("os-eol.json: release {}: {}", out.size(), e.what()));
    }
    for (const std::string* d : {&o.released, &o.security_end, &o.extended_end})
      if (!d->empty() && !parse_day(*d))
        return bad_input(fmt::format("os-eol.json: {} {}: '{}' is not YYYY-MM-DD", o.id, o.version, *d));
    o.source = sources.value(o.id, "");
    out.push_back(std::move(o));
  }
  return out;
}

std::optional<OsLifecycle> find_os_lifecycle(const std::vector<OsLifecycle>& table, const std::string& id,
                                             const std::string& version) {
  if (id.empty() || version.empty()) return std::nullopt;
  for (const auto& o : table)
    if (o.id == id && o.version == version) return o;
  std::string major = version.substr(0, version.find('.'));
  for (const auto& o : table)
    if (o.id == id && o.version == major) return o;
  return std::nullopt;
}

std::optional<OsLifecycle> find_os_lifecycle(const std::string& id, const std::string& version) {
  return find_os_lifecycle(builtin_os_table(), id, version);
}

OsAge os_age(const OsLifecycle& os, int64_t now) {
  OsAge a;
  int64_t today = now >= 0 ? now / 86400 : (now - 86399) / 86400;
  int64_t released = parse_day(os.released).value_or(today);
  int64_t sec_end = parse_day(os.security_end).value_or(today);
  std::optional<int64_t> ext_end = parse_day(os.extended_end);
  a.years = static_cast<double>(today - released) / 365.2425;
  std::string text = fmt::format("{}: released {} ({:.1f} years ago); ", os.name, os.released, a.years);
  if (today < sec_end) {
    a.status = "supported";
    text += fmt::format("security support until {}", os.security_end);
    if (ext_end) text += fmt::format(", {} until {}", os.extended_name, os.extended_end);
  } else if (ext_end && today < *ext_end) {
    a.status = "extended";
    text += fmt::format("regular security support ended {}; {} only, until {}", os.security_end, os.extended_name,
                        os.extended_end);
  } else {
    a.status = "end-of-life";
    text += fmt::format("end of life: security support ended {}", os.security_end);
    if (ext_end) text += fmt::format(", {} ended {}", os.extended_name, os.extended_end);
  }
  a.text = text;
  return a;
}

Result<std::set<std::string>> docker_allowlist(const std::string& profile_json) {
  json j = json::parse(profile_json, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("syscalls") || !j["syscalls"].is_array())
    return bad_input("seccomp profile: not an object with a 'syscalls' array");
  std::set<std::string> names;
  for (const auto& rule : j["syscalls"]) {
    if (!rule.is_object() || rule.value("action", "") != "SCMP_ACT_ALLOW" || !applies(rule)) continue;
    for (const auto& n : rule.value("names", json::array()))
      if (n.is_string()) names.insert(n.get<std::string>());
  }
  return names;
}

const std::set<std::string>& docker_default_allowlist() {
  static const std::set<std::string> names = [] {
    auto n = docker_allowlist(std::string(docker_seccomp_default_text()));
    return n ? *n : std::set<std::string>{};
  }();
  return names;
}

}  // namespace decant
