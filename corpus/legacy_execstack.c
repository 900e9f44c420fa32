/* legacy_execstack: linked with -z execstack, so its PT_GNU_STACK segment
 * asks for an executable stack, as old binaries built from assembly or with
 * GCC nested-function trampolines do. The code is trivial on purpose: the
 * trait is in the ELF headers, where decant's analyzer must report it, and a
 * container must still be able to run the binary. */
#include <stdio.h>

int main(void) {
  puts("execstack ok");
  return 0;
}
