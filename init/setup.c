/* What decant-init prepares before the service starts, as the VM's init and
 * tmpfiles would have: the runtime directories the packager listed in the
 * setup file (/run is an empty tmpfs in a container), and a copy-up of each
 * volume's initial content into the volume when it is still empty (the
 * same first start under `decant run`, podman and Kubernetes, whose
 * emptyDir starts empty). Problems are warnings: the service decides. */
#include "init.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SEED_MAX_DEPTH 64

/* mkdir -p for the parents of path (root-owned, 0755, as a VM's / is). */
static void make_parents(const char *path) {
  char buf[PATH_MAX];
  if (strlen(path) >= sizeof buf) return;
  strcpy(buf, path);
  for (char *p = buf + 1; *p; p++) {
    if (*p != '/') continue;
    *p = 0;
    if (mkdir(buf, 0755) != 0 && errno != EEXIST) init_warn("mkdir %s: %s", buf, strerror(errno));
    *p = '/';
  }
}

/* "dir MODE UID GID PATH": a runtime directory owned as declared. An
 * existing directory keeps its content but gets the declared owner and
 * mode, as systemd-tmpfiles' `d` does. */
static void setup_dir(const char *args) {
  unsigned mode;
  unsigned long uid, gid;
  int used = 0;
  if (sscanf(args, "%o %lu %lu %n", &mode, &uid, &gid, &used) != 3 || args[used] != '/') {
    init_warn("setup: bad dir line: %s", args);
    return;
  }
  const char *path = args + used;
  make_parents(path);
  if (mkdir(path, mode & 07777) != 0 && errno != EEXIST) {
    init_warn("mkdir %s: %s", path, strerror(errno));
    return;
  }
  struct stat st;
  if (lstat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
    init_warn("%s exists and is not a directory", path);
    return;
  }
  if (chown(path, (uid_t)uid, (gid_t)gid) != 0) init_warn("chown %s: %s", path, strerror(errno));
  if (chmod(path, mode & 07777) != 0) init_warn("chmod %s: %s", path, strerror(errno));
}

static int dir_is_empty(const char *path) {
  DIR *d = opendir(path);
  if (!d) return 0;
  struct dirent *e;
  int empty = 1;
  while ((e = readdir(d)) != NULL)
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
      empty = 0;
      break;
    }
  closedir(d);
  return empty;
}

static void copy_meta(int dirfd, const char *name, const struct stat *st, int is_link) {
  int flags = is_link ? AT_SYMLINK_NOFOLLOW : 0;
  if (fchownat(dirfd, name, st->st_uid, st->st_gid, flags) != 0) init_warn("seed: chown %s: %s", name, strerror(errno));
  /* chmod after chown: chown clears setuid/setgid bits. */
  if (!is_link && fchmodat(dirfd, name, st->st_mode & 07777, 0) != 0)
    init_warn("seed: chmod %s: %s", name, strerror(errno));
  struct timespec times[2] = {st->st_atim, st->st_mtim};
  utimensat(dirfd, name, times, flags);
}

static int copy_file(int sfd, int ddirfd, const char *name) {
  int out = openat(ddirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (out < 0) return -1;
  char buf[65536];
  ssize_t n;
  int rc = 0;
  while ((n = read(sfd, buf, sizeof buf)) != 0) {
    if (n < 0) {
      if (errno == EINTR) continue;
      rc = -1;
      break;
    }
    for (ssize_t off = 0; off < n;) {
      ssize_t w = write(out, buf + off, (size_t)(n - off));
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
        rc = -1;
        break;
      }
      off += w;
    }
    if (rc) break;
  }
  close(out);
  return rc;
}

static void copy_tree(int sdir, int ddir, int depth);

/* One entry of a seed directory into the volume. */
static void copy_entry(int sdir, int ddir, const char *name, int depth) {
  struct stat st;
  if (fstatat(sdir, name, &st, AT_SYMLINK_NOFOLLOW) != 0) return;
  if (S_ISDIR(st.st_mode)) {
    if (mkdirat(ddir, name, 0700) != 0 && errno != EEXIST) {
      init_warn("seed: mkdir %s: %s", name, strerror(errno));
      return;
    }
    int s2 = openat(sdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int d2 = openat(ddir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (s2 >= 0 && d2 >= 0) copy_tree(s2, d2, depth + 1);
    if (s2 >= 0) close(s2);
    if (d2 >= 0) close(d2);
  } else if (S_ISREG(st.st_mode)) {
    int in = openat(sdir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    int rc = in < 0 ? -1 : copy_file(in, ddir, name);
    if (in >= 0) close(in);
    if (rc) {
      init_warn("seed: copy %s: %s", name, strerror(errno));
      return;
    }
  } else if (S_ISLNK(st.st_mode)) {
    char target[PATH_MAX];
    ssize_t n = readlinkat(sdir, name, target, sizeof target - 1);
    if (n < 0) return;
    target[n] = 0;
    if (symlinkat(target, ddir, name) != 0) {
      init_warn("seed: symlink %s: %s", name, strerror(errno));
      return;
    }
  } else if (S_ISFIFO(st.st_mode)) {
    if (mkfifoat(ddir, name, 0600) != 0) return;
  } else {
    return; /* devices and sockets are not content */
  }
  copy_meta(ddir, name, &st, S_ISLNK(st.st_mode));
}

static void copy_tree(int sdir, int ddir, int depth) {
  if (depth > SEED_MAX_DEPTH) {
    init_warn("seed: deeper than %d levels, the rest is not copied", SEED_MAX_DEPTH);
    return;
  }
  int fd = dup(sdir);
  DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
  if (!d) {
    if (fd >= 0) close(fd);
    return;
  }
  struct dirent *e;
  while ((e = readdir(d)) != NULL)
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) copy_entry(sdir, ddir, e->d_name, depth);
  closedir(d);
}

/* "seed PATH": PATH is a volume; when it is an empty directory, the image's
 * copy of its initial content (seed_root + PATH) is copied in with owners,
 * modes and times. A volume that has content is the user's data: untouched. */
static void setup_seed(const char *path, const char *seed_root) {
  char src[PATH_MAX];
  if (path[0] != '/' || (size_t)snprintf(src, sizeof src, "%s%s", seed_root, path) >= sizeof src) {
    init_warn("setup: bad seed line: %s", path);
    return;
  }
  if (!dir_is_empty(path)) return;
  int s = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int d = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (s >= 0 && d >= 0) copy_tree(s, d, 0);
  else init_warn("seed %s: %s", path, strerror(errno));
  if (s >= 0) close(s);
  if (d >= 0) close(d);
}

void init_apply_setup(const struct init_options *o) {
  if (!o->setup_path) return;
  FILE *f = fopen(o->setup_path, "re");
  if (!f) {
    init_warn("setup %s: %s", o->setup_path, strerror(errno));
    return;
  }
  char line[PATH_MAX + 64];
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\n")] = 0;
    if (line[0] == 0 || line[0] == '#') continue;
    if (!strncmp(line, "dir ", 4)) setup_dir(line + 4);
    else if (!strncmp(line, "seed ", 5)) setup_seed(line + 5, o->seed_root);
    else init_warn("setup: unknown line: %s", line);
  }
  fclose(f);
}
