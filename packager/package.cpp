// The packager driver (see package.h). One pass per step; the artifact is
// staged in a scratch directory next to the output and renamed into place
// only when every step succeeded.
#include "packager/package.h"

#include <cctype>
#include <cstdint>
#include <sys/stat.h>

#include <fmt/format.h>

#include "guest/guest_root.h"
#include "guest/source.h"
#include "common/file_util.h"
#include "packager/init_payload.h"
#include "packager/oci_config.h"
#include "policy/seccomp.h"
#include "packager/shim_payload.h"
#include "packager/staged_output.h"
#include "packager/writers.h"
#include "profiles/profile.h"

namespace decant {

const char* format_name(PackageFormat format) {
  switch (format) {
    case PackageFormat::OciArchive: return "oci-archive";
    case PackageFormat::OciDir: return "oci-dir";
    case PackageFormat::Bundle: return "bundle";
    case PackageFormat::Lxc: return "lxc";
  }
  return "?";
}

bool parse_format(const std::string& s, PackageFormat& out) {
  for (PackageFormat f : {PackageFormat::OciArchive, PackageFormat::OciDir, PackageFormat::Bundle, PackageFormat::Lxc})
    if (s == format_name(f)) {
      out = f;
      return true;
    }
  return false;
}

bool parse_size(const std::string& s, uint64_t& out) {
  size_t digits = 0;
  while (digits < s.size() && std::isdigit(static_cast<unsigned char>(s[digits]))) ++digits;
  if (digits == 0 || digits > 19 || s.size() - digits > 1) return false;
  unsigned shift = 0;
  if (digits < s.size()) {
    const std::string units = "KMGT";
    size_t u = units.find(static_cast<char>(std::toupper(static_cast<unsigned char>(s[digits]))));
    if (u == std::string::npos) return false;
    shift = 10 * static_cast<unsigned>(u + 1);
  }
  uint64_t v = std::stoull(s.substr(0, digits));
  if (shift && v > (UINT64_MAX >> shift)) return false;
  out = v << shift;
  return true;
}

namespace {

std::string human_bytes(uint64_t n) {
  const char* units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  size_t u = 0;
  double v = static_cast<double>(n);
  while (v >= 1024 && u + 1 < sizeof units / sizeof units[0]) {
    v /= 1024;
    ++u;
  }
  return u == 0 ? fmt::format("{} bytes", n) : fmt::format("{:.1f} {}", v, units[u]);
}

// The bound on what an image holds: apparent sizes, since whoever unpacks
// the layer (podman, umoci, crun's rootfs) writes a hole back as zeros.
Status check_image_size(const FileSet& files, uint64_t max_bytes) {
  uint64_t total = 0, largest = 0;
  std::string largest_path;
  for (const auto& [path, e] : files.entries) {
    if (e.type != EntryType::File) continue;
    uint64_t n = e.content ? e.content->size() : e.size;
    total += n;
    if (n > largest) {
      largest = n;
      largest_path = path;
    }
  }
  if (total <= max_bytes) return Status::success();
  return bad_input(fmt::format("the image would hold {} of files (largest {}: {}{}), over the {} limit; exclude "
                               "it or raise --max-size",
                               human_bytes(total), largest_path, human_bytes(largest),
                               files.entries.at(largest_path).sparse.empty() ? "" : " apparent size, sparse",
                               human_bytes(max_bytes)));
}

}  // namespace

Result<PackageReport> package(const PackageOptions& o) {
  PackageReport report;
  report.output = o.output;

  // 1. Inputs: the profile (load_profile validates it) and the guest it describes.
  auto profile = load_profile(o.profile_path);
  if (!profile) return profile.error();
  auto source = open_source(o.root);  // convert's own, while it holds it open
  if (!source) return source.error();
  Result<GuestRoot> root = (*source)->root;

  // 2. Claim the output name early, so a clash fails before any work.
  auto staged = StagedOutput::create(o.output, o.force);
  if (!staged) return staged.error();

  // 3. The file set: minimal closure or whole system.
  FileSetOptions fo;
  fo.mode = o.mode;
  auto files = collect_file_set(*root, *profile, fo);
  if (!files) return files.error();
  // The analyzer could not find these in the guest; the image will not have
  // them either, so ld.so will refuse to start the service unless it is
  // given them some other way.
  for (const auto& m : profile->missing_libraries) {
    std::string by;
    for (const auto& n : m.needed_by) by += (by.empty() ? "" : ", ") + n;
    report.warnings.push_back(fmt::format("library {} is missing from the guest{}: the image does not have it "
                                          "either, so the service may fail to start",
                                          m.soname, by.empty() ? "" : " (needed by " + by + ")"));
  }

  // 4. Shim, its libraries and plan under /.decant/.
  auto shim = add_shim_payload(*root, *profile, o.shim ? &*o.shim : nullptr, *files, report.warnings);
  if (!shim) return shim.error();

  // 5. The profile travels with the image: provenance, and what `decant
  //    run` checks an artifact's runtime config against.
  std::string profile_json = to_json(*profile);
  std::string profile_digest = "sha256:" + sha256_hex(profile_json.data(), profile_json.size());
  files->add_inline("/.decant/profile.json", profile_json);

  // 6. What the runtime sees: user, env, ports, writable dirs, caps, seccomp.
  SpecOptions so;
  so.preload_shim = shim->preload;
  so.plan = shim->plan;
  so.profile_digest = profile_digest;
  so.created = o.mtime;
  so.mode = o.mode == PackageMode::Minimal ? "minimal" : "system";
  so.init = o.init;
  auto spec = make_image_spec(*profile, *files, so, report.warnings);
  if (!spec) return spec.error();
  link_var_run(*root, *files, *spec);
  for (const auto& w : spec->writable) {
    // Mount points must exist on the read-only rootfs, owned by the service.
    auto it = files->entries.find(w.path);
    if (it == files->entries.end()) {
      files->add_directory(w.path, 0755);
      files->entries[w.path].uid = spec->uid;
      files->entries[w.path].gid = spec->gid;
    }
  }
  // 6b. decant-init at /.decant/init runs the service (docs/init.md).
  if (o.init) {
    Status is = add_init_payload(*root, *profile, o.init_path.empty() ? locate_init() : o.init_path, *files, *spec,
                                 report.warnings);
    if (!is) return is.error();
  }
  if (!spec->seccomp.is_null()) {
    // The same policy three ways: BPF (the shim, bubblewrap), OCI JSON, LXC
    // text. The plan compiler already compiled the BPF when there is a shim.
    std::string bpf = std::move(shim->bpf);
    if (bpf.empty()) {
      auto sspec = seccomp_spec_from_profile(*profile);
      if (!sspec) return sspec.error();
      auto compiled = compile_seccomp_bpf(*sspec);
      if (!compiled) return compiled.error();
      bpf = std::move(*compiled);
    }
    files->add_inline("/.decant/seccomp.bpf", std::move(bpf));
    files->add_inline("/.decant/seccomp.json", spec->seccomp.dump(2) + "\n");
    auto lxc_policy = lxc_seccomp_policy(*profile, spec->seccomp_allow, shim->preload);
    if (!lxc_policy) return lxc_policy.error();
    files->add_inline("/.decant/lxc-seccomp.policy", std::move(*lxc_policy));
  }

  RuntimeConfigOptions ro;
  ro.network_namespace = o.network_namespace;
  files->add_inline("/.decant/runtime.json", runtime_config(*spec, ro).dump(2) + "\n");

  // 7. One layer, the same bytes for every format, within the size bound.
  Status s = check_image_size(*files, o.max_bytes);
  if (!s) return s.error();
  LayerInput in;
  in.scratch = staged->scratch();
  in.tar_path = in.scratch + "/layer.tar";
  auto diff = write_layer_tar(*files, in.tar_path, o.mtime);
  if (!diff) return diff.error();
  in.diff_id = *diff;
  in.files = &*files;
  in.spec = &*spec;
  in.profile = &*profile;
  in.mtime = o.mtime;
  in.compression = o.compression;
  in.tag = o.tag.empty() ? "decant/" + spec->name + ":latest" : o.tag;

  // 8. The format writer, into scratch, then into place.
  std::string out = in.scratch + "/out";
  Result<WriterResult> written = env_error("unknown format");
  switch (o.format) {
    case PackageFormat::OciArchive: written = write_oci(in, out, true); break;
    case PackageFormat::OciDir: written = write_oci(in, out, false); break;
    case PackageFormat::Bundle: written = write_bundle(in, out, o.network_namespace); break;
    case PackageFormat::Lxc: written = write_lxc(in, out); break;
  }
  if (!written) return written.error();
  s = staged->commit(out);
  if (!s) return s.error();

  report.spec = *spec;
  report.image_ref = in.tag;
  report.digest = written->digest.digest;
  report.image_bytes = written->image_bytes;
  report.files = files->entries.size();
  report.notes = files->notes;
  return report;
}

}  // namespace decant
