/* try_syscall: a probe for seccomp policies, after bubblewrap's try-syscall
 * helper. `try_syscall NAME` makes that one system call with harmless bad
 * arguments (fd -1, NULL pointers, invalid flags or magic) so it can never
 * change the system, and exits with the resulting errno (0 on success). A
 * filter that blocks the call turns the kernel's EFAULT/EBADF/EINVAL into its
 * own EPERM (or ENOSYS), so tests read the exit code: EPERM means blocked,
 * anything else means the filter let the call through. Some calls check
 * privilege before their arguments, so without root the kernel itself may
 * answer EPERM, and a kernel built without a feature answers ENOSYS (seen:
 * kexec_load, init_module); tests should compare with an unfiltered run.
 * Exit 125 means an unknown NAME or a usage error. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

struct probe {
  const char *name;
  long (*call)(void);
};

/* Each probe documents the answer an unfiltered kernel gives as root. */
static long p_chroot(void) { return syscall(SYS_chroot, NULL); } /* EFAULT */
static long p_mount(void) { /* EFAULT: NULL target */
  return syscall(SYS_mount, NULL, NULL, NULL, 0UL, NULL);
}
static long p_umount2(void) { /* EFAULT */
  return syscall(SYS_umount2, NULL, 0);
}
static long p_swapon(void) { /* EINVAL: undefined flag bits */
  return syscall(SYS_swapon, NULL, 0x40000000);
}
static long p_ptrace(void) { /* ESRCH: there is no pid 0 to peek at */
  return syscall(SYS_ptrace, 2L /* PTRACE_PEEKDATA */, 0, NULL, NULL);
}
static long p_personality(void) { /* success: 0xffffffff only queries */
  return syscall(SYS_personality, 0xffffffffUL);
}
static long p_getpid(void) { return syscall(SYS_getpid); } /* success */
static long p_open(void) { /* EFAULT */
  return syscall(SYS_openat, AT_FDCWD, NULL, O_RDONLY);
}
static long p_socket(void) { /* EAFNOSUPPORT */
  return syscall(SYS_socket, -1, SOCK_STREAM, 0);
}
static long p_bind(void) { return syscall(SYS_bind, -1, NULL, 0); } /* EBADF */
static long p_kexec_load(void) { /* EINVAL; flags 0 would unload an image */
  return syscall(SYS_kexec_load, 0UL, 0UL, NULL, ~0UL);
}
static long p_reboot(void) { /* EINVAL: the kernel checks magic first */
  return syscall(SYS_reboot, 0, 0, 0, NULL);
}
static long p_unshare(void) { /* EINVAL: 0x1 is a signal bit, not a flag */
  return syscall(SYS_unshare, 0x1);
}
static long p_setns(void) { return syscall(SYS_setns, -1, 0); } /* EBADF */
static long p_bpf(void) { /* EINVAL: no such command */
  return syscall(SYS_bpf, 0x7fffffff, NULL, 0);
}
static long p_userfaultfd(void) { /* EINVAL: O_RDWR is not a valid flag */
  return syscall(SYS_userfaultfd, O_RDWR);
}
static long p_keyctl(void) { /* EOPNOTSUPP: no such operation */
  return syscall(SYS_keyctl, 0x7fffffff, 0, 0, 0, 0);
}
static long p_pivot_root(void) { /* EFAULT */
  return syscall(SYS_pivot_root, NULL, NULL);
}
static long p_sethostname(void) { /* EINVAL: negative length */
  return syscall(SYS_sethostname, NULL, -1);
}
static long p_clock_settime(void) { /* EINVAL: no such clock */
  return syscall(SYS_clock_settime, 1000, NULL);
}
static long p_init_module(void) { /* ENOEXEC: empty image */
  return syscall(SYS_init_module, NULL, 0UL, NULL);
}
static long p_perf_event_open(void) { /* EFAULT */
  return syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0UL);
}
#ifdef SYS_io_uring_setup
static long p_io_uring_setup(void) { /* EFAULT */
  return syscall(SYS_io_uring_setup, 1U, NULL);
}
#endif

static const struct probe probes[] = {
    {"chroot", p_chroot},
    {"mount", p_mount},
    {"umount2", p_umount2},
    {"swapon", p_swapon},
    {"ptrace", p_ptrace},
    {"personality", p_personality},
    {"getpid", p_getpid},
    {"open", p_open},
    {"socket", p_socket},
    {"bind", p_bind},
    {"kexec_load", p_kexec_load},
    {"reboot", p_reboot},
    {"unshare", p_unshare},
    {"setns", p_setns},
    {"bpf", p_bpf},
    {"userfaultfd", p_userfaultfd},
    {"keyctl", p_keyctl},
    {"pivot_root", p_pivot_root},
    {"sethostname", p_sethostname},
    {"clock_settime", p_clock_settime},
    {"init_module", p_init_module},
    {"perf_event_open", p_perf_event_open},
#ifdef SYS_io_uring_setup
    {"io_uring_setup", p_io_uring_setup},
#endif
};

static void usage(void) {
  fprintf(stderr, "usage: try_syscall NAME\nnames:");
  for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++)
    fprintf(stderr, " %s", probes[i].name);
  fputc('\n', stderr);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    usage();
    return 125;
  }
  for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
    if (strcmp(argv[1], probes[i].name) != 0)
      continue;
    errno = 0;
    long r = probes[i].call();
    int err = r == -1 ? errno : 0;
    printf("%s: errno %d (%s)\n", argv[1], err, strerror(err));
    return err;
  }
  fprintf(stderr, "try_syscall: unknown syscall name '%s'\n", argv[1]);
  usage();
  return 125;
}
