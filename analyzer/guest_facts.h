// Facts about the guest as a whole that every profile records: which OS it
// is (os-release or the older release files) and which libc its programs use.
#pragma once

#include <string>

#include "guest/guest_root.h"
#include "profiles/profile.h"

namespace decant {

OsInfo detect_os(const GuestRoot& root);

// libc_guest_path: the libc the binary's closure resolved, or empty to look
// in the usual places.
LibcInfo detect_libc(const GuestRoot& root, const std::string& libc_guest_path);

// "2.31" from glibc's banner "... release version 2.31." in the bytes of
// libc.so.6; empty when absent.
std::string glibc_version_from_banner(const std::string& libc_bytes);

}  // namespace decant
