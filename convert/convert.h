// The convert stage: guests in, one container per boot service out. Opens
// every SOURCE and runs discover on it, then for every service it found (and
// every --service given by hand): analyze its binary as `decant analyze`
// does, add what discovery knows (the real command line, user, working
// directory, environment, listen ports from socket units and superservers),
// write <service>/profile.yaml and package it (OCI archive and bundle by
// default), on N worker threads with the same output as one. One failing
// service never stops the others; each service directory appears whole or
// not at all; summary.json is written atomically at the end.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "guest/guest_root.h"
#include "packager/package.h"

namespace decant {

// `--service NAME=CMD`: a service discovery did not find, or a new command
// line for one it found.
struct ManualService {
  std::string name;
  std::vector<std::string> argv;  // CMD split as a shell splits a simple command
};

// "NAME=CMD" -> ManualService; bad input for an empty or path-like NAME, an
// empty CMD or an unterminated quote.
Result<ManualService> parse_manual_service(const std::string& spec);

// What a worker reports as it goes; called from worker threads, one call at
// a time (convert serializes them).
struct ProgressEvent {
  enum Kind { Discovered, Started, Stage, Finished } kind;
  std::string source;   // the source's directory name under OUTDIR ("" for one source)
  std::string service;  // empty for Discovered
  std::string text;     // Discovered: "12 services, 8 to convert"; Stage: "analyze"…; Finished: the status line
  size_t total = 0;     // Discovered: services to convert in this source
};

struct ConvertOptions {
  std::vector<std::string> sources;  // guest root directories
  std::string outdir;
  std::vector<std::string> only;  // service names; empty: all
  std::vector<ManualService> manual;
  std::vector<PackageFormat> formats = {PackageFormat::OciArchive, PackageFormat::Bundle};
  PackageMode mode = PackageMode::Minimal;
  std::string shim_path;  // empty: no shim
  bool force = false;     // redo services whose inputs are unchanged
  int64_t mtime = 0;      // SOURCE_DATE_EPOCH for the artifacts
  int jobs = 1;           // services converted at once
  // --shard-index/--shard-count (docs/fleet.md): convert only the sources k
  // with k % shard_count == shard_index, named as a run over all of them
  // names them, always in OUTDIR/<name>/, without the index OUTDIR/summary.json
  // that several shards would race for. shard_count 0: no sharding.
  int shard_index = 0, shard_count = 0;
  std::function<void(const ProgressEvent&)> progress;
};

struct ConvertedArtifact {
  std::string format;  // oci-archive | bundle | oci-dir | lxc
  std::string path;    // relative to the source's directory
  std::string digest;
};

struct ServiceOutcome {
  std::string name, manager, binary;
  std::string status;  // converted | unchanged | failed | skipped
  std::string reason;
  std::string profile;  // relative to the source's directory
  std::vector<ConvertedArtifact> artifacts;
  std::vector<std::string> listen;  // "6379/tcp"
  std::vector<std::string> hazards;
  std::string input_digest;  // what an unchanged re-run compares
};

struct SourceReport {
  std::string name;    // directory under OUTDIR; empty when there is one source
  std::string source;  // as given
  std::string os, init;
  std::vector<ServiceOutcome> services;
};

struct ConvertReport {
  std::vector<SourceReport> sources;
  bool all_converted() const;  // no service failed
};


// OUTDIR/<name>/ for each of several sources: the source's basename without
// archive or image suffixes, made safe for a file name, "-2", "-3"… added to
// repeats in argument order. One source: {""}, unless always_named.
std::vector<std::string> source_dir_names(const std::vector<std::string>& sources, bool always_named = false);

// The indices of sources that shard `index` of `count` converts (k % count == index).
std::vector<size_t> shard_sources(size_t sources, int index, int count);

// Converts every source and writes summary.json (one source:
// OUTDIR/summary.json; several: OUTDIR/<name>/summary.json each and an index
// in OUTDIR/summary.json, docs/convert.md). Fails, before writing anything,
// when a source cannot be read, an --only or --service names nothing, or
// OUTDIR cannot be created; per-service failures are outcomes.
Result<ConvertReport> convert_guests(const ConvertOptions& options);

// summary.json's text for one source, and the index for several (stable order).
std::string summary_json(const SourceReport& report);
std::string index_json(const ConvertReport& report);

}  // namespace decant
