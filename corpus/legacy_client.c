/* legacy_client: the client half of the corpus, written the way old
 * three-tier apps were: the server's host name "db.legacy.internal" and port
 * htons(7070) are compiled in, and the name is resolved with the obsolete
 * gethostbyname(). decant must spot both and the shim must redirect them
 * (hosts via its resolver hooks, ports via connect()). There is deliberately
 * no fallback address: an unresolvable host is exit 3, so a test can tell
 * "redirect missing" from "server down" (exit 2). -u connects to an AF_UNIX
 * socket instead, so the same client can drive legacy_unixd. */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

static void usage(void) {
  fprintf(stderr, "usage: legacy_client [-h HOST] [-p PORT] [-u SOCKET] "
                  "[-c CMD]\n");
  exit(1);
}

static int connect_unix(const char *path) {
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  if (strlen(path) >= sizeof addr.sun_path) {
    fprintf(stderr, "legacy_client: socket path too long: %s\n", path);
    exit(1);
  }
  strcpy(addr.sun_path, path);
  int s = socket(AF_UNIX, SOCK_STREAM, 0);
  if (s < 0 || connect(s, (struct sockaddr *)&addr, sizeof addr) < 0) {
    fprintf(stderr, "legacy_client: cannot connect to %s: ", path);
    perror(NULL);
    exit(2);
  }
  return s;
}

/* Out of line on purpose: the hard-coded port then reaches sin_port as a
 * plain immediate store, the pattern decant's analyzer must recognize, instead
 * of being folded with the -p value into a conditional move. */
static __attribute__((noinline, noclone)) void
override_port(struct sockaddr_in *addr, long port) {
  if (port >= 0)
    addr->sin_port = htons((unsigned short)port);
}

static int connect_tcp(const char *host, long port) {
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons(7070);
  override_port(&addr, port);
  if (inet_aton(host, &addr.sin_addr) == 0) {
    struct hostent *he = gethostbyname(host);
    if (he == NULL || he->h_addrtype != AF_INET || he->h_addr_list[0] == NULL) {
      fprintf(stderr, "legacy_client: cannot resolve host %s: %s\n", host,
              he == NULL ? hstrerror(h_errno) : "no IPv4 address");
      exit(3);
    }
    memcpy(&addr.sin_addr, he->h_addr_list[0], sizeof addr.sin_addr);
  }
  int s = socket(AF_INET, SOCK_STREAM, 0);
  if (s < 0 || connect(s, (struct sockaddr *)&addr, sizeof addr) < 0) {
    fprintf(stderr, "legacy_client: cannot connect to %s:%u: ", host,
            (unsigned)ntohs(addr.sin_port));
    perror(NULL);
    exit(2);
  }
  return s;
}

int main(int argc, char **argv) {
  const char *host = "db.legacy.internal";
  const char *unix_path = NULL;
  const char *cmd = "PING";
  long port = -1;
  int opt;
  while ((opt = getopt(argc, argv, "h:p:u:c:")) != -1) {
    switch (opt) {
    case 'h':
      host = optarg;
      break;
    case 'p': {
      char *end;
      port = strtol(optarg, &end, 10);
      if (*end != '\0' || port < 1 || port > 65535)
        usage();
      break;
    }
    case 'u':
      unix_path = optarg;
      break;
    case 'c':
      cmd = optarg;
      break;
    default:
      usage();
    }
  }
  if (optind != argc)
    usage();

  int s = unix_path != NULL ? connect_unix(unix_path) : connect_tcp(host, port);

  /* A silent server must not hang a test run forever. */
  struct timeval tv = {.tv_sec = 10, .tv_usec = 0};
  setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);

  FILE *in = fdopen(s, "r");
  char line[512];
  if (in == NULL || fgets(line, sizeof line, in) == NULL) {
    fprintf(stderr, "legacy_client: no greeting from server\n");
    return 2;
  }
  char request[300];
  snprintf(request, sizeof request, "%s\n", cmd);
  if (write(s, request, strlen(request)) != (ssize_t)strlen(request)) {
    perror("legacy_client: write");
    return 2;
  }
  if (strcmp(cmd, "QUIT") == 0)
    return 0;
  if (fgets(line, sizeof line, in) == NULL) {
    fprintf(stderr, "legacy_client: no reply to %s\n", cmd);
    return 2;
  }
  fputs(line, stdout);
  /* Say goodbye so a one-shot server ends its session cleanly. */
  if (write(s, "QUIT\n", 5) != 5) {
    /* The reply already arrived; a server that hung up first is fine. */
  }
  fclose(in);
  return 0;
}
