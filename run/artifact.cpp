// Opens what `decant run` is given (see artifact.h). An image is unpacked
// into a scratch directory beside its cache entry and renamed into place
// only when its layer matched its digest and extracted completely, so a
// cache entry is either whole or absent.
#include "run/artifact.h"

#include <cerrno>
#include <cstring>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "common/file_util.h"
#include "common/host_paths.h"
#include "common/fs_tree.h"
#include "guest/guest_root.h"
#include "packager/staged_output.h"
#include "packager/tar_writer.h"
#include "run/config_check.h"

namespace decant {

namespace {

using nlohmann::json;

bool is_dir(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}
bool exists(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0;
}

Result<json> read_json(const std::string& path) {
  auto text = read_file(path, 16 << 20);
  if (!text) return text.error();
  try {
    return json::parse(*text);
  } catch (const json::exception& e) {
    return bad_input(fmt::format("{}: not valid JSON: {}", path, e.what()));
  }
}

// A digest names a file under blobs/ and a cache directory: only lowercase
// hex may follow "sha256:", never a path.
Result<std::string> blob_path(const std::string& layout, const std::string& digest) {
  bool hex = digest.size() == 71 && digest.compare(0, 7, "sha256:") == 0 &&
             digest.find_first_not_of("0123456789abcdef", 7) == std::string::npos;
  if (!hex) return bad_input(fmt::format("{}: unsupported digest {}", layout, digest));
  return layout + "/blobs/sha256/" + digest.substr(7);
}

// A blob must be a file of the layout itself: a symlink in a crafted
// archive could name any file on the host.
Status check_digest(const std::string& path, const std::string& digest, const std::string& what) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
    return bad_input(fmt::format("{} {} is not a regular file of the layout", what, digest));
  auto sha = sha256_file(path);
  if (!sha) return sha.error();
  if ("sha256:" + *sha != digest) return bad_input(fmt::format("{} {} does not match its digest", what, digest));
  return Status::success();
}

Result<json> read_blob_json(const std::string& layout, const std::string& digest, const std::string& label) {
  auto path = blob_path(layout, digest);
  if (!path) return path.error();
  Status s = check_digest(*path, digest, label + ": blob");
  if (!s) return s.error();
  return read_json(*path);
}

// index.json -> (manifest digest, its single layer's digest), both checked
// to be digests; the manifest also against its bytes.
Result<std::pair<std::string, std::string>> image_digests(const std::string& layout, const std::string& label) {
  struct stat st;
  auto index = ::lstat((layout + "/index.json").c_str(), &st) == 0 && S_ISREG(st.st_mode)
                   ? read_json(layout + "/index.json")
                   : Result<json>(bad_input("index.json is not a regular file"));
  if (!index) return bad_input(fmt::format("{}: not an OCI image layout (no readable index.json)", label));
  std::string manifest_digest;
  try {
    manifest_digest = index->at("manifests").at(0).at("digest").get<std::string>();
  } catch (const json::exception&) {
    return bad_input(fmt::format("{}: index.json lists no manifest", label));
  }
  auto manifest = read_blob_json(layout, manifest_digest, label);
  if (!manifest) return manifest.error();
  try {
    if (manifest->at("layers").size() != 1)
      return bad_input(fmt::format("{}: {} layers; decant run takes the one-layer images decant writes", label,
                                   manifest->at("layers").size()));
    std::string layer = manifest->at("layers").at(0).at("digest").get<std::string>();
    auto p = blob_path(layout, layer);
    if (!p) return p.error();
    return std::make_pair(manifest_digest, layer);
  } catch (const json::exception&) {
    return bad_input(fmt::format("{}: malformed manifest {}", label, manifest_digest));
  }
}

// Unpacks the layer into dir (absent) through a scratch directory.
Status unpack_layer(const std::string& layer, const std::string& dir, const std::string& cache,
                    const std::string& manifest_digest) {
  Status s = make_directories(cache);
  if (!s) return s;
  remove_tree(dir);
  std::string tmp = dir + ".tmp-" + std::to_string(::getpid());
  remove_tree(tmp);
  if (::mkdir(tmp.c_str(), 0755) != 0 || ::mkdir((tmp + "/rootfs").c_str(), 0755) != 0)
    return env_error(fmt::format("{}: cannot create: {}", tmp, std::strerror(errno)));
  s = extract_tar(layer, tmp + "/rootfs");
  if (!s) {
    remove_tree(tmp);
    return s;
  }
  if (::rename(tmp.c_str(), dir.c_str()) != 0) {
    remove_tree(tmp);
    return env_error(fmt::format("{}: cannot move into the cache: {}", dir, std::strerror(errno)));
  }
  return write_file_atomic(dir + "/.complete", manifest_digest + "\n", Overwrite::Replace);
}

Result<Artifact> open_layout(const std::string& layout, const std::string& label, const std::string& cache) {
  auto digests = image_digests(layout, label);
  if (!digests) return digests.error();
  const auto& [manifest_digest, layer_digest] = *digests;
  Artifact a;
  a.cached = true;
  a.base = cache + "/" + manifest_digest.substr(7, 16);
  if (!exists(a.base + "/.complete")) {
    std::string layer = *blob_path(layout, layer_digest);
    Status s = check_digest(layer, layer_digest, label + ": layer");
    if (!s) return s.error();
    s = unpack_layer(layer, a.base, cache, manifest_digest);
    if (!s) return s.error();
  }
  // Read inside the rootfs: a /.decant that is a symlink stays in the image.
  auto root = GuestRoot::open(a.base + "/rootfs");
  if (!root) return root.error();
  auto text = root->read_file("/.decant/runtime.json");
  if (!text)
    return bad_input(fmt::format("{}: no /.decant/runtime.json in the image: decant run only runs images written by "
                                 "`decant package` (use podman for others)",
                                 label));
  try {
    a.config = json::parse(*text);
  } catch (const json::exception& e) {
    return bad_input(fmt::format("{}: /.decant/runtime.json is not valid JSON: {}", label, e.what()));
  }
  return a;
}

Result<Artifact> open_archive(const std::string& archive, const std::string& label, const std::string& cache) {
  // The archive is small next to the rootfs; unpack it whole to a scratch dir.
  Status s = make_directories(cache);
  if (!s) return s.error();
  std::string tmp = cache + "/.archive-" + std::to_string(::getpid());
  remove_tree(tmp);
  if (::mkdir(tmp.c_str(), 0700) != 0) return env_error(fmt::format("{}: {}", tmp, std::strerror(errno)));
  s = extract_tar(archive, tmp);
  if (!s) {
    remove_tree(tmp);
    return bad_input(fmt::format("{}: not an OCI archive ({})", label, s.error().message));
  }
  auto a = open_layout(tmp, label, cache);
  remove_tree(tmp);
  return a;
}

}  // namespace

Result<Artifact> open_artifact(const std::string& artifact, const std::string& label, const std::string& cache) {
  std::string art = absolute_path(artifact);
  if (!exists(art)) return bad_input(fmt::format("{}: no such file or directory", label));
  if (is_dir(art) && exists(art + "/config.json")) {
    auto c = read_json(art + "/config.json");
    if (!c) return c.error();
    return Artifact{art, *c, false};
  }
  if (is_dir(art) && exists(art + "/oci-layout")) return open_layout(art, label, cache);
  if (!is_dir(art)) return open_archive(art, label, cache);
  if (exists(art + "/meta.tar.xz"))
    return bad_input(fmt::format("{}: an LXC image; run it with lxc-create -t local -- --metadata {}/meta.tar.xz "
                                 "--fstree {}/rootfs.tar.xz, then lxc-start",
                                 label, label, label));
  return bad_input(fmt::format("{}: neither an OCI bundle (config.json) nor an OCI image layout", label));
}

Status prepare_volumes(const Artifact& a, const std::string& label) {
  if (!a.cached) return Status::success();
  auto root = GuestRoot::open(a.base + "/rootfs");
  if (!root) return root.error();
  try {
    for (const auto& m : a.config.at("mounts")) {
      if (m.value("type", "") != "bind") continue;
      std::string src = m.value("source", "");
      if (src.empty() || src[0] == '/') continue;
      auto host = path_inside(a.base, src);
      if (!host) return bad_input(fmt::format("{}: mount source {}", label, host.error().message));
      if (exists(*host)) continue;
      Status s = make_directories(*host);
      if (!s) return s;
      // The mount point in the image, its links resolved inside the image.
      auto st = root->stat(m.value("destination", ""));
      if (st && (::chown(host->c_str(), st->st_uid, st->st_gid) != 0 || ::chmod(host->c_str(), st->st_mode & 07777) != 0))
        return env_error(fmt::format("{}: cannot set owner: {}", *host, std::strerror(errno)));
    }
  } catch (const json::exception& e) {
    return bad_input(fmt::format("{}: malformed /.decant/runtime.json: {}", label, e.what()));
  }
  return Status::success();
}

}  // namespace decant
