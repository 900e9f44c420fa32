/* The environment of exec'd and spawned children: whatever the app did to
 * its own environment (env -i, execle with its own array, unsetenv), a child
 * still preloads this shim, still names the plan and the learn directory,
 * and knows whether the seccomp filter it inherits was applied. An
 * environment that already has all of that is passed on as it is; otherwise
 * the new array goes into memory the caller provides (sized by
 * shim_child_env_size) or scratch memory (scratch.c), never into a
 * variable-length array on the app's stack. */
#define _GNU_SOURCE
#include "internal.h"

#include <string.h>

#define PRELOAD_EQ "LD_PRELOAD="
#define PRELOAD_EQ_LEN 11

/* True when the colon/space separated list contains our library. */
static int preload_has_self(const char *list) {
  size_t sl = shim_slen(shim_self_path);
  if (sl == 0) return 1;
  for (const char *s = list; *s;) {
    while (*s == ':' || *s == ' ') s++;
    const char *e = s;
    while (*e && *e != ':' && *e != ' ') e++;
    if ((size_t)(e - s) == sl && memcmp(s, shim_self_path, sl) == 0) return 1;
    s = e;
  }
  return 0;
}

/* What the child's environment lacks, found in one pass over envp. */
struct env_scan {
  size_t count;        /* entries in envp */
  size_t extra_bytes;  /* composed LD_PRELOAD strings */
  int preload_ok, has_plan, has_learn, has_mark, rewrite;
};

static void scan(char *const *envp, struct env_scan *s) {
  size_t sl = shim_slen(shim_self_path);
  for (size_t i = 0; envp && envp[i]; i++, s->count++) {
    const char *e = envp[i];
    if (shim_starts_with(e, PRELOAD_EQ)) {
      if (!preload_has_self(e + PRELOAD_EQ_LEN)) {
        s->rewrite = 1;
        s->extra_bytes += PRELOAD_EQ_LEN + sl + 1 + shim_slen(e + PRELOAD_EQ_LEN) + 1;
      }
      s->preload_ok = 1;
    }
    if (shim_starts_with(e, "DECANT_PLAN=")) s->has_plan = 1;
    if (shim_starts_with(e, "DECANT_LEARN=")) s->has_learn = 1;
    if (shim_starts_with(e, "DECANT_SHIM_SECCOMP=")) s->has_mark = 1;
  }
  if (!s->preload_ok) s->extra_bytes += PRELOAD_EQ_LEN + sl + 1;
}

/* "LD_PRELOAD=" self [":" rest] at p; returns the byte after its NUL. */
static char *compose_preload(char *p, const char *rest) {
  memcpy(p, PRELOAD_EQ, PRELOAD_EQ_LEN);
  p += PRELOAD_EQ_LEN;
  size_t sl = shim_slen(shim_self_path);
  memcpy(p, shim_self_path, sl);
  p += sl;
  if (rest && *rest) {
    /* Ours first, then whatever the app wanted preloaded. */
    *p++ = ':';
    size_t rl = shim_slen(rest);
    memcpy(p, rest, rl);
    p += rl;
  }
  *p++ = 0;
  return p;
}

/* The scan of envp, or 0 in *needed when envp can be passed on as it is. */
static void scan_for_child(char *const *envp, struct env_scan *s, int *needed) {
  memset(s, 0, sizeof *s);
  *needed = 0;
  shim_init();
  if ((!shim_active && !shim_learning) || shim_self_path[0] == 0) return;
  s->has_plan = shim_env_plan[0] == 0;
  s->has_learn = shim_env_learn[0] == 0;
  s->has_mark = !shim_seccomp_applied && !shim_seccomp_failed;
  scan(envp, s);
  *needed = !(s->preload_ok && !s->rewrite && s->has_plan && s->has_learn && s->has_mark);
}

size_t shim_child_env_size(char *const *envp) {
  struct env_scan s;
  int needed;
  scan_for_child(envp, &s, &needed);
  return needed ? (s.count + 5) * sizeof(char *) + s.extra_bytes : 0;
}

char *const *shim_child_env_build(char *const *envp, void *mem) {
  struct env_scan s;
  int needed;
  scan_for_child(envp, &s, &needed);
  if (!needed) return envp;
  char **out = mem;
  size_t slots = s.count + 5;
  char *strings = (char *)(out + slots);
  size_t n = 0;
  for (size_t i = 0; i < s.count; i++) {
    const char *e = envp[i];
    if (shim_starts_with(e, PRELOAD_EQ) && !preload_has_self(e + PRELOAD_EQ_LEN)) {
      out[n++] = strings;
      strings = compose_preload(strings, e + PRELOAD_EQ_LEN);
    } else {
      out[n++] = (char *)e;
    }
  }
  if (!s.preload_ok) {
    out[n++] = strings;
    strings = compose_preload(strings, NULL);
  }
  if (!s.has_plan) out[n++] = shim_env_plan;
  if (!s.has_learn) out[n++] = shim_env_learn;
  if (!s.has_mark) out[n++] = (char *)(shim_seccomp_applied ? "DECANT_SHIM_SECCOMP=1" : "DECANT_SHIM_SECCOMP=failed");
  out[n] = NULL;
  return out;
}

char *const *shim_child_env(char *const *envp, void **mem) {
  *mem = NULL;
  size_t bytes = shim_child_env_size(envp);
  if (bytes == 0) return envp;
  if (!(*mem = shim_alloc(bytes))) {
    errno = E2BIG;
    return NULL;
  }
  return shim_child_env_build(envp, *mem);
}
