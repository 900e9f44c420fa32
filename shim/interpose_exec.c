/* Programs and libraries the app starts: the exec family and posix_spawn map
 * the program path and give the child an environment that still preloads
 * this shim (and still names the plan), whatever the app did to its own
 * environment; dlopen maps library paths. glibc's execvp/execl* call execve
 * internally, past any interposer, so they are reimplemented here on top of
 * the interposed execve with the same PATH search and ENOEXEC fallback.
 * Argument and environment arrays of any length live in a per-thread exec
 * arena or scratch memory, never in variable-length arrays on the app's
 * stack. */
#define _GNU_SOURCE
#include "internal.h"

#include <dlfcn.h>
#include <spawn.h>
#include <stdarg.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char **environ;

/* Memory of one exec call (the mapped program path, the child's
 * environment, a PATH candidate, argv arrays) comes from a per-thread arena
 * rather than the scratch pool: a vfork()ed child that execs runs in its
 * parent's memory and never returns to give scratch buffers back, so each
 * such spawn would leak one. The arena is reused by every exec of the
 * thread, grown when an environment needs more, and left behind when the
 * thread exits; exec_owner marks it busy with the owner's tid, so a signal
 * handler that execs while its thread is inside an exec uses scratch memory
 * instead, and an arena a vfork child left marked is simply taken over. */
static __thread char *exec_mem __attribute__((tls_model("initial-exec")));
static __thread size_t exec_cap __attribute__((tls_model("initial-exec")));
static __thread int exec_owner __attribute__((tls_model("initial-exec")));

struct exec_ctx {
  char *base;
  size_t off, cap;
  int scratch;
};

/* Bytes an exec of argv with envp may need (search: a PATH lookup). */
static size_t exec_need(char *const argv[], char *const envp[], int search) {
  size_t argc = 0;
  while (argv && argv[argc]) argc++;
  size_t n = SHIM_BUF_BYTES + shim_child_env_size(envp) + (argc + 2) * sizeof(char *) + 64;
  return search ? n + SHIM_PATH_MAX : n;
}

static int ctx_begin(struct exec_ctx *c, size_t need) {
  int tid = (int)shim_sys(SYS_gettid, 0, 0, 0, 0, 0);
  c->off = 0;
  c->cap = need;
  c->scratch = __atomic_load_n(&exec_owner, __ATOMIC_RELAXED) == tid;
  if (c->scratch) {
    c->base = shim_alloc(need);
  } else {
    __atomic_store_n(&exec_owner, tid, __ATOMIC_RELAXED);
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    if (exec_cap < need) {
      size_t cap = (need + 65535) & ~(size_t)65535;
      void *m = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (m != MAP_FAILED) {
        if (exec_mem) munmap(exec_mem, exec_cap);
        exec_mem = m;
        exec_cap = cap;
      }
    }
    c->base = exec_cap >= need ? exec_mem : NULL;
    if (!c->base) __atomic_store_n(&exec_owner, 0, __ATOMIC_RELAXED);
  }
  if (c->base) return 0;
  errno = E2BIG; /* no memory even for the environment: it could not be passed */
  return -1;
}

static void *ctx_alloc(struct exec_ctx *c, size_t bytes) {
  bytes = (bytes + 15) & ~(size_t)15;
  if (c->off + bytes > c->cap) return NULL; /* exec_need covers every use */
  void *p = c->base + c->off;
  c->off += bytes;
  return p;
}

static void ctx_end(struct exec_ctx *c) {
  int e = errno;
  if (c->scratch)
    shim_free(c->base);
  else
    __atomic_store_n(&exec_owner, 0, __ATOMIC_RELAXED);
  errno = e;
}

/* One execve of path with an environment already fixed up. */
REAL_DECL(int, execve, (const char *, char *const[], char *const[]));
static int exec_one(const char *path, char *const argv[], char *const env[], char *mapbuf) {
  const char *p1 = shim_map(AT_FDCWD, path, &mapbuf);
  if (!p1 && path) return -1;
  if (shim_learning) shim_learn_path("exec", "exec", AT_FDCWD, path, p1, 0);
  if (!REAL(execve)) {
    errno = ENOSYS;
    return -1;
  }
  return real_execve(p1, argv, env);
}

/* A script without #!: run it with /bin/sh, as execvp does. */
static int exec_script(struct exec_ctx *c, const char *script, char *const argv[], char *const env[], char *mapbuf) {
  size_t argc = 0;
  while (argv[argc]) argc++;
  char **nargv = ctx_alloc(c, (argc + 2) * sizeof *nargv);
  if (!nargv) {
    errno = ENOMEM;
    return -1;
  }
  nargv[0] = (char *)"/bin/sh";
  nargv[1] = (char *)script;
  for (size_t i = 1; i <= argc; i++) nargv[i + 1] = argv[i];
  return exec_one("/bin/sh", nargv, env, mapbuf);
}

/* execvpe as glibc does it, but every attempt goes through exec_one. */
static int exec_search(struct exec_ctx *c, const char *file, char *const argv[], char *const env[], char *mapbuf) {
  if (!file || !*file) {
    errno = ENOENT;
    return -1;
  }
  if (strchr(file, '/')) {
    exec_one(file, argv, env, mapbuf);
    return errno == ENOEXEC ? exec_script(c, file, argv, env, mapbuf) : -1;
  }
  const char *path = NULL;
  for (char **e = environ; e && *e; e++)
    if (strncmp(*e, "PATH=", 5) == 0) path = *e + 5;
  if (!path) path = "/bin:/usr/bin";
  size_t fl = strlen(file);
  int got_eacces = 0;
  char *cand = ctx_alloc(c, SHIM_PATH_MAX);
  for (const char *s = path; cand; s++) {
    const char *e = strchr(s, ':');
    size_t dl = e ? (size_t)(e - s) : strlen(s);
    if (dl + fl + 2 <= SHIM_PATH_MAX) {
      size_t o = 0;
      if (dl == 0) cand[o++] = '.'; /* an empty entry means the cwd */
      memcpy(cand + o, s, dl);
      o += dl;
      cand[o++] = '/';
      memcpy(cand + o, file, fl + 1);
      exec_one(cand, argv, env, mapbuf);
      switch (errno) {
        case EACCES:
          got_eacces = 1;
          break;
        case ENOENT:
        case ENOTDIR:
        case ESTALE:
        case ENODEV:
        case ETIMEDOUT:
          break;
        case ENOEXEC:
          return exec_script(c, cand, argv, env, mapbuf);
        default:
          return -1;
      }
    }
    if (!e) break;
    s = e;
  }
  if (!cand) errno = ENOMEM;
  if (got_eacces) errno = EACCES;
  return -1;
}

/* Every exec entry point: argv (or, for execl*, argc collected arguments
 * still in ap) run with envp fixed up, by path or by PATH search. */
static int exec_entry(const char *file, char *const argv[], size_t argc, va_list *ap, const char *arg0,
                      char *const envp[], int search) {
  shim_init();
  struct exec_ctx c;
  /* Collected arguments, and the /bin/sh argv built from them. */
  size_t need = exec_need(argv, envp, search) + 2 * (argc + 2) * sizeof(char *) + 64;
  if (ctx_begin(&c, need) < 0) return -1;
  int r = -1;
  char **collected = ap ? ctx_alloc(&c, (argc + 1) * sizeof *collected) : NULL;
  if (collected) {
    collected[0] = (char *)arg0;
    for (size_t i = 1; i <= argc; i++) collected[i] = va_arg(*ap, char *);
    argv = collected;
  }
  size_t envb = shim_child_env_size(envp);
  void *envmem = envb ? ctx_alloc(&c, envb) : NULL;
  char *mapbuf = ctx_alloc(&c, SHIM_BUF_BYTES);
  if ((ap && !collected) || (envb && !envmem) || !mapbuf) {
    errno = ENOMEM;
  } else {
    char *const *env = envb ? shim_child_env_build(envp, envmem) : envp;
    r = search ? exec_search(&c, file, argv, env, mapbuf) : exec_one(file, argv, env, mapbuf);
  }
  ctx_end(&c);
  return r;
}

SHIM_EXPORT int execve(const char *path, char *const argv[], char *const envp[]) {
  return exec_entry(path, argv, 0, NULL, NULL, envp, 0);
}
SHIM_EXPORT int execv(const char *path, char *const argv[]) { return exec_entry(path, argv, 0, NULL, NULL, environ, 0); }
SHIM_EXPORT int execvp(const char *file, char *const argv[]) { return exec_entry(file, argv, 0, NULL, NULL, environ, 1); }
SHIM_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[]) {
  return exec_entry(file, argv, 0, NULL, NULL, envp, 1);
}

/* Number of arguments after arg0 up to the terminating NULL. */
#define COUNT_ARGS(last_named, argc_out)       \
  do {                                         \
    va_list c_;                                \
    va_start(c_, last_named);                  \
    argc_out = 1;                              \
    while (va_arg(c_, char *)) argc_out++;     \
    va_end(c_);                                \
  } while (0)

SHIM_EXPORT int execl(const char *path, const char *arg, ...) {
  size_t argc;
  COUNT_ARGS(arg, argc);
  va_list ap;
  va_start(ap, arg);
  int r = exec_entry(path, NULL, argc, &ap, arg, environ, 0);
  va_end(ap);
  return r;
}
SHIM_EXPORT int execlp(const char *file, const char *arg, ...) {
  size_t argc;
  COUNT_ARGS(arg, argc);
  va_list ap;
  va_start(ap, arg);
  int r = exec_entry(file, NULL, argc, &ap, arg, environ, 1);
  va_end(ap);
  return r;
}
SHIM_EXPORT int execle(const char *path, const char *arg, ...) {
  size_t argc;
  COUNT_ARGS(arg, argc);
  va_list ap;
  va_start(ap, arg);
  for (size_t i = 1; i <= argc; i++) (void)va_arg(ap, char *);
  char *const *envp = va_arg(ap, char *const *);
  va_end(ap);
  va_start(ap, arg);
  int r = exec_entry(path, NULL, argc, &ap, arg, envp, 0);
  va_end(ap);
  return r;
}

REAL_DECL(int, posix_spawn,
          (pid_t *, const char *, const posix_spawn_file_actions_t *, const posix_spawnattr_t *, char *const[],
           char *const[]));
SHIM_EXPORT int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
                            const posix_spawnattr_t *attr, char *const argv[], char *const envp[]) {
  SHIM_SCOPED char *b1 = NULL;
  const char *p1 = shim_map(AT_FDCWD, path, &b1);
  if (!p1 && path) return errno;
  if (shim_learning) shim_learn_path("exec", "exec", AT_FDCWD, path, p1, 0);
  SHIM_SCOPED void *mem = NULL;
  char *const *env = shim_child_env(envp, &mem);
  if (!env) return E2BIG;
  if (!REAL(posix_spawn)) return ENOSYS;
  return real_posix_spawn(pid, p1, fa, attr, argv, env);
}

/* PATH search stays glibc's; only the environment is fixed up. */
REAL_DECL(int, posix_spawnp,
          (pid_t *, const char *, const posix_spawn_file_actions_t *, const posix_spawnattr_t *, char *const[],
           char *const[]));
SHIM_EXPORT int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
                             const posix_spawnattr_t *attr, char *const argv[], char *const envp[]) {
  SHIM_SCOPED char *b1 = NULL;
  const char *p1 = file && strchr(file, '/') ? shim_map(AT_FDCWD, file, &b1) : file;
  if (!p1 && file) return errno;
  SHIM_SCOPED void *mem = NULL;
  char *const *env = shim_child_env(envp, &mem);
  if (!env) return E2BIG;
  if (!REAL(posix_spawnp)) return ENOSYS;
  return real_posix_spawnp(pid, p1, fa, attr, argv, env);
}

REAL_DECL(int, fexecve, (int, char *const[], char *const[]));
SHIM_EXPORT int fexecve(int fd, char *const argv[], char *const envp[]) {
  shim_init();
  struct exec_ctx c;
  if (ctx_begin(&c, exec_need(argv, envp, 0)) < 0) return -1;
  size_t envb = shim_child_env_size(envp);
  void *envmem = envb ? ctx_alloc(&c, envb) : NULL;
  char *const *env = envmem ? shim_child_env_build(envp, envmem) : envp;
  int r;
  if (!REAL(fexecve)) {
    errno = ENOSYS;
    r = -1;
  } else {
    r = real_fexecve(fd, argv, env);
  }
  ctx_end(&c);
  return r;
}

/* dlopen finds the caller from its return address (for RUNPATH, $ORIGIN and
 * the namespace), so the real dlopen must be reached by a tail call that
 * leaves the app's return address in place: the mapped path therefore lives
 * in a page of its own per thread (mapped on the thread's first redirected
 * dlopen, reused after, left behind when the thread exits) rather than in
 * this frame or in scratch memory freed on return. Only the pointer is
 * thread-local: glibc carves static TLS out of every thread's stack. */
static __thread char *dlopen_buf __attribute__((tls_model("initial-exec")));

__attribute__((noinline)) static const char *map_dlopen(const char *file) {
  SHIM_SCOPED char *b = NULL;
  const char *m = shim_map_path_slow(AT_FDCWD, file, &b);
  if (!m || m == file) return m;
  if (!dlopen_buf) {
    void *page = mmap(NULL, SHIM_PATH_MAX, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) {
      errno = ENOMEM;
      return NULL;
    }
    dlopen_buf = page;
  }
  shim_copy_str(dlopen_buf, SHIM_PATH_MAX, m, NULL);
  return dlopen_buf;
}

REAL_DECL(void *, dlopen, (const char *, int));
SHIM_EXPORT void *dlopen(const char *file, int flags) {
  const char *p = file;
  shim_init();
  if (file && shim_plan.n_paths && strchr(file, '/')) {
    p = map_dlopen(file);
    if (!p) return NULL;
  }
  if (shim_learning && file) shim_learn_path("dlopen", "exec", AT_FDCWD, file, p, 0);
  return REAL(dlopen)(p, flags);
}
