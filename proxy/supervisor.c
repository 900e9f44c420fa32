/* The supervisor: receives the filtered calls of the service and its
 * descendants from the listener, hands each to its handler and answers it
 * (continue, a result, or an error). One notification at a time, so it fits
 * an init's poll loop; a target blocks only in its own call, other threads
 * and processes run on. When the supervisor is gone the kernel fails every
 * pending and later notified call with ENOSYS: the app never hangs. */
#define _GNU_SOURCE
#include "proxy_internal.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif

#ifndef SECCOMP_ADDFD_FLAG_SEND
#define SECCOMP_ADDFD_FLAG_SEND (1UL << 1)
#endif

/* ADDFD and its SEND flag, asked of the real listener with a notification
 * id that cannot exist: ENOENT means the request was understood. */
static void probe_addfd(struct proxy *p) {
  struct seccomp_notif_addfd a;
  memset(&a, 0, sizeof a);
  a.id = ~(uint64_t)0;
  a.srcfd = (unsigned)p->fd;
  a.flags = SECCOMP_ADDFD_FLAG_SEND;
  p->feat.addfd_send = ioctl(p->fd, SECCOMP_IOCTL_NOTIF_ADDFD, &a) < 0 && errno == ENOENT;
  a.flags = 0;
  p->feat.addfd = p->feat.addfd_send || (ioctl(p->fd, SECCOMP_IOCTL_NOTIF_ADDFD, &a) < 0 && errno == ENOENT);
}

struct proxy *proxy_new(const struct shim_plan *plan, int listener, struct proxy_features *f,
                        const struct proxy_options *opt) {
  struct proxy *p = calloc(1, sizeof *p);
  if (!p) return NULL;
  p->plan = plan;
  p->fd = listener;
  p->feat = *f;
  p->learn_fd = -1;
  if (opt) p->opt = *opt;
  struct seccomp_notif_sizes sizes = {sizeof(struct seccomp_notif), sizeof(struct seccomp_notif_resp), 0};
  if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) < 0) {
    sizes.seccomp_notif = sizeof(struct seccomp_notif);
    sizes.seccomp_notif_resp = sizeof(struct seccomp_notif_resp);
  }
  /* A newer kernel may fill in more than this header declares. */
  p->req_size = sizes.seccomp_notif > sizeof *p->req ? sizes.seccomp_notif : sizeof *p->req;
  p->resp_size = sizes.seccomp_notif_resp > sizeof *p->resp ? sizes.seccomp_notif_resp : sizeof *p->resp;
  p->req = calloc(1, p->req_size);
  p->resp = calloc(1, p->resp_size);
  if (!p->req || !p->resp) {
    proxy_free(p);
    return NULL;
  }
  probe_addfd(p);
  *f = p->feat;
  /* The target hands its CPU straight to the supervisor and back (Linux
   * 6.6): without it every call waits for the scheduler to wake the
   * supervisor, which on a busy machine costs far more than the call. */
  ioctl(p->fd, SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP);
  if (!p->feat.addfd && plan->n_paths)
    proxy_warn(p, "this kernel cannot inject descriptors (SECCOMP_IOCTL_NOTIF_ADDFD, Linux 5.9): opens are not "
                  "redirected; stat, access, readlink, mkdir, unlink, rename and ports still are", "");
  if (!p->feat.pidfd_getfd && (plan->n_ports || plan->n_hosts))
    proxy_warn(p, "this kernel has no pidfd_getfd (Linux 5.6): ports and addresses are not redirected; paths and "
                  "uname still are", "");
  if (p->opt.learn_dir) proxy_learn_open(p);
  return p;
}

int proxy_fd(const struct proxy *p) { return p->fd; }

static void answer(struct proxy *p, uint64_t id, long r) {
  struct seccomp_notif_resp *resp = p->resp;
  memset(resp, 0, p->resp_size);
  resp->id = id;
  if (r == PROXY_CONTINUE)
    resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
  else if (r < 0)
    resp->error = (int)r;
  else
    resp->val = r;
  /* ENOENT: the target died or was interrupted meanwhile. */
  while (ioctl(p->fd, SECCOMP_IOCTL_NOTIF_SEND, resp) < 0 && errno == EINTR) {
  }
}

/* Receives and answers one notification; the listener polled readable. */
static int serve(struct proxy *p) {
  memset(p->req, 0, p->req_size);
  if (ioctl(p->fd, SECCOMP_IOCTL_NOTIF_RECV, p->req) < 0)
    return errno == EINTR || errno == ENOENT ? 0 : -1;
  struct req q = {p, p->req, (pid_t)p->req->pid};
  int handled = 0;
  long r = proxy_handle_fs(&q, &handled);
  if (!handled) r = proxy_handle_net(&q, &handled);
  if (r != PROXY_ANSWERED) answer(p, p->req->id, r);
  return 1;
}

int proxy_serve_one(struct proxy *p) {
  struct pollfd pfd = {p->fd, POLLIN, 0};
  int n = poll(&pfd, 1, 0);
  if (n < 0) return errno == EINTR ? 0 : -1;
  if (n == 0) return 0;
  if (pfd.revents & POLLIN) return serve(p);
  return -1; /* POLLHUP, POLLERR, POLLNVAL: no filtered task is left */
}

void proxy_run(struct proxy *p) {
  for (;;) {
    struct pollfd pfd = {p->fd, POLLIN, 0};
    int n = poll(&pfd, 1, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return;
    if (!(pfd.revents & POLLIN)) return;
    if (serve(p) < 0) return;
  }
}

static void *run_thread(void *arg) {
  proxy_run(arg);
  return NULL;
}

int proxy_start_thread(struct proxy *p) {
  pthread_t t;
  int r = pthread_create(&t, NULL, run_thread, p);
  if (r) return -r;
  pthread_detach(t);
  return 0;
}

void proxy_free(struct proxy *p) {
  if (!p) return;
  if (p->fd >= 0) close(p->fd);
  if (p->learn_fd >= 0) close(p->learn_fd);
  free(p->learn_seen);
  free(p->req);
  free(p->resp);
  free(p);
}
