/* The core of libdecant-shim.so: loads the plan once (constructor, or the
 * first interposed call that comes earlier), applies the precompiled seccomp
 * filter, maps paths for the interposed calls, writes learn-mode records and
 * builds the environment of exec'd children. Without a plan it does nothing:
 * every wrapper passes straight through to libc.
 *
 * Rules the code keeps because it runs inside someone else's process: no
 * malloc (memory comes from mmap, buffers from the stack), no blocking locks
 * (the only lock is a bounded try-lock around reopening the learn file), no
 * stdio, errno preserved, and the shim's own system calls go through
 * shim_sys() so they carry SHIM_SYSCALL_TAG. */
#define _GNU_SOURCE
#include "internal.h"

#include <elf.h>
#include <link.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char **environ;

SHIM_HIDDEN int shim_state;
SHIM_HIDDEN struct shim_plan shim_plan;
SHIM_HIDDEN int shim_active;
SHIM_HIDDEN int shim_learning;
SHIM_HIDDEN int shim_seccomp_applied;
static int shim_seccomp_failed;

static int init_owner_tid;

/* Environment captured at load, restored into exec'd children. */
static char env_plan[SHIM_PATH_MAX + 16];  /* "DECANT_PLAN=..." or "" */
static char env_learn[SHIM_PATH_MAX + 16]; /* "DECANT_LEARN=..." or "" */
static char self_path[SHIM_PATH_MAX];      /* this library, for LD_PRELOAD */
static char learn_dir[SHIM_PATH_MAX];

/* ---- raw helpers ---- */

long shim_sys(long nr, long a, long b, long c, long d, long e) {
  int saved = errno;
  long r = syscall(nr, a, b, c, d, e, (long)SHIM_SYSCALL_TAG);
  if (r == -1) r = -errno;
  errno = saved;
  return r;
}

static size_t slen(const char *s) {
  size_t n = 0;
  while (s[n]) n++;
  return n;
}

static int starts_with(const char *s, const char *prefix) {
  while (*prefix)
    if (*s++ != *prefix++) return 0;
  return 1;
}

static char *put_u(char *p, unsigned long v) {
  char rev[24];
  int n = 0;
  do {
    rev[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  while (n) *p++ = rev[--n];
  return p;
}

void shim_report(const char *a, const char *b, const char *c) {
  char line[1024];
  size_t n = 0;
  const char *parts[4] = {"decant-shim: ", a, b, c};
  for (int i = 0; i < 4; i++)
    for (const char *s = parts[i]; s && *s && n < sizeof line - 2; s++) line[n++] = *s;
  line[n++] = '\n';
  shim_sys(SYS_write, 2, (long)line, (long)n, 0, 0);
}

static const char *errno_name(long e) {
  switch (e) {
    case EPERM: return "EPERM (operation not permitted)";
    case EACCES: return "EACCES (no_new_privs not set and no CAP_SYS_ADMIN)";
    case EINVAL: return "EINVAL (the kernel rejected the program or an action it does not support)";
    case EFAULT: return "EFAULT (bad program address)";
    case ENOSYS: return "ENOSYS (kernel without seccomp filters)";
    case ENOENT: return "ENOENT (no such file)";
    case ENOMEM: return "ENOMEM (out of memory)";
    case EFBIG: return "EFBIG (file too large)";
    default: return "unexpected error";
  }
}

/* dlsym(RTLD_NEXT) is not usable here: glibc < 2.34 callocs on the first
 * dlsym of each thread, and the first interposed call often comes from inside
 * a malloc's own initialization (jemalloc reads /etc/malloc.conf with its
 * init lock held), which then deadlocks. So the next definition is looked up
 * by walking the loaded objects with dl_iterate_phdr (no allocation) and
 * their GNU/SysV hash tables, with dlsym's rules: objects after this one in
 * load order, defined functions, the default version unless one is named. */
struct next_query {
  const char *name, *version;
  uint32_t gnu_hash, sysv_hash;
  int past_self;
  void *result;
};

static uint32_t gnu_hash(const char *s) {
  uint32_t h = 5381;
  for (; *s; s++) h = h * 33 + (unsigned char)*s;
  return h;
}

static uint32_t sysv_hash(const char *s) {
  uint32_t h = 0, g;
  for (; *s; s++) {
    h = (h << 4) + (unsigned char)*s;
    g = h & 0xf0000000u;
    if (g) h ^= g >> 24;
    h &= ~g;
  }
  return h;
}

static int str_eq(const char *a, const char *b) {
  while (*a && *a == *b) a++, b++;
  return *a == *b;
}

static int contains_self(struct dl_phdr_info *info) {
  uintptr_t me = (uintptr_t)&contains_self;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
    if (ph->p_type == PT_LOAD && me >= lo && me < lo + ph->p_memsz) return 1;
  }
  return 0;
}

struct dyn_tables {
  const ElfW(Sym) *symtab;
  const char *strtab;
  const uint32_t *gnu, *sysv;
  const ElfW(Half) *versym;
  const char *verdef;
};

/* Candidate symbol index idx: a defined function of the wanted version? */
static void *check_sym(const struct dyn_tables *t, ElfW(Addr) base, uint32_t idx, const struct next_query *q) {
  const ElfW(Sym) *sym = &t->symtab[idx];
  int type = ELF64_ST_TYPE(sym->st_info), bind = ELF64_ST_BIND(sym->st_info);
  if (sym->st_shndx == SHN_UNDEF || (type != STT_FUNC && type != STT_GNU_IFUNC) ||
      (bind != STB_GLOBAL && bind != STB_WEAK) || !str_eq(t->strtab + sym->st_name, q->name))
    return NULL;
  if (t->versym) {
    ElfW(Half) v = t->versym[idx];
    if (!q->version) {
      if (v & 0x8000) return NULL; /* hidden: a compat version, not the default */
    } else {
      const char *p = t->verdef;
      int match = 0;
      while (p) {
        const ElfW(Verdef) *vd = (const ElfW(Verdef) *)p;
        if (vd->vd_ndx == (v & 0x7fff)) {
          const ElfW(Verdaux) *aux = (const ElfW(Verdaux) *)(p + vd->vd_aux);
          match = str_eq(t->strtab + aux->vda_name, q->version);
          break;
        }
        p = vd->vd_next ? p + vd->vd_next : NULL;
      }
      if (!match) return NULL;
    }
  } else if (q->version) {
    return NULL;
  }
  void *addr = (void *)(base + sym->st_value);
  if (type == STT_GNU_IFUNC) addr = ((void *(*)(void))addr)();
  return addr;
}

static int next_cb(struct dl_phdr_info *info, size_t size, void *data) {
  struct next_query *q = data;
  if (!q->past_self) {
    q->past_self = contains_self(info);
    return 0;
  }
  const ElfW(Dyn) *dyn = NULL;
  for (int i = 0; i < info->dlpi_phnum; i++)
    if (info->dlpi_phdr[i].p_type == PT_DYNAMIC) dyn = (const ElfW(Dyn) *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
  if (!dyn) return 0;
  struct dyn_tables t = {0};
  ElfW(Addr) base = info->dlpi_addr;
  for (; dyn->d_tag != DT_NULL; dyn++) {
    /* ld.so relocates these entries in place on most architectures but not
     * all; an address below the load base is still an offset. */
    ElfW(Addr) p = dyn->d_un.d_ptr;
    if (p < base) p += base;
    switch (dyn->d_tag) {
      case DT_SYMTAB: t.symtab = (const ElfW(Sym) *)p; break;
      case DT_STRTAB: t.strtab = (const char *)p; break;
      case DT_GNU_HASH: t.gnu = (const uint32_t *)p; break;
      case DT_HASH: t.sysv = (const uint32_t *)p; break;
      case DT_VERSYM: t.versym = (const ElfW(Half) *)p; break;
      case DT_VERDEF: t.verdef = (const char *)p; break;
    }
  }
  if (!t.symtab || !t.strtab) return 0;
  if (t.gnu) {
    uint32_t nbuckets = t.gnu[0], symoffset = t.gnu[1], bloom_size = t.gnu[2];
    if (nbuckets == 0) return 0;
    const uint32_t *buckets = (const uint32_t *)((const ElfW(Addr) *)(t.gnu + 4) + bloom_size);
    const uint32_t *chain = buckets + nbuckets;
    uint32_t idx = buckets[q->gnu_hash % nbuckets];
    if (idx < symoffset) return 0;
    for (;; idx++) {
      uint32_t h = chain[idx - symoffset];
      if ((h | 1) == (q->gnu_hash | 1) && (q->result = check_sym(&t, base, idx, q))) return 1;
      if (h & 1) break;
    }
  } else if (t.sysv) {
    uint32_t nbucket = t.sysv[0];
    const uint32_t *bucket = t.sysv + 2, *chain = bucket + nbucket;
    for (uint32_t idx = bucket[q->sysv_hash % nbucket]; idx; idx = chain[idx])
      if ((q->result = check_sym(&t, base, idx, q))) return 1;
  }
  return 0;
}

static void *lookup_next(const char *name, const char *version) {
  struct next_query q = {name, version, gnu_hash(name), sysv_hash(name), 0, NULL};
  dl_iterate_phdr(next_cb, &q);
  return q.result;
}

void *shim_next(const char *name) {
  void *p = lookup_next(name, NULL);
#ifdef __x86_64__
  /* The pre-2.33 stat family is compat-only (hidden) in newer glibc. */
  if (!p) p = lookup_next(name, "GLIBC_2.2.5");
#endif
  return p;
}

static int self_cb(struct dl_phdr_info *info, size_t size, void *data) {
  if (!contains_self(info)) return 0;
  *(const char **)data = info->dlpi_name;
  return 1;
}

/* ---- init ---- */

static const char *env_value(const char *name_eq) {
  for (char **e = environ; e && *e; e++)
    if (starts_with(*e, name_eq)) return *e + slen(name_eq);
  return NULL;
}

static void copy_str(char *dst, size_t cap, const char *a, const char *b) {
  size_t n = 0;
  for (; a && *a && n + 1 < cap; a++) dst[n++] = *a;
  for (; b && *b && n + 1 < cap; b++) dst[n++] = *b;
  dst[n] = 0;
}

/* Reads the plan file into anonymous memory; returns its length or -1. */
static long read_plan(const char *path, char **out, long *err) {
  long fd = shim_sys(SYS_openat, AT_FDCWD, (long)path, O_RDONLY | O_CLOEXEC, 0, 0);
  if (fd < 0) {
    *err = -fd;
    return -1;
  }
  long size = shim_sys(SYS_lseek, fd, 0, SEEK_END, 0, 0);
  if (size < 0 || size > (long)SHIM_PLAN_MAX_BYTES) {
    *err = size < 0 ? -size : EFBIG;
    shim_sys(SYS_close, fd, 0, 0, 0, 0);
    return -1;
  }
  char *buf = mmap(NULL, (size_t)size + 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (buf == MAP_FAILED) {
    *err = ENOMEM;
    shim_sys(SYS_close, fd, 0, 0, 0, 0);
    return -1;
  }
  long got = 0;
  while (got < size) {
    long r = shim_sys(SYS_pread64, fd, (long)(buf + got), size - got, got, 0);
    if (r == -EINTR) continue;
    if (r <= 0) break;
    got += r;
  }
  shim_sys(SYS_close, fd, 0, 0, 0, 0);
  *out = buf;
  return got;
}

static void load_plan(void) {
  const char *explicit_path = env_value("DECANT_PLAN=");
  const char *path = explicit_path && *explicit_path ? explicit_path : "/.decant/plan";
  char *text = NULL;
  long err = 0;
  long len = read_plan(path, &text, &err);
  if (len < 0) {
    /* The default location missing just means "not in a decant container". */
    if (explicit_path && *explicit_path) shim_report("cannot read plan ", path, ": redirects are off");
    return;
  }
  size_t arena_size = shim_plan_arena_bytes(text, (size_t)len);
  void *arena = mmap(NULL, arena_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (arena == MAP_FAILED) {
    shim_report("cannot map memory for plan ", path, ": redirects are off");
    return;
  }
  struct shim_plan plan;
  char msg[256];
  if (shim_plan_parse(text, (size_t)len, arena, arena_size, &plan, msg, sizeof msg) < 0) {
    char where[SHIM_PATH_MAX + 8];
    copy_str(where, sizeof where, path, ": ");
    shim_report("invalid plan ", where, msg);
    return;
  }
  /* Published before shim_state becomes READY (release store in init). */
  shim_plan = plan;
  shim_active = 1;
  if (explicit_path && *explicit_path) copy_str(env_plan, sizeof env_plan, "DECANT_PLAN=", explicit_path);
}

static void apply_seccomp(void) {
  const struct shim_plan *p = &shim_plan;
  const char *mode = p->seccomp_mode == SHIM_SECCOMP_LOG ? "log" : "enforce";
  if (p->seccomp_mode == SHIM_SECCOMP_OFF || p->bpf_len == 0) return;
  /* Filters survive fork and exec: an exec'd child of a confined process
   * already runs under this filter and must not stack a second copy. */
  const char *mark = env_value("DECANT_SHIM_SECCOMP=");
  if (mark && mark[0] == '1' && shim_sys(SYS_prctl, PR_GET_SECCOMP, 0, 0, 0, 0) != 0) {
    shim_seccomp_applied = 1;
    return;
  }
  /* An ancestor already reported why the filter cannot be applied. */
  if (mark && starts_with(mark, "failed")) {
    shim_seccomp_failed = 1;
    return;
  }
#if defined(__x86_64__)
  const char *native = "x86_64";
#elif defined(__aarch64__)
  const char *native = "aarch64";
#elif defined(__i386__)
  const char *native = "i386";
#else
  const char *native = NULL;
#endif
  /* A filter for another architecture would kill on its arch check. */
  if (native && p->seccomp_arch && !str_eq(p->seccomp_arch, native) &&
      !(str_eq(p->seccomp_arch, "x86") && str_eq(native, "i386"))) {
    shim_report("seccomp filter in the plan is for ", p->seccomp_arch, ", not this machine; not applied");
    shim_seccomp_failed = 1;
    return;
  }
  if (p->bpf_len % sizeof(struct sock_filter) != 0 || p->bpf_len / sizeof(struct sock_filter) > BPF_MAXINSNS) {
    shim_report("seccomp filter in the plan has an invalid length (mode ", mode, "); not applied");
    shim_seccomp_failed = 1;
    return;
  }
  struct sock_fprog prog;
  prog.len = (unsigned short)(p->bpf_len / sizeof(struct sock_filter));
  prog.filter = (struct sock_filter *)(uintptr_t)p->bpf;
  long r = shim_sys(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  if (r == 0) {
    r = shim_sys(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, (long)&prog, 0, 0);
    if (r == -ENOSYS) r = shim_sys(SYS_prctl, PR_SET_SECCOMP, SECCOMP_MODE_FILTER, (long)&prog, 0, 0);
  }
  if (r < 0) {
    char m[64];
    copy_str(m, sizeof m, mode, "): ");
    shim_report("cannot apply the seccomp filter (mode ", m, errno_name(-r));
    shim_seccomp_failed = 1;
    return;
  }
  shim_seccomp_applied = 1;
}

static void learn_start(void);

void shim_init_slow(void) {
  int tid = (int)shim_sys(SYS_gettid, 0, 0, 0, 0, 0);
  int expected = SHIM_UNINIT;
  if (!__atomic_compare_exchange_n(&shim_state, &expected, SHIM_INITIALIZING, 0, __ATOMIC_ACQ_REL,
                                   __ATOMIC_ACQUIRE)) {
    /* Re-entered from our own initialization: carry on without redirects. */
    if (__atomic_load_n(&init_owner_tid, __ATOMIC_RELAXED) == tid) return;
    while (__atomic_load_n(&shim_state, __ATOMIC_ACQUIRE) != SHIM_READY) sched_yield();
    return;
  }
  __atomic_store_n(&init_owner_tid, tid, __ATOMIC_RELAXED);

  /* This library's path as the loader knows it, for children's LD_PRELOAD. */
  const char *self = NULL;
  dl_iterate_phdr(self_cb, &self);
  if (self && self[0]) copy_str(self_path, sizeof self_path, self, NULL);
  const char *learn = env_value("DECANT_LEARN=");
  if (learn && learn[0] == '/') {
    copy_str(learn_dir, sizeof learn_dir, learn, NULL);
    copy_str(env_learn, sizeof env_learn, "DECANT_LEARN=", learn);
    shim_learning = 1;
  }
  load_plan();
  /* The learn supervisor observes syscalls itself; enforcing would hide them. */
  if (shim_active && !shim_learning) apply_seccomp();
  __atomic_store_n(&shim_state, SHIM_READY, __ATOMIC_RELEASE);
  if (shim_learning) learn_start();
}

__attribute__((constructor)) static void shim_constructor(void) { shim_init(); }

/* ---- path mapping ---- */

/* Directory a relative path is resolved against, into buf. */
static int base_dir(int dirfd, char *buf) {
  long r;
  if (dirfd == AT_FDCWD) {
    r = shim_sys(SYS_getcwd, (long)buf, SHIM_PATH_MAX, 0, 0, 0);
    return r > 0 && buf[0] == '/' ? 0 : -1;
  }
  char link[40] = "/proc/self/fd/";
  *put_u(link + 14, (unsigned long)dirfd) = 0;
  r = shim_sys(SYS_readlinkat, AT_FDCWD, (long)link, (long)buf, SHIM_PATH_MAX - 1, 0);
  if (r <= 0 || buf[0] != '/') return -1;
  buf[r] = 0;
  return 0;
}

const char *shim_map_path_slow(int dirfd, const char *path, char *buf) {
  char scratch[SHIM_PATH_MAX];
  const struct shim_path_rule *rule;
  long n;
  if (path[0] == '/') {
    if (shim_path_is_clean(path)) {
      size_t len = slen(path);
      rule = shim_match_path(&shim_plan, path, len);
      if (!rule) return path;
      n = shim_apply_path_rule(rule, path, len, buf, SHIM_PATH_MAX);
      if (n < 0) goto too_long;
      return buf;
    }
    n = shim_normalize(NULL, path, scratch, sizeof scratch);
  } else {
    if (path[0] == 0 || base_dir(dirfd, buf) < 0) return path;
    n = shim_normalize(buf, path, scratch, sizeof scratch);
  }
  if (n < 0) return path;
  rule = shim_match_path(&shim_plan, scratch, (size_t)n);
  if (!rule) return path; /* untouched: the kernel resolves it as the app wrote it */
  n = shim_apply_path_rule(rule, scratch, (size_t)n, buf, SHIM_PATH_MAX);
  if (n < 0) goto too_long;
  return buf;
too_long:
  errno = ENAMETOOLONG;
  return NULL;
}

/* ---- learn mode ---- */

static int learn_fd = -1;
static int learn_pid;
static unsigned long learn_dev, learn_ino;
static int learn_lock;
static uint64_t learn_seen[8192];

static void jput(struct shim_json *j, const char *s, size_t n) {
  if (j->n + n + 4 > sizeof j->b) {
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
  j->overflow = 0;
  jput(j, "{\"op\":\"", 7);
  jput_escaped(j, op);
  jput(j, "\"", 1);
}

void shim_json_str(struct shim_json *j, const char *key, const char *value) {
  if (!value) return;
  jput(j, ",\"", 2);
  jput(j, key, slen(key));
  jput(j, "\":\"", 3);
  jput_escaped(j, value);
  jput(j, "\"", 1);
}

void shim_json_int(struct shim_json *j, const char *key, long value) {
  char num[24], *e = num;
  jput(j, ",\"", 2);
  jput(j, key, slen(key));
  jput(j, "\":", 2);
  if (value < 0) {
    *e++ = '-';
    value = -value;
  }
  e = put_u(e, (unsigned long)value);
  jput(j, num, (size_t)(e - num));
}

static int seen_before(const char *key) {
  uint64_t h = 1469598103934665603ULL;
  for (const char *s = key; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
  if (h == 0) h = 1;
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
  char path[SHIM_PATH_MAX + 64];
  char *p = path;
  size_t dl = slen(learn_dir);
  if (dl + 40 > sizeof path) return -1;
  memcpy(p, learn_dir, dl);
  p += dl;
  memcpy(p, "/shim.", 6);
  p = put_u(p + 6, (unsigned long)pid);
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

void shim_json_emit(struct shim_json *j, const char *dedup_key) {
  if (!shim_learning || j->overflow) return;
  if (dedup_key && seen_before(dedup_key)) return;
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

void shim_learn_path(const char *op, const char *access, int dirfd, const char *path, const char *mapped, int err) {
  if (!shim_learning || !path) return;
  char base[SHIM_PATH_MAX], norm[SHIM_PATH_MAX];
  const char *cwd = NULL;
  if (path[0] != '/') {
    if (base_dir(dirfd, base) < 0) return;
    cwd = base;
  }
  if (shim_normalize(cwd, path, norm, sizeof norm) < 0) return;
  struct shim_json j;
  shim_json_begin(&j, op);
  shim_json_str(&j, "access", access);
  shim_json_str(&j, "path", norm);
  if (mapped && mapped != path) shim_json_str(&j, "target", mapped);
  shim_json_int(&j, "errno", err);
  /* One record per (op, access, path, outcome) and process is enough. */
  char key[SHIM_PATH_MAX + 64];
  copy_str(key, sizeof key, op, access);
  size_t kl = slen(key);
  key[kl++] = err ? '!' : '=';
  copy_str(key + kl, sizeof key - kl, norm, NULL);
  shim_json_emit(&j, key);
}

static void learn_start(void) {
  char exe[SHIM_PATH_MAX];
  long r = shim_sys(SYS_readlinkat, AT_FDCWD, (long)"/proc/self/exe", (long)exe, sizeof exe - 1, 0);
  if (r <= 0) return;
  exe[r] = 0;
  struct shim_json j;
  shim_json_begin(&j, "start");
  shim_json_str(&j, "exe", exe);
  shim_json_int(&j, "ppid", shim_sys(SYS_getppid, 0, 0, 0, 0, 0));
  shim_json_emit(&j, NULL);
}

/* ---- environment of exec'd children ---- */

size_t shim_env_count(char *const *envp) {
  size_t n = 0;
  while (envp && envp[n]) n++;
  return n;
}

/* True when the colon/space separated list contains our library. */
static int preload_has_self(const char *list) {
  size_t sl = slen(self_path);
  if (sl == 0) return 1;
  for (const char *s = list; *s;) {
    while (*s == ':' || *s == ' ') s++;
    const char *e = s;
    while (*e && *e != ':' && *e != ' ') e++;
    if ((size_t)(e - s) == sl && memcmp(s, self_path, sl) == 0) return 1;
    s = e;
  }
  return 0;
}

char *const *shim_child_env(char *const *envp, char **out, size_t out_len, char *scratch, size_t scratch_len) {
  shim_init();
  if ((!shim_active && !shim_learning) || self_path[0] == 0) return envp;
  size_t n = 0;
  int has_plan = env_plan[0] == 0, has_learn = env_learn[0] == 0;
  int has_mark = !shim_seccomp_applied && !shim_seccomp_failed;
  int preload_ok = 0;
  for (size_t i = 0; envp && envp[i]; i++) {
    const char *e = envp[i];
    if (starts_with(e, "LD_PRELOAD=")) {
      if (preload_has_self(e + 11)) {
        preload_ok = 1;
      } else {
        /* Ours first, then whatever the app wanted preloaded. */
        copy_str(scratch, scratch_len, "LD_PRELOAD=", self_path);
        size_t l = slen(scratch);
        if (e[11] && l + 1 < scratch_len) {
          scratch[l++] = ':';
          copy_str(scratch + l, scratch_len - l, e + 11, NULL);
        }
        e = scratch;
        preload_ok = 1;
      }
    }
    if (starts_with(e, "DECANT_PLAN=")) has_plan = 1;
    if (starts_with(e, "DECANT_LEARN=")) has_learn = 1;
    if (starts_with(e, "DECANT_SHIM_SECCOMP=")) has_mark = 1;
    if (n + 5 < out_len) out[n++] = (char *)e;
  }
  if (!preload_ok) {
    copy_str(scratch, scratch_len, "LD_PRELOAD=", self_path);
    out[n++] = scratch;
  }
  if (!has_plan) out[n++] = env_plan;
  if (!has_learn) out[n++] = env_learn;
  if (!has_mark) out[n++] = (char *)(shim_seccomp_applied ? "DECANT_SHIM_SECCOMP=1" : "DECANT_SHIM_SECCOMP=failed");
  out[n] = NULL;
  return out;
}
