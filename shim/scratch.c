/* Scratch memory for the interposed calls, so that none of them puts a path
 * buffer on the app's stack (apps run the shim on 16 KiB thread stacks and
 * 8 KiB signal stacks; see docs/shim.md, "Stack use"). A call takes 8 KiB
 * buffers from a fixed pool in .bss with one atomic compare-and-swap on a
 * bitmap and gives them back when it returns; a signal handler that
 * interrupts it on the same thread simply takes another buffer. Only when
 * every pool buffer is in use (or a request is larger, such as the
 * environment array of an exec with a huge environment) does memory come
 * from mmap, released again with munmap. Thread-local buffers are not an
 * option: glibc carves static TLS out of every thread's stack, so large
 * __thread arrays would themselves break 16 KiB threads. */
#define _GNU_SOURCE
#include "internal.h"

#include <sys/mman.h>

#define POOL_WORDS 2
#define POOL_BUFS (POOL_WORDS * 64)

static char pool[POOL_BUFS][SHIM_BUF_BYTES] __attribute__((aligned(4096)));
static uint64_t pool_used[POOL_WORDS];

/* Header of an mmap'd block, so shim_free knows its size. */
#define MAP_HEADER 16

static void *from_pool(void) {
  /* Start at a word picked by the stack address: threads spread out. */
  unsigned first = (unsigned)(((uintptr_t)__builtin_frame_address(0) >> 16) % POOL_WORDS);
  for (unsigned k = 0; k < POOL_WORDS; k++) {
    unsigned w = (first + k) % POOL_WORDS;
    uint64_t cur = __atomic_load_n(&pool_used[w], __ATOMIC_RELAXED);
    while (~cur) {
      int bit = __builtin_ctzll(~cur);
      if (__atomic_compare_exchange_n(&pool_used[w], &cur, cur | (1ULL << bit), 1, __ATOMIC_ACQUIRE,
                                      __ATOMIC_RELAXED))
        return pool[w * 64 + (unsigned)bit];
    }
  }
  return NULL;
}

void *shim_alloc(size_t bytes) {
  if (bytes <= SHIM_BUF_BYTES) {
    void *p = from_pool();
    if (p) return p;
    bytes = SHIM_BUF_BYTES;
  }
  if (bytes > ((size_t)1 << 40)) return NULL;
  int saved = errno;
  char *m = mmap(NULL, bytes + MAP_HEADER, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  errno = saved;
  if (m == MAP_FAILED) return NULL;
  *(size_t *)m = bytes + MAP_HEADER;
  return m + MAP_HEADER;
}

void shim_free(void *p) {
  char *c = p;
  if (!c) return;
  if (c >= pool[0] && c < pool[POOL_BUFS]) {
    size_t i = (size_t)(c - pool[0]) / SHIM_BUF_BYTES;
    __atomic_fetch_and(&pool_used[i / 64], ~(1ULL << (i % 64)), __ATOMIC_RELEASE);
    return;
  }
  int saved = errno;
  munmap(c - MAP_HEADER, *(size_t *)(c - MAP_HEADER));
  errno = saved;
}

void shim_free_ptr(void *pp) { shim_free(*(void **)pp); }
