/* legacy_oscheck: an app that insists on the OS it was certified for, as
 * vendor software often did: it reads /etc/redhat-release and the kernel
 * release from uname(), and refuses to start (exit 4) when the kernel major
 * version is newer than a maximum. In a container the kernel is the host's,
 * so this is what the shim's uname redirect is for; the release file is the
 * guest's and must come along in the image. -m sets the maximum. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

/* 0 means "no check"; a vendor build would compile in its certified major. */
#ifndef OSCHECK_MAX_MAJOR
#define OSCHECK_MAX_MAJOR 0
#endif

static void usage(void) {
  fprintf(stderr, "usage: legacy_oscheck [-m MAX_KERNEL_MAJOR]\n");
  exit(1);
}

int main(int argc, char **argv) {
  long max_major = OSCHECK_MAX_MAJOR;
  int opt;
  while ((opt = getopt(argc, argv, "m:")) != -1) {
    if (opt != 'm')
      usage();
    char *end;
    max_major = strtol(optarg, &end, 10);
    if (*end != '\0' || max_major < 0)
      usage();
  }

  FILE *f = fopen("/etc/redhat-release", "r");
  char line[256];
  if (f != NULL && fgets(line, sizeof line, f) != NULL) {
    line[strcspn(line, "\r\n")] = '\0';
    printf("%s\n", line);
  } else {
    printf("no redhat-release\n");
  }
  if (f != NULL)
    fclose(f);

  struct utsname u;
  if (uname(&u) < 0) {
    perror("legacy_oscheck: uname");
    return 2;
  }
  printf("kernel %s\n", u.release);
  long major = strtol(u.release, NULL, 10);
  if (max_major > 0 && major > max_major) {
    fprintf(stderr,
            "legacy_oscheck: kernel %s is newer than supported major %ld\n",
            u.release, max_major);
    return 4;
  }
  printf("os ok\n");
  return 0;
}
