// What goes under /.decant/ in an image: the LD_PRELOAD shim, the guest
// libraries it needs beyond the application's closure, the plan and seccomp
// BPF compiled from the profile, and the profile itself (provenance, and what
// `decant run` reads to rebuild a runtime config from an OCI archive).
#pragma once

#include <string>
#include <vector>

#include "guest/guest_root.h"
#include "common/error.h"
#include "packager/file_set.h"
#include "profiles/profile.h"
#include "analyzer/shim_needs.h"

namespace decant {

struct ShimPayload {
  bool preload = false;  // the shim is in the image and LD_PRELOAD should name it
  bool plan = false;     // /.decant/plan exists
  std::string bpf;       // the seccomp filter the plan carries (empty: none), so it is compiled once
};

// shim null: no shim. A static binary gets no shim (LD_PRELOAD cannot
// reach it; the runtime's seccomp filter still applies) and a note. The plan
// goes in the image without the shim too when the init's seccomp proxy
// will use it (init_runs_proxy: static, raw-syscall, enforcement.proxy on). A shim
// needing a newer glibc than the guest's is an error, since ld.so would
// refuse to start the application.
Result<ShimPayload> add_shim_payload(const GuestRoot& root, const Profile& profile, const ShimNeeds* shim,
                                     FileSet& set, std::vector<std::string>& warnings);

}  // namespace decant
