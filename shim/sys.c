/* The shim's own system calls and the few string helpers every part of it
 * shares. shim_sys() is the only way the shim talks to the kernel once the
 * app runs: it tags the call (DECANT_SHIM_SYSCALL_TAG from plan_contract.h
 * in the sixth argument register, see docs/shim.md "Own system calls") and
 * leaves errno alone.
 * Nothing here allocates, locks or uses stdio, so it runs in signal
 * handlers and between fork and exec. */
#define _GNU_SOURCE
#include "internal.h"

#include <stdarg.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char **environ;

long shim_sys(long nr, long a, long b, long c, long d, long e) {
  int saved = errno;
  long r = syscall(nr, a, b, c, d, e, (long)DECANT_SHIM_SYSCALL_TAG);
  if (r == -1) r = -errno;
  errno = saved;
  return r;
}

size_t shim_slen(const char *s) {
  size_t n = 0;
  while (s[n]) n++;
  return n;
}

int shim_starts_with(const char *s, const char *prefix) {
  while (*prefix)
    if (*s++ != *prefix++) return 0;
  return 1;
}

int shim_str_eq(const char *a, const char *b) {
  while (*a && *a == *b) a++, b++;
  return *a == *b;
}

char *shim_put_u(char *p, unsigned long v) {
  char rev[24];
  int n = 0;
  do {
    rev[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  while (n) *p++ = rev[--n];
  return p;
}

void shim_copy_str(char *dst, size_t cap, const char *a, const char *b) {
  size_t n = 0;
  for (; a && *a && n + 1 < cap; a++) dst[n++] = *a;
  for (; b && *b && n + 1 < cap; b++) dst[n++] = *b;
  dst[n] = 0;
}

const char *shim_env_value(const char *name_eq) {
  for (char **e = environ; e && *e; e++)
    if (shim_starts_with(*e, name_eq)) return *e + shim_slen(name_eq);
  return NULL;
}

void shim_report(const char *first, ...) {
  /* One write per line, so it stays whole; a short line on the stack when
   * not even scratch memory is left. */
  char small[256];
  char *line = shim_alloc(SHIM_BUF_BYTES);
  size_t cap = line ? SHIM_BUF_BYTES : sizeof small;
  if (!line) line = small;
  size_t n = 0;
  for (const char *s = "decant-shim: "; *s; s++) line[n++] = *s;
  va_list ap;
  va_start(ap, first);
  for (const char *part = first; part; part = va_arg(ap, const char *))
    for (const char *s = part; *s && n < cap - 2; s++) line[n++] = *s;
  va_end(ap);
  line[n++] = '\n';
  shim_sys(SYS_write, 2, (long)line, (long)n, 0, 0);
  if (line != small) shim_free(line);
}
