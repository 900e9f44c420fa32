/* Programs and libraries the app starts: the exec family and posix_spawn map
 * the program path and give the child an environment that still preloads
 * this shim (and still names the plan), whatever the app did to its own
 * environment; dlopen maps library paths. glibc's execvp/execl* call execve
 * internally, past any interposer, so they are reimplemented here on top of
 * the interposed execve with the same PATH search and ENOEXEC fallback.
 * Argument and environment arrays of any length live in scratch memory
 * (scratch.c), never in variable-length arrays on the app's stack. */
#define _GNU_SOURCE
#include "internal.h"

#include <dlfcn.h>
#include <spawn.h>
#include <stdarg.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

extern char **environ;

REAL_DECL(int, execve, (const char *, char *const[], char *const[]));
SHIM_EXPORT int execve(const char *path, char *const argv[], char *const envp[]) {
  SHIM_SCOPED char *b1 = NULL;
  const char *p1 = shim_map(AT_FDCWD, path, &b1);
  if (!p1 && path) return -1;
  if (shim_learning) shim_learn_path("exec", "exec", AT_FDCWD, path, p1, 0);
  SHIM_SCOPED void *mem = NULL;
  char *const *env = shim_child_env(envp, &mem);
  if (!env) return -1;
  if (!REAL(execve)) {
    errno = ENOSYS;
    return -1;
  }
  return real_execve(p1, argv, env);
}

SHIM_EXPORT int execv(const char *path, char *const argv[]) { return execve(path, argv, environ); }

/* argv for running script with /bin/sh, in scratch memory (NULL: ENOMEM). */
static char **sh_argv(const char *script, char *const argv[]) {
  size_t argc = 0;
  while (argv[argc]) argc++;
  char **nargv = shim_alloc((argc + 2) * sizeof *nargv);
  if (!nargv) {
    errno = ENOMEM;
    return NULL;
  }
  nargv[0] = (char *)"/bin/sh";
  nargv[1] = (char *)script;
  for (size_t i = 1; i <= argc; i++) nargv[i + 1] = argv[i];
  return nargv;
}

/* A script without #!: run it with /bin/sh, as execvp does. */
static int exec_script(const char *script, char *const argv[], char *const envp[]) {
  SHIM_SCOPED char **nargv = sh_argv(script, argv);
  if (nargv) execve("/bin/sh", nargv, envp);
  return -1;
}

/* execvpe as glibc does it, but every attempt goes through our execve. */
static int exec_search(const char *file, char *const argv[], char *const envp[]) {
  if (!file || !*file) {
    errno = ENOENT;
    return -1;
  }
  if (strchr(file, '/')) {
    execve(file, argv, envp);
    return errno == ENOEXEC ? exec_script(file, argv, envp) : -1;
  }
  const char *path = NULL;
  for (char **e = environ; e && *e; e++)
    if (strncmp(*e, "PATH=", 5) == 0) path = *e + 5;
  if (!path) path = "/bin:/usr/bin";
  size_t fl = strlen(file);
  int got_eacces = 0;
  SHIM_SCOPED char *cand = shim_alloc(SHIM_PATH_MAX);
  if (!cand) {
    errno = ENOMEM;
    return -1;
  }
  for (const char *s = path;; s++) {
    const char *e = strchr(s, ':');
    size_t dl = e ? (size_t)(e - s) : strlen(s);
    if (dl + fl + 2 <= SHIM_PATH_MAX) {
      size_t o = 0;
      if (dl == 0) cand[o++] = '.'; /* an empty entry means the cwd */
      memcpy(cand + o, s, dl);
      o += dl;
      cand[o++] = '/';
      memcpy(cand + o, file, fl + 1);
      execve(cand, argv, envp);
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
          return exec_script(cand, argv, envp);
        default:
          return -1;
      }
    }
    if (!e) break;
    s = e;
  }
  if (got_eacces) errno = EACCES;
  return -1;
}

SHIM_EXPORT int execvp(const char *file, char *const argv[]) { return exec_search(file, argv, environ); }
SHIM_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[]) {
  return exec_search(file, argv, envp);
}

/* Collects the variadic argument list of execl* into scratch memory. */
#define COLLECT_ARGS(arg0, last_named, argv_name, envp_out)                   \
  size_t argc_ = 1;                                                           \
  va_list ap_;                                                                \
  va_start(ap_, last_named);                                                  \
  while (va_arg(ap_, char *)) argc_++;                                        \
  va_end(ap_);                                                                \
  SHIM_SCOPED char **argv_name = shim_alloc((argc_ + 1) * sizeof(char *));    \
  if (!argv_name) {                                                           \
    errno = ENOMEM;                                                           \
    return -1;                                                                \
  }                                                                           \
  argv_name[0] = (char *)(arg0);                                              \
  va_start(ap_, last_named);                                                  \
  for (size_t i_ = 1; i_ <= argc_; i_++) argv_name[i_] = va_arg(ap_, char *); \
  envp_out;                                                                   \
  va_end(ap_)

SHIM_EXPORT int execl(const char *path, const char *arg, ...) {
  COLLECT_ARGS(arg, arg, argv, (void)0);
  return execve(path, argv, environ);
}
SHIM_EXPORT int execlp(const char *file, const char *arg, ...) {
  COLLECT_ARGS(arg, arg, argv, (void)0);
  return exec_search(file, argv, environ);
}
SHIM_EXPORT int execle(const char *path, const char *arg, ...) {
  char *const *envp;
  COLLECT_ARGS(arg, arg, argv, envp = va_arg(ap_, char *const *));
  return execve(path, argv, envp);
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
  SHIM_SCOPED void *mem = NULL;
  char *const *env = shim_child_env(envp, &mem);
  if (!env) return -1;
  if (!REAL(fexecve)) {
    errno = ENOSYS;
    return -1;
  }
  return real_fexecve(fd, argv, env);
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
