// Shared by the fuzz targets that read configuration out of a guest
// (loader_config_fuzz, config_fuzz): the input as a little file system, so
// includes, globs and symlinks between files are followed the way a real
// guest would make them. The input is records of "PATH\n" + "CONTENT"
// separated by NUL bytes; a PATH starting with '@' is a symlink whose
// target is CONTENT. One format for both targets, so a seed or a crash
// input of one is readable by the other.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "guest/memory_guest.h"

namespace decant {

struct FuzzRecord {
  std::string path;     // as written, without the '@'
  std::string content;  // file content, or the symlink's target
  bool link = false;
};

// At most max_records records of in, in order; a record without '\n' is
// all path.
inline std::vector<FuzzRecord> split_fuzz_records(const std::string& in, size_t max_records = 64) {
  std::vector<FuzzRecord> out;
  for (size_t pos = 0; pos <= in.size() && out.size() < max_records;) {
    size_t end = in.find('\0', pos);
    if (end == std::string::npos) end = in.size();
    std::string record = in.substr(pos, end - pos);
    pos = end + 1;
    size_t nl = record.find('\n');
    FuzzRecord r;
    r.path = nl == std::string::npos ? record : record.substr(0, nl);
    r.content = nl == std::string::npos ? "" : record.substr(nl + 1);
    r.link = !r.path.empty() && r.path[0] == '@';
    if (r.link) r.path.erase(0, 1);
    out.push_back(std::move(r));
  }
  return out;
}

// Adds the records to fs. Paths must be absolute, short and without ".."
// (MemoryGuest keys nodes by normalized path; climbing out is for symlink
// targets and include lines to try, not for where a file lives).
inline void add_fuzz_records(MemoryGuest& fs, const std::vector<FuzzRecord>& records) {
  for (const auto& r : records) {
    if (r.path.empty() || r.path[0] != '/' || r.path.find("..") != std::string::npos || r.path.size() > 200) continue;
    if (r.link) fs.add_symlink(r.content, r.path);
    else fs.add_file(r.path, r.content);
  }
}

}  // namespace decant
