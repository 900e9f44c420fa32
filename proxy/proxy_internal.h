/* Internals of the proxy's supervisor shared by its source files: the
 * supervisor state, one notification being answered, access to the target
 * (its memory, paths, descriptors and credentials: target.c), the system
 * call handlers (handlers_fs.c, handlers_net.c) and the learn-mode recorder
 * (learn.c). */
#ifndef DECANT_PROXY_INTERNAL_H
#define DECANT_PROXY_INTERNAL_H

#include <limits.h>
#include <linux/seccomp.h>
#include <stdint.h>
#include <sys/types.h>

#include "proxy.h"

/* A resolved path argument: what the app named and what to operate on. */
struct tpath {
  char app[SHIM_PATH_MAX];       /* as the target wrote it */
  char norm[SHIM_PATH_MAX];      /* normalized absolute, for learn records ("" if unknown) */
  char use[SHIM_PATH_MAX + 64];  /* the path the supervisor passes to the kernel */
  char scratch[SHIM_PATH_MAX];
  char mapped_buf[SHIM_PATH_MAX];
  int mapped;                    /* a rule applied: use is the target path */
};

struct proxy {
  const struct shim_plan *plan;
  int fd;
  struct proxy_features feat;
  struct proxy_options opt;
  struct seccomp_notif *req;
  struct seccomp_notif_resp *resp;
  size_t req_size, resp_size;
  struct tpath path[2];
  int warned_addfd, warned_pidfd, warned_chdir, warned_exec;
  int learn_fd;
  uint64_t *learn_seen; /* learn dedup table (LEARN_SEEN slots) */
};

/* Results of a handler besides a syscall result (>= 0) or -errno. */
#define PROXY_CONTINUE (-100000L) /* let the kernel run the call as the app made it */
#define PROXY_ANSWERED (-100001L) /* already answered (ADDFD_FLAG_SEND) or target gone */

struct req {
  struct proxy *p;
  const struct seccomp_notif *n;
  pid_t pid;
};

/* ---- target.c ---- */
int proxy_id_valid(struct req *q);
/* Reads len bytes at addr; 0 or -EFAULT. */
int proxy_read_mem(struct req *q, uint64_t addr, void *buf, size_t len);
int proxy_write_mem(struct req *q, uint64_t addr, const void *buf, size_t len);
/* Reads a path argument and maps it; dirfd as the syscall has it. 0, or
 * -errno (EFAULT, ENAMETOOLONG) for the caller to answer with. */
int proxy_resolve(struct req *q, struct tpath *t, int dirfd, uint64_t addr);
/* Resolves an already-read path (t->app) the same way. */
int proxy_resolve_app(struct req *q, struct tpath *t, int dirfd);
/* A duplicate of the target's descriptor fd (pidfd_getfd), or -errno. */
int proxy_target_fd(struct req *q, int fd);

/* Runs the caller's operation with the target's filesystem credentials
 * (and umask when creating): proxy_become, the operation, proxy_restore. */
struct creds {
  int switched, umask_set;
  mode_t old_umask;
  int ngroups;
  gid_t groups[64];
};
void proxy_become(struct req *q, struct creds *c, int creating);
void proxy_restore(struct creds *c);

/* ---- handlers ---- */
long proxy_handle_fs(struct req *q, int *handled);
long proxy_handle_net(struct req *q, int *handled);

/* ---- learn.c ---- */
void proxy_learn_open(struct proxy *p);
/* op, access, normalized path, target (NULL if not redirected). */
void proxy_learn_path(struct req *q, const char *op, const char *access, const struct tpath *t);
void proxy_learn_inet(struct req *q, const char *op, int family, const char *proto, const void *addr, int port);

/* One warning line on stderr unless quiet: "decant-proxy: " a b. */
void proxy_warn(const struct proxy *p, const char *a, const char *b);

#endif
