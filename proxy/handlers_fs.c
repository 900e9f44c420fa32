/* The supervisor's answers to the path system calls. Each handler reads
 * the path arguments, maps them with the shim's matcher and, when no rule
 * applies, lets the kernel run the call as the app made it. A redirected
 * call is performed by the supervisor on the mapped path with the target's
 * credentials: opens inject the new descriptor into the target (ADDFD),
 * stat/readlink results are written into its memory. chdir goes through a
 * descriptor injected into the target (do_chdir); execve cannot be
 * redirected (its argument cannot be replaced and no other process can exec
 * for the target): it is recorded and let through, with one warning
 * (docs/proxy.md, "Limits"). */
#define _GNU_SOURCE
#include "proxy_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sched.h>
#include <stdio.h>
#include <unistd.h>

#ifndef SECCOMP_ADDFD_FLAG_SEND
#define SECCOMP_ADDFD_FLAG_SEND (1UL << 1)
#endif

static const char *open_access(int flags) {
  return (flags & (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND)) ? "write" : "read";
}

/* Resolves one path argument; on a read failure the kernel gets the call
 * and reports the bad pointer itself. */
#define RESOLVE(i, dirfd, addr)                                                   \
  do {                                                                            \
    int r_ = proxy_resolve(q, &q->p->path[i], (int)(dirfd), (addr));              \
    if (r_ == -ESRCH) return PROXY_ANSWERED;                                      \
    if (r_ == -EFAULT) return PROXY_CONTINUE;                                     \
    if (r_ < 0) return r_;                                                        \
  } while (0)

static long inject(struct req *q, int fd, int cloexec) {
  struct proxy *p = q->p;
  struct seccomp_notif_addfd a;
  memset(&a, 0, sizeof a);
  a.id = q->n->id;
  a.srcfd = (unsigned)fd;
  a.newfd_flags = cloexec ? O_CLOEXEC : 0;
  a.flags = p->feat.addfd_send ? SECCOMP_ADDFD_FLAG_SEND : 0;
  long r = ioctl(p->fd, SECCOMP_IOCTL_NOTIF_ADDFD, &a);
  int e = errno;
  close(fd);
  if (r < 0) return e == ENOENT ? PROXY_ANSWERED : -e;
  return p->feat.addfd_send ? PROXY_ANSWERED : r;
}

/* how: from openat2 (is2), else built from open/openat's flags and mode,
 * which take unknown flag bits that openat2 would refuse. */
static long do_open(struct req *q, int dirfd, uint64_t upath, const struct open_how *how, int is2) {
  struct proxy *p = q->p;
  struct tpath *t = &p->path[0];
  RESOLVE(0, dirfd, upath);
  proxy_learn_path(q, "open", open_access((int)how->flags), t);
  if (!t->mapped) return PROXY_CONTINUE;
  if (!p->feat.addfd) {
    if (!p->warned_addfd++)
      proxy_warn(p, "this kernel cannot inject descriptors (SECCOMP_IOCTL_NOTIF_ADDFD, Linux 5.9): opens are not "
                    "redirected, e.g. ", t->app);
    return PROXY_CONTINUE;
  }
  struct creds c;
  proxy_become(q, &c, (how->flags & (O_CREAT | __O_TMPFILE)) != 0);
  struct open_how h = *how;
  h.flags |= O_CLOEXEC;
  /* Containment flags name the app's own directory; a mapped path is
   * absolute in the supervisor's view. */
  h.resolve &= ~(uint64_t)(RESOLVE_BENEATH | RESOLVE_IN_ROOT);
  long fd = is2 ? syscall(SYS_openat2, AT_FDCWD, t->use, &h, sizeof h)
                : openat(AT_FDCWD, t->use, (int)h.flags, (mode_t)h.mode);
  int e = errno;
  proxy_restore(&c);
  if (fd < 0) return -e;
  return inject(q, (int)fd, (how->flags & O_CLOEXEC) != 0);
}

/* stat, lstat, newfstatat: the kernel's struct stat is glibc's here. */
static long do_stat(struct req *q, int dirfd, uint64_t upath, uint64_t ubuf, int flags) {
  struct tpath *t = &q->p->path[0];
  RESOLVE(0, dirfd, upath);
  proxy_learn_path(q, "stat", "stat", t);
  if (!t->mapped) return PROXY_CONTINUE;
  struct stat st;
  struct creds c;
  proxy_become(q, &c, 0);
  long r = syscall(SYS_newfstatat, AT_FDCWD, t->use, &st, flags & (AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT));
  int e = errno;
  proxy_restore(&c);
  if (r < 0) return -e;
  return proxy_write_mem(q, ubuf, &st, sizeof st);
}

static long do_statx(struct req *q) {
  const __u64 *a = q->n->data.args;
  struct tpath *t = &q->p->path[0];
  RESOLVE(0, (int)a[0], a[1]);
  proxy_learn_path(q, "stat", "stat", t);
  if (!t->mapped) return PROXY_CONTINUE;
  struct statx stx;
  struct creds c;
  proxy_become(q, &c, 0);
  long r = syscall(SYS_statx, AT_FDCWD, t->use, (int)a[2] & ~AT_EMPTY_PATH, (unsigned)a[3], &stx);
  int e = errno;
  proxy_restore(&c);
  if (r < 0) return -e;
  return proxy_write_mem(q, a[4], &stx, sizeof stx);
}

static long do_access(struct req *q, int dirfd, uint64_t upath, int mode, int flags) {
  struct tpath *t = &q->p->path[0];
  RESOLVE(0, dirfd, upath);
  proxy_learn_path(q, "access", "stat", t);
  if (!t->mapped) return PROXY_CONTINUE;
  struct creds c;
  proxy_become(q, &c, 0);
  /* AT_EACCESS: checked with the fs ids the supervisor just took on. */
  long r = syscall(SYS_faccessat2, AT_FDCWD, t->use, mode, (flags & AT_SYMLINK_NOFOLLOW) | AT_EACCESS);
  if (r < 0 && errno == ENOSYS) r = syscall(SYS_faccessat, AT_FDCWD, t->use, mode);
  int e = errno;
  proxy_restore(&c);
  return r < 0 ? -e : 0;
}

static long do_readlink(struct req *q, int dirfd, uint64_t upath, uint64_t ubuf, long size) {
  struct tpath *t = &q->p->path[0];
  if (size <= 0) return PROXY_CONTINUE; /* EINVAL from the kernel */
  RESOLVE(0, dirfd, upath);
  proxy_learn_path(q, "readlink", "stat", t);
  if (!t->mapped) return PROXY_CONTINUE;
  char buf[SHIM_PATH_MAX];
  struct creds c;
  proxy_become(q, &c, 0);
  ssize_t n = readlink(t->use, buf, (size_t)size < sizeof buf ? (size_t)size : sizeof buf);
  int e = errno;
  proxy_restore(&c);
  if (n < 0) return -e;
  int w = proxy_write_mem(q, ubuf, buf, (size_t)n);
  return w < 0 ? w : n;
}

/* mkdir, unlink, rmdir: one path, creating or not. */
enum one_op { OP_MKDIR, OP_UNLINK, OP_RMDIR };
static long do_one(struct req *q, enum one_op op, int dirfd, uint64_t upath, long arg) {
  struct tpath *t = &q->p->path[0];
  RESOLVE(0, dirfd, upath);
  proxy_learn_path(q, op == OP_MKDIR ? "mkdir" : op == OP_RMDIR ? "rmdir" : "unlink", "write", t);
  if (!t->mapped) return PROXY_CONTINUE;
  struct creds c;
  proxy_become(q, &c, op == OP_MKDIR);
  long r = op == OP_MKDIR ? mkdirat(AT_FDCWD, t->use, (mode_t)arg)
           : op == OP_RMDIR ? unlinkat(AT_FDCWD, t->use, AT_REMOVEDIR)
                            : unlinkat(AT_FDCWD, t->use, (int)arg);
  int e = errno;
  proxy_restore(&c);
  return r < 0 ? -e : 0;
}

/* rename and link: two paths, either one may be redirected. */
static long do_two(struct req *q, int is_link, int d0, uint64_t u0, int d1, uint64_t u1, long flags) {
  struct proxy *p = q->p;
  RESOLVE(0, d0, u0);
  RESOLVE(1, d1, u1);
  proxy_learn_path(q, is_link ? "link" : "rename", "write", &p->path[0]);
  proxy_learn_path(q, is_link ? "link" : "rename", "write", &p->path[1]);
  if (!p->path[0].mapped && !p->path[1].mapped) return PROXY_CONTINUE;
  struct creds c;
  proxy_become(q, &c, 1);
  long r = is_link ? linkat(AT_FDCWD, p->path[0].use, AT_FDCWD, p->path[1].use, (int)flags)
                   : syscall(SYS_renameat2, AT_FDCWD, p->path[0].use, AT_FDCWD, p->path[1].use, flags);
  int e = errno;
  proxy_restore(&c);
  return r < 0 ? -e : 0;
}

/* symlink: the link's own path is mapped, its contents kept as written. */
static long do_symlink(struct req *q, uint64_t utarget, int dirfd, uint64_t ulink) {
  struct proxy *p = q->p;
  RESOLVE(1, dirfd, ulink);
  proxy_learn_path(q, "symlink", "write", &p->path[1]);
  if (!p->path[1].mapped) return PROXY_CONTINUE;
  char contents[SHIM_PATH_MAX];
  RESOLVE(0, AT_FDCWD, utarget); /* reads the contents; its mapping is unused */
  memcpy(contents, p->path[0].app, sizeof contents);
  struct creds c;
  proxy_become(q, &c, 1);
  long r = symlinkat(contents, AT_FDCWD, p->path[1].use);
  int e = errno;
  proxy_restore(&c);
  return r < 0 ? -e : 0;
}

/* Writes len bytes into the target at addr even where its pages are
 * read-only (string literals): /proc/PID/mem writes like a debugger does. */
static int poke(struct req *q, uint64_t addr, const void *buf, size_t len) {
  char path[40];
  snprintf(path, sizeof path, "/proc/%d/mem", (int)q->pid);
  int fd = open(path, O_RDWR | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t r = pwrite(fd, buf, len, (off_t)addr);
  close(fd);
  return r == (ssize_t)len ? 0 : -1;
}

/* Waits (bounded) until the target's cwd is dir, i.e. the kernel has run
 * the chdir and no longer needs its argument bytes. A chdir that fails
 * leaves the cwd alone: then the wait ends after about 20 ms. */
static void wait_cwd(struct req *q, const char *dir) {
  char link[40], now[SHIM_PATH_MAX];
  snprintf(link, sizeof link, "/proc/%d/cwd", (int)q->pid);
  for (int i = 0; i < 20000; i++) {
    ssize_t n = readlink(link, now, sizeof now - 1);
    if (n < 0) return; /* gone */
    now[n] = 0;
    if (strcmp(now, dir) == 0) return;
    if (i > 100) sched_yield();
  }
}

/* chdir into a redirected directory. The argument cannot be replaced and no
 * other process can change the target's cwd, so the supervisor opens the
 * target directory, injects it into the target as descriptor N and, when
 * "/dev/fd/N" (or "/proc/self/fd/N") fits in the app's own string, writes it
 * there for the duration of the call, lets the kernel run the call (the
 * target resolves its own descriptor), and puts the app's bytes back. The
 * descriptor stays open in the target (close-on-exec). */
static long do_chdir(struct req *q, int dirfd, uint64_t upath) {
  struct proxy *p = q->p;
  struct tpath *t = &p->path[0];
  RESOLVE(0, dirfd, upath);
  proxy_learn_path(q, "chdir", "stat", t);
  if (!t->mapped) return PROXY_CONTINUE;
  size_t app_len = strlen(t->app);
  const char *why = "the path is too short to hold /dev/fd/N";
  if (app_len >= 9 && p->feat.addfd) {
    struct creds c;
    proxy_become(q, &c, 0);
    /* Not O_PATH: ADDFD refuses those. A directory that may be searched
     * but not read is opened as the supervisor instead. */
    int dfd = open(t->use, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int e = errno;
    proxy_restore(&c);
    if (dfd < 0 && e == EACCES) {
      if (faccessat(AT_FDCWD, t->use, X_OK, AT_EACCESS) < 0) return -EACCES;
      dfd = open(t->use, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      e = errno;
    }
    if (dfd < 0) return -e; /* ENOENT, ENOTDIR... of the target directory */
    char real[SHIM_PATH_MAX], self[40];
    snprintf(self, sizeof self, "/proc/self/fd/%d", dfd);
    ssize_t rl = readlink(self, real, sizeof real - 1);
    real[rl > 0 ? rl : 0] = 0;
    struct seccomp_notif_addfd a;
    memset(&a, 0, sizeof a);
    a.id = q->n->id;
    a.srcfd = (unsigned)dfd;
    a.newfd_flags = O_CLOEXEC;
    long n = ioctl(p->fd, SECCOMP_IOCTL_NOTIF_ADDFD, &a);
    e = errno;
    close(dfd);
    if (n < 0) return e == ENOENT ? PROXY_ANSWERED : -e;
    char rep[40];
    snprintf(rep, sizeof rep, "/dev/fd/%ld", n);
    char probe[48];
    snprintf(probe, sizeof probe, "/proc/%d/root/dev/fd", (int)q->pid);
    char link[32];
    ssize_t ll = readlink(probe, link, sizeof link);
    if (ll != 13 || memcmp(link, "/proc/self/fd", 13) != 0) snprintf(rep, sizeof rep, "/proc/self/fd/%ld", n);
    if (strlen(rep) <= app_len && poke(q, upath, rep, strlen(rep) + 1) == 0) {
      struct seccomp_notif_resp *resp = p->resp;
      memset(resp, 0, p->resp_size);
      resp->id = q->n->id;
      resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
      int sent = ioctl(p->fd, SECCOMP_IOCTL_NOTIF_SEND, resp) == 0;
      if (sent) wait_cwd(q, real);
      poke(q, upath, t->app, app_len + 1);
      return PROXY_ANSWERED;
    }
    why = "the path is too short to hold the descriptor's name";
  } else if (!p->feat.addfd) {
    why = "this kernel cannot inject descriptors";
  }
  if (!p->warned_chdir++) proxy_warn(p, "chdir into a redirected directory is not redirected: ", why);
  return PROXY_CONTINUE;
}

/* exec: recorded, never redirected (see the top of the file). */
static long do_exec(struct req *q, int dirfd, uint64_t upath) {
  struct tpath *t = &q->p->path[0];
  RESOLVE(0, dirfd, upath);
  proxy_learn_path(q, "exec", "exec", t);
  if (t->mapped && !q->p->warned_exec++)
    proxy_warn(q->p, "exec of a redirected path is not redirected (docs/proxy.md): ", t->app);
  return PROXY_CONTINUE;
}

static long open_flags(struct req *q, int dirfd, uint64_t upath, uint64_t flags, uint64_t mode) {
  struct open_how how;
  memset(&how, 0, sizeof how);
  how.flags = flags & 0xffffffffu;
  /* open(2) ignores mode without O_CREAT/O_TMPFILE; openat2 refuses it. */
  if (how.flags & (O_CREAT | __O_TMPFILE)) how.mode = mode & 07777;
  return do_open(q, dirfd, upath, &how, 0);
}

long proxy_handle_fs(struct req *q, int *handled) {
  const __u64 *a = q->n->data.args;
  *handled = 1;
  switch (q->n->data.nr) {
#ifdef SYS_open
  case SYS_open: return open_flags(q, AT_FDCWD, a[0], a[1], a[2]);
  case SYS_creat: return open_flags(q, AT_FDCWD, a[0], O_CREAT | O_WRONLY | O_TRUNC, a[1]);
  case SYS_stat: return do_stat(q, AT_FDCWD, a[0], a[1], 0);
  case SYS_lstat: return do_stat(q, AT_FDCWD, a[0], a[1], AT_SYMLINK_NOFOLLOW);
  case SYS_access: return do_access(q, AT_FDCWD, a[0], (int)a[1], 0);
  case SYS_readlink: return do_readlink(q, AT_FDCWD, a[0], a[1], (long)(int)a[2]);
  case SYS_mkdir: return do_one(q, OP_MKDIR, AT_FDCWD, a[0], (long)a[1]);
  case SYS_rmdir: return do_one(q, OP_RMDIR, AT_FDCWD, a[0], 0);
  case SYS_unlink: return do_one(q, OP_UNLINK, AT_FDCWD, a[0], 0);
  case SYS_rename: return do_two(q, 0, AT_FDCWD, a[0], AT_FDCWD, a[1], 0);
  case SYS_link: return do_two(q, 1, AT_FDCWD, a[0], AT_FDCWD, a[1], 0);
  case SYS_symlink: return do_symlink(q, a[0], AT_FDCWD, a[1]);
  case SYS_chdir: return do_chdir(q, AT_FDCWD, a[0]);
#endif
  case SYS_openat: return open_flags(q, (int)a[0], a[1], a[2], a[3]);
  case SYS_openat2: {
    struct open_how how;
    memset(&how, 0, sizeof how);
    /* A larger struct from a newer libc: its extra fields must be zero, as
     * the kernel would insist; let the kernel judge anything unusual. */
    if (a[3] != sizeof how || proxy_read_mem(q, a[2], &how, sizeof how) < 0) return PROXY_CONTINUE;
    return do_open(q, (int)a[0], a[1], &how, 1);
  }
#ifdef SYS_newfstatat
  case SYS_newfstatat: return do_stat(q, (int)a[0], a[1], a[2], (int)a[3]);
#endif
  case SYS_statx: return do_statx(q);
  case SYS_faccessat: return do_access(q, (int)a[0], a[1], (int)a[2], 0);
  case SYS_faccessat2: return do_access(q, (int)a[0], a[1], (int)a[2], (int)a[3]);
  case SYS_readlinkat: return do_readlink(q, (int)a[0], a[1], a[2], (long)(int)a[3]);
  case SYS_mkdirat: return do_one(q, OP_MKDIR, (int)a[0], a[1], (long)a[2]);
  case SYS_unlinkat:
    return do_one(q, ((int)a[2] & AT_REMOVEDIR) ? OP_RMDIR : OP_UNLINK, (int)a[0], a[1], (long)(int)a[2]);
  case SYS_renameat: return do_two(q, 0, (int)a[0], a[1], (int)a[2], a[3], 0);
  case SYS_renameat2: return do_two(q, 0, (int)a[0], a[1], (int)a[2], a[3], (long)(unsigned)a[4]);
  case SYS_linkat: return do_two(q, 1, (int)a[0], a[1], (int)a[2], a[3], (long)(int)a[4]);
  case SYS_symlinkat: return do_symlink(q, a[0], (int)a[1], a[2]);
  case SYS_execve: return do_exec(q, AT_FDCWD, a[0]);
  case SYS_execveat: return do_exec(q, (int)a[0], a[1]);
  default: *handled = 0; return PROXY_CONTINUE;
  }
}
