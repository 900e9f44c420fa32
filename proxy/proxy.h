/* The seccomp user-notification proxy: gives statically linked and
 * raw-syscall programs, which LD_PRELOAD cannot reach, the same path, port,
 * host and uname redirects the shim applies (see docs/proxy.md). A filter
 * installed in the service before exec stops only the system calls the plan
 * needs to redirect and hands them to a supervisor in the parent (the
 * container init, or the decant-proxy launcher), which answers them with the
 * shim's own matcher (shim/plan.h). Plain C linking only libc; the init
 * links it statically.
 *
 * Use from an init that forks the service (the whole sequence is in
 * docs/proxy.md, "Integration"):
 *   parent: proxy_load_plan, proxy_probe, socketpair(AF_UNIX, SOCK_SEQPACKET)
 *   child:  proxy_child_install(&plan, classes, sock[1]), then execve
 *   parent: proxy_recv_listener(sock[0]), proxy_new, and proxy_serve_one
 *           whenever proxy_fd polls readable (or proxy_start_thread). */
#ifndef DECANT_PROXY_H
#define DECANT_PROXY_H

#include <stddef.h>

#include "plan.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What a plan needs intercepted; the filter only stops these classes. */
enum proxy_class {
  PROXY_CLASS_PATHS = 1, /* open, stat, access, readlink, mkdir, unlink, rename, link, chdir, exec */
  PROXY_CLASS_NET = 2,   /* bind, connect, getsockname, getpeername */
  PROXY_CLASS_UNAME = 4, /* uname */
};

/* Kernel features, probed once (proxy_probe, completed by proxy_new). */
struct proxy_features {
  int user_notif;  /* SECCOMP_RET_USER_NOTIF (5.0): without it nothing works */
  int addfd;       /* SECCOMP_IOCTL_NOTIF_ADDFD (5.9): redirected opens */
  int addfd_send;  /* SECCOMP_ADDFD_FLAG_SEND (5.14): atomic inject+answer */
  int pidfd_getfd; /* pidfd_open + pidfd_getfd (5.6): port redirects */
};

/* Reads and parses a plan file (memory from malloc, kept for the life of
 * the process). 0, or -1 with a one-line reason in err. */
int proxy_load_plan(const char *path, struct shim_plan *plan, char *err, size_t errlen);

/* The classes plan has rules for (0: nothing to intercept). learn: every
 * class, so the supervisor sees everything it records. */
unsigned proxy_plan_classes(const struct shim_plan *plan, int learn);

/* Probes the kernel. Returns 0 when user notification works, else -1 with
 * f->user_notif = 0. ADDFD is probed by proxy_new on the real listener. */
int proxy_probe(struct proxy_features *f);

/* Child side, after fork and before exec: installs the notifying filter for
 * classes (setting no_new_privs only when the process lacks CAP_SYS_ADMIN),
 * sends the listener over the unix socket sock (SCM_RIGHTS) and closes both.
 * Async-signal-safe: no allocation, no locks. 0, or -errno (then nothing was
 * installed unless the send failed, in which case the caller must not exec:
 * the first intercepted call would wait for a supervisor that never comes). */
int proxy_child_install(unsigned classes, int sock);

/* Parent side: the listener the child sent (blocks until the child sent it
 * or closed its end). A descriptor, or -errno. */
int proxy_recv_listener(int sock);

struct proxy;

struct proxy_options {
  const char *learn_dir; /* record what the service does into DIR/proxy.PID.jsonl; NULL: no */
  int quiet;             /* no warnings on stderr (benchmarks) */
};

/* A supervisor for listener (taken over: proxy_free closes it). plan must
 * stay valid. Completes f with the ADDFD probes and reports, once, on
 * stderr what cannot be redirected on this kernel. NULL when out of memory. */
struct proxy *proxy_new(const struct shim_plan *plan, int listener, struct proxy_features *f,
                        const struct proxy_options *opt);

/* The listener: readable when a notification waits, POLLHUP once no
 * filtered task is left. */
int proxy_fd(const struct proxy *p);

/* Receives and answers one notification. 1: answered (or the target died
 * meanwhile); 0: nothing was pending; -1: the listener hung up or failed
 * (stop polling it). Never blocks when proxy_fd polled readable. */
int proxy_serve_one(struct proxy *p);

/* Serves until no filtered task remains. */
void proxy_run(struct proxy *p);

/* proxy_run in a new thread (for inits without a poll loop). 0 or -errno. */
int proxy_start_thread(struct proxy *p);

void proxy_free(struct proxy *p);

#ifdef __cplusplus
}
#endif

#endif
