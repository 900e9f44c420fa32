/* Finding "the next definition" of each libc function the shim wraps, the
 * way dlsym(RTLD_NEXT) would but without dlsym, and binding all of them once
 * at load (shim_bind_reals) so that no interposed call ever runs a symbol
 * lookup on the app's stack. Also tells the shim its own file name, for the
 * LD_PRELOAD of exec'd children. */
#define _GNU_SOURCE
#include "internal.h"

#include <elf.h>
#include <link.h>

/* dlsym(RTLD_NEXT) is not usable here: glibc < 2.34 callocs on the first
 * dlsym of each thread, and the first interposed call often comes from inside
 * a malloc's own initialization (jemalloc reads /etc/malloc.conf with its
 * init lock held), which then deadlocks. So the next definition is looked up
 * by walking the loaded objects with dl_iterate_phdr (no allocation) and
 * their GNU/SysV hash tables, with dlsym's rules: objects after this one in
 * load order, defined functions, the default version unless one is named. */
struct next_query {
  const char *name, *version;
  uint32_t gnu_hash, sysv_hash;
  int past_self;
  void *result;
};

static uint32_t gnu_hash(const char *s) {
  uint32_t h = 5381;
  for (; *s; s++) h = h * 33 + (unsigned char)*s;
  return h;
}

static uint32_t sysv_hash(const char *s) {
  uint32_t h = 0, g;
  for (; *s; s++) {
    h = (h << 4) + (unsigned char)*s;
    g = h & 0xf0000000u;
    if (g) h ^= g >> 24;
    h &= ~g;
  }
  return h;
}

static int contains_self(struct dl_phdr_info *info) {
  uintptr_t me = (uintptr_t)&contains_self;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
    if (ph->p_type == PT_LOAD && me >= lo && me < lo + ph->p_memsz) return 1;
  }
  return 0;
}

struct dyn_tables {
  const ElfW(Sym) *symtab;
  const char *strtab;
  const uint32_t *gnu, *sysv;
  const ElfW(Half) *versym;
  const char *verdef;
};

/* Candidate symbol index idx: a defined function of the wanted version? */
static void *check_sym(const struct dyn_tables *t, ElfW(Addr) base, uint32_t idx, const struct next_query *q) {
  const ElfW(Sym) *sym = &t->symtab[idx];
  int type = ELF64_ST_TYPE(sym->st_info), bind = ELF64_ST_BIND(sym->st_info);
  if (sym->st_shndx == SHN_UNDEF || (type != STT_FUNC && type != STT_GNU_IFUNC) ||
      (bind != STB_GLOBAL && bind != STB_WEAK) || !shim_str_eq(t->strtab + sym->st_name, q->name))
    return NULL;
  if (t->versym) {
    ElfW(Half) v = t->versym[idx];
    if (!q->version) {
      if (v & 0x8000) return NULL; /* hidden: a compat version, not the default */
    } else {
      const char *p = t->verdef;
      int match = 0;
      while (p) {
        const ElfW(Verdef) *vd = (const ElfW(Verdef) *)p;
        if (vd->vd_ndx == (v & 0x7fff)) {
          const ElfW(Verdaux) *aux = (const ElfW(Verdaux) *)(p + vd->vd_aux);
          match = shim_str_eq(t->strtab + aux->vda_name, q->version);
          break;
        }
        p = vd->vd_next ? p + vd->vd_next : NULL;
      }
      if (!match) return NULL;
    }
  } else if (q->version) {
    return NULL;
  }
  void *addr = (void *)(base + sym->st_value);
  if (type == STT_GNU_IFUNC) addr = ((void *(*)(void))addr)();
  return addr;
}

static int next_cb(struct dl_phdr_info *info, size_t size, void *data) {
  struct next_query *q = data;
  if (!q->past_self) {
    q->past_self = contains_self(info);
    return 0;
  }
  const ElfW(Dyn) *dyn = NULL;
  for (int i = 0; i < info->dlpi_phnum; i++)
    if (info->dlpi_phdr[i].p_type == PT_DYNAMIC) dyn = (const ElfW(Dyn) *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
  if (!dyn) return 0;
  struct dyn_tables t = {0};
  ElfW(Addr) base = info->dlpi_addr;
  for (; dyn->d_tag != DT_NULL; dyn++) {
    /* ld.so relocates these entries in place on most architectures but not
     * all; an address below the load base is still an offset. */
    ElfW(Addr) p = dyn->d_un.d_ptr;
    if (p < base) p += base;
    switch (dyn->d_tag) {
      case DT_SYMTAB: t.symtab = (const ElfW(Sym) *)p; break;
      case DT_STRTAB: t.strtab = (const char *)p; break;
      case DT_GNU_HASH: t.gnu = (const uint32_t *)p; break;
      case DT_HASH: t.sysv = (const uint32_t *)p; break;
      case DT_VERSYM: t.versym = (const ElfW(Half) *)p; break;
      case DT_VERDEF: t.verdef = (const char *)p; break;
    }
  }
  if (!t.symtab || !t.strtab) return 0;
  if (t.gnu) {
    uint32_t nbuckets = t.gnu[0], symoffset = t.gnu[1], bloom_size = t.gnu[2];
    if (nbuckets == 0) return 0;
    const uint32_t *buckets = (const uint32_t *)((const ElfW(Addr) *)(t.gnu + 4) + bloom_size);
    const uint32_t *chain = buckets + nbuckets;
    uint32_t idx = buckets[q->gnu_hash % nbuckets];
    if (idx < symoffset) return 0;
    for (;; idx++) {
      uint32_t h = chain[idx - symoffset];
      if ((h | 1) == (q->gnu_hash | 1) && (q->result = check_sym(&t, base, idx, q))) return 1;
      if (h & 1) break;
    }
  } else if (t.sysv) {
    uint32_t nbucket = t.sysv[0];
    const uint32_t *bucket = t.sysv + 2, *chain = bucket + nbucket;
    for (uint32_t idx = bucket[q->sysv_hash % nbucket]; idx; idx = chain[idx])
      if ((q->result = check_sym(&t, base, idx, q))) return 1;
  }
  return 0;
}

static void *lookup_next(const char *name, const char *version) {
  struct next_query q = {name, version, gnu_hash(name), sysv_hash(name), 0, NULL};
  dl_iterate_phdr(next_cb, &q);
  return q.result;
}

void *shim_next(const char *name) {
  void *p = lookup_next(name, NULL);
#ifdef __x86_64__
  /* The pre-2.33 stat family is compat-only (hidden) in newer glibc. */
  if (!p) p = lookup_next(name, "GLIBC_2.2.5");
#endif
  return p;
}

static int self_cb(struct dl_phdr_info *info, size_t size, void *data) {
  if (!contains_self(info)) return 0;
  *(const char **)data = info->dlpi_name;
  return 1;
}

const char *shim_self_name(void) {
  const char *self = NULL;
  dl_iterate_phdr(self_cb, &self);
  return self;
}

/* The linker collects every REAL_DECL entry between these two symbols. */
extern struct shim_real __start_shim_reals[] SHIM_HIDDEN;
extern struct shim_real __stop_shim_reals[] SHIM_HIDDEN;

SHIM_HIDDEN int shim_reals_bound;

void shim_bind_reals(void) {
  for (struct shim_real *r = __start_shim_reals; r < __stop_shim_reals; r++)
    __atomic_store_n(r->slot, shim_next(r->name), __ATOMIC_RELAXED);
  __atomic_store_n(&shim_reals_bound, 1, __ATOMIC_RELEASE);
}
