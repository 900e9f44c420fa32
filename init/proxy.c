/* decant-init's side of the seccomp proxy (docs/proxy.md, docs/init.md):
 * programs LD_PRELOAD cannot reach (static, raw system calls) get their
 * redirects from a user-notification filter the service process installs
 * before exec; the listener comes back to the init over a socketpair and
 * the init's poll loop answers it with the plan's rules. The init keeps one
 * supervisor for the whole container: children of a forking daemon inherit
 * the filter and stay served. */
#include "init.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proxy.h"

/* Static: the supervisor reads the plan for as long as it runs. */
static struct shim_plan plan;
static struct proxy_features feat;
static struct proxy *px;

int init_proxy_prepare(struct init_options *o) {
  o->proxy_classes = 0;
  o->proxy_required = 0;
  o->proxy_sock = -1;
  const char *path = getenv("DECANT_PLAN");
  if (!path || !*path) return -1;
  char err[256];
  if (proxy_load_plan(path, &plan, err, sizeof err) != 0) {
    /* The shim reads the same file and says the same: one line here. */
    init_warn("%s: %s (no seccomp proxy)", path, err);
    return -1;
  }
  if (plan.proxy_mode == SHIM_PROXY_OFF) return -1;
  int required = plan.proxy_mode == SHIM_PROXY_ON;
  unsigned classes = proxy_plan_classes(&plan, 0);
  if (!classes) return -1;
  if (proxy_probe(&feat) < 0) {
    if (required) {
      init_warn("the plan requires the seccomp proxy (proxy on) and this kernel has no seccomp user "
                "notification: not starting the service");
      exit(125);
    }
    init_warn("this kernel has no seccomp user notification: the service runs without the proxy's redirects");
    return -1;
  }
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    if (required) {
      init_warn("socketpair for the seccomp proxy: %s: not starting the service", strerror(errno));
      exit(125);
    }
    init_warn("socketpair for the seccomp proxy: %s: the service runs without its redirects", strerror(errno));
    return -1;
  }
  o->proxy_classes = classes;
  o->proxy_required = required;
  o->proxy_sock = sv[1];
  return sv[0];
}

int init_proxy_attach(const struct init_options *o, int sock) {
  if (sock < 0) return -1;
  close(o->proxy_sock);
  int lfd = proxy_recv_listener(sock);
  close(sock);
  if (lfd < 0) {
    /* The child said why on stderr (it exits 125 when the proxy is
     * required, which the exec pipe reports). */
    return -1;
  }
  px = proxy_new(&plan, lfd, &feat, NULL);
  if (!px) {
    init_warn("cannot start the seccomp proxy's supervisor: the service's intercepted calls fail with ENOSYS");
    return -1;
  }
  return proxy_fd(px);
}

int init_proxy_serve(void) {
  if (!px) return -1;
  if (proxy_serve_one(px) >= 0) return 0;
  proxy_free(px);
  px = NULL;
  return -1;
}
