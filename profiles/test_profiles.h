// Test helper: the small in-code profiles that stage tests start from, so
// each test says only what it changes.
#pragma once

#include <string>

#include "profiles/profile.h"

namespace decant {

// A profile for /usr/sbin/NAME on x86_64 with nothing else in it.
inline Profile test_profile(const std::string& name = "t") {
  Profile p;
  p.metadata.name = name;
  p.binary.path = "/usr/sbin/" + name;
  p.binary.arch = "x86_64";
  p.syscalls.arch = "x86_64";
  return p;
}

// A server, /usr/sbin/srv -D, listening on 0.0.0.0:80/tcp.
inline Profile test_server_profile() {
  Profile p = test_profile("srv");
  p.entrypoint = {"/usr/sbin/srv", "-D"};
  p.network.listen.push_back({80, "tcp", "0.0.0.0", "high", {}});
  return p;
}

}  // namespace decant
