/* The memcached load of bench-throughput (throughput_bench.sh): memslap
 * reports no latency percentiles and has no time bound, so this closed-loop
 * client keeps CONNS connections to 127.0.0.1:PORT busy for SECONDS, each
 * with one request in flight (nine gets of a 100-byte value to one set,
 * text protocol), and prints requests per second and the 99th percentile
 * latency in ms, from one histogram of every answered request.
 * usage: throughput_client PORT SECONDS CONNS
 * Exit 0 with "RPS P99_MS" on stdout; 1 when the server cannot be reached
 * or a connection breaks or stalls (a figure from a broken run would lie). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* 1 us buckets up to 100 ms: loopback latencies sit far below, so the p99
 * is exact; anything slower lands in the last bucket. */
#define BUCKETS 100000
static unsigned long hist[BUCKETS + 1];

struct conn {
  int fd;
  int nth;          /* requests sent on this connection, picks get or set */
  double sent_us;   /* when the request in flight was written */
  size_t have;      /* bytes of the answer read so far */
  char buf[512];
};

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static char value[101];

static int send_request(struct conn *c) {
  char req[256];
  int len = c->nth++ % 10 == 9 ? snprintf(req, sizeof req, "set bench:key 0 0 100\r\n%s\r\n", value)
                               : snprintf(req, sizeof req, "get bench:key\r\n");
  c->have = 0;
  c->sent_us = now_us();
  /* Loopback takes a request this small whole; a short write is a failure. */
  return write(c->fd, req, (size_t)len) == len ? 0 : -1;
}

/* An answer is complete at END (get) or STORED (set); errors end runs. */
static int answer_state(const struct conn *c) {
  if (c->have < 2 || memcmp(c->buf + c->have - 2, "\r\n", 2) != 0) return 0;
  if (c->have >= 5 && memcmp(c->buf + c->have - 5, "END\r\n", 5) == 0) return 1;
  if (c->have == 8 && memcmp(c->buf, "STORED\r\n", 8) == 0) return 1;
  if (memcmp(c->buf, "VALUE", 5) == 0) return 0;
  return -1;
}

static int connect_one(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: throughput_client PORT SECONDS CONNS\n");
    return 2;
  }
  int port = atoi(argv[1]);
  double seconds = atof(argv[2]);
  int n = atoi(argv[3]);
  if (port <= 0 || port > 65535 || seconds <= 0 || n <= 0 || n > 1024) {
    fprintf(stderr, "throughput_client: bad PORT, SECONDS or CONNS\n");
    return 2;
  }
  memset(value, 'x', 100);
  struct conn *conns = calloc((size_t)n, sizeof *conns);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (!conns || ep < 0) return 1;
  for (int i = 0; i < n; i++) {
    conns[i].fd = connect_one(port);
    if (conns[i].fd < 0) {
      fprintf(stderr, "throughput_client: cannot connect to 127.0.0.1:%d: %s\n", port, strerror(errno));
      return 1;
    }
    /* The first request is a set, so every get finds the value. */
    conns[i].nth = 9;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &conns[i]};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev) != 0 || send_request(&conns[i]) != 0) return 1;
  }
  double start = now_us(), end = start + seconds * 1e6;
  unsigned long done = 0;
  struct epoll_event evs[64];
  for (;;) {
    double t = now_us();
    if (t >= end) break;
    int k = epoll_wait(ep, evs, 64, (int)((end - t) / 1e3) + 1);
    if (k < 0 && errno == EINTR) continue;
    if (k < 0) return 1;
    /* A second without any answer is a stalled server, not a slow one. */
    if (k == 0 && now_us() < end) {
      fprintf(stderr, "throughput_client: no answer for a second\n");
      return 1;
    }
    for (int i = 0; i < k; i++) {
      struct conn *c = evs[i].data.ptr;
      ssize_t r = read(c->fd, c->buf + c->have, sizeof c->buf - c->have);
      if (r <= 0 || (c->have += (size_t)r) == sizeof c->buf) {
        fprintf(stderr, "throughput_client: connection broken or answer too long\n");
        return 1;
      }
      int s = answer_state(c);
      if (s < 0) {
        fprintf(stderr, "throughput_client: server answered %.*s", (int)c->have, c->buf);
        return 1;
      }
      if (s == 0) continue;
      double lat = now_us() - c->sent_us;
      hist[lat < BUCKETS ? (size_t)lat : BUCKETS]++;
      done++;
      if (send_request(c) != 0) return 1;
    }
  }
  double elapsed = (now_us() - start) / 1e6;
  unsigned long want = done - done / 100, seen = 0;
  size_t b = 0;
  for (; b <= BUCKETS; b++)
    if ((seen += hist[b]) >= want) break;
  if (done == 0) return 1;
  printf("%.0f %.3f\n", done / elapsed, (b + 1) / 1e3);
  return 0;
}
