/* legacy_threadd: the thread-per-connection sibling of legacy_forkd, with the
 * same protocol on hard-coded port htons(7071) and a log at a fixed path.
 * It exists because threads change what decant sees: libpthread in the
 * closure, clone() with thread flags and futex in the syscall set, and a
 * shim whose redirects must hold in every thread. -n N serves N connections
 * and then waits for them, so tests end without signals. */
#include "legacy_proto.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct conn {
  int fd;
  struct sockaddr_in peer;
};

static FILE *g_log;
static char g_whoami[16];

static void usage(void) {
  fprintf(stderr, "usage: legacy_threadd [-p PORT] [-n CONNECTIONS]\n");
  exit(1);
}

static void *serve(void *arg) {
  struct conn *c = arg;
  if (g_log != NULL) {
    char stamp[32];
    struct tm tm;
    char ip[INET_ADDRSTRLEN];
    time_t now = time(NULL);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", localtime_r(&now, &tm));
    inet_ntop(AF_INET, &c->peer.sin_addr, ip, sizeof ip);
    /* stdio locks the stream, so lines from threads never interleave. */
    fprintf(g_log, "%s connection from %s:%u\n", stamp, ip,
            (unsigned)ntohs(c->peer.sin_port));
    fflush(g_log);
  }
  proto_serve(c->fd, "threadd ready\n", g_whoami);
  close(c->fd);
  free(c);
  /* Ended the way many legacy daemons end their workers. glibc unwinds the
   * thread and dlopen()s libgcc_s.so.1 to do it, a library no DT_NEEDED
   * names: the analyzer must find it anyway. */
  pthread_exit(NULL);
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
  long limit = 0; /* 0: serve forever */
  int opt;
  while ((opt = getopt(argc, argv, "p:n:")) != -1) {
    char *end;
    switch (opt) {
    case 'p':
      port = strtol(optarg, &end, 10);
      if (*end != '\0' || port < 0 || port > 65535)
        usage();
      break;
    case 'n':
      limit = strtol(optarg, &end, 10);
      if (*end != '\0' || limit < 1 || limit > 10000)
        usage();
      break;
    default:
      usage();
    }
  }

  g_log = fopen("/var/log/legacy/threadd.log", "a");
  if (g_log == NULL)
    perror("legacy_threadd: warning: cannot open /var/log/legacy/threadd.log");
  signal(SIGPIPE, SIG_IGN);

  int s = socket(AF_INET, SOCK_STREAM, 0);
  if (s < 0) {
    perror("legacy_threadd: socket");
    return 2;
  }
  int one = 1;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);

  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_ANY);
  addr.sin_port = htons(7071);
  override_port(&addr, port);
  if (bind(s, (struct sockaddr *)&addr, sizeof addr) < 0) {
    perror("legacy_threadd: bind");
    return 2;
  }
  if (listen(s, 16) < 0) {
    perror("legacy_threadd: listen");
    return 2;
  }
  struct sockaddr_in bound;
  socklen_t blen = sizeof bound;
  if (getsockname(s, (struct sockaddr *)&bound, &blen) < 0) {
    perror("legacy_threadd: getsockname");
    return 2;
  }
  snprintf(g_whoami, sizeof g_whoami, "%u", (unsigned)ntohs(bound.sin_port));
  printf("listening on %s\n", g_whoami);
  fflush(stdout);

  pthread_t *threads = NULL;
  if (limit > 0) {
    threads = calloc((size_t)limit, sizeof *threads);
    if (threads == NULL) {
      perror("legacy_threadd: calloc");
      return 2;
    }
  }
  long served = 0;
  while (limit == 0 || served < limit) {
    struct conn *c = malloc(sizeof *c);
    socklen_t plen = sizeof c->peer;
    if (c == NULL) {
      perror("legacy_threadd: malloc");
      return 2;
    }
    c->fd = accept(s, (struct sockaddr *)&c->peer, &plen);
    if (c->fd < 0) {
      perror("legacy_threadd: accept");
      free(c);
      if (limit > 0)
        break;
      continue;
    }
    pthread_t t;
    int err = pthread_create(&t, NULL, serve, c);
    if (err != 0) {
      fprintf(stderr, "legacy_threadd: pthread_create: %s\n", strerror(err));
      close(c->fd);
      free(c);
      continue;
    }
    if (limit > 0)
      threads[served++] = t;
    else
      pthread_detach(t);
  }
  for (long i = 0; i < served; i++)
    pthread_join(threads[i], NULL);
  free(threads);
  close(s);
  if (g_log != NULL)
    fclose(g_log);
  return 0;
}
