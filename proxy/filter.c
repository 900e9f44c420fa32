/* The service side of the proxy and its setup: which system calls a plan
 * needs stopped, the notifying seccomp filter built from them, installing it
 * in the child before exec and handing the listener to the parent, the
 * kernel feature probe and plan loading.
 *
 * The filter is assembled by hand from <linux/filter.h> macros rather than
 * with libseccomp: this code is linked statically into the container init
 * and may link nothing but libc, and the program is short and fixed (an
 * architecture check, then one comparison per stopped syscall). It only
 * chooses between "let through" and "ask the supervisor"; the profile's
 * allowlist filter is a separate filter the kernel runs as well, and a
 * stricter verdict of either always wins (docs/proxy.md). */
#define _GNU_SOURCE
#include "proxy.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define PROXY_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define PROXY_AUDIT_ARCH AUDIT_ARCH_AARCH64
#else
#error "decant's proxy supports x86-64 and aarch64"
#endif

#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

#ifndef AT_EMPTY_PATH
#define AT_EMPTY_PATH 0x1000
#endif

/* Path syscalls: every one that names a file the plan may redirect. The
 * legacy ones (open, stat...) exist on x86-64 only. */
static const int path_calls[] = {
#ifdef SYS_open
    SYS_open, SYS_creat, SYS_stat, SYS_lstat, SYS_access, SYS_readlink, SYS_mkdir, SYS_rmdir, SYS_unlink,
    SYS_rename, SYS_symlink, SYS_link, SYS_chdir,
#endif
    SYS_openat, SYS_openat2, SYS_faccessat, SYS_faccessat2, SYS_readlinkat, SYS_mkdirat, SYS_unlinkat,
    SYS_renameat, SYS_renameat2, SYS_symlinkat, SYS_linkat, SYS_execve, SYS_execveat,
};
static const int net_calls[] = {SYS_bind, SYS_connect, SYS_getsockname, SYS_getpeername};

/* fstat() of glibc 2.33+ is newfstatat(fd, "", buf, AT_EMPTY_PATH), and
 * stdio makes it constantly: the filter lets AT_EMPTY_PATH calls through
 * without a round trip (so such a call with a non-empty path is not
 * redirected; docs/proxy.md). Argument index of the flags. */
struct flagged_call {
  int nr, flags_arg;
};
static const struct flagged_call empty_path_calls[] = {
#ifdef SYS_newfstatat
    {SYS_newfstatat, 3},
#else
    {SYS_fstatat, 3},
#endif
    {SYS_statx, 2},
};

unsigned proxy_plan_classes(const struct shim_plan *plan, int learn) {
  if (learn) return PROXY_CLASS_PATHS | PROXY_CLASS_NET | PROXY_CLASS_UNAME;
  unsigned c = 0;
  if (plan->n_paths) c |= PROXY_CLASS_PATHS;
  /* AF_UNIX socket paths follow the path rules too. */
  if (plan->n_ports || plan->n_paths) c |= PROXY_CLASS_NET;
  for (size_t i = 0; i < plan->n_hosts; i++)
    if (plan->hosts[i].literal_family) c |= PROXY_CLASS_NET;
  if (plan->uname_sysname || plan->uname_nodename || plan->uname_release || plan->uname_version ||
      plan->uname_machine)
    c |= PROXY_CLASS_UNAME;
  return c;
}

#define MAX_INSNS 128
#define LABEL_ALLOW (-1)
#define LABEL_NOTIF (-2)

/* A jump whose targets are labels, resolved by finish(). */
struct insn {
  struct sock_filter f;
  int jt_label, jf_label; /* 0: relative offset already in f */
};

struct prog {
  struct insn in[MAX_INSNS];
  int n;
};

static void emit(struct prog *p, struct sock_filter f, int jt_label, int jf_label) {
  if (p->n >= MAX_INSNS) return;
  p->in[p->n].f = f;
  p->in[p->n].jt_label = jt_label;
  p->in[p->n].jf_label = jf_label;
  p->n++;
}

static int build(unsigned classes, struct sock_filter *out) {
  struct prog p;
  p.n = 0;
  struct sock_filter ld_arch = BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
  struct sock_filter ld_nr = BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
  emit(&p, ld_arch, 0, 0);
  /* Another ABI (i386, x32 programs) is not redirected: let it through. */
  emit(&p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PROXY_AUDIT_ARCH, 0, 0), 0, LABEL_ALLOW);
  emit(&p, ld_nr, 0, 0);
#ifdef __x86_64__
  emit(&p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000u, 0, 0), LABEL_ALLOW, 0);
#endif
  if (classes & PROXY_CLASS_PATHS)
    for (size_t i = 0; i < sizeof path_calls / sizeof path_calls[0]; i++)
      emit(&p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)path_calls[i], 0, 0), LABEL_NOTIF,
           0);
  if (classes & PROXY_CLASS_NET)
    for (size_t i = 0; i < sizeof net_calls / sizeof net_calls[0]; i++)
      emit(&p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)net_calls[i], 0, 0), LABEL_NOTIF, 0);
  if (classes & PROXY_CLASS_UNAME)
    emit(&p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)SYS_uname, 0, 0), LABEL_NOTIF, 0);
  if (classes & PROXY_CLASS_PATHS)
    for (size_t i = 0; i < sizeof empty_path_calls / sizeof empty_path_calls[0]; i++) {
      const struct flagged_call *c = &empty_path_calls[i];
      /* nr matches: look at the flags (low word), both branches end. */
      emit(&p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)c->nr, 0, 2), 0, 0);
      emit(&p,
           (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                                        offsetof(struct seccomp_data, args) + 8 * c->flags_arg),
           0, 0);
      emit(&p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, AT_EMPTY_PATH, 0, 0), LABEL_ALLOW,
           LABEL_NOTIF);
    }
  int allow = p.n, notif = p.n + 1;
  emit(&p, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW), 0, 0);
  emit(&p, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF), 0, 0);
  if (p.n >= MAX_INSNS) return -1;
  for (int i = 0; i < p.n; i++) {
    out[i] = p.in[i].f;
    if (p.in[i].jt_label) out[i].jt = (unsigned char)((p.in[i].jt_label == LABEL_ALLOW ? allow : notif) - i - 1);
    if (p.in[i].jf_label) out[i].jf = (unsigned char)((p.in[i].jf_label == LABEL_ALLOW ? allow : notif) - i - 1);
  }
  return p.n;
}

static int send_fd(int sock, int fd) {
  char byte = 'L';
  struct iovec iov = {&byte, 1};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } u;
  memset(&u, 0, sizeof u);
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = u.buf;
  msg.msg_controllen = sizeof u.buf;
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof fd);
  ssize_t r;
  do
    r = sendmsg(sock, &msg, MSG_NOSIGNAL);
  while (r < 0 && errno == EINTR);
  return r == 1 ? 0 : -errno;
}

int proxy_child_install(unsigned classes, int sock) {
  struct sock_filter insns[MAX_INSNS];
  int n = build(classes, insns);
  if (n < 0) {
    close(sock);
    return -E2BIG;
  }
  struct sock_fprog prog = {(unsigned short)n, insns};
  /* Once the supervisor has a call, only a fatal signal interrupts the
   * wait (Linux 6.0): Go's preemption signals would otherwise abort and
   * restart every slow call, performing its side effects again. */
  unsigned long flags = SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
  long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
  if (fd < 0 && errno == EINVAL) {
    flags = SECCOMP_FILTER_FLAG_NEW_LISTENER;
    fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
  }
  if (fd < 0 && errno == EACCES) {
    /* Without CAP_SYS_ADMIN the kernel wants no_new_privs first. */
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0) fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
    if (fd < 0 && errno == EINVAL)
      fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
  }
  if (fd < 0) {
    int e = errno;
    close(sock);
    return -e;
  }
  int r = send_fd(sock, (int)fd);
  close((int)fd);
  close(sock);
  return r;
}

int proxy_recv_listener(int sock) {
  char byte;
  struct iovec iov = {&byte, 1};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } u;
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = u.buf;
  msg.msg_controllen = sizeof u.buf;
  ssize_t r;
  do
    r = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  while (r < 0 && errno == EINTR);
  if (r < 0) return -errno;
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  if (r == 0 || !c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) return -ENOMSG;
  int fd;
  memcpy(&fd, CMSG_DATA(c), sizeof fd);
  return fd;
}

int proxy_probe(struct proxy_features *f) {
  memset(f, 0, sizeof *f);
  unsigned action = SECCOMP_RET_USER_NOTIF;
  f->user_notif = syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) == 0;
  long pidfd = syscall(SYS_pidfd_open, getpid(), 0);
  if (pidfd >= 0) {
    /* An invalid target fd: EBADF when the call exists. */
    f->pidfd_getfd = syscall(SYS_pidfd_getfd, (int)pidfd, -1, 0) < 0 && errno == EBADF;
    close((int)pidfd);
  }
  return f->user_notif ? 0 : -1;
}

int proxy_load_plan(const char *path, struct shim_plan *plan, char *err, size_t errlen) {
  const char *why = NULL;
  char *text = NULL;
  void *arena = NULL;
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  struct stat st;
  if (fd < 0) {
    why = strerror(errno);
    goto fail;
  }
  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
    why = "not a regular file";
    goto fail;
  }
  if ((unsigned long long)st.st_size > SHIM_PLAN_MAX_BYTES) {
    why = "larger than 4 MiB";
    goto fail;
  }
  text = malloc((size_t)st.st_size + 1);
  if (!text) {
    why = "out of memory";
    goto fail;
  }
  size_t len = 0;
  while (len < (size_t)st.st_size) {
    ssize_t r = read(fd, text + len, (size_t)st.st_size - len);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    len += (size_t)r;
  }
  close(fd);
  fd = -1;
  size_t arena_size = shim_plan_arena_bytes(text, len);
  arena = malloc(arena_size);
  if (!arena) {
    why = "out of memory";
    goto fail;
  }
  if (shim_plan_parse(text, len, arena, arena_size, plan, err, errlen) < 0) {
    free(arena);
    free(text);
    return -1;
  }
  return 0;
fail:
  if (fd >= 0) close(fd);
  free(text);
  size_t o = 0;
  for (const char *s = why; s && *s && o + 1 < errlen; s++) err[o++] = *s;
  if (errlen) err[o] = 0;
  return -1;
}
