// Learn-mode evidence: reads the JSON-lines records the shim (one file per
// process) and the `decant learn` supervisor wrote, and merges what the app
// really did into a profile with `observed:` evidence, using existing fields
// only: files[], network.listen/connect, syscalls.allow/evidence. Record
// format in docs/shim.md.
#pragma once

#include <string>
#include <vector>

#include "common/error.h"
#include "profiles/profile.h"

namespace decant {

struct LearnSummary {
  size_t records = 0;                       // lines merged
  size_t processes = 0;                     // processes that wrote records
  std::vector<std::string> analyzer_misses; // syscalls observed but absent from the static allowlist
  // What the static profile lacked (with a profile to compare; each entry
  // "library /usr/lib/x.so", "file /etc/x (read)" or "port 22/tcp"):
  // opened: used successfully. Where the app ran on its guest's files
  // these are analyzer misses; inside a packaged image the packager had
  // already covered them. Libraries and ports are here too.
  std::vector<std::string> opened_unlisted;
  // wanted: looked for and absent (ENOENT). Inside an image these are what
  // the image lacked; a re-package with the learned profile brings each
  // one the guest has (they become optional files). Libraries too.
  std::vector<std::string> absent_unlisted;
  // Files under a directory the profile lets the app write, the kernel's
  // trees (/proc, /sys, /dev), "/" and the program itself are in neither.
  std::vector<std::string> warnings;        // malformed lines and the like
};

// Merges records (one JSON object per line) into profile. Lines that are not
// valid records are skipped with a warning, never fatal: a process killed
// mid-run must not cost the whole observation.
void merge_learn_lines(const std::vector<std::string>& lines, Profile& profile, LearnSummary& summary);

// Merges every *.jsonl file in dir.
Result<LearnSummary> merge_learn_dir(const std::string& dir, Profile& profile);

}  // namespace decant
