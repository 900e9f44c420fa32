/* Shared internals of libdecant-shim.so, one section per source file: the
 * loaded plan and load-time setup (init.c), tagged system calls and string
 * helpers (sys.c), binding of the real libc functions (symbols.c), scratch
 * memory (scratch.c), path mapping (pathmap.c), the learn-mode recorder
 * (learn.c) and children's environments (child_env.c); the interpose_*.c
 * files hold the exported wrappers. Everything here must be callable from
 * any thread, after fork, and from async-signal context: no malloc, no
 * locks, no stdio, and no large buffers on the stack (the scratch pool in
 * scratch.c holds them). */
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


enum shim_state { SHIM_UNINIT = 0, SHIM_INITIALIZING = 1, SHIM_READY = 2 };

SHIM_HIDDEN extern int shim_state;
SHIM_HIDDEN extern struct shim_plan shim_plan;
SHIM_HIDDEN extern int shim_active;  /* a plan is loaded: redirects apply */
SHIM_HIDDEN extern int shim_learning; /* DECANT_LEARN is set: record */
SHIM_HIDDEN extern int shim_seccomp_applied;

/* ---- load-time setup (init.c) ---- */

/* Captured at load and restored into exec'd children (child_env.c). */
#define SHIM_ENV_MAX (SHIM_PATH_MAX + 16)
SHIM_HIDDEN extern char shim_env_plan[];  /* "DECANT_PLAN=..." or "" */
SHIM_HIDDEN extern char shim_env_learn[]; /* "DECANT_LEARN=..." or "" */
SHIM_HIDDEN extern char shim_self_path[]; /* this library, for LD_PRELOAD */
SHIM_HIDDEN extern char shim_learn_dir[];
SHIM_HIDDEN extern int shim_seccomp_failed;

SHIM_HIDDEN void shim_init_slow(void);
static inline void shim_init(void) {
  if (__builtin_expect(__atomic_load_n(&shim_state, __ATOMIC_ACQUIRE) != SHIM_READY, 0)) shim_init_slow();
}

/* The next definition of name after this library, like dlsym(RTLD_NEXT)
 * but without allocating; falls back to the oldest x86-64 version for
 * symbols that became compat-only (the pre-2.33 stat family). */
SHIM_HIDDEN void *shim_next(const char *name);
/* This library's file name as the loader knows it (NULL if unknown). */
SHIM_HIDDEN const char *shim_self_name(void);

/* Pointers to the next definitions of the libc functions the shim wraps.
 * Every REAL_DECL registers its pointer in the shim_reals section and
 * shim_bind_reals() fills them all in at load, before the plan is read: a
 * lookup walks every loaded object's symbol table and would otherwise run on
 * the first call, on whatever small stack that call is made. Only a call
 * that re-enters the shim while it is still initializing looks up by name
 * (and stores what it found, which binding would store anyway). */
struct shim_real {
  const char *name;
  void **slot;
};
#define REAL_DECL(ret, name, params)                                                              \
  static ret(*real_##name) params;                                                                \
  static struct shim_real shim_real_entry_##name __attribute__((used, section("shim_reals"),     \
                                                                aligned(sizeof(void *)))) = {     \
      #name, (void **)&real_##name}
SHIM_HIDDEN extern int shim_reals_bound;
SHIM_HIDDEN void shim_bind_reals(void);
#define REAL(name)                                                                             \
  (__builtin_expect(__atomic_load_n(&shim_reals_bound, __ATOMIC_ACQUIRE), 1)                   \
       ? real_##name                                                                           \
       : (__atomic_store_n(&real_##name, (__typeof__(real_##name))shim_next(#name), __ATOMIC_RELAXED), \
          real_##name))

/* ---- scratch memory (scratch.c) ---- */

/* Size of one pool buffer: a mapped path and its normalization scratch. */
#define SHIM_BUF_BYTES (2 * SHIM_PATH_MAX)
/* bytes of scratch memory off the stack (pool, else mmap); NULL when the
 * system is out of memory. Async-signal-safe; errno preserved. */
SHIM_HIDDEN void *shim_alloc(size_t bytes);
SHIM_HIDDEN void shim_free(void *p);
SHIM_HIDDEN void shim_free_ptr(void *pp);
/* A pointer variable whose buffer is freed when it goes out of scope. */
#define SHIM_SCOPED __attribute__((cleanup(shim_free_ptr)))

/* ---- system calls and string helpers (sys.c) ---- */

/* A raw, tagged system call that preserves errno; returns -errno on error. */
SHIM_HIDDEN long shim_sys(long nr, long a, long b, long c, long d, long e);
/* Writes one line to stderr: "decant-shim: " and the parts up to the
 * terminating NULL. */
SHIM_HIDDEN void shim_report(const char *first, ...) __attribute__((sentinel));
SHIM_HIDDEN size_t shim_slen(const char *s);
SHIM_HIDDEN int shim_starts_with(const char *s, const char *prefix);
SHIM_HIDDEN int shim_str_eq(const char *a, const char *b);
/* Writes v in decimal at p, returns the end (no NUL). */
SHIM_HIDDEN char *shim_put_u(char *p, unsigned long v);
/* dst = a b, truncated to cap - 1 bytes and NUL-terminated. */
SHIM_HIDDEN void shim_copy_str(char *dst, size_t cap, const char *a, const char *b);
/* Value of the variable name_eq ("NAME=") in environ, or NULL. */
SHIM_HIDDEN const char *shim_env_value(const char *name_eq);

/* Maps path (relative to dirfd when relative) through the path rules.
 * Returns path itself when no rule applies, the rewritten path in a scratch
 * buffer it stores in *buf (the caller frees it, see SHIM_SCOPED), or NULL
 * with errno set when the result is too long or no memory is left. */
SHIM_HIDDEN const char *shim_map_path_slow(int dirfd, const char *path, char **buf);
static inline const char *shim_map(int dirfd, const char *path, char **buf) {
  shim_init();
  if (__builtin_expect(shim_plan.n_paths == 0 || path == NULL, 1)) return path;
  return shim_map_path_slow(dirfd, path, buf);
}

/* ---- learn mode ---- */
/* A record under construction; its buffer is scratch memory taken by
 * shim_json_begin and freed by shim_json_emit, which must always follow. */
struct shim_json {
  char *b;
  size_t n, cap;
  int overflow;
};
SHIM_HIDDEN void shim_json_begin(struct shim_json *j, const char *op);
SHIM_HIDDEN void shim_json_str(struct shim_json *j, const char *key, const char *value);
SHIM_HIDDEN void shim_json_int(struct shim_json *j, const char *key, long value);
/* Ends the record and writes it unless an identical key was seen before in
 * this process (dedup_key NULL: always write), then frees its buffer.
 * Preserves errno. */
SHIM_HIDDEN void shim_json_emit(struct shim_json *j, const char *dedup_key);

/* Records a file operation: op, access (read|write|exec|stat), the path as
 * the app named it (normalized), the redirected target if any, errno. */
SHIM_HIDDEN void shim_learn_path(const char *op, const char *access, int dirfd, const char *path, const char *mapped,
                                 int err);
/* The "start" record of a process (its executable and parent). */
SHIM_HIDDEN void shim_learn_start(void);
/* Directory a relative path of an interposed call is resolved against
 * (the cwd, or dirfd's directory via /proc/self/fd), into buf of
 * SHIM_PATH_MAX bytes; 0, or -1 when it cannot be told (pathmap.c). */
SHIM_HIDDEN int shim_base_dir(int dirfd, char *buf);

static inline const char *shim_open_access(int flags) {
  return (flags & (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND)) ? "write" : "read";
}

/* Environment for an exec'd child: envp plus LD_PRELOAD with this shim and
 * the DECANT_* variables this process started with, whatever the app did to
 * its environment. Returns envp itself when nothing is missing, else an
 * array in scratch memory stored in *mem (the caller frees it); NULL with
 * errno E2BIG when no memory is left for it (an environment that large
 * would not fit through execve anyway). */
SHIM_HIDDEN char *const *shim_child_env(char *const *envp, void **mem);
/* The same in two steps, for memory the caller manages: the bytes needed
 * (0: envp is fine as it is), then the array built into mem. */
SHIM_HIDDEN size_t shim_child_env_size(char *const *envp);
SHIM_HIDDEN char *const *shim_child_env_build(char *const *envp, void *mem);

#endif
