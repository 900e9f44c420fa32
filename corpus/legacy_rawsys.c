/* legacy_rawsys: makes system calls that bypass libc's named wrappers, the
 * way old code reached syscalls glibc did not wrap yet: syscall(SYS_getpid),
 * syscall(SYS_gettid), and on x86-64 a bare `syscall` instruction with the
 * number (110, getppid) loaded as an immediate. Symbol-based analysis sees
 * none of these; decant's disassembler must recover the numbers, and a
 * seccomp profile built without them would kill the program. It checks the
 * raw results against the libc wrappers so a wrong redirect is visible. */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void) {
  int ok = 1;
  long pid = syscall(SYS_getpid);
  long tid = syscall(SYS_gettid);
  printf("getpid %ld\n", pid);
  printf("gettid %ld\n", tid);
  ok &= pid == (long)getpid();
  ok &= tid == pid; /* the main thread's tid is the pid */
#ifdef __x86_64__
  long ppid;
  __asm__ volatile("mov $110, %%eax\n\tsyscall"
                   : "=a"(ppid)
                   :
                   : "rcx", "r11", "memory");
  printf("getppid %ld\n", ppid);
  ok &= ppid == (long)getppid();
#else
  printf("getppid skipped: inline syscall is x86-64 only\n");
#endif
  puts(ok ? "rawsys ok" : "rawsys MISMATCH");
  return ok ? 0 : 1;
}
