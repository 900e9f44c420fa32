/* decant-init's main loop (/.decant/init in every image): prepares the
 * container, starts the service, then waits in one ppoll over a signalfd
 * and the syslog socket (more fds can join the array) and follows the
 * service the way systemd would: Type=simple and friends track the started
 * process; Type=forking waits for it to exit, then finds the daemon through
 * its PID file or as the only child left. When the service ends, the rest
 * of the container is stopped (SIGTERM, then SIGKILL after a grace) and
 * decant-init exits with the service's status (128+N when killed by N). */
#include "init.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TICK_MS 100
#define MAX_SIGNALED 1024

enum phase { STARTING, FINDING, RUNNING, STOPPING };

struct state {
  const struct init_options *o;
  enum phase phase;
  pid_t started;           /* the process decant-init forked */
  pid_t main;              /* the service's main process; 0: not known */
  int main_guessed;        /* found as the only child, not named by a PID file */
  int exit_code;           /* what decant-init exits with once everything is gone */
  int orphan_status;       /* status of the last other process reaped (-1: none) */
  long long deadline;      /* ms, CLOCK_MONOTONIC; 0: none */
  int killed_hard;
  long long stop_deadline; /* a stop was asked (SIGTERM/SIGINT): SIGKILL the service then */
  pid_t signaled[MAX_SIGNALED];
  int nsignaled;
};

static const int forwarded[] = {SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2, SIGQUIT};

static long long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static int status_code(int st) {
  if (WIFEXITED(st)) return WEXITSTATUS(st);
  if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
  return 1;
}

/* Our children: every process whose parent is us (as PID 1 or subreaper,
 * orphaned descendants become ours too). Fills up to max, returns count. */
static int list_children(pid_t *out, int max) {
  DIR *d = opendir("/proc");
  if (!d) return 0;
  pid_t self = getpid();
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] < '1' || e->d_name[0] > '9') continue;
    char path[300], buf[512];
    snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    ssize_t len = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (len <= 0) continue;
    buf[len] = 0;
    /* "pid (comm) S ppid ...": comm may hold spaces and parens. */
    char *rp = strrchr(buf, ')');
    char state;
    int ppid;
    if (!rp || sscanf(rp + 1, " %c %d", &state, &ppid) != 2 || ppid != self) continue;
    if (n < max) out[n] = (pid_t)atoi(e->d_name);
    n++;
  }
  closedir(d);
  return n;
}

static int already_signaled(struct state *s, pid_t p) {
  for (int i = 0; i < s->nsignaled; i++)
    if (s->signaled[i] == p) return 1;
  if (s->nsignaled < MAX_SIGNALED) s->signaled[s->nsignaled++] = p;
  return 0;
}

/* SIGTERM (or SIGKILL when hard) to everything left. As PID 1, kill(-1)
 * reaches every process in the namespace; as a subreaper, our children
 * (their descendants come to us when they die, and get theirs next tick). */
static void kill_rest(struct state *s, int hard) {
  if (getpid() == 1) {
    if (hard || !s->nsignaled++) kill(-1, hard ? SIGKILL : SIGTERM);
    return;
  }
  pid_t kids[256];
  int n = list_children(kids, 256);
  for (int i = 0; i < n && i < 256; i++)
    if (hard || !already_signaled(s, kids[i])) kill(kids[i], hard ? SIGKILL : SIGTERM);
}

static void begin_stop(struct state *s, int code) {
  if (s->phase == STOPPING) return;
  s->phase = STOPPING;
  s->exit_code = code;
  s->nsignaled = 0;
  kill_rest(s, 0);
  s->deadline = now_ms() + s->o->stop_timeout_ms;
}

/* The PID file, when it holds the pid of a live process. */
static pid_t read_pidfile(const char *path) {
  char buf[32];
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return 0;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = 0;
  char *end;
  long v = strtol(buf, &end, 10);
  while (*end == ' ' || *end == '\n' || *end == '\r' || *end == '\t') end++;
  if (v <= 1 || v > 0x3fffffff || *end) return 0;
  if (kill((pid_t)v, 0) != 0 && errno == ESRCH) return 0;
  return (pid_t)v;
}

/* Type=forking after the started process exited 0: who is the daemon? */
static void find_main(struct state *s) {
  pid_t kids[2];
  int n = list_children(kids, 2);
  if (s->o->pidfile) {
    pid_t p = read_pidfile(s->o->pidfile);
    if (p) {
      s->main = p;
      s->main_guessed = 0;
      s->phase = RUNNING;
      s->deadline = 0;
      return;
    }
  } else if (n == 1) {
    s->main = kids[0];
    s->main_guessed = 1;
    s->phase = RUNNING;
    s->deadline = 0;
    return;
  }
  if (n == 0 && s->stop_deadline && s->orphan_status >= 0) {
    /* Stopped on request before we read its PID file: its own status. */
    begin_stop(s, s->orphan_status);
  } else if (n == 0) {
    /* Nothing left: the daemon died (its status reached us as an orphan's)
     * or never forked. */
    init_warn("the service left no process after its start command exited");
    begin_stop(s, s->orphan_status > 0 ? s->orphan_status : (s->o->pidfile ? 1 : 0));
  } else if (now_ms() >= s->deadline) {
    if (s->o->pidfile) {
      init_warn("PID file %s not written within %d s after the start command exited", s->o->pidfile,
                s->o->pidfile_timeout_ms / 1000);
      begin_stop(s, 1);
    } else {
      /* Several processes and no PID file: like systemd without a main
       * PID, the service lasts as long as any of them. */
      s->phase = RUNNING;
      s->main = 0;
      s->deadline = 0;
    }
  }
}

static void on_exit_of(struct state *s, pid_t pid, int st) {
  int code = status_code(st);
  if (s->phase == STARTING && pid == s->started) {
    if (s->o->type == INIT_SIMPLE || code != 0) {
      if (s->o->type == INIT_FORKING) init_warn("the start command failed with status %d", code);
      begin_stop(s, code);
    } else {
      s->phase = FINDING;
      s->deadline = now_ms() + s->o->pidfile_timeout_ms;
      find_main(s);
    }
  } else if (s->phase == RUNNING && pid == s->main) {
    /* A guessed main that exits 0 with others left was the middle process
     * of a double fork: look again. */
    if (s->main_guessed && code == 0 && list_children(NULL, 0) > 0) {
      s->phase = FINDING;
      s->main = 0;
      s->deadline = now_ms() + s->o->pidfile_timeout_ms;
      find_main(s);
    } else {
      begin_stop(s, code);
    }
  } else {
    s->orphan_status = code;
  }
}

static void reap(struct state *s) {
  int st;
  pid_t pid;
  while ((pid = waitpid(-1, &st, WNOHANG)) > 0) on_exit_of(s, pid, st);
  if (pid < 0 && errno == ECHILD && s->phase == STOPPING) exit(s->exit_code);
  if (s->phase == RUNNING && s->main == 0 && pid < 0 && errno == ECHILD)
    begin_stop(s, s->orphan_status >= 0 ? s->orphan_status : 0);
}

static void forward(struct state *s, int sig) {
  if (s->phase == STOPPING) return;
  /* A stop request, as systemd's: SIGTERM, then SIGKILL after the grace. */
  if ((sig == SIGTERM || sig == SIGINT) && !s->stop_deadline) s->stop_deadline = now_ms() + s->o->stop_timeout_ms;
  /* Between two looks for the daemon: a PID file written since names it. */
  if (s->phase == FINDING) find_main(s);
  if (s->phase == STOPPING) return;
  pid_t target = s->phase == STARTING ? s->started : s->main;
  if (target > 0 && (kill(target, sig) == 0 || errno != ESRCH)) return;
  pid_t kids[256];
  int n = list_children(kids, 256);
  if (n == 0) {
    begin_stop(s, 128 + sig);
    return;
  }
  for (int i = 0; i < n && i < 256; i++) kill(kids[i], sig);
}

/* The main process may not be our child (a PID file naming a process whose
 * parent still lives): then only polling tells that it is gone. */
static void tick(struct state *s) {
  long long t = now_ms();
  if (s->phase == FINDING) find_main(s);
  if (s->phase == RUNNING && s->main > 0 && kill(s->main, 0) != 0 && errno == ESRCH) {
    int st;
    if (waitpid(s->main, &st, WNOHANG) <= 0) begin_stop(s, s->orphan_status >= 0 ? s->orphan_status : 1);
  }
  if (s->phase != STOPPING && s->stop_deadline && t >= s->stop_deadline) {
    init_warn("the service ignored the stop request for %d s: SIGKILL", s->o->stop_timeout_ms / 1000);
    s->stop_deadline = 0;
    forward(s, SIGKILL);
  }
  if (s->phase == STOPPING) {
    if (s->killed_hard && t >= s->deadline) {
      exit(s->exit_code); /* unkillable (D state): the runtime tears down */
    } else if (t >= s->deadline) {
      init_warn("processes left %d s after the service ended: SIGKILL", s->o->stop_timeout_ms / 1000);
      s->killed_hard = 1;
      s->deadline = t + 5000;
      kill_rest(s, 1);
    } else {
      kill_rest(s, 0);
    }
  }
}

static int poll_timeout(const struct state *s) {
  if (s->stop_deadline || s->phase == FINDING || s->phase == STOPPING || (s->phase == RUNNING && s->main > 0)) return TICK_MS;
  return -1;
}

/* Waits for the exec pipe (EOF once exec succeeded, a message when it
 * failed); meanwhile the proxy answers the service's exec and whatever the
 * filter stops before it. */
static ssize_t wait_exec(int pfd, int pxfd, int msg[2]) {
  for (;;) {
    struct pollfd fds[2] = {{pfd, POLLIN, 0}, {pxfd, POLLIN, 0}};
    int n = poll(fds, pxfd >= 0 ? 2 : 1, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    if (pxfd >= 0 && fds[1].revents && init_proxy_serve() < 0) pxfd = -1;
    if (fds[0].revents) break;
  }
  ssize_t r;
  do r = read(pfd, msg, 2 * sizeof(int));
  while (r < 0 && errno == EINTR);
  return r;
}

/* Forks the service; returns its pid, or exits when exec failed. *pxfd:
 * the proxy's listener to poll, or -1. */
static pid_t start_service(struct init_options *o, const sigset_t *orig, int *pxfd) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) {
    init_warn("pipe: %s", strerror(errno));
    exit(126);
  }
  int psock = init_proxy_prepare(o);
  pid_t pid = fork();
  if (pid < 0) {
    init_warn("fork: %s", strerror(errno));
    exit(126);
  }
  if (pid == 0) {
    close(p[0]);
    if (psock >= 0) close(psock);
    init_child_exec(o, orig, p[1]);
  }
  close(p[1]);
  *pxfd = init_proxy_attach(o, psock);
  int msg[2];
  ssize_t n = wait_exec(p[0], *pxfd, msg);
  close(p[0]);
  if (n == (ssize_t)sizeof msg) {
    int st;
    waitpid(pid, &st, 0);
    if (msg[0] == 1) init_warn("cannot switch to the service's user and capabilities: %s", strerror(msg[1]));
    else if (msg[0] == 3)
      init_warn("the plan requires the seccomp proxy (proxy on) and its filter cannot be installed: %s: not "
                "starting the service", strerror(msg[1]));
    else init_warn("%s: %s", o->argv[0], strerror(msg[1]));
    exit(msg[0] == 3 ? 125 : msg[0] == 2 && msg[1] == ENOENT ? 127 : 126);
  }
  return pid;
}

static void no_op(int sig) { (void)sig; }

/* Blocks the forwarded signals and SIGCHLD into a signalfd. A handler is
 * installed too: as PID 1 a signal left at SIG_DFL would be dropped. */
static int setup_signals(sigset_t *orig) {
  sigset_t set;
  sigemptyset(&set);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = no_op;
  for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++) {
    sigaddset(&set, forwarded[i]);
    sigaction(forwarded[i], &sa, NULL);
  }
  sigaddset(&set, SIGCHLD);
  sigaction(SIGCHLD, &sa, NULL);
  sigset_t blocked = set;
  sigaddset(&blocked, SIGPIPE); /* stderr gone: EPIPE, not death */
  if (sigprocmask(SIG_BLOCK, &blocked, orig) != 0) return -1;
  return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

static void drain_signals(struct state *s, int sfd) {
  struct signalfd_siginfo si;
  while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si)
    if ((int)si.ssi_signo != SIGCHLD) forward(s, (int)si.ssi_signo);
  reap(s);
}

int main(int argc, char **argv) {
  struct init_options o;
  if (init_parse_args(argc, argv, &o) != 0) return 2;
  if (getpid() != 1 && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0)
    init_warn("cannot become a subreaper: %s (a forking daemon cannot be followed)", strerror(errno));
  sigset_t orig;
  int sfd = setup_signals(&orig);
  if (sfd < 0) {
    init_warn("signalfd: %s", strerror(errno));
    return 126;
  }
  init_apply_setup(&o);
  int logfd = o.syslog_path ? init_syslog_open(o.syslog_path) : -1;

  struct state s;
  memset(&s, 0, sizeof s);
  s.o = &o;
  s.orphan_status = -1;
  s.phase = STARTING;
  int pxfd = -1;
  s.started = start_service(&o, &orig, &pxfd);
  if (o.type == INIT_SIMPLE) s.main = s.started;

  /* A negative fd is ignored by poll: the slots stay fixed. */
  struct pollfd fds[3] = {{sfd, POLLIN, 0}, {logfd, POLLIN, 0}, {pxfd, POLLIN, 0}};
  for (;;) {
    int n = poll(fds, 3, poll_timeout(&s));
    if (n < 0 && errno != EINTR) {
      init_warn("poll: %s", strerror(errno));
      begin_stop(&s, 1);
    }
    /* The proxy first: a stopped call holds a service thread. */
    if (fds[2].fd >= 0 && fds[2].revents && init_proxy_serve() < 0) fds[2].fd = -1;
    if (fds[1].fd >= 0 && (fds[1].revents & POLLIN)) init_syslog_drain(logfd);
    drain_signals(&s, sfd);
    if (poll_timeout(&s) >= 0) tick(&s);
  }
}
