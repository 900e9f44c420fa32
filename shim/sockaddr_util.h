/* Small views of a socket address that the shim (shim/interpose_net.c) and
 * the proxy (proxy/handlers_net.c) both need to apply port and host rules:
 * where the port and the address sit for AF_INET and AF_INET6, and the
 * protocol's name in learn records. Header-only, plain C, libc only. */
#ifndef DECANT_SHIM_SOCKADDR_UTIL_H
#define DECANT_SHIM_SOCKADDR_UTIL_H

#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>

#include "plan.h"

static inline uint16_t *shim_sockaddr_port(struct sockaddr_storage *ss) {
  if (ss->ss_family == AF_INET) return &((struct sockaddr_in *)ss)->sin_port;
  if (ss->ss_family == AF_INET6) return &((struct sockaddr_in6 *)ss)->sin6_port;
  return 0;
}

static inline void *shim_sockaddr_addr(struct sockaddr_storage *ss) {
  if (ss->ss_family == AF_INET) return &((struct sockaddr_in *)ss)->sin_addr;
  if (ss->ss_family == AF_INET6) return &((struct sockaddr_in6 *)ss)->sin6_addr;
  return 0;
}

static inline const char *shim_proto_name(int proto) {
  return proto == SHIM_UDP ? "udp" : proto == SHIM_TCP ? "tcp" : "other";
}

#endif
