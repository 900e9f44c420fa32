/* legacy_static: a statically linked server, the kind decant meets as
 * vendor-shipped appliances. It has no PT_INTERP and no DT_NEEDED, so
 * LD_PRELOAD cannot reach it: its hard-coded port htons(7072) and data path
 * /opt/legacy/static.dat must be found by disassembly alone, and only the
 * container runtime (seccomp, mounts) can constrain it. Protocol: PING/QUIT.
 * The data file, if present, supplies the greeting. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void usage(void) {
  fprintf(stderr, "usage: legacy_static [-p PORT] [-1]\n");
  exit(1);
}

static int send_str(int fd, const char *s) {
  size_t left = strlen(s);
  while (left > 0) {
    ssize_t n = write(fd, s, left);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -1;
    s += n;
    left -= (size_t)n;
  }
  return 0;
}

static void serve(int fd, const char *greeting) {
  char line[128];
  size_t used = 0;
  char c;
  if (send_str(fd, greeting) < 0)
    return;
  /* One byte per read(): a static tool trades speed for simplicity. */
  while (read(fd, &c, 1) == 1) {
    if (c != '\n') {
      if (used + 1 < sizeof line)
        line[used++] = c;
      continue;
    }
    if (used > 0 && line[used - 1] == '\r')
      used--;
    line[used] = '\0';
    used = 0;
    if (strcmp(line, "QUIT") == 0)
      return;
    if (send_str(fd, strcmp(line, "PING") == 0 ? "PONG\n"
                                               : "ERR unknown command\n") < 0)
      return;
  }
}

/* Out of line on purpose: the hard-coded port then reaches sin_port as a
 * plain immediate store, the pattern decant's analyzer must recognize, instead
 * of being folded with the -p value into a conditional move. */
static __attribute__((noinline, noclone)) void
override_port(struct sockaddr_in *addr, long port) {
  if (port >= 0)
    addr->sin_port = htons((unsigned short)port);
}

int main(int argc, char **argv) {
  long port = -1;
  int once = 0;
  int opt;
  while ((opt = getopt(argc, argv, "p:1")) != -1) {
    switch (opt) {
    case 'p': {
      char *end;
      port = strtol(optarg, &end, 10);
      if (*end != '\0' || port < 0 || port > 65535)
        usage();
      break;
    }
    case '1':
      once = 1;
      break;
    default:
      usage();
    }
  }

  char greeting[128] = "static ready\n";
  int dfd = open("/opt/legacy/static.dat", O_RDONLY);
  if (dfd >= 0) {
    ssize_t n = read(dfd, greeting, sizeof greeting - 2);
    if (n > 0) {
      greeting[n] = '\0';
      greeting[strcspn(greeting, "\r\n")] = '\0';
      strcat(greeting, "\n");
    }
    close(dfd);
  }
  signal(SIGPIPE, SIG_IGN);

  int s = socket(AF_INET, SOCK_STREAM, 0);
  if (s < 0) {
    perror("legacy_static: socket");
    return 2;
  }
  int one = 1;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_ANY);
  addr.sin_port = htons(7072);
  override_port(&addr, port);
  if (bind(s, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(s, 8) < 0) {
    perror("legacy_static: bind/listen");
    return 2;
  }
  struct sockaddr_in bound;
  socklen_t blen = sizeof bound;
  if (getsockname(s, (struct sockaddr *)&bound, &blen) < 0) {
    perror("legacy_static: getsockname");
    return 2;
  }
  printf("listening on %u\n", (unsigned)ntohs(bound.sin_port));
  fflush(stdout);

  /* Without -1 it is an iterative server: one client at a time. */
  do {
    int c = accept(s, NULL, NULL);
    if (c < 0) {
      perror("legacy_static: accept");
      if (once)
        return 2;
      continue;
    }
    serve(c, greeting);
    close(c);
  } while (!once);
  close(s);
  return 0;
}
