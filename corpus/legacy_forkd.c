/* legacy_forkd: a fork-per-connection TCP server in the style of 1990s inetd
 * replacements. Exercises the traits decant must find statically and redirect
 * at run time: a listen port hard-coded as htons(7070) stored straight into
 * sin_port, a config file and a log file at fixed absolute paths, and the
 * fork() model (the shim must survive into children). -p and -1 exist only
 * so tests can run it on a free port and let it exit by itself. */
#include "legacy_proto.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void usage(void) {
  fprintf(stderr, "usage: legacy_forkd [-p PORT] [-1]\n");
  exit(1);
}

/* Only greeting= is understood; a legacy daemon ignores what it does not
 * know, and so do we, so any config a test drops in is harmless. */
static void read_config(char *greeting, size_t size) {
  FILE *f = fopen("/etc/legacy/forkd.conf", "r");
  char line[256];
  if (f == NULL)
    return;
  while (fgets(line, sizeof line, f) != NULL) {
    line[strcspn(line, "\r\n")] = '\0';
    if (strncmp(line, "greeting=", 9) == 0)
      snprintf(greeting, size, "%s\n", line + 9);
  }
  fclose(f);
}

static void log_connection(FILE *log, const struct sockaddr_in *peer) {
  char stamp[32];
  time_t now = time(NULL);
  if (log == NULL)
    return;
  strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", localtime(&now));
  fprintf(log, "%s connection from %s:%u\n", stamp,
          inet_ntoa(peer->sin_addr), (unsigned)ntohs(peer->sin_port));
  fflush(log); /* flush before fork so children never repeat a buffer */
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

  char greeting[256] = "forkd ready\n";
  read_config(greeting, sizeof greeting);

  FILE *log = fopen("/var/log/legacy/forkd.log", "a");
  if (log == NULL)
    perror("legacy_forkd: warning: cannot open /var/log/legacy/forkd.log");

  signal(SIGPIPE, SIG_IGN);
  signal(SIGCHLD, SIG_IGN); /* the classic way to never reap children */

  int s = socket(AF_INET, SOCK_STREAM, 0);
  if (s < 0) {
    perror("legacy_forkd: socket");
    return 2;
  }
  int one = 1;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);

  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_ANY);
  addr.sin_port = htons(7070);
  override_port(&addr, port);
  if (bind(s, (struct sockaddr *)&addr, sizeof addr) < 0) {
    perror("legacy_forkd: bind");
    return 2;
  }
  if (listen(s, 16) < 0) {
    perror("legacy_forkd: listen");
    return 2;
  }

  struct sockaddr_in bound;
  socklen_t blen = sizeof bound;
  if (getsockname(s, (struct sockaddr *)&bound, &blen) < 0) {
    perror("legacy_forkd: getsockname");
    return 2;
  }
  char whoami[16];
  snprintf(whoami, sizeof whoami, "%u", (unsigned)ntohs(bound.sin_port));
  printf("listening on %s\n", whoami);
  fflush(stdout);

  for (;;) {
    struct sockaddr_in peer;
    socklen_t plen = sizeof peer;
    int c = accept(s, (struct sockaddr *)&peer, &plen);
    if (c < 0) {
      perror("legacy_forkd: accept");
      if (once)
        return 2;
      continue;
    }
    log_connection(log, &peer);
    if (once) {
      proto_serve(c, greeting, whoami);
      close(c);
      break;
    }
    pid_t pid = fork();
    if (pid == 0) {
      close(s);
      proto_serve(c, greeting, whoami);
      close(c);
      _exit(0);
    }
    if (pid < 0)
      perror("legacy_forkd: fork");
    close(c);
  }
  close(s);
  if (log != NULL)
    fclose(log);
  return 0;
}
