// The analyzer driver: turns one binary inside a guest into a profile. Reads
// like a table of contents; each step lives in its own file.
#pragma once

#include <string>
#include <vector>

#include "guest/guest_root.h"
#include "analyzer/library_resolver.h"
#include "profiles/profile.h"

namespace decant {

struct AnalyzeOptions {
  std::string target_glibc;  // when set, a closure needing newer glibc is a hazard
  bool code = true;          // analyze machine code (syscalls, ports, paths, dlopen)
  // The service's command line (argv[0] first) when known: the
  // configuration files it names are read (analyzer/config/).
  std::vector<std::string> argv;
};

struct Analysis {
  Profile profile;
  Closure closure;
};

extern const char* const kGenerator;  // kVersionString (common/version.h): "decant 0.1.0"

// binary_guest_path: absolute path inside the guest.
Result<Analysis> analyze_binary(const GuestRoot& root, const std::string& binary_guest_path,
                                const AnalyzeOptions& options, ElfCache& cache);

// Splits a symbol version name into its family and version:
// "GLIBC_2.2.5" -> {GLIBC, 2.2.5}, "OPENSSL_1_1_0" -> {OPENSSL, 1.1.0}.
// Returns false for names without a version (GLIBC_PRIVATE).
bool split_symbol_version(const std::string& name, std::string& family, std::string& version);

// Structural hazards of the closure (hazards.cpp).
void add_structural_hazards(const GuestRoot& root, const Closure& closure, const AnalyzeOptions& options,
                            Profile& profile);

}  // namespace decant
