/* Load-time setup of libdecant-shim.so: binds the real libc functions,
 * reads and parses the plan (DECANT_PLAN, else /.decant/plan), applies the
 * precompiled seccomp filter and captures what exec'd children must inherit.
 * It runs once, from the constructor or from the first interposed call if
 * another library's constructor makes one earlier; other threads wait for
 * it, and a call that re-enters it from the initializing thread proceeds
 * without redirects. A plan that cannot be used (missing, not a regular
 * file, too large, empty, truncated, corrupt) costs one warning line on
 * stderr and the app runs unredirected. Without a plan the shim does nothing: every wrapper
 * passes straight through to libc. */
#define _GNU_SOURCE
#include "internal.h"

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

SHIM_HIDDEN int shim_state;
SHIM_HIDDEN struct shim_plan shim_plan;
SHIM_HIDDEN int shim_active;
SHIM_HIDDEN int shim_learning;
SHIM_HIDDEN int shim_seccomp_applied;
SHIM_HIDDEN int shim_seccomp_failed;

SHIM_HIDDEN char shim_env_plan[SHIM_ENV_MAX];
SHIM_HIDDEN char shim_env_learn[SHIM_ENV_MAX];
SHIM_HIDDEN char shim_self_path[SHIM_PATH_MAX];
SHIM_HIDDEN char shim_learn_dir[SHIM_PATH_MAX];

static int init_owner_tid;

static const char *errno_name(long e) {
  switch (e) {
    case EPERM: return "EPERM (operation not permitted)";
    case EACCES: return "EACCES (no_new_privs not set and no CAP_SYS_ADMIN)";
    case EINVAL: return "EINVAL (the kernel rejected the program or an action it does not support)";
    case EFAULT: return "EFAULT (bad program address)";
    case ENOSYS: return "ENOSYS (kernel without seccomp filters)";
    case ENOENT: return "ENOENT (no such file)";
    case ENOMEM: return "ENOMEM (out of memory)";
    case EFBIG: return "EFBIG (file too large)";
    default: return "unexpected error";
  }
}

static const char *file_error(long e) {
  switch (e) {
    case ENOENT: return "no such file";
    case EACCES: return "permission denied";
    case ENOTDIR: return "a path component is not a directory";
    case ELOOP: return "too many symbolic links";
    case ENAMETOOLONG: return "path too long";
    case EIO: return "I/O error";
    case ENOMEM: return "out of memory";
    case EMFILE:
    case ENFILE: return "too many open files";
    default: return "cannot be opened";
  }
}

/* Reads the plan file into anonymous memory; returns its length, or -1 with
 * the reason for the warning in *why and *missing set when it does not
 * exist. Only a regular file is read: the plan is opened before main, and a
 * FIFO, a terminal or a device there must not block the app or feed it
 * endless bytes (O_NONBLOCK covers the open itself). A short read (the file
 * shrank) leaves a truncated text that the parser then rejects. */
static long read_plan(const char *path, char **out, const char **why, int *missing) {
  long fd = shim_sys(SYS_openat, AT_FDCWD, (long)path, O_RDONLY | O_NONBLOCK | O_CLOEXEC, 0, 0);
  if (fd < 0) {
    *missing = fd == -ENOENT;
    *why = file_error(-fd);
    return -1;
  }
  struct stat st;
  long size = -1;
  if (shim_sys(SYS_fstat, fd, (long)&st, 0, 0, 0) < 0)
    *why = "cannot be inspected (fstat failed)";
  else if (!S_ISREG(st.st_mode))
    *why = S_ISDIR(st.st_mode) ? "a directory, not a regular file" : "not a regular file (a FIFO, socket or device)";
  else if (st.st_size > (off_t)SHIM_PLAN_MAX_BYTES)
    *why = "larger than 4 MiB";
  else
    size = (long)st.st_size;
  char *buf = MAP_FAILED;
  if (size >= 0) {
    buf = mmap(NULL, (size_t)size + 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (buf == MAP_FAILED) *why = file_error(ENOMEM);
  }
  if (buf == MAP_FAILED) {
    shim_sys(SYS_close, fd, 0, 0, 0, 0);
    return -1;
  }
  long got = 0;
  while (got < size) {
    long r = shim_sys(SYS_pread64, fd, (long)(buf + got), size - got, got, 0);
    if (r == -EINTR) continue;
    if (r <= 0) break;
    got += r;
  }
  shim_sys(SYS_close, fd, 0, 0, 0, 0);
  *out = buf;
  return got;
}

/* Every way a plan can be unusable ends here: one warning line, no
 * redirects, the app runs. */
static void load_plan(void) {
  const char *explicit_path = shim_env_value("DECANT_PLAN=");
  int is_explicit = explicit_path && *explicit_path;
  const char *path = is_explicit ? explicit_path : "/.decant/plan";
  char *text = NULL;
  const char *why = NULL;
  int missing = 0;
  long len = read_plan(path, &text, &why, &missing);
  if (len < 0) {
    /* The default location missing just means "not in a decant container". */
    if (is_explicit || !missing) shim_report("cannot read plan ", path, " (", why, "): redirects are off", NULL);
    return;
  }
  size_t arena_size = shim_plan_arena_bytes(text, (size_t)len);
  void *arena = mmap(NULL, arena_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (arena == MAP_FAILED) {
    shim_report("cannot map memory for plan ", path, ": redirects are off", NULL);
    munmap(text, (size_t)len + 1);
    return;
  }
  struct shim_plan plan;
  char msg[256];
  if (shim_plan_parse(text, (size_t)len, arena, arena_size, &plan, msg, sizeof msg) < 0) {
    shim_report("invalid plan ", path, ": ", msg, "; redirects are off", NULL);
    munmap(arena, arena_size);
    munmap(text, (size_t)len + 1);
    return;
  }
  /* Published before shim_state becomes READY (release store in init). */
  shim_plan = plan;
  shim_active = 1;
  if (is_explicit) shim_copy_str(shim_env_plan, SHIM_ENV_MAX, "DECANT_PLAN=", explicit_path);
}

static void apply_seccomp(void) {
  const struct shim_plan *p = &shim_plan;
  const char *mode = p->seccomp_mode == SHIM_SECCOMP_LOG ? "log" : "enforce";
  if (p->seccomp_mode == SHIM_SECCOMP_OFF || p->bpf_len == 0) return;
  /* Filters survive fork and exec: an exec'd child of a confined process
   * already runs under this filter and must not stack a second copy. */
  const char *mark = shim_env_value("DECANT_SHIM_SECCOMP=");
  if (mark && mark[0] == '1' && shim_sys(SYS_prctl, PR_GET_SECCOMP, 0, 0, 0, 0) != 0) {
    shim_seccomp_applied = 1;
    return;
  }
  /* An ancestor already reported why the filter cannot be applied. */
  if (mark && shim_starts_with(mark, "failed")) {
    shim_seccomp_failed = 1;
    return;
  }
#if defined(__x86_64__)
  const char *native = "x86_64";
#elif defined(__aarch64__)
  const char *native = "aarch64";
#elif defined(__i386__)
  const char *native = "i386";
#else
  const char *native = NULL;
#endif
  /* A filter for another architecture would kill on its arch check. */
  if (native && p->seccomp_arch && !shim_str_eq(p->seccomp_arch, native) &&
      !(shim_str_eq(p->seccomp_arch, "x86") && shim_str_eq(native, "i386"))) {
    shim_report("seccomp filter in the plan is for ", p->seccomp_arch, ", not this machine; not applied", NULL);
    shim_seccomp_failed = 1;
    return;
  }
  if (p->bpf_len % sizeof(struct sock_filter) != 0 || p->bpf_len / sizeof(struct sock_filter) > BPF_MAXINSNS) {
    shim_report("seccomp filter in the plan has an invalid length (mode ", mode, "); not applied", NULL);
    shim_seccomp_failed = 1;
    return;
  }
  struct sock_fprog prog;
  prog.len = (unsigned short)(p->bpf_len / sizeof(struct sock_filter));
  prog.filter = (struct sock_filter *)(uintptr_t)p->bpf;
  long r = shim_sys(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  if (r == 0) {
    r = shim_sys(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, (long)&prog, 0, 0);
    if (r == -ENOSYS) r = shim_sys(SYS_prctl, PR_SET_SECCOMP, SECCOMP_MODE_FILTER, (long)&prog, 0, 0);
  }
  if (r < 0) {
    shim_report("cannot apply the seccomp filter (mode ", mode, "): ", errno_name(-r), NULL);
    shim_seccomp_failed = 1;
    return;
  }
  shim_seccomp_applied = 1;
}

void shim_init_slow(void) {
  int tid = (int)shim_sys(SYS_gettid, 0, 0, 0, 0, 0);
  int expected = SHIM_UNINIT;
  if (!__atomic_compare_exchange_n(&shim_state, &expected, SHIM_INITIALIZING, 0, __ATOMIC_ACQ_REL,
                                   __ATOMIC_ACQUIRE)) {
    /* Re-entered from our own initialization: carry on without redirects. */
    if (__atomic_load_n(&init_owner_tid, __ATOMIC_RELAXED) == tid) return;
    while (__atomic_load_n(&shim_state, __ATOMIC_ACQUIRE) != SHIM_READY) sched_yield();
    return;
  }
  __atomic_store_n(&init_owner_tid, tid, __ATOMIC_RELAXED);

  /* Before anything else: from here on no call looks a symbol up. */
  shim_bind_reals();
  /* This library's path as the loader knows it, for children's LD_PRELOAD. */
  const char *self = shim_self_name();
  if (self && self[0]) shim_copy_str(shim_self_path, SHIM_PATH_MAX, self, NULL);
  const char *learn = shim_env_value("DECANT_LEARN=");
  if (learn && learn[0] == '/') {
    shim_copy_str(shim_learn_dir, SHIM_PATH_MAX, learn, NULL);
    shim_copy_str(shim_env_learn, SHIM_ENV_MAX, "DECANT_LEARN=", learn);
    shim_learning = 1;
  }
  load_plan();
  /* The learn supervisor observes syscalls itself; enforcing would hide them. */
  if (shim_active && !shim_learning) apply_seccomp();
  __atomic_store_n(&shim_state, SHIM_READY, __ATOMIC_RELEASE);
  if (shim_learning) shim_learn_start();
}

__attribute__((constructor)) static void shim_constructor(void) { shim_init(); }
