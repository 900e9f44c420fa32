// `decant package PROFILE --root GUEST -o OUT [--format …] [--mode …]`:
// turns a profile and its guest into an OCI archive/dir, an OCI runtime
// bundle or an LXC image, and prints the artifact's digest.
#include <cstdlib>
#include <unistd.h>
#include <memory>

#include <fmt/format.h>

#include "analyzer/shim_needs.h"
#include "cli/command.h"
#include "common/host_paths.h"
#include "guest/guest_root.h"
#include "guest/source.h"
#include "packager/package.h"
#include "packager/shim_payload.h"
#include "packager/staged_output.h"

namespace decant {
namespace {

struct PackageArgs {
  std::string profile, root = "/", output, format = "oci-archive", mode = "minimal", tag, shim, compression = "gzip",
                       network = "host", max_size;
  bool force = false, no_shim = false, quiet = false;
};

int run_package(const PackageArgs& a) {
  StagedOutput::remove_scratch_on_interrupt();
  PackageOptions o;
  o.profile_path = a.profile;
  o.root = a.root;
  o.output = a.output;
  parse_format(a.format, o.format);
  o.mode = a.mode == "system" ? PackageMode::System : PackageMode::Minimal;
  o.compression = a.compression == "zstd" ? Compression::Zstd : Compression::Gzip;
  o.tag = a.tag;
  o.force = a.force;
  o.network_namespace = a.network == "private";
  if (!a.max_size.empty() && !parse_size(a.max_size, o.max_bytes))
    return fail(bad_input(fmt::format("--max-size {}: not a size (e.g. 64G)", a.max_size)));
  std::shared_ptr<const OpenedSource> source;  // held open, so package() reads the same one
  if (!a.no_shim) {
    std::string shim_path = a.shim.empty() ? locate_shim() : a.shim;
    if (a.shim.empty() && access(shim_path.c_str(), R_OK) != 0) {
      std::fprintf(stderr, "decant: warning: no shim at %s (build target decant-shim or pass --shim/--no-shim); "
                           "packaging without redirects\n", shim_path.c_str());
    } else if (auto opened = open_source(a.root)) {  // a bad root is reported by package(), in order
      source = *opened;
      auto needs = inspect_shim(source->root, shim_path);
      if (!needs) return fail(needs.error());
      o.shim = std::move(*needs);
    }
  }
  if (const char* sde = std::getenv("SOURCE_DATE_EPOCH")) {
    char* end = nullptr;
    long long v = std::strtoll(sde, &end, 10);
    if (!*sde || *end || v < 0) return fail(bad_input(fmt::format("SOURCE_DATE_EPOCH={}: not a Unix time", sde)));
    o.mtime = v;
  }
  auto r = package(o);
  if (!r) return fail(r.error());
  if (!a.quiet)
    for (const auto& n : r->notes) std::fprintf(stderr, "decant: note: %s\n", n.c_str());
  for (const auto& w : r->warnings) std::fprintf(stderr, "decant: warning: %s\n", w.c_str());
  std::printf("%s %s (%llu entries, %llu bytes)\n", r->digest.c_str(), r->output.c_str(),
              static_cast<unsigned long long>(r->files), static_cast<unsigned long long>(r->image_bytes));
  return 0;
}

Registrar registrar{Command{[](CLI::App& app) -> std::function<int()> {
                              auto a = std::make_shared<PackageArgs>();
                              CLI::App* cmd = app.add_subcommand(
                                  "package", "package a profile and its guest as an OCI image, OCI bundle or LXC image");
                              cmd->add_option("profile", a->profile, "profile written by decant analyze")->required();
                              cmd->add_option("--root", a->root, "the guest: a root directory, an archive of one or a disk image (default /)");
                              cmd->add_option("-o,--output", a->output, "output file (oci-archive) or directory")
                                  ->required();
                              cmd->add_option("--format", a->format, "oci-archive (default), oci-dir, bundle or lxc")
                                  ->check(CLI::IsMember({"oci-archive", "oci-dir", "bundle", "lxc"}));
                              cmd->add_option("--mode", a->mode,
                                              "minimal (default): the closure and listed files; system: the whole guest")
                                  ->check(CLI::IsMember({"minimal", "system"}));
                              cmd->add_option("--tag", a->tag, "image name NAME:TAG (default decant/<name>:latest)");
                              cmd->add_option("--compression", a->compression, "OCI layer compression: gzip or zstd")
                                  ->check(CLI::IsMember({"gzip", "zstd"}));
                              cmd->add_option("--network", a->network,
                                              "bundle: host (default) or private (own network namespace)")
                                  ->check(CLI::IsMember({"host", "private"}));
                              cmd->add_option("--shim", a->shim, "libdecant-shim.so to include (default: next to decant)");
                              cmd->add_flag("--no-shim", a->no_shim, "package without the shim and plan");
                              cmd->add_option("--max-size", a->max_size, "most file data an image may hold (default 64G)");
                              cmd->add_flag("--force", a->force, "replace an existing output");
                              cmd->add_flag("-q,--quiet", a->quiet, "do not print notes");
                              return [a] { return run_package(*a); };
                            },
                            20}};

}  // namespace
}  // namespace decant
