/* Path mapping for the interposed calls: a path the app names (relative to
 * its cwd or to a directory fd) is normalized lexically and rewritten by the
 * plan's longest-prefix rule, or handed back untouched when no rule applies
 * so the kernel resolves it exactly as the app wrote it. The common case, a
 * clean absolute path no rule matches, needs no memory at all; otherwise the
 * rewritten path and the normalization scratch share one pool buffer
 * (scratch.c), never the app's stack. */
#define _GNU_SOURCE
#include "internal.h"

#include <sys/syscall.h>

int shim_base_dir(int dirfd, char *buf) {
  long r;
  if (dirfd == AT_FDCWD) {
    r = shim_sys(SYS_getcwd, (long)buf, SHIM_PATH_MAX, 0, 0, 0);
    return r > 0 && buf[0] == '/' ? 0 : -1;
  }
  char link[40] = "/proc/self/fd/";
  *shim_put_u(link + 14, (unsigned long)dirfd) = 0;
  r = shim_sys(SYS_readlinkat, AT_FDCWD, (long)link, (long)buf, SHIM_PATH_MAX - 1, 0);
  if (r <= 0 || buf[0] != '/') return -1;
  buf[r] = 0;
  return 0;
}

const char *shim_map_path_slow(int dirfd, const char *path, char **bufp) {
  const struct shim_path_rule *rule;
  long n;
  if (path[0] == '/' && shim_path_is_clean(path)) {
    size_t len = shim_slen(path);
    rule = shim_match_path(&shim_plan, path, len);
    if (!rule) return path;
    if (!*bufp && !(*bufp = shim_alloc(SHIM_BUF_BYTES))) goto no_memory;
    n = shim_apply_path_rule(rule, path, len, *bufp, SHIM_PATH_MAX);
    if (n < 0) goto too_long;
    return *bufp;
  }
  if (path[0] == 0) return path;
  if (!*bufp && !(*bufp = shim_alloc(SHIM_BUF_BYTES))) goto no_memory;
  /* out: the first half (also the base directory); scratch: the second. */
  char *out = *bufp, *scratch = *bufp + SHIM_PATH_MAX;
  if (path[0] != '/' && shim_base_dir(dirfd, out) < 0) return path;
  n = shim_map_path(&shim_plan, out, path, out, scratch);
  if (n == -2) goto too_long;
  if (n <= 0) return path; /* untouched: the kernel resolves it as the app wrote it */
  return out;
too_long:
  errno = ENAMETOOLONG;
  return NULL;
no_memory:
  errno = ENOMEM;
  return NULL;
}
