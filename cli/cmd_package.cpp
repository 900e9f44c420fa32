// `decant package PROFILE [--root GUEST] -o OUT [--format …] [--mode …] [--json]`:
// turns a profile and its guest into an OCI archive/dir, an OCI runtime
// bundle or an LXC image, and prints the artifact's digest. `-o -` streams
// an OCI archive to stdout (built in a scratch directory, then copied);
// --tag is checked against the reference grammar before anything is written;
// without --root the guest is the profile's source.root.
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <unistd.h>
#include <memory>
#include <optional>
#include <vector>

#include <fmt/format.h>

#include "analyzer/shim_needs.h"
#include "cli/command.h"
#include "cli/oci_reference.h"
#include "common/host_paths.h"
#include "guest/guest_root.h"
#include "guest/source.h"
#include "packager/package.h"
#include "packager/shim_payload.h"
#include "packager/staged_output.h"
#include "profiles/profile.h"

namespace decant {
namespace {

struct PackageArgs {
  std::string profile, root, output, format = "oci-archive", mode = "minimal", tag, shim, compression = "gzip",
                       network = "host", max_size;
  bool force = false, no_shim = false, quiet = false, json = false;
};

bool to_stdout(const PackageArgs& a) { return a.output == "-"; }

// What can be refused from the arguments alone, before the profile is read.
Status check_args(const PackageArgs& a) {
  if (!a.tag.empty())
    if (Status s = check_image_reference(a.tag); !s) return s;
  if (to_stdout(a)) {
    if (a.format != "oci-archive")
      return bad_input(fmt::format("-o -: --format {} writes a directory; only oci-archive can go to stdout", a.format));
    if (a.json) return bad_input("-o - and --json both want stdout; give -o FILE with --json");
    if (isatty(STDOUT_FILENO)) return bad_input("-o -: stdout is a terminal; redirect it to a file or a pipe");
  }
  return Status::success();
}

// --root, or the profile's source.root (said on stderr), or "/".
Result<std::string> guest_root(const PackageArgs& a) {
  if (!a.root.empty()) return a.root;
  auto profile = load_profile(a.profile);
  if (!profile) return profile.error();
  std::string root = profile->source.root.empty() ? "/" : profile->source.root;
  if (!a.quiet)
    std::fprintf(stderr, "decant: note: no --root given: packaging from %s (%s)\n", root.c_str(),
                 profile->source.root.empty() ? "the profile has no source.root" : "the profile's source.root");
  return root;
}

// Copies a finished archive to stdout; a reader that goes away is an error
// (EPIPE), not a signal that would leave the scratch directory behind.
Status copy_to_stdout(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno_error(errno, fmt::format("{}: cannot read the archive back", path));
  std::signal(SIGPIPE, SIG_IGN);
  std::vector<char> buf(1 << 16);
  Status result;
  for (;;) {
    ssize_t n = read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      result = env_error(fmt::format("{}: read failed", path));
      break;
    }
    if (n == 0) break;
    for (ssize_t off = 0; off < n;) {
      ssize_t w = write(STDOUT_FILENO, buf.data() + off, static_cast<size_t>(n - off));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) {
        result = env_error(errno == EPIPE ? "-o -: the reader of stdout went away before the archive was written"
                                          : "-o -: cannot write the archive to stdout");
        close(fd);
        return result;
      }
      off += w;
    }
  }
  close(fd);
  return result;
}

// docs/cli.md, `decant package --json`.
Json package_result(const PackageArgs& a, const PackageOptions& o, const PackageReport& r) {
  return Json{{"output", a.output},  {"format", a.format},      {"root", o.root},
              {"digest", r.digest},  {"image_ref", r.image_ref}, {"entries", r.files},
              {"bytes", r.image_bytes}, {"notes", r.notes},     {"warnings", r.warnings}};
}

int run_package(const PackageArgs& a) {
  StagedOutput::remove_scratch_on_interrupt();
  if (Status s = check_args(a); !s) return fail(s.error());
  PackageOptions o;
  o.profile_path = a.profile;
  auto root = guest_root(a);
  if (!root) return fail(root.error());
  o.root = *root;
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
    } else if (auto opened = open_source(o.root)) {  // a bad root is reported by package(), in order
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
  // -o -: the archive is built in a scratch directory of its own (removed on
  // every exit and on SIGINT/SIGTERM, never committed), then streamed.
  std::optional<StagedOutput> spool;
  if (to_stdout(a)) {
    const char* tmp = std::getenv("TMPDIR");
    auto staged = StagedOutput::create(fmt::format("{}/decant-package-{}.oci.tar", tmp && *tmp ? tmp : "/tmp", getpid()),
                                       false);
    if (!staged) return fail(staged.error());
    spool.emplace(std::move(*staged));
    o.output = spool->scratch() + "/image.oci.tar";
  }
  auto r = package(o);
  if (!r) return fail(r.error());
  if (!a.quiet)
    for (const auto& n : r->notes) std::fprintf(stderr, "decant: note: %s\n", n.c_str());
  for (const auto& w : r->warnings) std::fprintf(stderr, "decant: warning: %s\n", w.c_str());
  if (spool) {
    if (Status s = copy_to_stdout(o.output); !s) return fail(s.error());
    if (!a.quiet)
      std::fprintf(stderr, "decant: %s written to stdout (%llu entries, %llu bytes)\n", r->digest.c_str(),
                   static_cast<unsigned long long>(r->files), static_cast<unsigned long long>(r->image_bytes));
    return 0;
  }
  if (a.json) return print_json(package_result(a, o, *r));
  std::printf("%s %s (%llu entries, %llu bytes)\n", r->digest.c_str(), r->output.c_str(),
              static_cast<unsigned long long>(r->files), static_cast<unsigned long long>(r->image_bytes));
  return 0;
}

Registrar registrar{Command{[](CLI::App& app) -> std::function<int()> {
                              auto a = std::make_shared<PackageArgs>();
                              CLI::App* cmd = app.add_subcommand(
                                  "package", "package a profile and its guest as an OCI image, OCI bundle or LXC image");
                              cmd->add_option("profile", a->profile, "profile written by decant analyze")->required();
                              cmd->add_option("--root", a->root,
                                              "the guest: a root directory, an archive of one or a disk image "
                                              "(default: the profile's source.root, else /)");
                              cmd->add_option("-o,--output", a->output,
                                              "output file (oci-archive; - for stdout) or directory")
                                  ->required();
                              cmd->add_option("--format", a->format, "oci-archive (default), oci-dir, bundle or lxc")
                                  ->check(CLI::IsMember({"oci-archive", "oci-dir", "bundle", "lxc"}));
                              cmd->add_option("--mode", a->mode,
                                              "minimal (default): the closure and listed files; system: the whole guest")
                                  ->check(CLI::IsMember({"minimal", "system"}));
                              cmd->add_option("--tag", a->tag,
                                              "image reference [HOST[:PORT]/]NAME[:TAG][@DIGEST] (default "
                                              "decant/<name>:latest)");
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
                              add_json_flag(cmd, a->json);
                              return [a] { return run_package(*a); };
                            },
                            20}};

}  // namespace
}  // namespace decant
