/* legacy_daemon: the classic SysV daemon decant-init must follow without a
 * foreground flag: it forks away (once, or twice with -2), the parent exits,
 * the daemon writes a PID file, logs only through syslog(3) and serves the
 * corpus line protocol on port 7073 (htons stored into sin_port). Modes for
 * the init's tests: -F fail at start (exit 3 before forking), -D CODE the
 * daemon dies with CODE after start, -I ignore SIGTERM, -Z N leave N zombie
 * grandchildren for the init to reap, -L delay the PID file by 1 s,
 * -f stay in the foreground (Type=simple), -P PIDFILE, -p PORT (0: none). */
#include "legacy_proto.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

static volatile sig_atomic_t stop_requested;
static void on_term(int sig) { (void)sig; stop_requested = 1; }

static void usage(void) {
  fprintf(stderr, "usage: legacy_daemon [-2] [-f] [-F] [-I] [-L] [-D CODE] [-Z N] [-P PIDFILE] [-p PORT]\n");
  exit(1);
}

static void write_pidfile(const char *path) {
  FILE *f = fopen(path, "w");
  if (f == NULL) {
    syslog(LOG_ERR, "cannot write %s: %m", path);
    return;
  }
  fprintf(f, "%d\n", (int)getpid());
  fclose(f);
}

/* The fork(), setsid(), fork() dance of a 1990s daemon. */
static void daemonize(int twice) {
  pid_t pid = fork();
  if (pid < 0)
    exit(2);
  if (pid > 0)
    exit(0);
  setsid();
  if (twice) {
    pid = fork();
    if (pid < 0)
      exit(2);
    if (pid > 0)
      exit(0);
  }
  int null = open("/dev/null", O_RDWR);
  if (null >= 0) {
    dup2(null, 0);
    dup2(null, 1);
    if (null > 1)
      close(null);
  }
  /* stderr stays: a container's only log besides syslog. */
}

static void make_zombies(int n) {
  for (int i = 0; i < n; i++) {
    pid_t pid = fork();
    if (pid == 0) {
      if (fork() == 0)
        _exit(0); /* orphaned: reparented to the init, which must reap it */
      _exit(0);
    }
  }
}

static int open_listener(long port) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons(7073);
  if (port >= 0)
    addr.sin_port = htons((unsigned short)port);
  if (bind(s, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(s, 16) < 0) {
    syslog(LOG_ERR, "cannot listen: %m");
    exit(2);
  }
  return s;
}

static void serve(int s, const char *whoami) {
  while (!stop_requested) {
    int c = accept(s, NULL, NULL);
    if (c < 0)
      continue;
    syslog(LOG_INFO, "connection");
    proto_serve(c, "daemon ready\n", whoami);
    close(c);
  }
}

int main(int argc, char **argv) {
  int twice = 0, foreground = 0, fail = 0, ignore = 0, late = 0, die = -1, zombies = 0, opt;
  const char *pidfile = "/var/run/legacy_daemon.pid";
  long port = -1;
  while ((opt = getopt(argc, argv, "2fFILD:Z:P:p:")) != -1) {
    switch (opt) {
    case '2': twice = 1; break;
    case 'f': foreground = 1; break;
    case 'F': fail = 1; break;
    case 'I': ignore = 1; break;
    case 'L': late = 1; break;
    case 'D': die = atoi(optarg); break;
    case 'Z': zombies = atoi(optarg); break;
    case 'P': pidfile = optarg; break;
    case 'p': port = atol(optarg); break;
    default: usage();
    }
  }
  openlog("legacy_daemon", LOG_PID, LOG_DAEMON);
  if (fail) {
    fprintf(stderr, "legacy_daemon: refusing to start\n");
    return 3;
  }
  int s = port == 0 ? -1 : open_listener(port);
  if (!foreground)
    daemonize(twice);
  if (late)
    sleep(1);
  if (!foreground)
    write_pidfile(pidfile);
  /* No SA_RESTART: SIGTERM must end a blocked accept(). */
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = ignore ? SIG_IGN : on_term;
  sigaction(SIGTERM, &sa, NULL);
  syslog(LOG_NOTICE, "started as pid %d", (int)getpid());
  make_zombies(zombies);
  if (die >= 0) {
    sleep(1);
    syslog(LOG_ERR, "dying with %d", die);
    return die;
  }
  if (s < 0) {
    while (!stop_requested)
      pause();
  } else {
    char whoami[24];
    snprintf(whoami, sizeof whoami, "%ld", port >= 0 ? port : 7073L);
    serve(s, whoami);
  }
  syslog(LOG_NOTICE, "stopping on SIGTERM");
  return 0;
}
