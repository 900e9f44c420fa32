/* The shim's view of a plan (format in docs/shim.md, grammar keywords in
 * plan_contract.h) and the pure functions
 * behind every redirect: parsing the plan once at load, lexical path
 * normalization, longest-prefix path matching, port and host rule lookup.
 * Nothing here calls an interposed function, allocates or takes a lock, so
 * the same code runs inside someone else's process and in unit tests
 * (shim_core_test). */
#ifndef DECANT_SHIM_PLAN_H
#define DECANT_SHIM_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "plan_contract.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Plans are small; a larger file is a mistake, not something to map. */
#define SHIM_PLAN_MAX_BYTES (4u << 20)
/* Shim-internal path buffers; longer paths pass through unchanged. */
#define SHIM_PATH_MAX 4096

enum shim_proto { SHIM_TCP = 1, SHIM_UDP = 2 };
enum shim_seccomp_mode { SHIM_SECCOMP_OFF = 0, SHIM_SECCOMP_ENFORCE = 1, SHIM_SECCOMP_LOG = 2 };
enum shim_proxy_mode { SHIM_PROXY_OFF = 0, SHIM_PROXY_AUTO = 1, SHIM_PROXY_ON = 2 };

struct shim_path_rule {
  const char *from, *to; /* normalized absolute; from without trailing '/' */
  size_t from_len, to_len;
};

struct shim_port_rule {
  int proto;         /* enum shim_proto */
  uint16_t from, to; /* host byte order */
  int addr_family;   /* 0: keep the address; AF_INET or AF_INET6 */
  unsigned char addr[16];
};

struct shim_host_rule {
  const char *from, *to;  /* names compare case-insensitively, trailing dot ignored */
  size_t from_len;
  int literal_family;     /* AF_INET/AF_INET6 when from is an IP literal, else 0 */
  unsigned char from_addr[16], to_addr[16];
};

struct shim_plan {
  struct shim_path_rule *paths; /* sorted longest from first */
  size_t n_paths;
  struct shim_port_rule *ports;
  size_t n_ports;
  struct shim_host_rule *hosts;
  size_t n_hosts;
  const char *uname_sysname, *uname_nodename, *uname_release, *uname_version, *uname_machine;
  int seccomp_mode;                 /* enum shim_seccomp_mode */
  const char *seccomp_arch;         /* informational: the arch the BPF was compiled for */
  const unsigned char *bpf;         /* struct sock_filter[], validated length */
  size_t bpf_len;                   /* bytes, a multiple of 8 */
  int proxy_mode;                   /* enum shim_proxy_mode; read by the init, not the shim */
};

/* Bytes of arena shim_plan_parse needs for a plan text of len bytes. */
size_t shim_plan_arena_bytes(const char *text, size_t len);

/* Parses text[0..len) in place (fields are decoded and NUL-terminated inside
 * text, which must have one writable byte at text[len]). Rule arrays and the
 * BPF program live in arena. Returns 0, or -1 with a one-line reason in err. */
int shim_plan_parse(char *text, size_t len, void *arena, size_t arena_size, struct shim_plan *plan, char *err,
                    size_t errlen);

/* Lexically normalizes path (relative paths against cwd, which must be
 * absolute): collapses "//", ".", "..", keeps a trailing '/'. Returns the
 * length written to out (NUL-terminated) or -1 when it does not fit. */
long shim_normalize(const char *cwd, const char *path, char *out, size_t outsz);

/* True when an absolute path is already in normalized form. */
int shim_path_is_clean(const char *path);

/* Longest-prefix match of a normalized absolute path, on component
 * boundaries. Returns the rule or NULL. */
const struct shim_path_rule *shim_match_path(const struct shim_plan *plan, const char *norm, size_t len);

/* Maps path through plan's path rules: relative paths are taken against
 * base (an absolute directory, may be NULL for absolute paths), normalized
 * lexically into scratch and rewritten into out. Both buffers hold
 * SHIM_PATH_MAX bytes; out may be the buffer base is in. Returns the mapped
 * length; 0 when no rule applies and -1 when the path is too long to
 * normalize (both: the caller keeps the path as written, the kernel judges
 * it); -2 when the rewritten path does not fit (ENAMETOOLONG). Shared by the shim
 * (pathmap.c) and the proxy's supervisor (proxy/). */
long shim_map_path(const struct shim_plan *plan, const char *base, const char *path, char *out, char *scratch);

/* Rewrites a normalized path with rule into out. Returns the length or -1
 * when the result does not fit. */
long shim_apply_path_rule(const struct shim_path_rule *rule, const char *norm, size_t len, char *out, size_t outsz);

/* First port rule for (proto, port from the app's view); NULL if none. */
const struct shim_port_rule *shim_match_port(const struct shim_plan *plan, int proto, uint16_t port);
/* Rule whose target port is port, for translating back; NULL if none. */
const struct shim_port_rule *shim_match_port_target(const struct shim_plan *plan, int proto, uint16_t port);

/* Host rule for a name (not an IP literal rule); NULL if none. */
const struct shim_host_rule *shim_match_host(const struct shim_plan *plan, const char *name);
/* Literal-IP rule for an address (from side, or to side when reverse). */
const struct shim_host_rule *shim_match_addr(const struct shim_plan *plan, int family, const void *addr, int reverse);

#ifdef __cplusplus
}
#endif

#endif
