// Disk images as guest sources: raw, qcow2 or vmdk (qemu-img reaches raw
// for the latter, into a sparse private temporary file), with an MBR or GPT
// partition table or none, read by libblkid. The Linux root is the partition
// whose filesystem has /etc/os-release or /etc/fstab. ext2/3/4 are read
// without root through libext2fs; as root, any filesystem the kernel mounts
// read-only is mounted in a private mount namespace on a read-only,
// auto-clearing loop device, so the mount disappears with the process
// however it ends. The image itself is only ever opened read-only.
#pragma once

#include <memory>
#include <string>

#include "common/error.h"
#include "guest/guest_root.h"

namespace decant {

// What a disk image's first bytes say it is.
enum class ImageKind { None, Raw, NeedsQemu };
ImageKind sniff_image(const std::string& path);

struct OpenedImage {
  GuestRoot root;
  std::string description;           // e.g. "qcow2 disk image, partition 2 (ext4)"
  std::shared_ptr<void> keep_alive;  // temp raw copy, mount: released last
};

// source_name is what the guest reports as its root (provenance).
Result<OpenedImage> open_disk_image(const std::string& path, ImageKind kind, const std::string& source_name);

}  // namespace decant
