/* legacy_static_probe: a statically linked program that makes its file,
 * socket and identity calls with raw syscall(2), like old static tools and
 * Go programs do, so only a syscall-level redirect (decant's seccomp proxy)
 * can move them. Each subcommand prints one "ok NAME" line per check and
 * "all ok" at the end, or "FAIL NAME: why" and exits 1:
 *   paths DIR [TAG] file calls on DIR (a path the plan redirects), names
 *                  tagged TAG ("main")
 *   threads DIR    the paths checks in 4 threads at once
 *   fork DIR       the paths checks in a forked child that re-execs this program
 *   uname          prints the kernel release uname(2) reports
 *   connect PORT   connects to 127.0.0.1:PORT, prints the line it reads
 *   stat PATH N    N stats of PATH, then prints "stat done" */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

static int failed;

static void check(int cond, const char *name, const char *detail) {
  if (cond) {
    printf("ok %s\n", name);
  } else {
    printf("FAIL %s: %s (errno %d %s)\n", name, detail, errno, strerror(errno));
    failed = 1;
  }
  fflush(stdout);
}

static void paths(const char *dir, const char *tag) {
  char p[512], q[512], name[64];
  /* open(O_CREAT) + write through the redirected path. */
  snprintf(p, sizeof p, "%s/out.%s", dir, tag);
  long fd = syscall(SYS_openat, AT_FDCWD, p, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0644);
  snprintf(name, sizeof name, "openat-create.%s", tag);
  check(fd >= 0, name, p);
  if (fd >= 0) {
    check(syscall(SYS_write, fd, "proxied\n", 8) == 8, "write", p);
    check(fcntl((int)fd, F_GETFD) == FD_CLOEXEC, "o_cloexec", "FD_CLOEXEC not set on the injected fd");
    syscall(SYS_close, fd);
  }
  struct stat st;
  check(syscall(SYS_newfstatat, AT_FDCWD, p, &st, 0) == 0 && st.st_size == 8, "newfstatat", p);
  struct statx stx;
  check(syscall(SYS_statx, AT_FDCWD, p, 0, STATX_SIZE, &stx) == 0 && stx.stx_size == 8, "statx", p);
  check(syscall(SYS_faccessat, AT_FDCWD, p, R_OK) == 0, "faccessat", p);
  /* A dirfd opened through the redirect, then a relative openat. */
  long dfd = syscall(SYS_openat, AT_FDCWD, dir, O_RDONLY | O_DIRECTORY);
  check(dfd >= 0, "open-dir", dir);
  snprintf(q, sizeof q, "out.%s", tag);
  long rfd = syscall(SYS_openat, dfd, q, O_RDONLY);
  char buf[16] = "";
  check(rfd >= 0 && syscall(SYS_read, rfd, buf, sizeof buf) == 8 && memcmp(buf, "proxied\n", 8) == 0,
        "openat-dirfd", q);
  if (rfd >= 0) syscall(SYS_close, rfd);
  /* symlink + readlink, mkdir + rename + unlink + rmdir. */
  snprintf(q, sizeof q, "%s/link.%s", dir, tag);
  syscall(SYS_unlinkat, AT_FDCWD, q, 0);
  check(syscall(SYS_symlinkat, "out.x", AT_FDCWD, q) == 0, "symlinkat", q);
  char lnk[64] = "";
  long n = syscall(SYS_readlinkat, AT_FDCWD, q, lnk, sizeof lnk - 1);
  check(n == 5 && memcmp(lnk, "out.x", 5) == 0, "readlinkat", q);
  check(syscall(SYS_unlinkat, AT_FDCWD, q, 0) == 0, "unlinkat", q);
  snprintf(q, sizeof q, "%s/dir.%s", dir, tag);
  check(syscall(SYS_mkdirat, AT_FDCWD, q, 0755) == 0, "mkdirat", q);
  char moved[600];
  snprintf(moved, sizeof moved, "%s/moved", q);
  check(syscall(SYS_renameat, AT_FDCWD, p, AT_FDCWD, moved) == 0, "renameat", moved);
  check(syscall(SYS_newfstatat, dfd, "nonexistent", &st, 0) < 0 && errno == ENOENT, "enoent", "nonexistent");
  if (dfd >= 0) syscall(SYS_close, dfd);
}

static const char *thread_dir;
static void *thread_main(void *arg) {
  char tag[16];
  snprintf(tag, sizeof tag, "t%ld", (long)arg);
  paths(thread_dir, tag);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: legacy_static_probe paths|threads|fork DIR | uname | connect PORT | stat PATH N\n");
    return 2;
  }
  const char *cmd = argv[1];
  if (strcmp(cmd, "paths") == 0 && (argc == 3 || argc == 4)) {
    paths(argv[2], argc == 4 ? argv[3] : "main");
  } else if (strcmp(cmd, "threads") == 0 && argc == 3) {
    pthread_t t[4];
    thread_dir = argv[2];
    for (long i = 0; i < 4; i++) pthread_create(&t[i], NULL, thread_main, (void *)i);
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
  } else if (strcmp(cmd, "fork") == 0 && argc == 3) {
    pid_t pid = fork();
    if (pid == 0) {
      char *args[] = {"legacy_static_probe", "paths", argv[2], "child", NULL};
      execv("/proc/self/exe", args);
      _exit(127);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "forked-child", "the re-exec'd child failed");
  } else if (strcmp(cmd, "uname") == 0) {
    struct utsname u;
    if (syscall(SYS_uname, &u) != 0) {
      perror("uname");
      return 1;
    }
    printf("release %s\n", u.release);
    return 0;
  } else if (strcmp(cmd, "connect") == 0 && argc == 3) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)atoi(argv[2]));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    check(syscall(SYS_connect, s, &a, sizeof a) == 0, "connect", argv[2]);
    struct sockaddr_in peer;
    socklen_t pl = sizeof peer;
    check(syscall(SYS_getpeername, s, &peer, &pl) == 0 && ntohs(peer.sin_port) == atoi(argv[2]), "getpeername",
          "the peer port is not the one connected to");
    char line[128] = "";
    ssize_t n = read(s, line, sizeof line - 1);
    if (n > 0) printf("read %s", line);
  } else if (strcmp(cmd, "stat") == 0 && argc == 4) {
    struct stat st;
    long n = atol(argv[3]), bad = 0;
    for (long i = 0; i < n; i++) bad += syscall(SYS_newfstatat, AT_FDCWD, argv[2], &st, 0) != 0;
    printf("stat done, %ld failed, last errno %d\n", bad, bad ? errno : 0);
    return bad ? 1 : 0;
  } else {
    fprintf(stderr, "legacy_static_probe: bad arguments\n");
    return 2;
  }
  if (!failed) puts("all ok");
  return failed;
}
