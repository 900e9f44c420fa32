/* small_stacks: runs the interposed file and exec calls where apps really
 * make them with little stack: on 16 KiB thread stacks, in a signal handler
 * on an 8 KiB alternate stack, and from a timer signal that interrupts a
 * redirected call on the same thread. It also measures how much stack each
 * call touches (on a stack pre-filled with a pattern), so the test script
 * can compare the same calls with and without the shim.
 * usage: small_stacks run APP_DIR REAL_DIR     (APP_DIR redirected to REAL_DIR,
 *                                               REAL_DIR holds a="A\n", b="B\n")
 *        small_stacks depth APP_DIR REAL_DIR   (prints "depth OP BYTES")
 * run prints "ok WHAT" per check and "all ok"; a failure exits 1, a stack
 * overflow dies with SIGSEGV. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define SMALL_THREAD_STACK 16384 /* PTHREAD_STACK_MIN on x86-64 */
#define SMALL_ALT_STACK 8192     /* the traditional SIGSTKSZ */

static char app_a[4096], app_b[4096], app_unclean[4096], app_rel[4096], app_tmp1[4096], app_tmp2[4096];
static char real_a[4096], app_true[4096];
static char **big_env;
static int verify; /* run mode: check results; depth mode: only call */
static volatile sig_atomic_t failed;
static char failure[256];

static void fail_with(const char *what) {
  if (!failed) {
    size_t n = strlen(what);
    if (n >= sizeof failure) n = sizeof failure - 1;
    memcpy(failure, what, n);
    failure[n] = 0;
    failed = 1;
  }
}

/* Opens path and checks that it reads want ("A\n" or "B\n"). */
static void read_check(int dirfd, const char *path, char want, const char *what) {
  int fd = openat(dirfd, path, O_RDONLY);
  char c[2] = {0, 0};
  if (fd < 0 || read(fd, c, 2) != 2 || c[0] != want) {
    if (verify) fail_with(what);
  }
  if (fd >= 0) close(fd);
}

static void op_open_redirected(void) { read_check(AT_FDCWD, app_a, 'A', "open redirected"); }
static void op_open_plain(void) { read_check(AT_FDCWD, real_a, 'A', "open non-matching"); }
static void op_open_relative(void) { read_check(AT_FDCWD, app_rel, 'A', "open relative redirected"); }
static void op_openat_dirfd(void) {
  int d = open("/", O_RDONLY | O_DIRECTORY);
  read_check(d, app_rel, 'A', "openat(dirfd) redirected");
  if (d >= 0) close(d);
}
static void op_stat_redirected(void) {
  struct stat st;
  if (stat(app_a, &st) != 0 && verify) fail_with("stat redirected");
}
static void op_stat_plain(void) {
  struct stat st;
  if (stat(real_a, &st) != 0 && verify) fail_with("stat non-matching");
}
static void op_lstat_unclean(void) {
  struct stat st;
  if (lstat(app_unclean, &st) != 0 && verify) fail_with("lstat unclean redirected");
}
static void op_rename(void) {
  int fd = open(app_tmp1, O_CREAT | O_WRONLY, 0644);
  if (fd >= 0) close(fd);
  if ((fd < 0 || rename(app_tmp1, app_tmp2) != 0 || unlink(app_tmp2) != 0) && verify) fail_with("rename redirected");
}
static void op_execve_e2big(void) {
  char *argv[] = {(char *)"/bin/true", NULL};
  int r = execve("/bin/true", argv, big_env);
  if ((r != -1 || errno != E2BIG) && verify) fail_with("execve with a 2.5 MB environment did not fail with E2BIG");
}
static void op_noop(void) { getpid(); }

struct op {
  const char *name;
  void (*fn)(void);
};
static const struct op ops[] = {
    {"open_redirected", op_open_redirected}, {"open_plain", op_open_plain},
    {"open_relative", op_open_relative},     {"openat_dirfd", op_openat_dirfd},
    {"stat_redirected", op_stat_redirected}, {"stat_plain", op_stat_plain},
    {"lstat_unclean", op_lstat_unclean},     {"rename", op_rename},
    {"execve_e2big", op_execve_e2big},
};
#define N_OPS (sizeof ops / sizeof ops[0])

static void run_all(void) {
  for (size_t i = 0; i < N_OPS; i++) ops[i].fn();
}

static void *thread_all(void *arg) {
  run_all();
  return NULL;
}

static void on_usr1(int sig) { run_all(); }

/* Timer handler that interrupts the main loop's redirected opens. */
static volatile long handler_runs;
static void on_alarm(int sig) {
  int e = errno;
  read_check(AT_FDCWD, app_b, 'B', "redirected open in a signal handler that interrupted one");
  handler_runs++;
  errno = e;
}

static void check(const char *what) {
  if (failed) {
    fprintf(stderr, "FAIL %s: %s\n", what, failure);
    exit(1);
  }
  printf("ok %s\n", what);
  fflush(stdout);
}

static void use_alt_stack(size_t size) {
  stack_t ss;
  ss.ss_sp = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ss.ss_size = size;
  ss.ss_flags = 0;
  if (ss.ss_sp == MAP_FAILED || sigaltstack(&ss, NULL) != 0) {
    perror("sigaltstack");
    exit(2);
  }
}

/* VmSize of this process in kB. */
static long vm_size_kb(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long kb = -1;
  while (f && fgets(line, sizeof line, f))
    if (sscanf(line, "VmSize: %ld", &kb) == 1) break;
  if (f) fclose(f);
  return kb;
}

/* A vfork()ed child that execs runs in this process's memory and never
 * returns: whatever memory its exec call took must not stay taken here. */
static void vfork_execs(int n) {
  long before = vm_size_kb();
  for (int i = 0; i < n && !failed; i++) {
    char *argv[] = {(char *)"true", NULL};
    pid_t pid = vfork();
    if (pid == 0) {
      if (i % 2)
        execl(app_true, "true", (char *)NULL);
      else
        execve(app_true, argv, environ);
      _exit(127);
    }
    int st = 0;
    if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
      fail_with("vfork + exec of a redirected program");
  }
  long grew = vm_size_kb() - before;
  if (grew > 1024) {
    snprintf(failure, sizeof failure, "%d vfork+exec grew the address space by %ld kB", n, grew);
    failed = 1;
  }
  /* And redirected calls still work afterwards. */
  for (int i = 0; i < 200; i++) op_open_redirected();
}

static void do_run(void) {
  pthread_attr_t at;
  pthread_t t;
  pthread_attr_init(&at);
  pthread_attr_setstacksize(&at, SMALL_THREAD_STACK);
  int r = pthread_create(&t, &at, thread_all, NULL);
  if (r != 0) {
    fprintf(stderr, "FAIL pthread_create with a %d-byte stack: %s\n", SMALL_THREAD_STACK, strerror(r));
    exit(1);
  }
  pthread_join(t, NULL);
  check("calls on a 16 KiB thread stack");

  use_alt_stack(SMALL_ALT_STACK);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1;
  sa.sa_flags = SA_ONSTACK;
  sigaction(SIGUSR1, &sa, NULL);
  raise(SIGUSR1);
  check("calls in a signal handler on an 8 KiB sigaltstack");

  /* A handler that interrupts a redirected call on the same thread must
   * get its own buffers: each side checks it opened its own file. */
  sa.sa_handler = on_alarm;
  sa.sa_flags = SA_ONSTACK | SA_RESTART;
  sigaction(SIGALRM, &sa, NULL);
  struct itimerval it = {{0, 50}, {0, 50}};
  setitimer(ITIMER_REAL, &it, NULL);
  struct timeval start, now;
  gettimeofday(&start, NULL);
  long loops = 0;
  do {
    for (int i = 0; i < 200; i++) read_check(AT_FDCWD, app_a, 'A', "redirected open interrupted by a signal");
    loops += 200;
    gettimeofday(&now, NULL);
  } while (!failed && (now.tv_sec - start.tv_sec) * 1000000L + (now.tv_usec - start.tv_usec) < 400000);
  memset(&it, 0, sizeof it);
  setitimer(ITIMER_REAL, &it, NULL);
  if (handler_runs == 0) fail_with("the timer signal never fired");
  check("signal handlers interrupting redirected calls on the same thread");
  vfork_execs(400);
  check("400 vfork + exec of a redirected program leak nothing");
  printf("(%ld opens, %ld interrupting handlers)\n", loops, (long)handler_runs);
  printf("all ok\n");
}

/* Stack bytes one call touches: run it on a pattern-filled stack. */
#define MEASURE_STACK (256 * 1024)
static const struct op *measured;
static void *measure_thread(void *arg) {
  measured->fn();
  return NULL;
}
static long measure(const struct op *op) {
  static unsigned char *stack;
  if (!stack) stack = mmap(NULL, MEASURE_STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  memset(stack, 0xa5, MEASURE_STACK);
  pthread_attr_t at;
  pthread_t t;
  pthread_attr_init(&at);
  pthread_attr_setstack(&at, stack, MEASURE_STACK);
  measured = op;
  if (pthread_create(&t, &at, measure_thread, NULL) != 0) return -1;
  pthread_join(t, NULL);
  size_t low = 0;
  while (low < MEASURE_STACK && stack[low] == 0xa5) low++;
  return (long)(MEASURE_STACK - low);
}

static void do_depth(void) {
  /* Warm up first: the app's own lazy binding and libc's one-time setup
   * are not what is measured. */
  run_all();
  op_noop();
  static const struct op noop = {"noop", op_noop};
  printf("depth noop %ld\n", measure(&noop));
  for (size_t i = 0; i < N_OPS; i++) printf("depth %s %ld\n", ops[i].name, measure(&ops[i]));
}

int main(int argc, char **argv) {
  if (argc != 4 || (strcmp(argv[1], "run") != 0 && strcmp(argv[1], "depth") != 0)) {
    fprintf(stderr, "usage: small_stacks run|depth APP_DIR REAL_DIR\n");
    return 2;
  }
  const char *app = argv[2], *real = argv[3];
  if (app[0] != '/') return 2;
  snprintf(app_a, sizeof app_a, "%s/a", app);
  snprintf(app_b, sizeof app_b, "%s/b", app);
  snprintf(app_unclean, sizeof app_unclean, "/%s/./x/../a", app);
  snprintf(app_rel, sizeof app_rel, "%s/a", app + 1); /* relative to "/" */
  snprintf(app_tmp1, sizeof app_tmp1, "%s/tmp1", app);
  snprintf(app_tmp2, sizeof app_tmp2, "%s/tmp2", app);
  snprintf(real_a, sizeof real_a, "%s/a", real);
  snprintf(app_true, sizeof app_true, "%s/true", app);
  if (chdir("/") != 0) return 2;
  /* ~2.5 MB of environment in 80000 small variables: more than the kernel
   * takes with an 8 MB stack limit (a quarter of it), so execve must fail
   * with E2BIG, not succeed and not crash. */
  struct rlimit rl = {8u << 20, 8u << 20};
  getrlimit(RLIMIT_STACK, &rl);
  if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > (8u << 20)) rl.rlim_cur = 8u << 20;
  setrlimit(RLIMIT_STACK, &rl);
  size_t n = 80000;
  big_env = calloc(n + 1, sizeof *big_env);
  char *block = malloc(n * 32);
  for (size_t i = 0; i < n; i++) {
    big_env[i] = block + i * 32;
    snprintf(big_env[i], 32, "BIG_%06zu=xxxxxxxxxxxxxxxxxxxx", i);
  }
  verify = strcmp(argv[1], "run") == 0;
  if (verify)
    do_run();
  else
    do_depth();
  return 0;
}
