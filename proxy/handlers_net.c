/* The supervisor's answers to the socket and identity system calls, with
 * the shim's rules (shim/interpose_net.c): bind/connect on AF_INET/AF_INET6
 * follow port rules (and, for connect, literal-IP host rules), AF_UNIX
 * socket paths follow path rules; a redirected call is made by the
 * supervisor on a duplicate of the target's socket (pidfd_getfd), which is
 * the same socket. getsockname/getpeername translate ports back so the app
 * sees the numbers it asked for; uname reports the profile's identity. */
#define _GNU_SOURCE
#include "proxy_internal.h"
#include "sockaddr_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <unistd.h>

static int sock_proto(int fd) {
  int type = 0;
  socklen_t len = sizeof type;
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0) return 0;
  return type == SOCK_STREAM ? SHIM_TCP : type == SOCK_DGRAM ? SHIM_UDP : 0;
}

/* Could a rule apply to this address? Decided without the socket, so the
 * common unredirected bind or connect costs no pidfd_getfd. */
static int may_apply(const struct shim_plan *plan, struct sockaddr_storage *ss, int for_connect) {
  uint16_t port = ntohs(*shim_sockaddr_port(ss));
  for (size_t i = 0; i < plan->n_ports; i++)
    if (plan->ports[i].from == port) return 1;
  return for_connect && shim_match_addr(plan, ss->ss_family, shim_sockaddr_addr(ss), 0) != NULL;
}

static long do_unix(struct req *q, int for_connect, int fd, struct sockaddr_un *un, socklen_t len) {
  struct tpath *t = &q->p->path[0];
  size_t max = len - offsetof(struct sockaddr_un, sun_path);
  if (max == 0 || un->sun_path[0] == 0) return PROXY_CONTINUE; /* unnamed or abstract */
  size_t n = strnlen(un->sun_path, max < sizeof un->sun_path ? max : sizeof un->sun_path);
  memcpy(t->app, un->sun_path, n);
  t->app[n] = 0;
  int r = proxy_resolve_app(q, t, AT_FDCWD);
  if (r < 0) return r;
  proxy_learn_path(q, for_connect ? "connect" : "bind", "write", t);
  if (!t->mapped) return PROXY_CONTINUE;
  struct sockaddr_un out;
  memset(&out, 0, sizeof out);
  out.sun_family = AF_UNIX;
  size_t ml = strlen(t->use);
  if (ml >= sizeof out.sun_path) return -ENAMETOOLONG;
  memcpy(out.sun_path, t->use, ml + 1);
  int sfd = proxy_target_fd(q, fd);
  if (sfd < 0) return sfd == -ESRCH ? PROXY_ANSWERED : sfd;
  struct creds c;
  proxy_become(q, &c, !for_connect);
  socklen_t ol = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + ml + 1);
  r = for_connect ? connect(sfd, (struct sockaddr *)&out, ol) : bind(sfd, (struct sockaddr *)&out, ol);
  int e = errno;
  proxy_restore(&c);
  close(sfd);
  return r < 0 ? -e : 0;
}

static long do_bind_connect(struct req *q, int for_connect) {
  const __u64 *a = q->n->data.args;
  struct proxy *p = q->p;
  struct sockaddr_storage ss;
  socklen_t len = (socklen_t)a[2];
  if (len < sizeof(sa_family_t) || len > sizeof ss) return PROXY_CONTINUE;
  memset(&ss, 0, sizeof ss);
  if (proxy_read_mem(q, a[1], &ss, len) < 0) return PROXY_CONTINUE; /* EFAULT from the kernel */
  if (!proxy_id_valid(q)) return PROXY_ANSWERED;
  if (ss.ss_family == AF_UNIX)
    return p->plan->n_paths || p->learn_fd >= 0
               ? do_unix(q, for_connect, (int)a[0], (struct sockaddr_un *)&ss, len)
               : PROXY_CONTINUE;
  if (ss.ss_family != AF_INET && ss.ss_family != AF_INET6) return PROXY_CONTINUE;
  if (len < (ss.ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6)))
    return PROXY_CONTINUE;
  uint16_t app_port = ntohs(*shim_sockaddr_port(&ss));
  if (!may_apply(p->plan, &ss, for_connect)) {
    proxy_learn_inet(q, for_connect ? "connect" : "bind", ss.ss_family, "", shim_sockaddr_addr(&ss), app_port);
    return PROXY_CONTINUE;
  }
  if (!p->feat.pidfd_getfd) {
    if (!p->warned_pidfd++)
      proxy_warn(p, "this kernel has no pidfd_getfd (Linux 5.6): ports and addresses are not redirected", "");
    return PROXY_CONTINUE;
  }
  int sfd = proxy_target_fd(q, (int)a[0]);
  if (sfd == -ESRCH) return PROXY_ANSWERED;
  if (sfd < 0) return PROXY_CONTINUE; /* EBADF and friends from the kernel */
  int proto = sock_proto(sfd), changed = 0;
  if (for_connect) {
    const struct shim_host_rule *h = shim_match_addr(p->plan, ss.ss_family, shim_sockaddr_addr(&ss), 0);
    if (h) {
      memcpy(shim_sockaddr_addr(&ss), h->to_addr, ss.ss_family == AF_INET ? 4 : 16);
      changed = 1;
    }
  }
  const struct shim_port_rule *r = shim_match_port(p->plan, proto, app_port);
  if (r) {
    *shim_sockaddr_port(&ss) = htons(r->to);
    if (r->addr_family == ss.ss_family) memcpy(shim_sockaddr_addr(&ss), r->addr, r->addr_family == AF_INET ? 4 : 16);
    changed = 1;
  }
  proxy_learn_inet(q, for_connect ? "connect" : "bind", ss.ss_family, shim_proto_name(proto), shim_sockaddr_addr(&ss), app_port);
  if (!changed) {
    close(sfd);
    return PROXY_CONTINUE;
  }
  /* The supervisor blocks in a blocking connect (docs/proxy.md, "Limits"). */
  int rc = for_connect ? connect(sfd, (struct sockaddr *)&ss, len) : bind(sfd, (struct sockaddr *)&ss, len);
  int e = errno;
  close(sfd);
  return rc < 0 ? -e : 0;
}

/* getsockname/getpeername: the call made on the duplicate, ports of
 * redirected rules (and literal-IP host rules for the peer) reported as the
 * app's own. */
static long do_name(struct req *q, int peer) {
  const __u64 *a = q->n->data.args;
  struct proxy *p = q->p;
  if (!p->plan->n_ports && !p->plan->n_hosts) return PROXY_CONTINUE;
  if (!p->feat.pidfd_getfd) return PROXY_CONTINUE;
  int ulen;
  if (proxy_read_mem(q, a[2], &ulen, sizeof ulen) < 0 || ulen < 0) return PROXY_CONTINUE;
  int sfd = proxy_target_fd(q, (int)a[0]);
  if (sfd == -ESRCH) return PROXY_ANSWERED;
  if (sfd < 0) return PROXY_CONTINUE;
  struct sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  int rc = peer ? getpeername(sfd, (struct sockaddr *)&ss, &sl) : getsockname(sfd, (struct sockaddr *)&ss, &sl);
  int e = errno, proto = sock_proto(sfd);
  close(sfd);
  if (rc < 0) return -e;
  uint16_t *port = shim_sockaddr_port(&ss);
  if (port) {
    const struct shim_port_rule *r = shim_match_port_target(p->plan, proto, ntohs(*port));
    if (r) *port = htons(r->from);
    const struct shim_host_rule *h = peer ? shim_match_addr(p->plan, ss.ss_family, shim_sockaddr_addr(&ss), 1) : NULL;
    if (h) memcpy(shim_sockaddr_addr(&ss), h->from_addr, ss.ss_family == AF_INET ? 4 : 16);
  }
  size_t n = (size_t)ulen < sl ? (size_t)ulen : sl;
  if (proxy_write_mem(q, a[1], &ss, n) < 0) return -EFAULT;
  int outlen = (int)sl;
  if (proxy_write_mem(q, a[2], &outlen, sizeof outlen) < 0) return -EFAULT;
  return 0;
}

static void set_field(char *dst, const char *v) {
  if (!v) return;
  size_t n = strlen(v);
  if (n > 64) n = 64;
  memcpy(dst, v, n);
  dst[n] = 0;
}

static long do_uname(struct req *q) {
  const struct shim_plan *plan = q->p->plan;
  struct utsname u;
  if (uname(&u) < 0) return -errno;
  if (!proxy_id_valid(q)) return PROXY_ANSWERED;
  set_field(u.sysname, plan->uname_sysname);
  set_field(u.nodename, plan->uname_nodename);
  set_field(u.release, plan->uname_release);
  set_field(u.version, plan->uname_version);
  set_field(u.machine, plan->uname_machine);
  return proxy_write_mem(q, q->n->data.args[0], &u, sizeof u);
}

long proxy_handle_net(struct req *q, int *handled) {
  *handled = 1;
  switch (q->n->data.nr) {
  case SYS_bind: return do_bind_connect(q, 0);
  case SYS_connect: return do_bind_connect(q, 1);
  case SYS_getsockname: return do_name(q, 0);
  case SYS_getpeername: return do_name(q, 1);
  case SYS_uname: return do_uname(q);
  default: *handled = 0; return PROXY_CONTINUE;
  }
}
