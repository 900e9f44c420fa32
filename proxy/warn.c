/* The proxy's one-line warnings on stderr, shared by the supervisor, the
 * handlers and the learn recorder (a file of its own so the handlers need
 * nothing from the supervisor that calls them). Built from raw writes: the
 * supervisor may run inside an init that has no stdio buffers to spare. */
#include "proxy_internal.h"

#include <unistd.h>

void proxy_warn(const struct proxy *p, const char *a, const char *b) {
  if (p && p->opt.quiet) return;
  char line[1024];
  size_t o = 0;
  const char *parts[4] = {"decant-proxy: ", a, b, "\n"};
  for (int i = 0; i < 4; i++)
    for (const char *s = parts[i]; s && *s && o < sizeof line; s++) line[o++] = *s;
  ssize_t r = write(2, line, o);
  (void)r;
}
