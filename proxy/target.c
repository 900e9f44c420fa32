/* The supervisor's access to the process that made a call: its memory
 * (process_vm_readv/writev, with the notification id re-checked after the
 * arguments were read and before acting, so a pid reused by another process
 * is never acted for), its paths
 * (relative ones resolved against /proc/PID/cwd or /proc/PID/fd/N, mapped
 * through the shared matcher), its descriptors (pidfd_getfd) and its
 * filesystem credentials (setfsuid/setfsgid/setgroups, which the kernel
 * keeps per thread, issued as raw syscalls because glibc would apply
 * setgroups to every thread of the supervisor). */
#define _GNU_SOURCE
#include "proxy_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

int proxy_id_valid(struct req *q) {
  uint64_t id = q->n->id;
  return ioctl(q->p->fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

int proxy_read_mem(struct req *q, uint64_t addr, void *buf, size_t len) {
  struct iovec local = {buf, len}, remote = {(void *)(uintptr_t)addr, len};
  if (len == 0) return 0;
  ssize_t r = process_vm_readv(q->pid, &local, 1, &remote, 1, 0);
  return r == (ssize_t)len ? 0 : -EFAULT;
}

int proxy_write_mem(struct req *q, uint64_t addr, const void *buf, size_t len) {
  struct iovec local = {(void *)buf, len}, remote = {(void *)(uintptr_t)addr, len};
  if (len == 0) return 0;
  ssize_t r = process_vm_writev(q->pid, &local, 1, &remote, 1, 0);
  return r == (ssize_t)len ? 0 : -EFAULT;
}

/* A NUL-terminated string, read a page at a time: the bytes after the
 * string may be unmapped, and one read across them would fail whole. */
static int read_str(struct req *q, uint64_t addr, char *buf, size_t cap) {
  size_t got = 0;
  if (addr == 0) return -EFAULT;
  while (got < cap) {
    uint64_t at = addr + got;
    size_t chunk = 4096 - (size_t)(at & 4095);
    if (chunk > cap - got) chunk = cap - got;
    struct iovec local = {buf + got, chunk}, remote = {(void *)(uintptr_t)at, chunk};
    ssize_t r = process_vm_readv(q->pid, &local, 1, &remote, 1, 0);
    if (r <= 0) return -EFAULT;
    char *nul = memchr(buf + got, 0, (size_t)r);
    if (nul) return 0;
    got += (size_t)r;
  }
  return -ENAMETOOLONG;
}

static int put(char *dst, size_t cap, const char *a, const char *b) {
  int n = snprintf(dst, cap, "%s%s", a, b);
  return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

/* "" when the target's root is ours, else a /proc prefix that reaches it. */
static const char *root_prefix(struct req *q, char *buf, size_t cap) {
  char link[40], target[8];
  snprintf(link, sizeof link, "/proc/%d/root", (int)q->pid);
  ssize_t r = readlink(link, target, sizeof target);
  if (r == 1 && target[0] == '/') return "";
  snprintf(buf, cap, "/proc/%d/root", (int)q->pid);
  return buf;
}

/* The directory a relative path is taken against, as a /proc path that the
 * kernel resolves exactly as it would for the target. */
static void base_link(struct req *q, int dirfd, char *buf, size_t cap) {
  if (dirfd == AT_FDCWD)
    snprintf(buf, cap, "/proc/%d/cwd", (int)q->pid);
  else
    snprintf(buf, cap, "/proc/%d/fd/%d", (int)q->pid, dirfd);
}

int proxy_resolve(struct req *q, struct tpath *t, int dirfd, uint64_t addr) {
  int r = read_str(q, addr, t->app, sizeof t->app);
  if (r < 0) return r;
  return proxy_resolve_app(q, t, dirfd);
}

int proxy_resolve_app(struct req *q, struct tpath *t, int dirfd) {
  char link[64], prefix[40];
  const char *base = NULL;
  t->mapped = 0;
  t->norm[0] = 0;
  if (t->app[0] == 0) return put(t->use, sizeof t->use, "", "");
  if (t->app[0] != '/') {
    base_link(q, dirfd, link, sizeof link);
    ssize_t r = readlink(link, t->norm, sizeof t->norm - 1);
    if (r > 0 && t->norm[0] == '/') {
      t->norm[r] = 0;
      base = t->norm;
    }
  }
  long n = -1;
  if (t->app[0] == '/' || base) n = shim_map_path(q->p->plan, base, t->app, t->mapped_buf, t->scratch);
  if (n == -2) return -ENAMETOOLONG;
  if (n >= 0) memcpy(t->norm, t->scratch, strlen(t->scratch) + 1);
  else t->norm[0] = 0;
  if (n > 0) {
    /* About to act for the target: the pid must still be the caller's.
     * (A call that is let through needs no such check.) */
    if (!proxy_id_valid(q)) return -ESRCH;
    t->mapped = 1;
    return put(t->use, sizeof t->use, root_prefix(q, prefix, sizeof prefix), t->mapped_buf);
  }
  /* Not redirected: a path the kernel resolves as the target's own. */
  if (t->app[0] == '/') return put(t->use, sizeof t->use, root_prefix(q, prefix, sizeof prefix), t->app);
  base_link(q, dirfd, link, sizeof link);
  size_t ll = strlen(link);
  if (ll + 1 + strlen(t->app) + 1 > sizeof t->use) return -ENAMETOOLONG;
  memcpy(t->use, link, ll);
  t->use[ll] = '/';
  memcpy(t->use + ll + 1, t->app, strlen(t->app) + 1);
  return 0;
}

int proxy_target_fd(struct req *q, int fd) {
  long pidfd = syscall(SYS_pidfd_open, q->pid, 0);
  if (pidfd < 0 && errno == EINVAL) pidfd = syscall(SYS_pidfd_open, q->pid, PIDFD_THREAD);
  if (pidfd < 0 && errno == EINVAL) {
    /* A thread on a kernel before 6.9: its thread group leader shares the
     * descriptor table. */
    char path[40], buf[512];
    snprintf(path, sizeof path, "/proc/%d/status", (int)q->pid);
    int sfd = open(path, O_RDONLY | O_CLOEXEC);
    if (sfd < 0) return -ESRCH;
    ssize_t r = read(sfd, buf, sizeof buf - 1);
    close(sfd);
    buf[r > 0 ? r : 0] = 0;
    char *t = strstr(buf, "\nTgid:");
    if (!t) return -ESRCH;
    pidfd = syscall(SYS_pidfd_open, atoi(t + 6), 0);
  }
  if (pidfd < 0) return -errno;
  if (!proxy_id_valid(q)) {
    close((int)pidfd);
    return -ESRCH;
  }
  long r = syscall(SYS_pidfd_getfd, (int)pidfd, fd, 0);
  int e = errno;
  close((int)pidfd);
  return r < 0 ? -e : (int)r;
}

/* Fields of /proc/PID/status the credentials come from. */
struct status {
  unsigned fsuid, fsgid, umask;
  int ngroups;
  gid_t groups[64];
};

static int read_status(pid_t pid, struct status *s) {
  char path[40], buf[4096];
  snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t r = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (r <= 0) return -1;
  buf[r] = 0;
  unsigned ru, eu, su, rg, eg, sg;
  char *u = strstr(buf, "\nUid:"), *g = strstr(buf, "\nGid:"), *m = strstr(buf, "\nUmask:"),
       *gr = strstr(buf, "\nGroups:");
  if (!u || !g || sscanf(u + 5, "%u %u %u %u", &ru, &eu, &su, &s->fsuid) != 4 ||
      sscanf(g + 5, "%u %u %u %u", &rg, &eg, &sg, &s->fsgid) != 4)
    return -1;
  s->umask = m ? (unsigned)strtoul(m + 7, NULL, 8) : 022;
  s->ngroups = 0;
  if (gr) {
    char *p = gr + 8, *end;
    while (s->ngroups < 64) {
      unsigned long v = strtoul(p, &end, 10);
      if (end == p) break;
      s->groups[s->ngroups++] = (gid_t)v;
      p = end;
    }
  }
  return 0;
}

void proxy_become(struct req *q, struct creds *c, int creating) {
  c->switched = c->umask_set = 0;
  char path[40];
  struct stat st;
  snprintf(path, sizeof path, "/proc/%d", (int)q->pid);
  /* /proc/PID belongs to the target's effective ids: the common case, a
   * target with the supervisor's own ids, needs no status read. */
  if (!creating && stat(path, &st) == 0 && st.st_uid == geteuid() && st.st_gid == getegid()) return;
  struct status s;
  if (read_status(q->pid, &s) < 0) return;
  if (creating) {
    c->old_umask = umask((mode_t)s.umask);
    c->umask_set = 1;
  }
  if (s.fsuid == (unsigned)geteuid() && s.fsgid == (unsigned)getegid()) return;
  if (geteuid() != 0) return; /* cannot act as anyone else */
  c->ngroups = getgroups(64, c->groups);
  if (c->ngroups < 0) return;
  syscall(SYS_setgroups, s.ngroups, s.groups);
  syscall(SYS_setfsgid, s.fsgid);
  syscall(SYS_setfsuid, s.fsuid);
  c->switched = 1;
}

void proxy_restore(struct creds *c) {
  if (c->switched) {
    syscall(SYS_setfsuid, geteuid());
    syscall(SYS_setfsgid, getegid());
    syscall(SYS_setgroups, c->ngroups, c->groups);
  }
  if (c->umask_set) umask(c->old_umask);
}
