/* The service process between fork and exec: decant-init starts as root so
 * that it can create /dev/log, runtime directories and volume seeds; the
 * service must still run with the user, supplementary groups and
 * capabilities it had in the VM and before decant had an init. Everything
 * that happens to the service process before exec is in init_child_exec, the
 * one hook point: credentials first, then the seccomp proxy's filter (so
 * its no_new_privs, when the kernel wants it, comes after the uid change),
 * then exec. */
#include "init.h"

#include "proxy.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_RAISE 2
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

static int get_caps(struct __user_cap_data_struct d[2]) {
  struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
  return (int)syscall(SYS_capget, &h, d);
}

static int set_caps(struct __user_cap_data_struct d[2]) {
  struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
  return (int)syscall(SYS_capset, &h, d);
}

/* The service gets exactly `want` (within what the runtime granted us):
 * permitted, effective, inheritable and ambient, so a non-root user keeps
 * them over exec; the bounding set is cut to it too when we may
 * (CAP_SETPCAP), which is what limits a root service. */
static int apply_caps(unsigned long long want) {
  struct __user_cap_data_struct d[2];
  if (get_caps(d) != 0) return -errno;
  unsigned long long have = d[0].permitted | ((unsigned long long)d[1].permitted << 32);
  unsigned long long eff = d[0].effective | ((unsigned long long)d[1].effective << 32);
  if (eff & (1ull << CAP_SETPCAP))
    for (int c = 0; c < 64; c++)
      if (!(want & (1ull << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) != 0 && errno == EINVAL) break;
  unsigned long long keep = want & have;
  for (int i = 0; i < 2; i++) {
    uint32_t w = (uint32_t)(keep >> (32 * i));
    d[i].permitted = d[i].effective = d[i].inheritable = w;
  }
  if (set_caps(d) != 0) return -errno;
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  for (int c = 0; c < 64; c++)
    if (keep & (1ull << c)) prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0);
  return 0;
}

int init_drop_privileges(const struct init_options *o) {
  if (o->have_user) {
    /* Not root already running as that user (tests): nothing to change. */
    int same = geteuid() == o->uid;
    if ((o->ngroups >= 0 ? setgroups((size_t)o->ngroups, o->groups) : setgroups(0, NULL)) != 0 &&
        !(errno == EPERM && same))
      return -errno;
    /* Keep the permitted set over the uid change; apply_caps trims it. */
    if (o->have_caps) prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0);
    if (setresgid(o->gid, o->gid, o->gid) != 0 && getegid() != o->gid) return -errno;
    if (setresuid(o->uid, o->uid, o->uid) != 0 && geteuid() != o->uid) return -errno;
  } else if (o->ngroups >= 0 && setgroups((size_t)o->ngroups, o->groups) != 0) {
    return -errno;
  }
  if (o->have_caps) return apply_caps(o->caps);
  return 0;
}

static void report(int err_fd, int stage, int err) {
  int msg[2] = {stage, err};
  (void)!write(err_fd, msg, sizeof msg);
}

void init_child_exec(const struct init_options *o, const void *sigmask_to_restore, int err_fd) {
  /* The service starts with the signal mask the runtime gave us, and the
   * default dispositions (exec resets the handlers decant-init installed). */
  sigprocmask(SIG_SETMASK, (const sigset_t *)sigmask_to_restore, NULL);
  int rc = init_drop_privileges(o);
  if (rc != 0) {
    report(err_fd, 1, -rc);
    _exit(126);
  }
  if (o->proxy_classes) {
    /* Last before exec: the filter stops the service's own calls, exec
     * included, which the init answers once it has the listener. */
    rc = proxy_child_install(o->proxy_classes, o->proxy_sock);
    if (rc < 0 && o->proxy_required) {
      report(err_fd, 3, -rc);
      _exit(125);
    }
    if (rc < 0) init_warn("cannot install the seccomp proxy's filter: %s: the service runs without its redirects",
                          strerror(-rc));
  }
  execvp(o->argv[0], o->argv);
  int e = errno;
  report(err_fd, 2, e);
  _exit(e == ENOENT ? 127 : 126);
}
