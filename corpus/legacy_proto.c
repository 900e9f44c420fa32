/* Request loop shared by the corpus servers. It deliberately uses only
 * read/write/uname so the syscalls it adds to each server are few and
 * predictable; UNAME exists so tests can see a shim's uname redirect from
 * the outside, WHOAMI so they can see which port the server really bound. */
#include "legacy_proto.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

struct linebuf {
  int fd;
  char buf[512];
  size_t len;
  size_t off;
};

int proto_write_all(int fd, const char *s) {
  size_t left = strlen(s);
  while (left > 0) {
    ssize_t n = write(fd, s, left);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return -1;
    }
    s += n;
    left -= (size_t)n;
  }
  return 0;
}

/* Reads one line without its terminator into out; an over-long line is
 * truncated rather than split, so a garbage line is one unknown command.
 * Returns 1 for a line, 0 at end of input, -1 on error. */
static int read_line(struct linebuf *lb, char *out, size_t outsz) {
  size_t used = 0;
  for (;;) {
    if (lb->off == lb->len) {
      ssize_t n = read(lb->fd, lb->buf, sizeof lb->buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return -1;
      if (n == 0) {
        out[used] = '\0';
        return used > 0 ? 1 : 0;
      }
      lb->len = (size_t)n;
      lb->off = 0;
    }
    char c = lb->buf[lb->off++];
    if (c == '\n')
      break;
    if (used + 1 < outsz)
      out[used++] = c;
  }
  if (used > 0 && out[used - 1] == '\r') /* telnet and nc -C send CRLF */
    used--;
  out[used] = '\0';
  return 1;
}

int proto_serve(int fd, const char *greeting, const char *whoami) {
  struct linebuf lb = {.fd = fd, .len = 0, .off = 0};
  char line[256];
  char reply[320];

  if (proto_write_all(fd, greeting) < 0)
    return -1;
  for (;;) {
    int r = read_line(&lb, line, sizeof line);
    if (r <= 0)
      return r;
    if (strcmp(line, "PING") == 0) {
      strcpy(reply, "PONG\n");
    } else if (strcmp(line, "UNAME") == 0) {
      struct utsname u;
      if (uname(&u) < 0)
        strcpy(reply, "ERR uname failed\n");
      else
        snprintf(reply, sizeof reply, "%s\n", u.release);
    } else if (strcmp(line, "WHOAMI") == 0) {
      snprintf(reply, sizeof reply, "%s\n", whoami);
    } else if (strcmp(line, "QUIT") == 0) {
      return 0;
    } else {
      strcpy(reply, "ERR unknown command\n");
    }
    if (proto_write_all(fd, reply) < 0)
      return -1;
  }
}
