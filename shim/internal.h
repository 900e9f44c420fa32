/* Shared internals of libdecant-shim.so: the loaded plan, lazy
 * initialization, resolution of the real libc functions, path mapping for
 * the interposed calls and the learn-mode recorder. Everything here must be
 * callable from any thread, after fork, and from async-signal context: no
 * malloc, no locks, no stdio. */
#ifndef DECANT_SHIM_INTERNAL_H
#define DECANT_SHIM_INTERNAL_H

#include "glibc_compat.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "plan.h"

#define SHIM_EXPORT __attribute__((visibility("default")))
#define SHIM_HIDDEN __attribute__((visibility("hidden")))

/* Marks the shim's own system calls in the otherwise unused sixth argument
 * register, so the learn supervisor and the enforce filter can tell them
 * from the app's (see docs/shim.md, "Own system calls"). ASCII "decantsh". */
#define SHIM_SYSCALL_TAG 0x6465636e74736868ULL

enum shim_state { SHIM_UNINIT = 0, SHIM_INITIALIZING = 1, SHIM_READY = 2 };

SHIM_HIDDEN extern int shim_state;
SHIM_HIDDEN extern struct shim_plan shim_plan;
SHIM_HIDDEN extern int shim_active;  /* a plan is loaded: redirects apply */
SHIM_HIDDEN extern int shim_learning; /* DECANT_LEARN is set: record */
SHIM_HIDDEN extern int shim_seccomp_applied;

SHIM_HIDDEN void shim_init_slow(void);
static inline void shim_init(void) {
  if (__builtin_expect(__atomic_load_n(&shim_state, __ATOMIC_ACQUIRE) != SHIM_READY, 0)) shim_init_slow();
}

/* The next definition of name after this library, like dlsym(RTLD_NEXT)
 * but without allocating; falls back to the oldest x86-64 version for
 * symbols that became compat-only (the pre-2.33 stat family). */
SHIM_HIDDEN void *shim_next(const char *name);

/* Lazily resolved pointer to the next definition of a libc function. */
#define REAL_DECL(ret, name, params) static ret(*real_##name) params
#define REAL(name)                                                                          \
  (__atomic_load_n(&real_##name, __ATOMIC_RELAXED)                                          \
       ? real_##name                                                                        \
       : (__atomic_store_n(&real_##name, (__typeof__(real_##name))shim_next(#name), __ATOMIC_RELAXED), \
          real_##name))

/* A raw, tagged system call that preserves errno; returns -errno on error. */
SHIM_HIDDEN long shim_sys(long nr, long a, long b, long c, long d, long e);

/* Writes a line to stderr with the "decant-shim: " prefix. */
SHIM_HIDDEN void shim_report(const char *a, const char *b, const char *c);

/* Maps path (relative to dirfd when relative) through the path rules.
 * Returns path itself when no rule applies, buf (SHIM_PATH_MAX bytes) with
 * the rewritten path, or NULL with errno set when the result is too long. */
SHIM_HIDDEN const char *shim_map_path_slow(int dirfd, const char *path, char *buf);
static inline const char *shim_map(int dirfd, const char *path, char *buf) {
  shim_init();
  if (__builtin_expect(shim_plan.n_paths == 0 || path == NULL, 1)) return path;
  return shim_map_path_slow(dirfd, path, buf);
}

/* ---- learn mode ---- */
struct shim_json {
  char b[6144];
  size_t n;
  int overflow;
};
SHIM_HIDDEN void shim_json_begin(struct shim_json *j, const char *op);
SHIM_HIDDEN void shim_json_str(struct shim_json *j, const char *key, const char *value);
SHIM_HIDDEN void shim_json_int(struct shim_json *j, const char *key, long value);
/* Ends the record and writes it unless an identical key was seen before in
 * this process (dedup_key NULL: always write). Preserves errno. */
SHIM_HIDDEN void shim_json_emit(struct shim_json *j, const char *dedup_key);

/* Records a file operation: op, access (read|write|exec|stat), the path as
 * the app named it (normalized), the redirected target if any, errno. */
SHIM_HIDDEN void shim_learn_path(const char *op, const char *access, int dirfd, const char *path, const char *mapped,
                                 int err);

static inline const char *shim_open_access(int flags) {
  return (flags & (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND)) ? "write" : "read";
}

/* Environment for an exec'd child: envp plus LD_PRELOAD with this shim and
 * the DECANT_* variables this process started with, whatever the app did to
 * its environment. out must hold count(envp) + 5 pointers; scratch holds the
 * composed LD_PRELOAD entry. Returns out, or envp when nothing is needed. */
SHIM_HIDDEN char *const *shim_child_env(char *const *envp, char **out, size_t out_len, char *scratch,
                                        size_t scratch_len);
SHIM_HIDDEN size_t shim_env_count(char *const *envp);

#endif
