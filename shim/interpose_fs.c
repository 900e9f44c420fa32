/* Path redirects for the libc file API: every call that takes a path maps it
 * through the plan's longest-prefix rules (shim_map) and passes the result to
 * the real function; in learn mode it also records what the app touched.
 * Old binaries import the pre-2.33 __xstat family and new ones stat/lstat/
 * fstatat, so both are interposed and each falls back to whichever the
 * running glibc provides. Paths returned by the kernel (getcwd, readlink,
 * realpath results) are not translated back: see docs/shim.md. */
#define _GNU_SOURCE
#include "internal.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <utime.h>

/* The version argument of the pre-2.33 stat family (_STAT_VER_LINUX). */
#ifdef __x86_64__
#define SHIM_STAT_VER 1
#else
#define SHIM_STAT_VER 0
#endif

#define LEARN(op, acc, dirfd, path, mapped, failed)                                      \
  do {                                                                                   \
    if (__builtin_expect(shim_learning, 0)) {                                            \
      int e_ = errno;                                                                    \
      shim_learn_path(op, acc, dirfd, path, mapped, (failed) ? e_ : 0);                 \
      errno = e_;                                                                        \
    }                                                                                    \
  } while (0)

/* The mapped path lives in scratch memory freed when the wrapper returns. */
#define MAP(n, dirfd, path, fail)                         \
  SHIM_SCOPED char *b##n##_ = NULL;                       \
  const char *p##n = shim_map(dirfd, path, &b##n##_);     \
  if (!p##n && path) return fail

#define NEED(name, fail)    \
  if (!REAL(name)) {        \
    errno = ENOSYS;         \
    return fail;            \
  }

/* One-path function returning int (-1 on error). */
#define WRAP1(name, op, acc, PARAMS, ARGS)         \
  REAL_DECL(int, name, PARAMS);                    \
  SHIM_EXPORT int name PARAMS {                    \
    MAP(1, AT_FDCWD, path, -1);                    \
    NEED(name, -1);                                \
    int r = real_##name ARGS;                      \
    LEARN(op, acc, AT_FDCWD, path, p1, r < 0);     \
    return r;                                      \
  }

/* One path relative to dirfd, returning int. */
#define WRAPAT1(name, op, acc, PARAMS, ARGS)       \
  REAL_DECL(int, name, PARAMS);                    \
  SHIM_EXPORT int name PARAMS {                    \
    MAP(1, dirfd, path, -1);                       \
    NEED(name, -1);                                \
    int r = real_##name ARGS;                      \
    LEARN(op, acc, dirfd, path, p1, r < 0);        \
    return r;                                      \
  }

/* ---- open family ---- */

static mode_t open_mode(int flags, va_list ap) {
  return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? va_arg(ap, mode_t) : 0;
}

#define WRAP_OPEN(name)                                           \
  REAL_DECL(int, name, (const char *, int, ...));                 \
  SHIM_EXPORT int name(const char *path, int flags, ...) {        \
    va_list ap;                                                   \
    va_start(ap, flags);                                          \
    mode_t mode = open_mode(flags, ap);                           \
    va_end(ap);                                                   \
    MAP(1, AT_FDCWD, path, -1);                                   \
    NEED(name, -1);                                               \
    int r = real_##name(p1, flags, mode);                         \
    LEARN("open", shim_open_access(flags), AT_FDCWD, path, p1, r < 0); \
    return r;                                                     \
  }
WRAP_OPEN(open)
WRAP_OPEN(open64)

#define WRAP_OPENAT(name)                                                   \
  REAL_DECL(int, name, (int, const char *, int, ...));                      \
  SHIM_EXPORT int name(int dirfd, const char *path, int flags, ...) {       \
    va_list ap;                                                             \
    va_start(ap, flags);                                                    \
    mode_t mode = open_mode(flags, ap);                                     \
    va_end(ap);                                                             \
    MAP(1, dirfd, path, -1);                                                \
    NEED(name, -1);                                                         \
    int r = real_##name(dirfd, p1, flags, mode);                            \
    LEARN("open", shim_open_access(flags), dirfd, path, p1, r < 0);         \
    return r;                                                               \
  }
WRAP_OPENAT(openat)
WRAP_OPENAT(openat64)

/* _FORTIFY_SOURCE callers: same as open without a mode. */
SHIM_EXPORT int __open_2(const char *path, int flags) { return open(path, flags); }
SHIM_EXPORT int __open64_2(const char *path, int flags) { return open64(path, flags); }
SHIM_EXPORT int __openat_2(int dirfd, const char *path, int flags) { return openat(dirfd, path, flags); }
SHIM_EXPORT int __openat64_2(int dirfd, const char *path, int flags) { return openat64(dirfd, path, flags); }

WRAP1(creat, "open", "write", (const char *path, mode_t mode), (p1, mode))
WRAP1(creat64, "open", "write", (const char *path, mode_t mode), (p1, mode))

static const char *fopen_access(const char *mode) {
  return mode && mode[0] == 'r' && !strchr(mode, '+') ? "read" : "write";
}

#define WRAP_FOPEN(name)                                          \
  REAL_DECL(FILE *, name, (const char *, const char *));          \
  SHIM_EXPORT FILE *name(const char *path, const char *mode) {    \
    MAP(1, AT_FDCWD, path, NULL);                                 \
    NEED(name, NULL);                                             \
    FILE *r = real_##name(p1, mode);                              \
    LEARN("open", fopen_access(mode), AT_FDCWD, path, p1, r == NULL); \
    return r;                                                     \
  }
WRAP_FOPEN(fopen)
WRAP_FOPEN(fopen64)

#define WRAP_FREOPEN(name)                                                   \
  REAL_DECL(FILE *, name, (const char *, const char *, FILE *));             \
  SHIM_EXPORT FILE *name(const char *path, const char *mode, FILE *stream) { \
    MAP(1, AT_FDCWD, path, NULL);                                            \
    NEED(name, NULL);                                                        \
    FILE *r = real_##name(p1, mode, stream);                                 \
    if (path) LEARN("open", fopen_access(mode), AT_FDCWD, path, p1, r == NULL); \
    return r;                                                                \
  }
WRAP_FREOPEN(freopen)
WRAP_FREOPEN(freopen64)

REAL_DECL(DIR *, opendir, (const char *));
SHIM_EXPORT DIR *opendir(const char *path) {
  MAP(1, AT_FDCWD, path, NULL);
  NEED(opendir, NULL);
  DIR *r = real_opendir(p1);
  LEARN("opendir", "read", AT_FDCWD, path, p1, r == NULL);
  return r;
}

/* ---- stat family ---- */

REAL_DECL(int, __xstat, (int, const char *, struct stat *));
REAL_DECL(int, __lxstat, (int, const char *, struct stat *));
REAL_DECL(int, __fxstatat, (int, int, const char *, struct stat *, int));
REAL_DECL(int, __xstat64, (int, const char *, struct stat64 *));
REAL_DECL(int, __lxstat64, (int, const char *, struct stat64 *));
REAL_DECL(int, __fxstatat64, (int, int, const char *, struct stat64 *, int));
REAL_DECL(int, stat, (const char *, struct stat *));
REAL_DECL(int, lstat, (const char *, struct stat *));
REAL_DECL(int, fstatat, (int, const char *, struct stat *, int));
REAL_DECL(int, stat64, (const char *, struct stat64 *));
REAL_DECL(int, lstat64, (const char *, struct stat64 *));
REAL_DECL(int, fstatat64, (int, const char *, struct stat64 *, int));

int __xstat(int ver, const char *path, struct stat *st);
int __lxstat(int ver, const char *path, struct stat *st);
int __fxstatat(int ver, int dirfd, const char *path, struct stat *st, int flags);
int __xstat64(int ver, const char *path, struct stat64 *st);
int __lxstat64(int ver, const char *path, struct stat64 *st);
int __fxstatat64(int ver, int dirfd, const char *path, struct stat64 *st, int flags);

/* new_call when the running glibc has the 2.33 symbol, else old_call. */
#define STAT_BODY(newname, new_call, oldname, old_call, dirfd)   \
  int r;                                                         \
  if (REAL(newname))                                             \
    r = new_call;                                                \
  else if (REAL(oldname))                                        \
    r = old_call;                                                \
  else {                                                         \
    errno = ENOSYS;                                              \
    return -1;                                                   \
  }                                                              \
  LEARN("stat", "stat", dirfd, path, p1, r < 0);                 \
  return r

SHIM_EXPORT int stat(const char *path, struct stat *st) {
  MAP(1, AT_FDCWD, path, -1);
  STAT_BODY(stat, real_stat(p1, st), __xstat, real___xstat(SHIM_STAT_VER, p1, st), AT_FDCWD);
}
SHIM_EXPORT int lstat(const char *path, struct stat *st) {
  MAP(1, AT_FDCWD, path, -1);
  STAT_BODY(lstat, real_lstat(p1, st), __lxstat, real___lxstat(SHIM_STAT_VER, p1, st), AT_FDCWD);
}
SHIM_EXPORT int fstatat(int dirfd, const char *path, struct stat *st, int flags) {
  MAP(1, dirfd, path, -1);
  STAT_BODY(fstatat, real_fstatat(dirfd, p1, st, flags), __fxstatat,
            real___fxstatat(SHIM_STAT_VER, dirfd, p1, st, flags), dirfd);
}
SHIM_EXPORT int stat64(const char *path, struct stat64 *st) {
  MAP(1, AT_FDCWD, path, -1);
  STAT_BODY(stat64, real_stat64(p1, st), __xstat64, real___xstat64(SHIM_STAT_VER, p1, st), AT_FDCWD);
}
SHIM_EXPORT int lstat64(const char *path, struct stat64 *st) {
  MAP(1, AT_FDCWD, path, -1);
  STAT_BODY(lstat64, real_lstat64(p1, st), __lxstat64, real___lxstat64(SHIM_STAT_VER, p1, st), AT_FDCWD);
}
SHIM_EXPORT int fstatat64(int dirfd, const char *path, struct stat64 *st, int flags) {
  MAP(1, dirfd, path, -1);
  STAT_BODY(fstatat64, real_fstatat64(dirfd, p1, st, flags), __fxstatat64,
            real___fxstatat64(SHIM_STAT_VER, dirfd, p1, st, flags), dirfd);
}
/* What binaries linked against glibc < 2.33 import. The version argument
 * is passed on when the old entry point still exists. */
SHIM_EXPORT int __xstat(int ver, const char *path, struct stat *st) {
  MAP(1, AT_FDCWD, path, -1);
  STAT_BODY(__xstat, real___xstat(ver, p1, st), stat, real_stat(p1, st), AT_FDCWD);
}
SHIM_EXPORT int __lxstat(int ver, const char *path, struct stat *st) {
  MAP(1, AT_FDCWD, path, -1);
  STAT_BODY(__lxstat, real___lxstat(ver, p1, st), lstat, real_lstat(p1, st), AT_FDCWD);
}
SHIM_EXPORT int __fxstatat(int ver, int dirfd, const char *path, struct stat *st, int flags) {
  MAP(1, dirfd, path, -1);
  STAT_BODY(__fxstatat, real___fxstatat(ver, dirfd, p1, st, flags), fstatat, real_fstatat(dirfd, p1, st, flags),
            dirfd);
}
SHIM_EXPORT int __xstat64(int ver, const char *path, struct stat64 *st) {
  MAP(1, AT_FDCWD, path, -1);
  STAT_BODY(__xstat64, real___xstat64(ver, p1, st), stat64, real_stat64(p1, st), AT_FDCWD);
}
SHIM_EXPORT int __lxstat64(int ver, const char *path, struct stat64 *st) {
  MAP(1, AT_FDCWD, path, -1);
  STAT_BODY(__lxstat64, real___lxstat64(ver, p1, st), lstat64, real_lstat64(p1, st), AT_FDCWD);
}
SHIM_EXPORT int __fxstatat64(int ver, int dirfd, const char *path, struct stat64 *st, int flags) {
  MAP(1, dirfd, path, -1);
  STAT_BODY(__fxstatat64, real___fxstatat64(ver, dirfd, p1, st, flags), fstatat64,
            real_fstatat64(dirfd, p1, st, flags), dirfd);
}

struct statx;
REAL_DECL(int, statx, (int, const char *, int, unsigned int, struct statx *));
SHIM_EXPORT int statx(int dirfd, const char *path, int flags, unsigned int mask, struct statx *buf) {
  MAP(1, dirfd, path, -1);
  int r;
  if (REAL(statx)) {
    r = real_statx(dirfd, p1, flags, mask, buf);
  } else {
#ifdef SYS_statx
    r = (int)syscall(SYS_statx, dirfd, p1, flags, mask, buf);
#else
    errno = ENOSYS;
    r = -1;
#endif
  }
  LEARN("stat", "stat", dirfd, path, p1, r < 0);
  return r;
}

WRAP1(statfs, "stat", "stat", (const char *path, struct statfs *buf), (p1, buf))
WRAP1(statfs64, "stat", "stat", (const char *path, struct statfs64 *buf), (p1, buf))
WRAP1(statvfs, "stat", "stat", (const char *path, struct statvfs *buf), (p1, buf))
WRAP1(statvfs64, "stat", "stat", (const char *path, struct statvfs64 *buf), (p1, buf))

/* ---- access ---- */

WRAP1(access, "stat", "stat", (const char *path, int mode), (p1, mode))
WRAP1(euidaccess, "stat", "stat", (const char *path, int mode), (p1, mode))
WRAP1(eaccess, "stat", "stat", (const char *path, int mode), (p1, mode))
WRAPAT1(faccessat, "stat", "stat", (int dirfd, const char *path, int mode, int flags), (dirfd, p1, mode, flags))

/* ---- directories and names ---- */

WRAP1(mkdir, "mkdir", "write", (const char *path, mode_t mode), (p1, mode))
WRAPAT1(mkdirat, "mkdir", "write", (int dirfd, const char *path, mode_t mode), (dirfd, p1, mode))
WRAP1(rmdir, "rmdir", "write", (const char *path), (p1))
WRAP1(unlink, "unlink", "write", (const char *path), (p1))
WRAPAT1(unlinkat, "unlink", "write", (int dirfd, const char *path, int flags), (dirfd, p1, flags))
WRAP1(chdir, "chdir", "read", (const char *path), (p1))

REAL_DECL(int, rename, (const char *, const char *));
SHIM_EXPORT int rename(const char *oldpath, const char *newpath) {
  MAP(1, AT_FDCWD, oldpath, -1);
  MAP(2, AT_FDCWD, newpath, -1);
  NEED(rename, -1);
  int r = real_rename(p1, p2);
  LEARN("rename", "write", AT_FDCWD, oldpath, p1, r < 0);
  LEARN("rename", "write", AT_FDCWD, newpath, p2, r < 0);
  return r;
}
REAL_DECL(int, renameat, (int, const char *, int, const char *));
SHIM_EXPORT int renameat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath) {
  MAP(1, olddirfd, oldpath, -1);
  MAP(2, newdirfd, newpath, -1);
  NEED(renameat, -1);
  int r = real_renameat(olddirfd, p1, newdirfd, p2);
  LEARN("rename", "write", olddirfd, oldpath, p1, r < 0);
  LEARN("rename", "write", newdirfd, newpath, p2, r < 0);
  return r;
}
REAL_DECL(int, renameat2, (int, const char *, int, const char *, unsigned int));
SHIM_EXPORT int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned int flags) {
  MAP(1, olddirfd, oldpath, -1);
  MAP(2, newdirfd, newpath, -1);
  NEED(renameat2, -1);
  int r = real_renameat2(olddirfd, p1, newdirfd, p2, flags);
  LEARN("rename", "write", olddirfd, oldpath, p1, r < 0);
  LEARN("rename", "write", newdirfd, newpath, p2, r < 0);
  return r;
}

REAL_DECL(int, link, (const char *, const char *));
SHIM_EXPORT int link(const char *oldpath, const char *newpath) {
  MAP(1, AT_FDCWD, oldpath, -1);
  MAP(2, AT_FDCWD, newpath, -1);
  NEED(link, -1);
  int r = real_link(p1, p2);
  LEARN("link", "write", AT_FDCWD, newpath, p2, r < 0);
  return r;
}
REAL_DECL(int, linkat, (int, const char *, int, const char *, int));
SHIM_EXPORT int linkat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, int flags) {
  MAP(1, olddirfd, oldpath, -1);
  MAP(2, newdirfd, newpath, -1);
  NEED(linkat, -1);
  int r = real_linkat(olddirfd, p1, newdirfd, p2, flags);
  LEARN("link", "write", newdirfd, newpath, p2, r < 0);
  return r;
}
/* The target of a symlink is data, not a path the app opens now: only the
 * link's own location is redirected. */
REAL_DECL(int, symlink, (const char *, const char *));
SHIM_EXPORT int symlink(const char *target, const char *path) {
  MAP(1, AT_FDCWD, path, -1);
  NEED(symlink, -1);
  int r = real_symlink(target, p1);
  LEARN("symlink", "write", AT_FDCWD, path, p1, r < 0);
  return r;
}
REAL_DECL(int, symlinkat, (const char *, int, const char *));
SHIM_EXPORT int symlinkat(const char *target, int dirfd, const char *path) {
  MAP(1, dirfd, path, -1);
  NEED(symlinkat, -1);
  int r = real_symlinkat(target, dirfd, p1);
  LEARN("symlink", "write", dirfd, path, p1, r < 0);
  return r;
}

REAL_DECL(ssize_t, readlink, (const char *, char *, size_t));
SHIM_EXPORT ssize_t readlink(const char *path, char *buf, size_t size) {
  MAP(1, AT_FDCWD, path, -1);
  NEED(readlink, -1);
  ssize_t r = real_readlink(p1, buf, size);
  LEARN("readlink", "read", AT_FDCWD, path, p1, r < 0);
  return r;
}
REAL_DECL(ssize_t, readlinkat, (int, const char *, char *, size_t));
SHIM_EXPORT ssize_t readlinkat(int dirfd, const char *path, char *buf, size_t size) {
  MAP(1, dirfd, path, -1);
  NEED(readlinkat, -1);
  ssize_t r = real_readlinkat(dirfd, p1, buf, size);
  LEARN("readlink", "read", dirfd, path, p1, r < 0);
  return r;
}

REAL_DECL(char *, realpath, (const char *, char *));
SHIM_EXPORT char *realpath(const char *path, char *resolved) {
  MAP(1, AT_FDCWD, path, NULL);
  NEED(realpath, NULL);
  char *r = real_realpath(p1, resolved);
  LEARN("stat", "stat", AT_FDCWD, path, p1, r == NULL);
  return r;
}
REAL_DECL(char *, canonicalize_file_name, (const char *));
SHIM_EXPORT char *canonicalize_file_name(const char *path) {
  MAP(1, AT_FDCWD, path, NULL);
  NEED(canonicalize_file_name, NULL);
  char *r = real_canonicalize_file_name(p1);
  LEARN("stat", "stat", AT_FDCWD, path, p1, r == NULL);
  return r;
}

/* ---- metadata ---- */

WRAP1(chmod, "chmod", "write", (const char *path, mode_t mode), (p1, mode))
WRAP1(chown, "chown", "write", (const char *path, uid_t uid, gid_t gid), (p1, uid, gid))
WRAP1(lchown, "chown", "write", (const char *path, uid_t uid, gid_t gid), (p1, uid, gid))
WRAPAT1(fchmodat, "chmod", "write", (int dirfd, const char *path, mode_t mode, int flags), (dirfd, p1, mode, flags))
WRAPAT1(fchownat, "chown", "write", (int dirfd, const char *path, uid_t uid, gid_t gid, int flags),
        (dirfd, p1, uid, gid, flags))
WRAP1(truncate, "truncate", "write", (const char *path, off_t len), (p1, len))
WRAP1(truncate64, "truncate", "write", (const char *path, off64_t len), (p1, len))
WRAP1(utime, "utime", "write", (const char *path, const struct utimbuf *times), (p1, times))
WRAP1(utimes, "utime", "write", (const char *path, const struct timeval times[2]), (p1, times))
WRAP1(lutimes, "utime", "write", (const char *path, const struct timeval times[2]), (p1, times))
WRAPAT1(utimensat, "utime", "write", (int dirfd, const char *path, const struct timespec times[2], int flags),
        (dirfd, p1, times, flags))
WRAPAT1(futimesat, "utime", "write", (int dirfd, const char *path, const struct timeval times[2]),
        (dirfd, p1, times))

/* Extended attributes: `ls -l` and backup tools ask for ACLs by path. */
#define WRAP1S(name, op, acc, PARAMS, ARGS)        \
  REAL_DECL(ssize_t, name, PARAMS);                \
  SHIM_EXPORT ssize_t name PARAMS {                \
    MAP(1, AT_FDCWD, path, -1);                    \
    NEED(name, -1);                                \
    ssize_t r = real_##name ARGS;                  \
    LEARN(op, acc, AT_FDCWD, path, p1, r < 0);     \
    return r;                                      \
  }
WRAP1S(getxattr, "stat", "stat", (const char *path, const char *name, void *value, size_t size),
       (p1, name, value, size))
WRAP1S(lgetxattr, "stat", "stat", (const char *path, const char *name, void *value, size_t size),
       (p1, name, value, size))
WRAP1S(listxattr, "stat", "stat", (const char *path, char *list, size_t size), (p1, list, size))
WRAP1S(llistxattr, "stat", "stat", (const char *path, char *list, size_t size), (p1, list, size))
WRAP1(setxattr, "chmod", "write", (const char *path, const char *name, const void *value, size_t size, int flags),
      (p1, name, value, size, flags))
WRAP1(lsetxattr, "chmod", "write", (const char *path, const char *name, const void *value, size_t size, int flags),
      (p1, name, value, size, flags))
WRAP1(removexattr, "chmod", "write", (const char *path, const char *name), (p1, name))
WRAP1(lremovexattr, "chmod", "write", (const char *path, const char *name), (p1, name))

/* ---- special files ---- */

WRAP1(mkfifo, "mknod", "write", (const char *path, mode_t mode), (p1, mode))
WRAPAT1(mkfifoat, "mknod", "write", (int dirfd, const char *path, mode_t mode), (dirfd, p1, mode))

REAL_DECL(int, mknod, (const char *, mode_t, dev_t));
REAL_DECL(int, mknodat, (int, const char *, mode_t, dev_t));
REAL_DECL(int, __xmknod, (int, const char *, mode_t, dev_t *));
REAL_DECL(int, __xmknodat, (int, int, const char *, mode_t, dev_t *));
int __xmknod(int ver, const char *path, mode_t mode, dev_t *dev);
int __xmknodat(int ver, int dirfd, const char *path, mode_t mode, dev_t *dev);

SHIM_EXPORT int mknod(const char *path, mode_t mode, dev_t dev) {
  MAP(1, AT_FDCWD, path, -1);
  int r;
  if (REAL(mknod))
    r = real_mknod(p1, mode, dev);
  else if (REAL(__xmknod))
    r = real___xmknod(0, p1, mode, &dev);
  else {
    errno = ENOSYS;
    return -1;
  }
  LEARN("mknod", "write", AT_FDCWD, path, p1, r < 0);
  return r;
}
SHIM_EXPORT int mknodat(int dirfd, const char *path, mode_t mode, dev_t dev) {
  MAP(1, dirfd, path, -1);
  int r;
  if (REAL(mknodat))
    r = real_mknodat(dirfd, p1, mode, dev);
  else if (REAL(__xmknodat))
    r = real___xmknodat(0, dirfd, p1, mode, &dev);
  else {
    errno = ENOSYS;
    return -1;
  }
  LEARN("mknod", "write", dirfd, path, p1, r < 0);
  return r;
}
SHIM_EXPORT int __xmknod(int ver, const char *path, mode_t mode, dev_t *dev) {
  MAP(1, AT_FDCWD, path, -1);
  int r;
  if (REAL(__xmknod))
    r = real___xmknod(ver, p1, mode, dev);
  else if (REAL(mknod))
    r = real_mknod(p1, mode, *dev);
  else {
    errno = ENOSYS;
    return -1;
  }
  LEARN("mknod", "write", AT_FDCWD, path, p1, r < 0);
  return r;
}
SHIM_EXPORT int __xmknodat(int ver, int dirfd, const char *path, mode_t mode, dev_t *dev) {
  MAP(1, dirfd, path, -1);
  int r;
  if (REAL(__xmknodat))
    r = real___xmknodat(ver, dirfd, p1, mode, dev);
  else if (REAL(mknodat))
    r = real_mknodat(dirfd, p1, mode, *dev);
  else {
    errno = ENOSYS;
    return -1;
  }
  LEARN("mknod", "write", dirfd, path, p1, r < 0);
  return r;
}
