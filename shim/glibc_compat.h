/* Pins every versioned glibc symbol the shim references to its oldest
 * version, so a shim built on a new glibc still loads into apps built for
 * glibc 2.17. Included first by every shim source file: a .symver directive
 * only affects the translation unit it appears in. The test
 * shim.glibc_floor checks the result with `decant analyze` and objdump, so a
 * new call to a libc function that has a newer default version fails there
 * instead of in a customer's container.
 *
 * On x86-64 the oldest version of nearly everything is GLIBC_2.2.5; on
 * aarch64 the whole ABI starts at GLIBC_2.17, so nothing older exists and
 * nothing needs pinning. The shim does not use dlsym at all (it lived in
 * libdl.so.2 before glibc 2.34 and allocates on first use there; see
 * shim_next in symbols.c), so libc.so.6 is its only dependency. */
#ifndef DECANT_SHIM_GLIBC_COMPAT_H
#define DECANT_SHIM_GLIBC_COMPAT_H

#if defined(__x86_64__) && !defined(DECANT_SHIM_NO_PINS)
#define DECANT_PIN(sym, ver) __asm__(".symver " #sym "," #sym "@" ver)
DECANT_PIN(dl_iterate_phdr, "GLIBC_2.2.5");
DECANT_PIN(memcpy, "GLIBC_2.2.5");
DECANT_PIN(memmove, "GLIBC_2.2.5");
DECANT_PIN(memset, "GLIBC_2.2.5");
DECANT_PIN(memcmp, "GLIBC_2.2.5");
DECANT_PIN(strlen, "GLIBC_2.2.5");
DECANT_PIN(syscall, "GLIBC_2.2.5");
DECANT_PIN(mmap, "GLIBC_2.2.5");
DECANT_PIN(munmap, "GLIBC_2.2.5");
DECANT_PIN(__errno_location, "GLIBC_2.2.5");
DECANT_PIN(environ, "GLIBC_2.2.5");
DECANT_PIN(sched_yield, "GLIBC_2.2.5");
#undef DECANT_PIN
#endif

#endif
