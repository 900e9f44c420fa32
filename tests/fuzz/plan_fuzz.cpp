// libFuzzer target for the shim's plan reader (shim/plan.c, plain C, linked
// in as is): the plan is a file inside a bundle, and a bundle may come from
// anyone. The input is parsed the way init.c does (arena sized from the
// text, parsed in place), then every lookup runs over the rules it produced
// so a rule that parses but is inconsistent (a length past its string, an
// unsorted table) shows up too. Nothing may crash, hang or read out of bounds.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include <sys/socket.h>

extern "C" {
#include "shim/plan.h"
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > SHIM_PLAN_MAX_BYTES) return 0;  // init.c refuses those before parsing
  // Exactly size + 1 bytes, so ASan sees any read past the terminator.
  std::vector<char> text(data, data + size);
  text.push_back('\0');
  size_t arena_size = shim_plan_arena_bytes(text.data(), size);
  std::vector<unsigned char> arena(arena_size);
  struct shim_plan plan;
  char err[256];
  if (shim_plan_parse(text.data(), size, arena.data(), arena_size, &plan, err, sizeof err) < 0) {
    if (std::memchr(err, '\0', sizeof err) == nullptr) __builtin_trap();  // the reason must be a C string
    return 0;
  }
  char out[SHIM_PATH_MAX];
  for (size_t i = 0; i < plan.n_paths; ++i) {
    const struct shim_path_rule& r = plan.paths[i];
    if (std::strlen(r.from) != r.from_len || std::strlen(r.to) != r.to_len) __builtin_trap();
    // Every rule's own source, and a file under it, must map through some rule.
    char norm[SHIM_PATH_MAX];
    long n = shim_normalize("/", r.from, norm, sizeof norm);
    if (n < 0) continue;
    if (const struct shim_path_rule* m = shim_match_path(&plan, norm, static_cast<size_t>(n)))
      (void)shim_apply_path_rule(m, norm, static_cast<size_t>(n), out, sizeof out);
  }
  for (int proto : {1, 2})
    for (uint16_t port : {0, 21, 80, 8080, 65535}) {
      (void)shim_match_port(&plan, proto, port);
      (void)shim_match_port_target(&plan, proto, port);
    }
  for (size_t i = 0; i < plan.n_hosts; ++i) (void)shim_match_host(&plan, plan.hosts[i].from);
  unsigned char addr[16] = {127, 0, 0, 1};
  (void)shim_match_addr(&plan, AF_INET, addr, 0);
  (void)shim_match_addr(&plan, AF_INET6, addr, 1);
  const char* probes[] = {"/etc/passwd", "/var/log/../lib/x", "relative/./p", "//a//b/", "/"};
  for (const char* p : probes) {
    char norm[SHIM_PATH_MAX];
    long n = shim_normalize("/srv", p, norm, sizeof norm);
    if (n < 0) continue;
    if (const struct shim_path_rule* m = shim_match_path(&plan, norm, static_cast<size_t>(n)))
      (void)shim_apply_path_rule(m, norm, static_cast<size_t>(n), out, sizeof out);
  }
  return 0;
}
