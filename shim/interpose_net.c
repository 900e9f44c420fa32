/* Network and identity redirects: bind/connect rewrite AF_INET/AF_INET6
 * ports (and optionally addresses) and AF_UNIX socket paths, getsockname/
 * getpeername translate ports back so the app sees the numbers it asked for,
 * the resolver entry points answer for renamed hosts, connects to literal
 * IPs follow host rules, and uname/gethostname report the profile's
 * identity. In learn mode binds, listens, connects and lookups are recorded.
 * All sockaddr rewriting happens in copies on the stack. */
#define _GNU_SOURCE
#include "internal.h"
#include "sockaddr_util.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <unistd.h>

static int sock_proto(int fd) {
  int type = 0;
  socklen_t len = sizeof type;
  if (shim_sys(SYS_getsockopt, fd, SOL_SOCKET, SO_TYPE, (long)&type, (long)&len) < 0) return 0;
  return type == SOCK_STREAM ? SHIM_TCP : type == SOCK_DGRAM ? SHIM_UDP : 0;
}

static void learn_inet(const char *op, int proto, const struct sockaddr_storage *ss, uint16_t app_port, int err) {
  char ip[INET6_ADDRSTRLEN] = "";
  const void *a = shim_sockaddr_addr((struct sockaddr_storage *)ss);
  if (a) inet_ntop(ss->ss_family, a, ip, sizeof ip);
  struct shim_json j;
  shim_json_begin(&j, op);
  shim_json_str(&j, "family", ss->ss_family == AF_INET6 ? "inet6" : "inet");
  shim_json_str(&j, "proto", shim_proto_name(proto));
  shim_json_str(&j, "address", ip);
  shim_json_int(&j, "port", app_port);
  shim_json_int(&j, "errno", err);
  char key[128];
  char *k = key;
  const char *parts[4] = {op, shim_proto_name(proto), ip, err ? "!" : "="};
  for (int i = 0; i < 4; i++)
    for (const char *s = parts[i]; *s && k < key + sizeof key - 8; s++) *k++ = *s;
  *k++ = (char)('0' + app_port / 10000 % 10);
  *k++ = (char)('0' + app_port / 1000 % 10);
  *k++ = (char)('0' + app_port / 100 % 10);
  *k++ = (char)('0' + app_port / 10 % 10);
  *k++ = (char)('0' + app_port % 10);
  *k = 0;
  shim_json_emit(&j, key);
}

/* Rewrites an AF_UNIX path into out; returns the address to use. */
static const struct sockaddr *map_unix(const struct sockaddr *addr, socklen_t *len, struct sockaddr_un *out,
                                       const char *op) {
  const struct sockaddr_un *un = (const struct sockaddr_un *)addr;
  size_t max = *len > offsetof(struct sockaddr_un, sun_path) ? *len - offsetof(struct sockaddr_un, sun_path) : 0;
  if (max == 0 || un->sun_path[0] == 0) return addr; /* unnamed or abstract */
  char path[sizeof un->sun_path + 1];
  size_t n = 0;
  while (n < max && n < sizeof un->sun_path && un->sun_path[n]) {
    path[n] = un->sun_path[n];
    n++;
  }
  path[n] = 0;
  SHIM_SCOPED char *buf = NULL;
  const char *mapped = shim_map(AT_FDCWD, path, &buf);
  if (shim_learning) shim_learn_path(op, "write", AT_FDCWD, path, mapped && mapped != path ? mapped : path, 0);
  if (!mapped || mapped == path) return addr;
  size_t ml = strlen(mapped);
  if (ml >= sizeof out->sun_path) return NULL;
  memset(out, 0, sizeof *out);
  out->sun_family = AF_UNIX;
  memcpy(out->sun_path, mapped, ml + 1);
  *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + ml + 1);
  return (const struct sockaddr *)out;
}

/* Applies port rules (and, for connect, literal-IP host rules) to a copy of
 * addr. Returns 1 when the copy differs from the original. */
static int map_inet(int fd, const struct sockaddr *addr, socklen_t len, struct sockaddr_storage *ss, int for_connect,
                    int *proto_out, uint16_t *app_port) {
  if (len > sizeof *ss || len < sizeof(struct sockaddr_in)) return 0;
  memcpy(ss, addr, len);
  if (ss->ss_family == AF_INET6 && len < sizeof(struct sockaddr_in6)) return 0;
  int changed = 0;
  *app_port = ntohs(*shim_sockaddr_port(ss));
  if (for_connect && shim_plan.n_hosts) {
    const struct shim_host_rule *h = shim_match_addr(&shim_plan, ss->ss_family, shim_sockaddr_addr(ss), 0);
    if (h) {
      memcpy(shim_sockaddr_addr(ss), h->to_addr, ss->ss_family == AF_INET ? 4 : 16);
      changed = 1;
    }
  }
  if (shim_plan.n_ports || shim_learning) *proto_out = sock_proto(fd);
  if (shim_plan.n_ports) {
    const struct shim_port_rule *r = shim_match_port(&shim_plan, *proto_out, *app_port);
    if (r) {
      *shim_sockaddr_port(ss) = htons(r->to);
      if (r->addr_family == ss->ss_family) memcpy(shim_sockaddr_addr(ss), r->addr, r->addr_family == AF_INET ? 4 : 16);
      changed = 1;
    }
  }
  return changed;
}

REAL_DECL(int, bind, (int, const struct sockaddr *, socklen_t));
SHIM_EXPORT int bind(int fd, const struct sockaddr *addr, socklen_t len) {
  shim_init();
  if (!REAL(bind)) {
    errno = ENOSYS;
    return -1;
  }
  if ((!shim_active && !shim_learning) || !addr) return real_bind(fd, addr, len);
  if (addr->sa_family == AF_UNIX) {
    struct sockaddr_un un;
    const struct sockaddr *a = map_unix(addr, &len, &un, "bind");
    if (!a) {
      errno = ENAMETOOLONG;
      return -1;
    }
    return real_bind(fd, a, len);
  }
  if (addr->sa_family != AF_INET && addr->sa_family != AF_INET6) return real_bind(fd, addr, len);
  struct sockaddr_storage ss;
  int proto = 0;
  uint16_t app_port = 0;
  int changed = map_inet(fd, addr, len, &ss, 0, &proto, &app_port);
  int r = real_bind(fd, changed ? (const struct sockaddr *)&ss : addr, len);
  if (shim_learning) {
    int e = errno;
    learn_inet("bind", proto, (struct sockaddr_storage *)addr, app_port, r < 0 ? e : 0);
    errno = e;
  }
  return r;
}

REAL_DECL(int, connect, (int, const struct sockaddr *, socklen_t));
SHIM_EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t len) {
  shim_init();
  if (!REAL(connect)) {
    errno = ENOSYS;
    return -1;
  }
  if ((!shim_active && !shim_learning) || !addr) return real_connect(fd, addr, len);
  if (addr->sa_family == AF_UNIX) {
    struct sockaddr_un un;
    const struct sockaddr *a = map_unix(addr, &len, &un, "connect");
    if (!a) {
      errno = ENAMETOOLONG;
      return -1;
    }
    return real_connect(fd, a, len);
  }
  if (addr->sa_family != AF_INET && addr->sa_family != AF_INET6) return real_connect(fd, addr, len);
  struct sockaddr_storage ss;
  int proto = 0;
  uint16_t app_port = 0;
  int changed = map_inet(fd, addr, len, &ss, 1, &proto, &app_port);
  int r = real_connect(fd, changed ? (const struct sockaddr *)&ss : addr, len);
  if (shim_learning) {
    int e = errno;
    /* Non-blocking connects report EINPROGRESS: still an attempt to record. */
    learn_inet("connect", proto, (struct sockaddr_storage *)addr, app_port, r < 0 && e != EINPROGRESS ? e : 0);
    errno = e;
  }
  return r;
}

static void unmap_name(int fd, struct sockaddr *addr, socklen_t *len, int peer);

REAL_DECL(int, listen, (int, int));
SHIM_EXPORT int listen(int fd, int backlog) {
  shim_init();
  if (!REAL(listen)) {
    errno = ENOSYS;
    return -1;
  }
  int r = real_listen(fd, backlog);
  if (shim_learning) {
    int e = errno;
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    /* Tagged, so the learn supervisor does not blame the app for it. */
    if (shim_sys(SYS_getsockname, fd, (long)&ss, (long)&len, 0, 0) == 0 &&
        (ss.ss_family == AF_INET || ss.ss_family == AF_INET6)) {
      unmap_name(fd, (struct sockaddr *)&ss, &len, 0);
      learn_inet("listen", sock_proto(fd), &ss, ntohs(*shim_sockaddr_port(&ss)), r < 0 ? e : 0);
    }
    errno = e;
  }
  return r;
}

/* Reports the app's own port numbers for sockets the rules moved. */
static void unmap_name(int fd, struct sockaddr *addr, socklen_t *len, int peer) {
  if (!addr || !len || *len < sizeof(struct sockaddr_in)) return;
  struct sockaddr_storage *ss = (struct sockaddr_storage *)addr;
  if (ss->ss_family != AF_INET && !(ss->ss_family == AF_INET6 && *len >= sizeof(struct sockaddr_in6))) return;
  uint16_t *port = shim_sockaddr_port(ss);
  if (shim_plan.n_ports) {
    uint16_t p = ntohs(*port);
    size_t i = 0;
    while (i < shim_plan.n_ports && shim_plan.ports[i].to != p) i++;
    /* Only a port some rule targets costs the extra getsockopt. */
    const struct shim_port_rule *r = i < shim_plan.n_ports ? shim_match_port_target(&shim_plan, sock_proto(fd), p) : NULL;
    if (r) *port = htons(r->from);
  }
  if (peer && shim_plan.n_hosts) {
    const struct shim_host_rule *h = shim_match_addr(&shim_plan, ss->ss_family, shim_sockaddr_addr(ss), 1);
    if (h) memcpy(shim_sockaddr_addr(ss), h->from_addr, ss->ss_family == AF_INET ? 4 : 16);
  }
}

REAL_DECL(int, getsockname, (int, struct sockaddr *, socklen_t *));
SHIM_EXPORT int getsockname(int fd, struct sockaddr *addr, socklen_t *len) {
  shim_init();
  if (!REAL(getsockname)) {
    errno = ENOSYS;
    return -1;
  }
  int r = real_getsockname(fd, addr, len);
  if (r == 0 && shim_active) unmap_name(fd, addr, len, 0);
  return r;
}

REAL_DECL(int, getpeername, (int, struct sockaddr *, socklen_t *));
SHIM_EXPORT int getpeername(int fd, struct sockaddr *addr, socklen_t *len) {
  shim_init();
  if (!REAL(getpeername)) {
    errno = ENOSYS;
    return -1;
  }
  int r = real_getpeername(fd, addr, len);
  if (r == 0 && shim_active) unmap_name(fd, addr, len, 1);
  return r;
}

/* ---- resolver ---- */

static const char *map_host(const char *name) {
  shim_init();
  if (!shim_plan.n_hosts || !name) return name;
  const struct shim_host_rule *h = shim_match_host(&shim_plan, name);
  return h ? h->to : name;
}

static void learn_resolve(const char *api, const char *name, const char *mapped, int family, const void *addr,
                          int err) {
  if (!shim_learning || !name) return;
  char ip[INET6_ADDRSTRLEN] = "";
  if (addr) inet_ntop(family, addr, ip, sizeof ip);
  struct shim_json j;
  shim_json_begin(&j, "resolve");
  shim_json_str(&j, "api", api);
  shim_json_str(&j, "host", name);
  if (mapped != name) shim_json_str(&j, "target", mapped);
  if (ip[0]) shim_json_str(&j, "address", ip);
  shim_json_int(&j, "errno", err);
  char key[320];
  size_t n = strlen(name);
  if (n > 250) n = 250;
  memcpy(key, "resolve ", 8);
  memcpy(key + 8, name, n);
  memcpy(key + 8 + n, ip[0] ? ip : "?", (ip[0] ? strlen(ip) : 1) + 1);
  shim_json_emit(&j, key);
}

REAL_DECL(int, getaddrinfo, (const char *, const char *, const struct addrinfo *, struct addrinfo **));
SHIM_EXPORT int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                            struct addrinfo **res) {
  const char *m = map_host(node);
  if (!REAL(getaddrinfo)) return EAI_SYSTEM;
  int r = real_getaddrinfo(m, service, hints, res);
  if (shim_learning && node) {
    const struct addrinfo *ai = r == 0 && res ? *res : NULL;
    const void *a = NULL;
    if (ai && ai->ai_family == AF_INET) a = &((struct sockaddr_in *)ai->ai_addr)->sin_addr;
    if (ai && ai->ai_family == AF_INET6) a = &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;
    learn_resolve("getaddrinfo", node, m, ai ? ai->ai_family : 0, a, r);
  }
  return r;
}

static void learn_hostent(const char *api, const char *name, const char *m, const struct hostent *he) {
  if (!shim_learning) return;
  const void *a = he && he->h_addr_list && he->h_addr_list[0] ? he->h_addr_list[0] : NULL;
  learn_resolve(api, name, m, he ? he->h_addrtype : 0, a, he ? 0 : 1);
}

REAL_DECL(struct hostent *, gethostbyname, (const char *));
SHIM_EXPORT struct hostent *gethostbyname(const char *name) {
  const char *m = map_host(name);
  if (!REAL(gethostbyname)) return NULL;
  struct hostent *he = real_gethostbyname(m);
  learn_hostent("gethostbyname", name, m, he);
  return he;
}

REAL_DECL(struct hostent *, gethostbyname2, (const char *, int));
SHIM_EXPORT struct hostent *gethostbyname2(const char *name, int af) {
  const char *m = map_host(name);
  if (!REAL(gethostbyname2)) return NULL;
  struct hostent *he = real_gethostbyname2(m, af);
  learn_hostent("gethostbyname2", name, m, he);
  return he;
}

REAL_DECL(int, gethostbyname_r, (const char *, struct hostent *, char *, size_t, struct hostent **, int *));
SHIM_EXPORT int gethostbyname_r(const char *name, struct hostent *ret, char *buf, size_t buflen,
                                struct hostent **result, int *h_errnop) {
  const char *m = map_host(name);
  if (!REAL(gethostbyname_r)) return ENOSYS;
  int r = real_gethostbyname_r(m, ret, buf, buflen, result, h_errnop);
  if (r != ERANGE) learn_hostent("gethostbyname_r", name, m, result ? *result : NULL);
  return r;
}

REAL_DECL(int, gethostbyname2_r, (const char *, int, struct hostent *, char *, size_t, struct hostent **, int *));
SHIM_EXPORT int gethostbyname2_r(const char *name, int af, struct hostent *ret, char *buf, size_t buflen,
                                 struct hostent **result, int *h_errnop) {
  const char *m = map_host(name);
  if (!REAL(gethostbyname2_r)) return ENOSYS;
  int r = real_gethostbyname2_r(m, af, ret, buf, buflen, result, h_errnop);
  if (r != ERANGE) learn_hostent("gethostbyname2_r", name, m, result ? *result : NULL);
  return r;
}

/* ---- identity ---- */

static void set_field(char *dst, const char *value) {
  if (!value) return;
  size_t n = strlen(value);
  if (n > 64) n = 64;
  memcpy(dst, value, n);
  dst[n] = 0;
}

REAL_DECL(int, uname, (struct utsname *));
SHIM_EXPORT int uname(struct utsname *u) {
  shim_init();
  if (!REAL(uname)) {
    errno = ENOSYS;
    return -1;
  }
  int r = real_uname(u);
  if (r == 0 && shim_active) {
    set_field(u->sysname, shim_plan.uname_sysname);
    set_field(u->nodename, shim_plan.uname_nodename);
    set_field(u->release, shim_plan.uname_release);
    set_field(u->version, shim_plan.uname_version);
    set_field(u->machine, shim_plan.uname_machine);
  }
  return r;
}

REAL_DECL(int, gethostname, (char *, size_t));
SHIM_EXPORT int gethostname(char *name, size_t len) {
  shim_init();
  const char *h = shim_active ? shim_plan.uname_nodename : NULL;
  if (!h) {
    if (!REAL(gethostname)) {
      errno = ENOSYS;
      return -1;
    }
    return real_gethostname(name, len);
  }
  size_t n = strlen(h);
  if (n + 1 > len) {
    errno = ENAMETOOLONG;
    return -1;
  }
  memcpy(name, h, n + 1);
  return 0;
}
