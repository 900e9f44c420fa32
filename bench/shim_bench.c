/* shim_bench: per-call cost of stat, open+close and a loopback TCP connect,
 * for shim_bench.sh to run natively, under the shim (rule matching or not)
 * and under fakechroot, and report as ratios. The listening socket is made
 * with raw system calls so no preloaded library can move it; connects go
 * through libc like an app's would.
 * usage: shim_bench STAT_PATH CONNECT_PORT LISTEN_PORT ITERATIONS
 * prints "stat NS", "open_close NS", "connect NS" (best of 5 rounds). */
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

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: shim_bench STAT_PATH CONNECT_PORT LISTEN_PORT ITERATIONS\n");
    return 2;
  }
  const char *path = argv[1];
  int cport = atoi(argv[2]), lport = atoi(argv[3]);
  long n = atol(argv[4]);
  struct stat st;
  if (stat(path, &st) != 0) {
    perror(path);
    return 1;
  }

  int ls = (int)syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
  int one = 1;
  syscall(SYS_setsockopt, ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in la;
  memset(&la, 0, sizeof la);
  la.sin_family = AF_INET;
  la.sin_port = htons((unsigned short)lport);
  la.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (syscall(SYS_bind, ls, &la, sizeof la) != 0 || syscall(SYS_listen, ls, 128) != 0) {
    perror("bench listener");
    return 1;
  }
  struct sockaddr_in ca = la;
  ca.sin_port = htons((unsigned short)cport);

  double best_stat = 1e18, best_open = 1e18, best_conn = 1e18;
  for (int round = 0; round < 5; round++) {
    double t0 = now_ns();
    for (long i = 0; i < n; i++) stat(path, &st);
    double t1 = now_ns();
    for (long i = 0; i < n; i++) close(open(path, O_RDONLY));
    double t2 = now_ns();
    long nc = n / 10 > 0 ? n / 10 : 1;
    double conn = 0;
    for (long i = 0; i < nc; i++) {
      int s = socket(AF_INET, SOCK_STREAM, 0);
      double a = now_ns();
      if (connect(s, (struct sockaddr *)&ca, sizeof ca) != 0) {
        perror("connect");
        return 1;
      }
      conn += now_ns() - a;
      close(s);
      int c = (int)syscall(SYS_accept4, ls, NULL, NULL, 0);
      close(c);
    }
    if ((t1 - t0) / n < best_stat) best_stat = (t1 - t0) / n;
    if ((t2 - t1) / n < best_open) best_open = (t2 - t1) / n;
    if (conn / nc < best_conn) best_conn = conn / nc;
  }
  printf("stat %.1f\nopen_close %.1f\nconnect %.1f\n", best_stat, best_open, best_conn);
  return 0;
}
