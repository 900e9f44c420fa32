/* legacy_tunabled: a server whose listen ports are defaults held in globals,
 * in the style of vsftpd's tunables: `listen_port` is assigned its default
 * at start (tunables_load_defaults) and reaches sin_port through a small
 * setter that byte-swaps its argument, `admin_port` starts initialized and
 * is swapped into sin_port inline. Either may be overridden by a
 * configuration line, so the analyzer reports them as the program's
 * defaults. `reply_code` is a global that never reaches a sockaddr (a
 * protocol constant): no port. Run with -1 it binds both, prints the ports
 * and exits. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

unsigned int listen_port;
unsigned int admin_port = 8022;
unsigned int reply_code;

static void load_defaults(void) {
  listen_port = 2121;
  reply_code = 220;
}

static void read_config(const char* path) {
  FILE* f = fopen(path, "r");
  char line[256];
  if (!f) return;
  while (fgets(line, sizeof line, f)) {
    if (!strncmp(line, "listen_port=", 12)) listen_port = (unsigned)atoi(line + 12);
    if (!strncmp(line, "admin_port=", 11)) admin_port = (unsigned)atoi(line + 11);
  }
  fclose(f);
}

__attribute__((noinline)) static void set_port(struct sockaddr_in* a, unsigned short port) {
  if (a->sin_family == AF_INET || a->sin_family == AF_INET6) a->sin_port = htons(port);
}

__attribute__((noinline)) static int bind_to(struct sockaddr_in* a) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  if (s < 0 || bind(s, (struct sockaddr*)a, sizeof *a) != 0 || listen(s, 8) != 0) return -1;
  return s;
}

__attribute__((noinline)) static int open_admin(void) {
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((unsigned short)admin_port);
  return bind_to(&a);
}

int main(int argc, char** argv) {
  struct sockaddr_in a;
  load_defaults();
  if (argc > 2 && !strcmp(argv[1], "-c")) read_config(argv[2]);
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  set_port(&a, (unsigned short)listen_port);
  int s = bind_to(&a), t = open_admin();
  printf("%u %u %u %d %d\n", listen_port, admin_port, reply_code, s, t);
  return s < 0 || t < 0;
}
