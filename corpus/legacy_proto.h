/* The line protocol that legacy_forkd, legacy_threadd and legacy_unixd all
 * speak, kept in one place so the three servers differ only in the legacy
 * trait they exercise (fork, threads, AF_UNIX) and tests can drive any of
 * them with the same client. */
#ifndef LEGACY_PROTO_H
#define LEGACY_PROTO_H

/* Sends `greeting` (which must end in "\n"), then answers PING, UNAME,
 * WHOAMI (with `whoami`) and QUIT lines on `fd` until QUIT or end of input.
 * Does not close `fd`. Returns 0 after QUIT or EOF, -1 on an I/O error. */
int proto_serve(int fd, const char *greeting, const char *whoami);

/* Writes all of `s`, retrying short writes. Returns 0 or -1. */
int proto_write_all(int fd, const char *s);

#endif
