/* Times one server start for bench-start (start_bench.sh): starts a command
 * in its own process group, then connects to 127.0.0.1:PORT every 0.5 ms
 * until one connection answers (the optional REQUEST sent, at least one byte
 * read back), and prints the milliseconds from just before the fork to that
 * first byte. A relay that accepts before the service listens (decant's
 * port forwarder) does not count as started: only an answer does. The
 * command is then stopped (SIGTERM to its group, SIGKILL after STOP_S
 * seconds) and reaped, so the next start finds the port free.
 * usage: start_probe PORT REQUEST TIMEOUT_S -- COMMAND [ARG...]
 * Exit 0 with the figure on stdout, then the CLOCK_MONOTONIC time of the
 * fork in seconds (to line up the command's own timestamps); 1 when it did
 * not answer in time. START_PROBE_STDERR=FILE appends the command's stderr
 * to FILE (else it goes to /dev/null). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* One attempt: 1 when the server answered, 0 otherwise. */
static int answered(int port, const char *request) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int ok = 0;
  if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0) {
    size_t len = strlen(request);
    if (len == 0 || write(fd, request, len) == (ssize_t)len) {
      struct pollfd p = {fd, POLLIN, 0};
      char c;
      /* A relay that accepted while nothing listens inside closes soon. */
      ok = poll(&p, 1, 2000) == 1 && read(fd, &c, 1) == 1;
    }
  }
  close(fd);
  return ok;
}

static void stop(pid_t pid, int stop_s) {
  kill(-pid, SIGTERM);
  for (int i = 0; i < stop_s * 100; i++) {
    if (waitpid(pid, NULL, WNOHANG) == pid) return;
    usleep(10000);
  }
  kill(-pid, SIGKILL);
  waitpid(pid, NULL, 0);
}

int main(int argc, char **argv) {
  if (argc < 6 || strcmp(argv[4], "--") != 0) {
    fprintf(stderr, "usage: start_probe PORT REQUEST TIMEOUT_S -- COMMAND [ARG...]\n");
    return 2;
  }
  int port = atoi(argv[1]);
  const char *request = argv[2];
  /* \r\n in the request as written on a command line */
  char *req = strdup(request), *w = req;
  for (const char *r = request; *r; r++) {
    if (r[0] == '\\' && r[1] == 'r') *w++ = '\r', r++;
    else if (r[0] == '\\' && r[1] == 'n') *w++ = '\n', r++;
    else *w++ = *r;
  }
  *w = 0;
  double limit = atof(argv[3]) * 1e3;
  double t0 = now_ms();
  pid_t pid = fork();
  if (pid < 0) return 1;
  if (pid == 0) {
    setpgid(0, 0);
    int devnull = open("/dev/null", O_RDWR);
    dup2(devnull, 0);
    dup2(devnull, 1);
    const char *errfile = getenv("START_PROBE_STDERR");
    int err = errfile ? open(errfile, O_WRONLY | O_APPEND | O_CREAT, 0644) : devnull;
    dup2(err >= 0 ? err : devnull, 2);
    execvp(argv[5], argv + 5);
    _exit(127);
  }
  setpgid(pid, pid);
  int ok = 0;
  double t1 = t0;
  while ((t1 = now_ms()) - t0 < limit) {
    if (answered(port, req)) {
      t1 = now_ms();
      ok = 1;
      break;
    }
    if (waitpid(pid, NULL, WNOHANG) == pid) {
      pid = 0;
      break;
    }
    usleep(500);
  }
  if (ok) printf("%.2f %.6f\n", t1 - t0, t0 / 1e3);
  if (pid > 0) stop(pid, 10);
  return ok ? 0 : 1;
}
