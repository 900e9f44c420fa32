// The tables the report compares a guest against, compiled in from
// report/data/ (sources in report/data/README.md): when each distribution
// version was released and when its support ends, and which syscalls
// Docker's default seccomp profile allows.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/error.h"

namespace decant {

struct OsLifecycle {
  std::string id, version, name;
  std::string released, security_end, extended_end, extended_name;  // YYYY-MM-DD; extended_* may be empty
  std::string source;  // where the dates come from
};

// Where an OS stands on a given day.
struct OsAge {
  double years = 0;    // since release
  std::string status;  // supported | extended | end-of-life
  std::string text;    // one sentence for people: "released 2021-08-14 (5.3 years ago); …"
};

// Parses a table in the format of report/data/os-eol.json.
Result<std::vector<OsLifecycle>> parse_os_table(const std::string& json_text);

// The entry for os-release's ID and VERSION_ID from the compiled-in table:
// exact version, or its major part ("7.9" finds "7").
std::optional<OsLifecycle> find_os_lifecycle(const std::string& id, const std::string& version);
std::optional<OsLifecycle> find_os_lifecycle(const std::vector<OsLifecycle>& table, const std::string& id,
                                             const std::string& version);

// now: seconds since the epoch (the report's date).
OsAge os_age(const OsLifecycle& os, int64_t now);

// The syscall names Docker's default profile allows on amd64 for a
// container with Docker's default capabilities (the rule is in
// report/data/README.md), from the compiled-in profile.
const std::set<std::string>& docker_default_allowlist();
// The same rule over any profile in that format.
Result<std::set<std::string>> docker_allowlist(const std::string& profile_json);

// "2026-12-02" for a time in seconds since the epoch (UTC).
std::string iso_date(int64_t t);

}  // namespace decant
