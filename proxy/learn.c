/* Learn mode of the proxy: the supervisor records what the service does as
 * JSON lines in the shim's format (docs/shim.md, "Learn mode") into
 * DIR/proxy.PID.jsonl (PID: the supervisor's), where `decant learn` merges
 * every *.jsonl of the directory. Each record carries the pid of the thread
 * that made the call; identical records are written once per thread. The
 * supervisor sees a call before the kernel runs it, so "errno" of a read,
 * stat or exec record comes from an existence check made at that moment,
 * and that of a write record is 0 (docs/proxy.md). */
#define _GNU_SOURCE
#include "proxy_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LEARN_SEEN 8192
#define LINE_CAP 6144

void proxy_learn_open(struct proxy *p) {
  char path[SHIM_PATH_MAX];
  int n = snprintf(path, sizeof path, "%s/proxy.%d.jsonl", p->opt.learn_dir, (int)getpid());
  if (n < 0 || (size_t)n >= sizeof path) return;
  p->learn_seen = calloc(LEARN_SEEN, sizeof *p->learn_seen);
  if (!p->learn_seen) return;
  p->learn_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (p->learn_fd < 0) proxy_warn(p, "cannot write learn records to ", path);
}

struct line {
  char b[LINE_CAP];
  size_t n;
  int overflow;
};

static void put(struct line *l, const char *s, size_t n) {
  if (l->overflow || l->n + n + 4 > sizeof l->b) {
    l->overflow = 1;
    return;
  }
  memcpy(l->b + l->n, s, n);
  l->n += n;
}

static void put_str(struct line *l, const char *key, const char *v) {
  static const char hex[] = "0123456789abcdef";
  put(l, ",\"", 2);
  put(l, key, strlen(key));
  put(l, "\":\"", 3);
  for (; *v; v++) {
    unsigned char c = (unsigned char)*v;
    char e[6] = {'\\', (char)c};
    if (c == '"' || c == '\\')
      put(l, e, 2);
    else if (c < 0x20 || c >= 0x7f) {
      e[1] = 'u', e[2] = '0', e[3] = '0', e[4] = hex[c >> 4], e[5] = hex[c & 15];
      put(l, e, 6);
    } else
      put(l, (const char *)&c, 1);
  }
  put(l, "\"", 1);
}

static void put_int(struct line *l, const char *key, long v) {
  char num[48];
  int n = snprintf(num, sizeof num, ",\"%s\":%ld", key, v);
  if (n > 0) put(l, num, (size_t)n);
}

static uint64_t hash(uint64_t h, const char *s) {
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
  return (h ^ 0xff) * 1099511628211ULL;
}

static int seen_before(struct proxy *p, uint64_t h) {
  h = h ? h : 1;
  for (size_t i = 0; i < 32; i++) {
    uint64_t *slot = &p->learn_seen[(h + i) & (LEARN_SEEN - 1)];
    if (*slot == h) return 1;
    if (*slot == 0) {
      *slot = h;
      return 0;
    }
  }
  return 0;
}

static void emit(struct req *q, struct line *l, uint64_t key) {
  if (l->overflow || seen_before(q->p, key)) return;
  put_int(l, "pid", q->pid);
  put(l, "}\n", 2);
  ssize_t r = write(q->p->learn_fd, l->b, l->n);
  (void)r;
}

void proxy_learn_path(struct req *q, const char *op, const char *access, const struct tpath *t) {
  if (q->p->learn_fd < 0) return;
  const char *path = t->norm[0] ? t->norm : t->app;
  if (!path[0]) return;
  int err = 0;
  if (strcmp(access, "write") != 0 && faccessat(AT_FDCWD, t->use, F_OK, AT_EACCESS) < 0) err = errno;
  struct line l = {.n = 0, .overflow = 0};
  put(&l, "{\"op\":\"", 7);
  put(&l, op, strlen(op));
  put(&l, "\"", 1);
  put_str(&l, "access", access);
  put_str(&l, "path", path);
  if (t->mapped) put_str(&l, "target", t->mapped_buf);
  put_int(&l, "errno", err);
  char pid[16];
  snprintf(pid, sizeof pid, "%d", (int)q->pid);
  uint64_t h = hash(hash(hash(hash(hash(1469598103934665603ULL, pid), op), access), err ? "!" : "="), path);
  emit(q, &l, h);
}

void proxy_learn_inet(struct req *q, const char *op, int family, const char *proto, const void *addr, int port) {
  if (q->p->learn_fd < 0) return;
  char ip[INET6_ADDRSTRLEN] = "", pid[16], portbuf[8];
  inet_ntop(family, addr, ip, sizeof ip);
  struct line l = {.n = 0, .overflow = 0};
  put(&l, "{\"op\":\"", 7);
  put(&l, op, strlen(op));
  put(&l, "\"", 1);
  put_str(&l, "family", family == AF_INET6 ? "inet6" : "inet");
  put_str(&l, "proto", proto[0] ? proto : "other");
  put_str(&l, "address", ip);
  put_int(&l, "port", port);
  put_int(&l, "errno", 0);
  snprintf(pid, sizeof pid, "%d", (int)q->pid);
  snprintf(portbuf, sizeof portbuf, "%d", port);
  emit(q, &l, hash(hash(hash(hash(1469598103934665603ULL, pid), op), ip), portbuf));
}
