/* The learn-mode recorder (DECANT_LEARN=DIR): interposed calls describe
 * what the app did as one JSON line each, written with a single write() to
 * DIR/shim.PID.jsonl, opened after fork on the first record on a high
 * descriptor that is re-checked by inode before every write (daemons close
 * all descriptors). Identical records are written once per process. Record
 * buffers are scratch memory (scratch.c), not the app's stack. Format in
 * docs/shim.md, "Learn mode". */
#define _GNU_SOURCE
#include "internal.h"

#include <sched.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>

static int learn_fd = -1;
static int learn_pid;
static unsigned long learn_dev, learn_ino;
static int learn_lock;
static uint64_t learn_seen[8192];

/* Records longer than this are dropped, as are records for which no
 * scratch memory was left. */
#define JSON_CAP 6144

static void jput(struct shim_json *j, const char *s, size_t n) {
  if (j->overflow || j->n + n + 4 > j->cap) {
    j->overflow = 1;
    return;
  }
  memcpy(j->b + j->n, s, n);
  j->n += n;
}

static void jput_escaped(struct shim_json *j, const char *s) {
  static const char hex[] = "0123456789abcdef";
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    char e[6];
    if (c == '"' || c == '\\') {
      e[0] = '\\';
      e[1] = (char)c;
      jput(j, e, 2);
    } else if (c < 0x20 || c >= 0x7f) {
      /* Bytes, not UTF-8: a path is any byte string (docs/shim.md). */
      e[0] = '\\', e[1] = 'u', e[2] = '0', e[3] = '0', e[4] = hex[c >> 4], e[5] = hex[c & 15];
      jput(j, e, 6);
    } else {
      jput(j, (const char *)&c, 1);
    }
  }
}

void shim_json_begin(struct shim_json *j, const char *op) {
  j->n = 0;
  j->cap = JSON_CAP;
  j->b = shim_learning ? shim_alloc(JSON_CAP) : NULL;
  j->overflow = j->b == NULL;
  jput(j, "{\"op\":\"", 7);
  jput_escaped(j, op);
  jput(j, "\"", 1);
}

void shim_json_str(struct shim_json *j, const char *key, const char *value) {
  if (!value) return;
  jput(j, ",\"", 2);
  jput(j, key, shim_slen(key));
  jput(j, "\":\"", 3);
  jput_escaped(j, value);
  jput(j, "\"", 1);
}

void shim_json_int(struct shim_json *j, const char *key, long value) {
  char num[24], *e = num;
  jput(j, ",\"", 2);
  jput(j, key, shim_slen(key));
  jput(j, "\":", 2);
  if (value < 0) {
    *e++ = '-';
    value = -value;
  }
  e = shim_put_u(e, (unsigned long)value);
  jput(j, num, (size_t)(e - num));
}

/* FNV-1a over the concatenation of parts: a key never has to be built. */
static uint64_t key_hash(const char *const *parts, int n) {
  uint64_t h = 1469598103934665603ULL;
  for (int i = 0; i < n; i++)
    for (const char *s = parts[i]; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
  return h ? h : 1;
}

static int seen_before(uint64_t h) {
  size_t mask = sizeof learn_seen / sizeof learn_seen[0] - 1;
  for (size_t i = 0; i < 32; i++) {
    uint64_t *slot = &learn_seen[(h + i) & mask];
    uint64_t cur = __atomic_load_n(slot, __ATOMIC_RELAXED);
    if (cur == h) return 1;
    if (cur == 0) {
      uint64_t zero = 0;
      if (__atomic_compare_exchange_n(slot, &zero, h, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) return 0;
      if (zero == h) return 1;
    }
  }
  return 0; /* table crowded: write a duplicate rather than lose a record */
}

/* True when learn_fd is still the file this process opened: daemons close
 * every descriptor, and a reused number must never receive our records. */
static int learn_fd_ok(int pid) {
  struct stat st;
  if (learn_fd < 0 || learn_pid != pid) return 0;
  if (shim_sys(SYS_fstat, learn_fd, (long)&st, 0, 0, 0) < 0) return 0;
  return (unsigned long)st.st_dev == learn_dev && (unsigned long)st.st_ino == learn_ino;
}

static int learn_open(int pid) {
  SHIM_SCOPED char *path = shim_alloc(SHIM_BUF_BYTES);
  if (!path) return -1;
  char *p = path;
  size_t dl = shim_slen(shim_learn_dir);
  if (dl + 40 > SHIM_BUF_BYTES) return -1;
  memcpy(p, shim_learn_dir, dl);
  p += dl;
  memcpy(p, "/shim.", 6);
  p = shim_put_u(p + 6, (unsigned long)pid);
  memcpy(p, ".jsonl", 7);
  long fd = shim_sys(SYS_openat, AT_FDCWD, (long)path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644, 0);
  if (fd < 0) return -1;
  /* A high descriptor keeps out of the way of apps that expect 0, 1, 2... */
  long high = shim_sys(SYS_fcntl, fd, F_DUPFD_CLOEXEC, 900, 0, 0);
  if (high >= 0) {
    shim_sys(SYS_close, fd, 0, 0, 0, 0);
    fd = high;
  }
  struct stat st;
  if (shim_sys(SYS_fstat, fd, (long)&st, 0, 0, 0) < 0) {
    shim_sys(SYS_close, fd, 0, 0, 0, 0);
    return -1;
  }
  learn_dev = (unsigned long)st.st_dev;
  learn_ino = (unsigned long)st.st_ino;
  learn_fd = (int)fd;
  learn_pid = pid;
  return 0;
}

/* Writes the record unless its key hash (0: none) was seen before. */
static void emit(struct shim_json *j, uint64_t key) {
  if (!shim_learning || j->overflow) return;
  if (key && seen_before(key)) return;
  int pid = (int)shim_sys(SYS_getpid, 0, 0, 0, 0, 0);
  shim_json_int(j, "pid", pid);
  jput(j, "}\n", 2);
  if (!learn_fd_ok(pid)) {
    /* Bounded try-lock: a signal handler that interrupts the holder must
     * not deadlock; after a few tries the record is dropped instead. */
    int got = 0;
    for (int i = 0; i < 1000 && !got; i++) {
      int z = 0;
      got = __atomic_compare_exchange_n(&learn_lock, &z, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
      if (!got) sched_yield();
    }
    if (!got) return;
    int ok = learn_fd_ok(pid) || learn_open(pid) == 0;
    __atomic_store_n(&learn_lock, 0, __ATOMIC_RELEASE);
    if (!ok) return;
  }
  /* One write per record: O_APPEND keeps lines whole across threads. */
  shim_sys(SYS_write, learn_fd, (long)j->b, (long)j->n, 0, 0);
}

void shim_json_emit(struct shim_json *j, const char *dedup_key) {
  emit(j, dedup_key ? key_hash(&dedup_key, 1) : 0);
  shim_free(j->b);
  j->b = NULL;
}

void shim_learn_path(const char *op, const char *access, int dirfd, const char *path, const char *mapped, int err) {
  if (!shim_learning || !path) return;
  /* norm: the first half; the base directory: the second. */
  SHIM_SCOPED char *buf = shim_alloc(SHIM_BUF_BYTES);
  if (!buf) return;
  char *norm = buf, *base = buf + SHIM_PATH_MAX;
  const char *cwd = NULL;
  if (path[0] != '/') {
    if (shim_base_dir(dirfd, base) < 0) return;
    cwd = base;
  }
  if (shim_normalize(cwd, path, norm, SHIM_PATH_MAX) < 0) return;
  struct shim_json j;
  shim_json_begin(&j, op);
  shim_json_str(&j, "access", access);
  shim_json_str(&j, "path", norm);
  if (mapped && mapped != path) shim_json_str(&j, "target", mapped);
  shim_json_int(&j, "errno", err);
  /* One record per (op, access, path, outcome) and process is enough. */
  const char *key[4] = {op, access, err ? "!" : "=", norm};
  emit(&j, key_hash(key, 4));
  shim_free(j.b);
}

void shim_learn_start(void) {
  SHIM_SCOPED char *exe = shim_alloc(SHIM_PATH_MAX);
  if (!exe) return;
  long r = shim_sys(SYS_readlinkat, AT_FDCWD, (long)"/proc/self/exe", (long)exe, SHIM_PATH_MAX - 1, 0);
  if (r <= 0) return;
  exe[r] = 0;
  struct shim_json j;
  shim_json_begin(&j, "start");
  shim_json_str(&j, "exe", exe);
  shim_json_int(&j, "ppid", shim_sys(SYS_getppid, 0, 0, 0, 0, 0));
  shim_json_emit(&j, NULL);
}
