/* The syslog relay: a daemon that logs only through syslog(3) writes
 * datagrams to /dev/log, which nothing reads in a container. decant-init
 * binds that socket and writes each message as one line on its stderr, so
 * it shows in `podman logs` and `decant run`. Not a syslog daemon: no files,
 * no forwarding, no filtering by priority. */
#include "init.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

int init_syslog_open(const char *path) {
  struct sockaddr_un sa;
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  if (strlen(path) >= sizeof sa.sun_path) {
    init_warn("syslog socket %s: path too long", path);
    return -1;
  }
  strcpy(sa.sun_path, path);
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    init_warn("syslog socket: %s", strerror(errno));
    return -1;
  }
  /* A stale socket is replaced; any other file there is left alone. */
  struct stat st;
  if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) unlink(path);
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
    init_warn("syslog socket %s: %s (syslog messages are lost)", path, strerror(errno));
    close(fd);
    return -1;
  }
  /* Any service user may log, as with a VM's /dev/log. */
  if (chmod(path, 0666) != 0) init_warn("chmod %s: %s", path, strerror(errno));
  return fd;
}

/* "<PRI>message" with any embedded line breaks -> "message\n". */
static size_t format_line(char *buf, size_t n) {
  size_t start = 0;
  if (n > 0 && buf[0] == '<') {
    size_t i = 1;
    while (i < n && i < 5 && buf[i] >= '0' && buf[i] <= '9') i++;
    if (i > 1 && i < n && buf[i] == '>') start = i + 1;
  }
  size_t out = 0;
  for (size_t i = start; i < n; i++) {
    unsigned char c = (unsigned char)buf[i];
    buf[out++] = (c < 0x20 && c != '\t') || c == 0x7f ? ' ' : (char)c;
  }
  while (out > 0 && buf[out - 1] == ' ') out--;
  buf[out++] = '\n';
  return out;
}

void init_syslog_drain(int fd) {
  char buf[8193];
  for (int i = 0; i < 256; i++) { /* bounded, so a flood cannot starve the signals */
    ssize_t n = recv(fd, buf, sizeof buf - 1, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    size_t len = format_line(buf, (size_t)n);
    if (len > 1) (void)!write(2, buf, len);
  }
}
