// The convert stage: one guest in, one container per boot service out. Runs
// discover, then for every service it found: analyze its binary as
// `decant analyze` does, add what discovery knows (the real command line,
// user, working directory, environment, listen ports from socket units and
// superservers), write OUTDIR/<service>/profile.yaml and package it (OCI
// archive and bundle by default). One failing service never stops the
// others; each service directory appears whole or not at all.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "analyzer/shim_needs.h"
#include "common/error.h"
#include "packager/package.h"

namespace decant {

struct ConvertOptions {
  std::string source;  // a guest root directory
  std::string outdir;
  std::vector<std::string> only;  // service names; empty: all
  std::vector<PackageFormat> formats = {PackageFormat::OciArchive, PackageFormat::Bundle};
  PackageMode mode = PackageMode::Minimal;
  std::string shim_path;  // empty: no shim
  bool force = false;     // redo services whose inputs are unchanged
  int64_t mtime = 0;      // SOURCE_DATE_EPOCH for the artifacts
  std::function<void(const std::string& line)> progress;  // one line per service step
};

struct ConvertedArtifact {
  std::string format;  // oci-archive | bundle | oci-dir | lxc
  std::string path;    // relative to OUTDIR
  std::string digest;
};

struct ServiceOutcome {
  std::string name, manager, binary;
  std::string status;  // converted | unchanged | failed | skipped
  std::string reason;
  std::string profile;  // relative to OUTDIR
  std::vector<ConvertedArtifact> artifacts;
  std::vector<std::string> listen;  // "6379/tcp"
  std::vector<std::string> hazards;
  std::string input_digest;  // what an unchanged re-run compares
};

struct ConvertReport {
  std::string source, os, init;
  std::vector<ServiceOutcome> services;
  bool all_converted() const;
};

// Fails only when the source cannot be read or OUTDIR cannot be created;
// per-service failures are outcomes.
Result<ConvertReport> convert_guest(const ConvertOptions& options);

// OUTDIR/summary.json's text (docs/convert.md), stable order.
std::string summary_json(const ConvertReport& report);

}  // namespace decant
