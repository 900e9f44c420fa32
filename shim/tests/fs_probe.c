/* fs_probe: exercises the libc file API the shim interposes, through an app
 * path that a path rule redirects, and checks every effect with raw system
 * calls on the real target directory (raw syscalls bypass the shim), so a
 * wrapper that forgot to map its path fails here by name.
 * usage: fs_probe APP_DIR REAL_DIR   (APP_DIR is redirected to REAL_DIR,
 * both exist, REAL_DIR is empty). Prints "ok NAME" per call; exit 1 on the
 * first failure. */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utime.h>

static const char *app, *real;
/* Rotating buffers: one expression may name several paths. */
static char bufs[8][4096];
static int next_buf;

static const char *join(const char *dir, const char *name) {
  char *b = bufs[next_buf++ % 8];
  snprintf(b, sizeof bufs[0], "%s/%s", dir, name);
  return b;
}
static const char *A(const char *name) { return join(app, name); }
static const char *R(const char *name) { return join(real, name); }
/* Existence checked with a raw syscall: the shim cannot intervene. */
static int raw_exists(const char *path) {
  struct stat st;
  return syscall(SYS_newfstatat, AT_FDCWD, path, &st, AT_SYMLINK_NOFOLLOW) == 0;
}
static void check(int cond, const char *what) {
  if (!cond) {
    fprintf(stderr, "FAIL %s (errno %d: %s)\n", what, errno, strerror(errno));
    exit(1);
  }
  printf("ok %s\n", what);
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: fs_probe APP_DIR REAL_DIR\n");
    return 2;
  }
  app = argv[1];
  real = argv[2];
  struct stat st;
  int fd;

  fd = open(A("open"), O_CREAT | O_WRONLY, 0644);
  check(fd >= 0 && raw_exists(R("open")), "open");
  close(fd);
  fd = open64(A("open64"), O_CREAT | O_WRONLY, 0644);
  check(fd >= 0 && raw_exists(R("open64")), "open64");
  close(fd);
  fd = openat(AT_FDCWD, A("openat"), O_CREAT | O_WRONLY, 0644);
  check(fd >= 0 && raw_exists(R("openat")), "openat");
  close(fd);
  fd = creat(A("creat"), 0644);
  check(fd >= 0 && raw_exists(R("creat")), "creat");
  close(fd);
  FILE *f = fopen(A("fopen"), "w");
  check(f != NULL && raw_exists(R("fopen")), "fopen");
  fputs("data\n", f);
  fclose(f);
  f = fopen(A("fopen"), "r");
  check(f != NULL, "fopen read");
  f = freopen(A("freopen"), "w", f);
  check(f != NULL && raw_exists(R("freopen")), "freopen");
  fclose(f);

  check(stat(A("fopen"), &st) == 0 && st.st_size == 5, "stat");
  check(lstat(A("fopen"), &st) == 0 && st.st_size == 5, "lstat");
  check(fstatat(AT_FDCWD, A("fopen"), &st, 0) == 0, "fstatat");
  struct stat64 st64;
  check(stat64(A("fopen"), &st64) == 0 && st64.st_size == 5, "stat64");
  struct statx sx;
  check(statx(AT_FDCWD, A("fopen"), 0, STATX_SIZE, &sx) == 0 && sx.stx_size == 5, "statx");
  check(access(A("fopen"), R_OK) == 0, "access");
  check(faccessat(AT_FDCWD, A("fopen"), R_OK, 0) == 0, "faccessat");
  check(euidaccess(A("fopen"), R_OK) == 0, "euidaccess");

  check(mkdir(A("dir"), 0755) == 0 && raw_exists(R("dir")), "mkdir");
  check(mkdirat(AT_FDCWD, A("dir2"), 0755) == 0 && raw_exists(R("dir2")), "mkdirat");
  DIR *d = opendir(A("dir"));
  check(d != NULL, "opendir");
  closedir(d);
  check(rmdir(A("dir2")) == 0 && !raw_exists(R("dir2")), "rmdir");

  /* Relative paths and dirfds: resolved against the cwd / the directory. */
  check(chdir(A("dir")) == 0, "chdir");
  fd = open("../rel", O_CREAT | O_WRONLY, 0644);
  check(fd >= 0 && raw_exists(R("rel")), "open relative with ..");
  close(fd);
  check(chdir("/") == 0, "chdir /");
  int dfd = open(app, O_RDONLY | O_DIRECTORY);
  check(dfd >= 0, "open app dir");
  fd = openat(dfd, "viafd", O_CREAT | O_WRONLY, 0644);
  check(fd >= 0 && raw_exists(R("viafd")), "openat dirfd");
  close(fd);
  close(dfd);

  check(rename(A("open"), A("renamed")) == 0 && raw_exists(R("renamed")) && !raw_exists(R("open")), "rename");
  check(renameat(AT_FDCWD, A("renamed"), AT_FDCWD, A("renamed2")) == 0 && raw_exists(R("renamed2")), "renameat");
  check(link(A("renamed2"), A("hard")) == 0 && raw_exists(R("hard")), "link");
  check(symlink("fopen", A("sym")) == 0 && raw_exists(R("sym")), "symlink");
  char buf[256];
  ssize_t n = readlink(A("sym"), buf, sizeof buf);
  check(n == 5 && memcmp(buf, "fopen", 5) == 0, "readlink");
  char *rp = realpath(A("fopen"), NULL);
  check(rp != NULL && strcmp(rp, R("fopen")) == 0, "realpath");
  free(rp);
  check(unlink(A("hard")) == 0 && !raw_exists(R("hard")), "unlink");
  check(unlinkat(AT_FDCWD, A("renamed2"), 0) == 0 && !raw_exists(R("renamed2")), "unlinkat");

  check(chmod(A("fopen"), 0600) == 0, "chmod");
  syscall(SYS_newfstatat, AT_FDCWD, R("fopen"), &st, 0);
  check((st.st_mode & 0777) == 0600, "chmod effect");
  check(fchmodat(AT_FDCWD, A("fopen"), 0640, 0) == 0, "fchmodat");
  check(chown(A("fopen"), getuid(), getgid()) == 0, "chown");
  check(lchown(A("sym"), getuid(), getgid()) == 0, "lchown");
  check(fchownat(AT_FDCWD, A("fopen"), getuid(), getgid(), 0) == 0, "fchownat");
  check(truncate(A("fopen"), 2) == 0, "truncate");
  syscall(SYS_newfstatat, AT_FDCWD, R("fopen"), &st, 0);
  check(st.st_size == 2, "truncate effect");
  struct utimbuf ut = {1000000000, 1000000000};
  check(utime(A("fopen"), &ut) == 0, "utime");
  syscall(SYS_newfstatat, AT_FDCWD, R("fopen"), &st, 0);
  check(st.st_mtime == 1000000000, "utime effect");
  struct timeval tv[2] = {{1100000000, 0}, {1100000000, 0}};
  check(utimes(A("fopen"), tv) == 0, "utimes");
  check(utimensat(AT_FDCWD, A("fopen"), NULL, 0) == 0, "utimensat");
  check(mkfifo(A("fifo"), 0644) == 0 && raw_exists(R("fifo")), "mkfifo");
  check(mknod(A("node"), S_IFIFO | 0644, 0) == 0 && raw_exists(R("node")), "mknod");

  /* dlopen by path: a missing library's error names the mapped path. */
  void *h = dlopen(A("nolib.so"), RTLD_NOW);
  const char *e = dlerror();
  check(h == NULL && e && strstr(e, real) != NULL, "dlopen maps its path");

  /* exec: the program is found at the mapped path, in a forked child. */
  int src = open("/bin/true", O_RDONLY);
  int dst = open(A("true"), O_CREAT | O_WRONLY, 0755);
  char copy[65536];
  while ((n = read(src, copy, sizeof copy)) > 0)
    if (write(dst, copy, (size_t)n) != n) break;
  close(src);
  close(dst);
  pid_t pid = fork();
  if (pid == 0) {
    char *args[] = {(char *)"true", NULL};
    char *empty_env[] = {NULL};
    execve(A("true"), args, empty_env);
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  check(WIFEXITED(status) && WEXITSTATUS(status) == 0, "execve with an empty environment");
  pid = fork();
  if (pid == 0) {
    execl(A("true"), "true", (char *)NULL);
    _exit(127);
  }
  waitpid(pid, &status, 0);
  check(WIFEXITED(status) && WEXITSTATUS(status) == 0, "execl");
  puts("all ok");
  return 0;
}
