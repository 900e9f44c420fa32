// Writes an OCI image layout (image-spec v1.0): the compressed layer, the
// image config, the manifest and index.json, as a directory or as the tar of
// that directory that `skopeo`/`podman` call oci-archive. Every JSON is
// dumped with sorted keys, so the manifest digest is a function of the inputs.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "common/file_util.h"
#include "common/fs_tree.h"
#include "packager/writers.h"

namespace decant {

namespace {

using nlohmann::json;

std::string hex_of(const Blob& b) { return b.digest.substr(7); }

Result<Blob> put_json_blob(const std::string& blobs, const json& j) {
  std::string text = j.dump();
  Blob b{"sha256:" + sha256_hex(text.data(), text.size()), text.size()};
  Status s = write_file_atomic(blobs + "/" + hex_of(b), text, Overwrite::Replace, 0644);
  if (!s) return s.error();
  return b;
}

}  // namespace

Result<WriterResult> write_oci(const LayerInput& in, const std::string& out, bool archive) {
  std::string layout = archive ? in.scratch + "/layout" : out;
  std::string blobs = layout + "/blobs/sha256";
  Status s = make_directories(blobs);
  if (!s) return s.error();

  // 1. The layer, compressed with stable settings.
  std::string tmp_layer = blobs + "/.layer";
  auto layer = compress_file(in.tar_path, tmp_layer, in.compression);
  if (!layer) return layer.error();
  if (::rename(tmp_layer.c_str(), (blobs + "/" + hex_of(*layer)).c_str()) != 0)
    return env_error(fmt::format("{}: {}", blobs, std::strerror(errno)));

  // 2. Image config, manifest, index.
  auto config = put_json_blob(blobs, image_config(*in.spec, in.profile->binary.arch, in.diff_id.digest, in.mtime));
  if (!config) return config.error();
  const char* layer_type = in.compression == Compression::Zstd   ? "application/vnd.oci.image.layer.v1.tar+zstd"
                           : in.compression == Compression::Gzip ? "application/vnd.oci.image.layer.v1.tar+gzip"
                                                                 : "application/vnd.oci.image.layer.v1.tar";
  json manifest = {
      {"schemaVersion", 2},
      {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
      {"config",
       {{"mediaType", "application/vnd.oci.image.config.v1+json"}, {"digest", config->digest}, {"size", config->size}}},
      {"layers", json::array({{{"mediaType", layer_type}, {"digest", layer->digest}, {"size", layer->size}}})},
      {"annotations", in.spec->labels}};
  auto man = put_json_blob(blobs, manifest);
  if (!man) return man.error();
  json index = {{"schemaVersion", 2},
                {"mediaType", "application/vnd.oci.image.index.v1+json"},
                {"manifests", json::array({{{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                                            {"digest", man->digest},
                                            {"size", man->size},
                                            {"annotations", {{"org.opencontainers.image.ref.name", in.tag}}}}})}};
  std::string index_text = index.dump();
  std::string layout_text = R"({"imageLayoutVersion":"1.0.0"})";
  s = write_file_atomic(layout + "/index.json", index_text, Overwrite::Replace, 0644);
  if (!s) return s.error();
  s = write_file_atomic(layout + "/oci-layout", layout_text, Overwrite::Replace, 0644);
  if (!s) return s.error();

  WriterResult r{*man, layer->size};
  if (!archive) return r;

  // 3. oci-archive: the same layout as an uncompressed tar (blobs are
  // compressed already), in a fixed order.
  std::vector<TarMember> members;
  members.push_back({"blobs/", "", "", 0755});
  members.push_back({"blobs/sha256/", "", "", 0755});
  std::vector<std::string> names = {hex_of(*config), hex_of(*layer), hex_of(*man)};
  std::sort(names.begin(), names.end());
  for (const auto& n : names) members.push_back({"blobs/sha256/" + n, "", blobs + "/" + n, 0644});
  members.push_back({"index.json", index_text, "", 0644});
  members.push_back({"oci-layout", layout_text, "", 0644});
  auto tar = write_simple_tar(members, out, in.mtime, Compression::None);
  if (!tar) return tar.error();
  return r;
}

}  // namespace decant
