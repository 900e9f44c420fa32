/* legacy_unixd: an iterative server on an AF_UNIX socket at the hard-coded
 * path /var/run/legacy/unixd.sock, like the local control sockets of old
 * daemons. Exercises path redirection for sockaddr_un (bind/connect) rather
 * than for open(): the directory usually does not exist in a container, so
 * the shim must remap it or the packager must create it. WHOAMI answers the
 * bound path. -s overrides the path for tests, -1 serves one client. */
#include "legacy_proto.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static void usage(void) {
  fprintf(stderr, "usage: legacy_unixd [-s SOCKET_PATH] [-1]\n");
  exit(1);
}

int main(int argc, char **argv) {
  const char *path = "/var/run/legacy/unixd.sock";
  int once = 0;
  int opt;
  while ((opt = getopt(argc, argv, "s:1")) != -1) {
    switch (opt) {
    case 's':
      path = optarg;
      break;
    case '1':
      once = 1;
      break;
    default:
      usage();
    }
  }

  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  if (strlen(path) >= sizeof addr.sun_path) {
    fprintf(stderr, "legacy_unixd: socket path too long: %s\n", path);
    return 1;
  }
  strcpy(addr.sun_path, path);
  signal(SIGPIPE, SIG_IGN);

  int s = socket(AF_UNIX, SOCK_STREAM, 0);
  if (s < 0) {
    perror("legacy_unixd: socket");
    return 2;
  }
  unlink(path); /* a stale socket from a crashed run blocks bind() */
  if (bind(s, (struct sockaddr *)&addr, sizeof addr) < 0) {
    fprintf(stderr, "legacy_unixd: bind %s: ", path);
    perror(NULL);
    return 2;
  }
  if (listen(s, 16) < 0) {
    perror("legacy_unixd: listen");
    return 2;
  }
  printf("listening on %s\n", path);
  fflush(stdout);

  do {
    int c = accept(s, NULL, NULL);
    if (c < 0) {
      perror("legacy_unixd: accept");
      if (once)
        break;
      continue;
    }
    proto_serve(c, "unixd ready\n", path);
    close(c);
  } while (!once);
  close(s);
  unlink(path);
  return 0;
}
