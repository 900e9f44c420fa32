// The per-object cache of code summaries, keyed by the file's sha256 and the
// summary format version: a libc shared by 50 services is analyzed once.
// Entries live in <root>/code/v<version>-<sha256>.json and are written
// atomically; an unreadable or stale entry is a miss, never an error.
#pragma once

#include <optional>
#include <string>

#include "analyzer/code/object_summary.h"

namespace decant {

// $DECANT_CACHE, else $HOME/.cache/decant, else /tmp/decant-cache.
std::string default_cache_root();

std::string summary_to_json(const ObjectSummary& s);
std::optional<ObjectSummary> summary_from_json(const std::string& text);

std::optional<ObjectSummary> load_cached_summary(const std::string& cache_root, const std::string& sha256);
// Best effort: failures to write (read-only home, full disk) are ignored.
void store_cached_summary(const std::string& cache_root, const ObjectSummary& s);

}  // namespace decant
