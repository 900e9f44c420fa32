// Writes an OCI runtime bundle for crun/runc: the layer unpacked as rootfs/
// (so the bundle holds exactly what the image would), config.json, and one
// host directory under volumes/ per writable mount, seeded with what the
// image has there and owned by the service user.
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

bool under(const std::string& path, const std::string& dir) {
  return path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/';
}

// The entries below dir, re-rooted at "/". They sort together right after
// dir + "/", so only they are visited (one scan per writable directory
// would be quadratic with many redirects).
FileSet subtree(const FileSet& set, const std::string& dir) {
  FileSet sub;
  for (auto it = set.entries.lower_bound(dir + "/"); it != set.entries.end() && under(it->first, dir); ++it) {
    const auto& [path, e] = *it;
    FileEntry copy = e;
    if (copy.type == EntryType::Hardlink) {
      if (!under(copy.target, dir)) continue;  // its file stays outside; rare, and the link is then dropped
      copy.target = copy.target.substr(dir.size());
    }
    sub.entries.emplace(path.substr(dir.size()), std::move(copy));
  }
  return sub;
}

}  // namespace

Result<WriterResult> write_bundle(const LayerInput& in, const std::string& out, bool network_namespace) {
  if (::mkdir(out.c_str(), 0755) != 0 || ::mkdir((out + "/rootfs").c_str(), 0755) != 0)
    return env_error(fmt::format("{}: cannot create: {}", out, std::strerror(errno)));
  Status s = extract_tar(in.tar_path, out + "/rootfs");
  if (!s) return s.error();

  for (const auto& w : in.spec->writable) {
    std::string host = out + "/" + volume_source(w.path);
    s = make_directories(host);
    if (!s) return s.error();
    FileSet sub = subtree(*in.files, w.path);
    if (!sub.entries.empty()) {
      std::string tar = in.scratch + "/volume.tar";
      ::unlink(tar.c_str());
      auto blob = write_layer_tar(sub, tar, in.mtime);
      if (!blob) return blob.error();
      s = extract_tar(tar, host);
      ::unlink(tar.c_str());
      if (!s) return s.error();
    }
    // The mount point's owner and mode decide whether the service can write.
    uint32_t uid = in.spec->uid, gid = in.spec->gid;
    unsigned mode = 0755;
    if (auto it = in.files->entries.find(w.path); it != in.files->entries.end()) {
      uid = it->second.uid;
      gid = it->second.gid;
      mode = it->second.mode;
    }
    if (::chown(host.c_str(), uid, gid) != 0 || ::chmod(host.c_str(), mode) != 0)
      return env_error(fmt::format("{}: cannot set owner and mode: {}", host, std::strerror(errno)));
  }

  RuntimeConfigOptions ro;
  ro.network_namespace = network_namespace;
  std::string config = runtime_config(*in.spec, ro).dump(2) + "\n";
  s = write_file_atomic(out + "/config.json", config, Overwrite::Refuse, 0644);
  if (!s) return s.error();
  return WriterResult{in.diff_id, in.files->total_bytes()};
}

}  // namespace decant
