/* shim_stress: hammers redirected paths from many directions at once so a
 * race, a lost write or a deadlock in the shim shows up as a wrong count or
 * a hang: 64 threads opening, appending and closing their own and a shared
 * file for SECONDS; a SIGALRM handler that opens and appends while the main
 * thread is inside redirected calls; a fork storm whose children write
 * through the redirect; vfork+exec and posix_spawn of a shell that appends
 * through it (the shim must follow exec). Every record written is counted
 * and printed ("NAME COUNT"); stress.sh reads the files back at the
 * redirect's target and compares. Any failed open exits 1: the from-side
 * directory does not exist on the host, so an unredirected call fails.
 * usage: shim_stress FROM_DIR SECONDS */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define THREADS 64
#define FORKS 200

extern char **environ;
static const char *from;
static volatile int stop;
static volatile sig_atomic_t sig_records, sig_failures;
static long per_thread[THREADS];
static long shared_records[THREADS];

static int append(const char *path, const char *rec, size_t len) {
  int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return -1;
  ssize_t n = write(fd, rec, len);
  close(fd);
  return n == (ssize_t)len ? 0 : -1;
}

static void on_alarm(int sig) {
  (void)sig;
  int saved = errno;
  char path[512];
  size_t n = strlen(from);
  if (n + 5 < sizeof path) {
    memcpy(path, from, n);
    memcpy(path + n, "/sig", 5);
    if (append(path, "s\n", 2) == 0) sig_records++;
    else sig_failures++;
  }
  errno = saved;
}

static void *worker(void *arg) {
  long id = (long)arg;
  char own[512], shared[512], rec[64];
  snprintf(own, sizeof own, "%s/t%ld", from, id);
  snprintf(shared, sizeof shared, "%s/shared", from);
  for (long seq = 0; !stop; ++seq) {
    int len = snprintf(rec, sizeof rec, "%ld %ld\n", id, seq);
    if (append(own, rec, (size_t)len) != 0) {
      fprintf(stderr, "thread %ld: %s: %s\n", id, own, strerror(errno));
      exit(1);
    }
    per_thread[id]++;
    if (seq % 8 == 0) {
      if (append(shared, rec, (size_t)len) != 0) {
        fprintf(stderr, "thread %ld: %s: %s\n", id, shared, strerror(errno));
        exit(1);
      }
      shared_records[id]++;
    }
  }
  return NULL;
}

static int run_shell(const char *cmd, int use_vfork) {
  char *argv[] = {"/bin/sh", "-c", (char *)cmd, NULL};
  pid_t pid;
  if (use_vfork) {
    pid = vfork();
    if (pid == 0) {
      execve("/bin/sh", argv, environ);
      _exit(127);
    }
  } else if (posix_spawn(&pid, "/bin/sh", NULL, NULL, argv, environ) != 0) {
    return -1;
  }
  int st;
  if (pid < 0 || waitpid(pid, &st, 0) != pid) return -1;
  return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: shim_stress FROM_DIR SECONDS\n");
    return 2;
  }
  from = argv[1];
  int seconds = atoi(argv[2]);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm;
  sa.sa_flags = SA_RESTART;
  sigaction(SIGALRM, &sa, NULL);
  /* Every 2 ms, delivered to whichever thread runs, mostly inside a redirected call. */
  struct itimerval it = {{0, 2000}, {0, 2000}};
  setitimer(ITIMER_REAL, &it, NULL);

  pthread_t t[THREADS];
  for (long i = 0; i < THREADS; ++i)
    if (pthread_create(&t[i], NULL, worker, (void *)i) != 0) return 1;
  struct timespec end, now;
  clock_gettime(CLOCK_MONOTONIC, &end);
  end.tv_sec += seconds;
  do {
    struct timespec d = {0, 10 * 1000 * 1000};
    nanosleep(&d, NULL);
    clock_gettime(CLOCK_MONOTONIC, &now);
  } while (now.tv_sec < end.tv_sec || (now.tv_sec == end.tv_sec && now.tv_nsec < end.tv_nsec));
  stop = 1;
  for (int i = 0; i < THREADS; ++i) pthread_join(t[i], NULL);
  struct itimerval off = {{0, 0}, {0, 0}};
  setitimer(ITIMER_REAL, &off, NULL);

  long total = 0, shared = 0;
  for (int i = 0; i < THREADS; ++i) {
    printf("t%d %ld\n", i, per_thread[i]);
    total += per_thread[i];
    shared += shared_records[i];
  }
  printf("shared %ld\n", shared);
  printf("sig %d\n", (int)sig_records);
  if (sig_failures) {
    fprintf(stderr, "%d opens from the signal handler failed\n", (int)sig_failures);
    return 1;
  }

  /* A fork storm: each child writes one record through the redirect. */
  char path[512];
  snprintf(path, sizeof path, "%s/forks", from);
  for (int i = 0; i < FORKS; ++i) {
    pid_t pid = fork();
    if (pid == 0) _exit(append(path, "f\n", 2) == 0 ? 0 : 1);
    if (pid < 0) return 1;
  }
  int failed = 0, st;
  for (int i = 0; i < FORKS; ++i)
    if (wait(&st) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) failed++;
  if (failed) {
    fprintf(stderr, "%d forked children could not write %s\n", failed, path);
    return 1;
  }
  printf("forks %d\n", FORKS);

  /* exec chains: a shell started by vfork and by posix_spawn appends
   * through the redirect (its own open, after the shim followed exec). */
  char cmd[1200];
  snprintf(cmd, sizeof cmd, "echo v >>'%s/vfork' && /bin/sh -c \"echo v >>'%s/vfork'\"", from, from);
  if (run_shell(cmd, 1) != 0) return 1;
  snprintf(cmd, sizeof cmd, "echo p >>'%s/spawn'", from);
  if (run_shell(cmd, 0) != 0) return 1;
  printf("vfork 2\nspawn 1\n");
  printf("total %ld\n", total);
  return 0;
}
