/* decant-proxy: runs a command under the seccomp user-notification proxy,
 * outside a container (tests, benchmarks, trying a plan by hand). Reads the
 * plan like the shim (DECANT_PLAN, else /.decant/plan) and DECANT_LEARN;
 * it is the same sequence the container init follows (docs/proxy.md,
 * "Integration"). A plan that cannot be used, or a kernel without user
 * notification, costs one warning and the command runs unredirected, unless
 * the plan says `proxy on`, which makes the redirects mandatory: then it
 * refuses to start (exit 125). Serves until every process of the command
 * (it is their subreaper) has exited, and exits with the command's status. */
#define _GNU_SOURCE
#include "proxy.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile pid_t child_pid;

static void forward(int sig) {
  if (child_pid > 0) kill(child_pid, sig);
}

static void on_child(int sig) { (void)sig; }

static void usage(void) {
  fprintf(stderr, "usage: decant-proxy [-q] [--] CMD [ARGS...]\n");
  exit(2);
}

/* Runs argv with no redirects, or refuses when the plan requires them. */
static void run_plain(char **argv, int required, const char *why) {
  if (required) {
    fprintf(stderr, "decant-proxy: %s; the plan requires the proxy (proxy on): not starting %s\n", why, argv[0]);
    exit(125);
  }
  fprintf(stderr, "decant-proxy: %s; running %s unredirected\n", why, argv[0]);
  execvp(argv[0], argv);
  fprintf(stderr, "decant-proxy: cannot run %s: %s\n", argv[0], strerror(errno));
  exit(127);
}

/* Reaps every exited child (the subreaper's orphans too); returns the
 * command's wait status once it is reaped, else -1. */
static int reap(pid_t cmd, int *cmd_status) {
  int st, done = -1;
  pid_t r;
  while ((r = waitpid(-1, &st, WNOHANG)) > 0)
    if (r == cmd) {
      *cmd_status = st;
      done = 0;
    }
  return done;
}

static int exit_code(int st) { return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st); }

int main(int argc, char **argv) {
  struct proxy_options opt = {NULL, 0};
  int i = 1;
  for (; i < argc && argv[i][0] == '-'; i++) {
    if (strcmp(argv[i], "--") == 0) {
      i++;
      break;
    }
    if (strcmp(argv[i], "-q") == 0)
      opt.quiet = 1;
    else
      usage();
  }
  if (i >= argc) usage();
  char **cmd = argv + i;

  const char *env_plan = getenv("DECANT_PLAN");
  const char *plan_path = env_plan && *env_plan ? env_plan : "/.decant/plan";
  static struct shim_plan plan;
  char err[512], why[1024];
  if (proxy_load_plan(plan_path, &plan, err, sizeof err) < 0) {
    snprintf(why, sizeof why, "cannot use plan %s (%s)", plan_path, err);
    run_plain(cmd, 0, why);
  }
  const char *learn = getenv("DECANT_LEARN");
  opt.learn_dir = learn && *learn ? learn : NULL;
  int required = plan.proxy_mode == SHIM_PROXY_ON;
  unsigned classes = proxy_plan_classes(&plan, opt.learn_dir != NULL);
  if (classes == 0) {
    execvp(cmd[0], cmd); /* nothing to redirect */
    fprintf(stderr, "decant-proxy: cannot run %s: %s\n", cmd[0], strerror(errno));
    return 127;
  }
  struct proxy_features feat;
  if (proxy_probe(&feat) < 0)
    run_plain(cmd, required, "this kernel has no seccomp user notification (Linux 5.0)");

  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
    snprintf(why, sizeof why, "socketpair: %s", strerror(errno));
    run_plain(cmd, required, why);
  }
  /* Orphaned daemons stay ours to reap: the listener hangs up only once
   * every filtered process is gone and reaped. */
  prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_child; /* no SA_RESTART: poll wakes up */
  sigaction(SIGCHLD, &sa, NULL);
  /* SIGCHLD is only taken inside ppoll/sigsuspend, so a child exiting
   * between a reap and the wait cannot be missed. */
  sigset_t chld, waitmask;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, &waitmask);
  sigdelset(&waitmask, SIGCHLD);
  pid_t pid = fork();
  if (pid < 0) {
    snprintf(why, sizeof why, "fork: %s", strerror(errno));
    run_plain(cmd, required, why);
  }
  if (pid == 0) {
    sigprocmask(SIG_UNBLOCK, &chld, NULL);
    close(sv[0]);
    int r = proxy_child_install(classes, sv[1]);
    if (r < 0) {
      snprintf(why, sizeof why, "cannot install the proxy's seccomp filter (%s)", strerror(-r));
      run_plain(cmd, required, why);
    }
    execvp(cmd[0], cmd);
    fprintf(stderr, "decant-proxy: cannot run %s: %s\n", cmd[0], strerror(errno));
    _exit(127);
  }
  child_pid = pid;
  close(sv[1]);
  sa.sa_handler = forward;
  sa.sa_flags = SA_RESTART;
  int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
  for (size_t k = 0; k < sizeof sigs / sizeof sigs[0]; k++) sigaction(sigs[k], &sa, NULL);

  int status = 0, cmd_done = -1;
  int listener = proxy_recv_listener(sv[0]);
  close(sv[0]);
  struct proxy *p = listener >= 0 ? proxy_new(&plan, listener, &feat, &opt) : NULL;
  if (listener >= 0 && !p) close(listener);
  for (;;) {
    if (cmd_done < 0) cmd_done = reap(pid, &status);
    else reap(pid, &status);
    if (!p) {
      /* No listener: the child runs (or failed) unredirected. */
      if (cmd_done == 0) break;
      sigsuspend(&waitmask);
      continue;
    }
    struct pollfd pfd = {proxy_fd(p), POLLIN, 0};
    int n = ppoll(&pfd, 1, NULL, &waitmask);
    if (n < 0) continue; /* EINTR: SIGCHLD */
    if (pfd.revents & POLLIN) {
      if (proxy_serve_one(p) < 0) break;
    } else if (pfd.revents) {
      break; /* hung up: nothing filtered is left */
    }
  }
  proxy_free(p);
  /* The command may have been reaped already; else it is about to exit. */
  while (cmd_done < 0) {
    int st;
    pid_t r = waitpid(-1, &st, 0);
    if (r == pid) {
      status = st;
      cmd_done = 0;
    }
    if (r < 0 && errno == ECHILD) break;
  }
  return exit_code(status);
}
