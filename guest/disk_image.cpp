// Disk images (see disk_image.h): qemu-img for non-raw formats, libblkid for
// partition tables and filesystem types, ExtGuest or a read-only mount for
// the chosen partition.
#include "guest/disk_image.h"

#include <blkid/blkid.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <sched.h>
#include <spawn.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/fs_tree.h"
#include "guest/disk_guest.h"
#include "guest/ext_guest.h"
#include "guest/indexed_guest.h"

extern char** environ;

namespace decant {
namespace {

struct Partition {
  int number = 0;  // 0: the whole image
  uint64_t offset = 0, size = 0;
  std::string fstype;
};

// Runs argv (no shell), returning its stdout; stderr's last line goes into
// the error.
Result<std::string> run(const std::vector<std::string>& argv) {
  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) return env_error("pipe: " + std::string(std::strerror(errno)));
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err[1], 2);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid;
  int rc = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(out[1]);
  ::close(err[1]);
  if (rc != 0) {
    ::close(out[0]);
    ::close(err[0]);
    return bad_input(fmt::format("{}: {}", argv[0], std::strerror(rc)));
  }
  std::string text, errors;
  char buf[4096];
  for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) > 0;) text.append(buf, static_cast<size_t>(n));
  for (ssize_t n; (n = ::read(err[0], buf, sizeof buf)) > 0;) errors.append(buf, static_cast<size_t>(n));
  ::close(out[0]);
  ::close(err[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    while (!errors.empty() && errors.back() == '\n') errors.pop_back();
    size_t nl = errors.rfind('\n');
    return bad_input(fmt::format("{} failed: {}", argv[0], nl == std::string::npos ? errors : errors.substr(nl + 1)));
  }
  return text;
}

bool on_path(const std::string& tool) {
  const char* path = std::getenv("PATH");
  std::string p = path ? path : "/usr/bin:/bin";
  for (size_t i = 0; i <= p.size();) {
    size_t j = p.find(':', i);
    if (j == std::string::npos) j = p.size();
    std::string dir = p.substr(i, j - i);
    if (!dir.empty() && ::access((dir + "/" + tool).c_str(), X_OK) == 0) return true;
    i = j + 1;
  }
  return false;
}

struct TempRaw {
  std::string dir;
  ~TempRaw() {
    if (!dir.empty()) remove_tree(dir);
  }
};

// qemu-img converts a qcow2/vmdk/... image into a sparse raw file of ours.
Result<std::string> to_raw(const std::string& path, std::shared_ptr<TempRaw>& temp, std::string& format) {
  if (!on_path("qemu-img"))
    return bad_input(fmt::format("{}: reading this disk image needs qemu-img: install qemu-utils", path));
  auto info = run({"qemu-img", "info", "--output=json", path});
  if (!info) return bad_input(fmt::format("{}: not a disk image qemu-img reads: {}", path, info.error().message));
  auto j = nlohmann::json::parse(*info, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("format"))
    return bad_input(fmt::format("{}: qemu-img info gave no format", path));
  format = j["format"].get<std::string>();
  if (format == "raw") return path;
  const char* tmp = std::getenv("TMPDIR");
  std::string dir = tmp && *tmp ? tmp : "/tmp";
  remove_stale_workdirs(dir, "decant-image-");
  std::string tmpl = fmt::format("{}/decant-image-{}-XXXXXX", dir, ::getpid());
  if (!::mkdtemp(&tmpl[0])) return env_error(fmt::format("{}: {}", tmpl, std::strerror(errno)));
  temp = std::make_shared<TempRaw>();
  temp->dir = tmpl;
  std::string raw = tmpl + "/disk.raw";
  auto converted = run({"qemu-img", "convert", "-f", format, "-O", "raw", path, raw});
  if (!converted) return bad_input(fmt::format("{}: {}", path, converted.error().message));
  return raw;
}

std::string probe_fstype(int fd, uint64_t offset, uint64_t size) {
  blkid_probe pr = blkid_new_probe();
  if (!pr) return "";
  std::string type;
  if (blkid_probe_set_device(pr, fd, static_cast<blkid_loff_t>(offset), static_cast<blkid_loff_t>(size)) == 0) {
    blkid_probe_enable_superblocks(pr, 1);
    blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE);
    const char* v = nullptr;
    if (blkid_do_safeprobe(pr) == 0 && blkid_probe_lookup_value(pr, "TYPE", &v, nullptr) == 0 && v) type = v;
  }
  blkid_free_probe(pr);
  return type;
}

Result<std::vector<Partition>> partitions(const std::string& raw, const std::string& shown) {
  int fd = ::open(raw.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return bad_input(fmt::format("{}: {}", shown, std::strerror(errno)));
  struct stat st;
  ::fstat(fd, &st);
  std::vector<Partition> out;
  blkid_probe pr = blkid_new_probe();
  if (pr && blkid_probe_set_device(pr, fd, 0, 0) == 0) {
    blkid_probe_enable_partitions(pr, 1);
    blkid_probe_enable_superblocks(pr, 0);
    if (blkid_do_fullprobe(pr) == 0 || true) {
      if (blkid_partlist ls = blkid_probe_get_partitions(pr)) {
        int n = blkid_partlist_numof_partitions(ls);
        for (int i = 0; i < n; ++i) {
          blkid_partition par = blkid_partlist_get_partition(ls, i);
          if (blkid_partition_is_extended(par)) continue;
          Partition p;
          p.number = blkid_partition_get_partno(par);
          p.offset = static_cast<uint64_t>(blkid_partition_get_start(par)) * 512;
          p.size = static_cast<uint64_t>(blkid_partition_get_size(par)) * 512;
          out.push_back(p);
        }
      }
    }
  }
  if (pr) blkid_free_probe(pr);
  if (out.empty()) out.push_back({0, 0, static_cast<uint64_t>(st.st_size), ""});
  for (auto& p : out) p.fstype = probe_fstype(fd, p.offset, p.size);
  ::close(fd);
  return out;
}

// A read-only mount in this process's private mount namespace, on an
// auto-clearing read-only loop device: unmounted here, or by the kernel
// when the process ends, however it ends.
struct Mount {
  std::string dir;
  ~Mount() {
    if (dir.empty()) return;
    ::umount2(dir.c_str(), MNT_DETACH);
    ::rmdir(dir.c_str());
  }
};

Status private_namespace() {
  static Status done = [] {
    if (::unshare(CLONE_NEWNS) != 0)
      return Status(bad_input(fmt::format("cannot make a private mount namespace: {} (run as root)", std::strerror(errno))));
    if (::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
      return Status(env_error(fmt::format("cannot make mounts private: {}", std::strerror(errno))));
    return Status::success();
  }();
  return done;
}

Result<std::shared_ptr<Mount>> mount_partition(const std::string& raw, const Partition& p) {
  if (Status s = private_namespace(); !s) return s.error();
  int ctl = ::open("/dev/loop-control", O_RDWR | O_CLOEXEC);
  if (ctl < 0) return env_error(fmt::format("/dev/loop-control: {}", std::strerror(errno)));
  int backing = ::open(raw.c_str(), O_RDONLY | O_CLOEXEC);
  if (backing < 0) {
    ::close(ctl);
    return bad_input(fmt::format("{}: {}", raw, std::strerror(errno)));
  }
  std::string dev;
  int loop = -1;
  for (int tries = 0; tries < 8 && loop < 0; ++tries) {
    int n = ::ioctl(ctl, LOOP_CTL_GET_FREE);
    if (n < 0) break;
    dev = fmt::format("/dev/loop{}", n);
    loop = ::open(dev.c_str(), O_RDONLY | O_CLOEXEC);
    if (loop < 0) continue;
    struct loop_config cfg = {};
    cfg.fd = static_cast<__u32>(backing);
    cfg.info.lo_offset = p.offset;
    cfg.info.lo_sizelimit = p.size;
    cfg.info.lo_flags = LO_FLAGS_READ_ONLY | LO_FLAGS_AUTOCLEAR;
    if (::ioctl(loop, LOOP_CONFIGURE, &cfg) != 0) {  // raced with another user: try the next free one
      ::close(loop);
      loop = -1;
    }
  }
  ::close(ctl);
  ::close(backing);
  if (loop < 0) return env_error(fmt::format("{}: no free loop device", raw));
  auto m = std::make_shared<Mount>();
  const char* tmp = std::getenv("TMPDIR");
  std::string tmpdir = tmp && *tmp ? tmp : "/tmp";
  remove_stale_workdirs(tmpdir, "decant-mount-");  // empty: their mounts went with their namespaces
  std::string tmpl = fmt::format("{}/decant-mount-{}-XXXXXX", tmpdir, ::getpid());
  if (!::mkdtemp(&tmpl[0])) {
    ::close(loop);
    return env_error(fmt::format("{}: {}", tmpl, std::strerror(errno)));
  }
  bool ext = p.fstype.compare(0, 3, "ext") == 0;
  int rc = ::mount(dev.c_str(), tmpl.c_str(), p.fstype.c_str(), MS_RDONLY | MS_NODEV | MS_NOSUID | MS_NOEXEC,
                   ext ? "noload" : nullptr);
  int e = errno;
  ::close(loop);  // the mount holds the device now; autoclear frees it at unmount
  if (rc != 0) {
    ::rmdir(tmpl.c_str());
    return bad_input(fmt::format("{}: cannot mount partition {} ({}) read-only: {}", raw, p.number, p.fstype, std::strerror(e)));
  }
  m->dir = tmpl;
  return m;
}

bool mounted_root(const std::string& dir) {
  struct stat st;
  return ::lstat((dir + "/etc/os-release").c_str(), &st) == 0 || ::lstat((dir + "/etc/fstab").c_str(), &st) == 0;
}

}  // namespace

ImageKind sniff_image(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ImageKind::None;
  unsigned char b[2048] = {};
  ssize_t n = ::pread(fd, b, sizeof b, 0);
  ::close(fd);
  if (n < 4) return ImageKind::None;
  auto at = [&](size_t off, const char* magic, size_t len) {
    return static_cast<size_t>(n) >= off + len && std::memcmp(b + off, magic, len) == 0;
  };
  if (at(0, "QFI\xfb", 4) || at(0, "KDMV", 4) || at(0, "# Disk DescriptorFile", 21) || at(0, "vhdxfile", 8) ||
      at(64, "\x7f\x10\xda\xbe", 4) || at(0, "conectix", 8))
    return ImageKind::NeedsQemu;
  if (at(512, "EFI PART", 8) || (n >= 512 && b[510] == 0x55 && b[511] == 0xAA) || at(1080, "\x53\xef", 2))
    return ImageKind::Raw;
  return ImageKind::None;
}

Result<OpenedImage> open_disk_image(const std::string& path, ImageKind kind, const std::string& source_name) {
  std::shared_ptr<TempRaw> temp;
  std::string format = "raw";
  std::string raw = path;
  if (kind == ImageKind::NeedsQemu) {
    auto r = to_raw(path, temp, format);
    if (!r) return r.error();
    raw = *r;
  }
  auto parts = partitions(raw, path);
  if (!parts) return parts.error();
  // DECANT_SOURCE_MOUNT=1 mounts ext too; =0 never mounts, so the kernel
  // never parses an untrusted filesystem (SECURITY.md).
  const char* force = std::getenv("DECANT_SOURCE_MOUNT");
  bool mount_always = force && std::string(force) == "1";
  bool mount_never = force && std::string(force) == "0";
  bool root = ::geteuid() == 0 && !mount_never;
  std::string needs_root;
  for (const auto& p : *parts) {
    std::string where = p.number ? fmt::format("partition {}", p.number) : std::string("whole image");
    std::string description = fmt::format("{} disk image, {} ({})", format, where, p.fstype);
    bool ext = p.fstype == "ext2" || p.fstype == "ext3" || p.fstype == "ext4";
    if (ext && !mount_always) {
      if (!ExtGuest::looks_like_root(raw, p.offset)) continue;
      auto g = ExtGuest::open(raw, p.offset, source_name);
      if (!g) return g.error();
      return OpenedImage{GuestRoot(*g), description, temp};
    }
    if (p.fstype.empty() || p.fstype == "swap" || p.fstype == "vfat" || p.fstype == "LVM2_member") {
      if (p.fstype == "LVM2_member" && needs_root.empty())
        needs_root = fmt::format("{}: {} is an LVM physical volume, which decant does not read", path, where);
      continue;
    }
    if (!root) {
      if (needs_root.empty())
        needs_root = mount_never ? fmt::format("{}: {} holds {}, which decant reads only by mounting it, and "
                                               "DECANT_SOURCE_MOUNT=0 forbids mounting", path, where, p.fstype)
                                 : fmt::format("{}: {} holds {}, which decant reads only by mounting it read-only: "
                                               "run as root", path, where, p.fstype);
      continue;
    }
    auto m = mount_partition(raw, p);
    if (!m) return m.error();
    if (!mounted_root((*m)->dir)) continue;  // unmounted as m goes
    auto opened = GuestRoot::open((*m)->dir);
    if (!opened) return opened.error();
    auto keep = std::make_shared<std::pair<std::shared_ptr<TempRaw>, std::shared_ptr<Mount>>>(temp, *m);
    auto fs = std::make_shared<DiskGuest>((*m)->dir, source_name);
    return OpenedImage{GuestRoot(fs), description + ", mounted read-only", keep};
  }
  if (!needs_root.empty()) return bad_input(needs_root);
  return bad_input(fmt::format("{}: no Linux root partition (none has /etc/os-release or /etc/fstab)", path));
}

}  // namespace decant
