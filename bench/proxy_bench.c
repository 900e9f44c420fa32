/* proxy_bench: the per-call cost of one system call pattern, for
 * bench-proxy (proxy_bench.sh) to compare native, the LD_PRELOAD shim, the
 * seccomp proxy and PRoot doing the same redirect. Calls go through libc's
 * wrappers so the shim sees them; each pattern runs for about a third of a
 * second and prints "OP NS" (nanoseconds per call).
 * usage: proxy_bench stat|open|bind|getpid PATH PORT */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static int one(const char *op, const char *path, int port) {
  if (strcmp(op, "stat") == 0) {
    struct stat st;
    return stat(path, &st);
  }
  if (strcmp(op, "open") == 0) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return -1;
    return close(fd);
  }
  if (strcmp(op, "bind") == 0) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int r = bind(s, (struct sockaddr *)&a, sizeof a);
    close(s);
    return r;
  }
  return syscall(SYS_getpid) > 0 ? 0 : -1;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: proxy_bench stat|open|bind|getpid PATH PORT\n");
    return 2;
  }
  const char *op = argv[1], *path = argv[2];
  int port = atoi(argv[3]);
  if (one(op, path, port) != 0) {
    perror(op);
    return 1;
  }
  long n = 0;
  double start = now(), t = start;
  while (t - start < 0.33) {
    for (int i = 0; i < 64; i++)
      if (one(op, path, port) != 0) {
        perror(op);
        return 1;
      }
    n += 64;
    t = now();
  }
  printf("%s %.0f\n", op, (t - start) * 1e9 / n);
  return 0;
}
