/* Plan parsing and the pure redirect logic of the shim (see plan.h). The
 * plan is a line-oriented text file so it can be read with `cat` when a
 * redirect surprises someone; it is parsed exactly once, in place, into
 * arrays in a caller-provided arena, and every lookup afterwards only reads
 * those arrays: no allocation, no locks, safe from any thread or signal
 * handler. */
#include "glibc_compat.h"

#include "plan.h"

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

/* ---- small string helpers (no locale, no allocation) ---- */

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

static void set_err(char *err, size_t errlen, long line, const char *a, const char *b) {
  /* "line N: A B", built by hand because snprintf may allocate. */
  char num[24];
  int n = 0;
  size_t o = 0;
  if (errlen == 0) return;
  if (line > 0) {
    long v = line;
    char rev[24];
    while (v > 0 && n < 20) {
      rev[n++] = (char)('0' + v % 10);
      v /= 10;
    }
    for (int i = 0; i < n; i++) num[i] = rev[n - 1 - i];
    num[n] = 0;
    const char *pre = "line ";
    while (*pre && o + 1 < errlen) err[o++] = *pre++;
    for (int i = 0; num[i] && o + 1 < errlen; i++) err[o++] = num[i];
    if (o + 2 < errlen) {
      err[o++] = ':';
      err[o++] = ' ';
    }
  }
  while (a && *a && o + 1 < errlen) err[o++] = *a++;
  if (b && *b && o + 2 < errlen) {
    err[o++] = ' ';
    while (*b && o + 1 < errlen) err[o++] = *b++;
  }
  err[o] = 0;
}

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Decodes %XX escapes in place; returns -1 on a malformed escape or a NUL. */
static int percent_decode(char *s) {
  char *w = s;
  for (char *r = s; *r; r++) {
    if (*r == '%') {
      int h = hexval((unsigned char)r[1]), l = h < 0 ? -1 : hexval((unsigned char)r[2]);
      if (h < 0 || l < 0 || (h == 0 && l == 0)) return -1;
      *w++ = (char)(h * 16 + l);
      r += 2;
    } else {
      *w++ = *r;
    }
  }
  *w = 0;
  return 0;
}

static int parse_u16(const char *s, uint16_t *out) {
  unsigned long v = 0;
  if (!*s) return -1;
  for (; *s; s++) {
    if (*s < '0' || *s > '9') return -1;
    v = v * 10 + (unsigned long)(*s - '0');
    if (v > 65535) return -1;
  }
  *out = (uint16_t)v;
  return 0;
}

static int parse_ip(const char *s, int *family, unsigned char *addr) {
  if (inet_pton(AF_INET, s, addr) == 1) {
    *family = AF_INET;
    return 0;
  }
  if (inet_pton(AF_INET6, s, addr) == 1) {
    *family = AF_INET6;
    return 0;
  }
  return -1;
}

/* ---- plan parsing ---- */

size_t shim_plan_arena_bytes(const char *text, size_t len) {
  size_t lines = 1;
  for (size_t i = 0; i < len; i++)
    if (text[i] == '\n') lines++;
  size_t rule = sizeof(struct shim_host_rule);
  if (sizeof(struct shim_path_rule) > rule) rule = sizeof(struct shim_path_rule);
  if (sizeof(struct shim_port_rule) > rule) rule = sizeof(struct shim_port_rule);
  /* Three arrays each sized for every line, the path rules' sort buffer,
   * the decoded BPF and padding. */
  return 3 * lines * rule + lines * sizeof(struct shim_path_rule) + len / 2 + 64 + 16;
}

#define MAX_FIELDS 6

/* Stable bottom-up merge sort of the path rules, longest from first, so the
 * first match is the longest prefix and, among equally long duplicates, the
 * earlier line wins. O(n log n): a plan is data from outside the process,
 * and an insertion sort over a few hundred thousand rules would hang the app
 * before main. */
static void sort_paths(struct shim_path_rule *a, struct shim_path_rule *tmp, size_t n) {
  struct shim_path_rule *src = a, *dst = tmp;
  for (size_t width = 1; width < n; width *= 2) {
    for (size_t lo = 0; lo < n; lo += 2 * width) {
      size_t mid = lo + width < n ? lo + width : n, hi = lo + 2 * width < n ? lo + 2 * width : n;
      size_t i = lo, j = mid, k = lo;
      while (i < mid && j < hi) dst[k++] = src[j].from_len > src[i].from_len ? src[j++] : src[i++];
      while (i < mid) dst[k++] = src[i++];
      while (j < hi) dst[k++] = src[j++];
    }
    struct shim_path_rule *t = src;
    src = dst;
    dst = t;
  }
  if (src != a) memcpy(a, src, n * sizeof *a);
}

static void *arena_take(char **cur, char *end, size_t bytes) {
  uintptr_t p = ((uintptr_t)*cur + 15) & ~(uintptr_t)15;
  if (p + bytes > (uintptr_t)end) return NULL;
  *cur = (char *)(p + bytes);
  return (void *)p;
}

/* State of one parse: where the plan and its arena are, which line. */
struct parser {
  struct shim_plan *plan;
  char *cur, *end; /* unused arena */
  long lineno;
  char *err;
  size_t errlen;
};

static int fail(struct parser *ps, const char *a, const char *b) {
  set_err(ps->err, ps->errlen, ps->lineno, a, b);
  return -1;
}

/* path FROM TO: both normalized absolute paths. */
static int parse_path(struct parser *ps, char **f, int nf) {
  struct shim_plan *plan = ps->plan;
  struct shim_path_rule *r = &plan->paths[plan->n_paths];
  if (f[1][0] != '/' || f[2][0] != '/' || !shim_path_is_clean(f[1]) || !shim_path_is_clean(f[2]))
    return fail(ps, "path rule needs normalized absolute paths:", f[1]);
  r->from = f[1];
  r->from_len = strlen(f[1]);
  r->to = f[2];
  r->to_len = strlen(f[2]);
  plan->n_paths++;
  return 0;
}

/* port PROTO FROM TO [ADDRESS]. */
static int parse_port(struct parser *ps, char **f, int nf) {
  struct shim_plan *plan = ps->plan;
  struct shim_port_rule *r = &plan->ports[plan->n_ports];
  memset(r, 0, sizeof *r);
  if (strcmp(f[1], DECANT_PLAN_PROTO_TCP) == 0)
    r->proto = SHIM_TCP;
  else if (strcmp(f[1], DECANT_PLAN_PROTO_UDP) == 0)
    r->proto = SHIM_UDP;
  else
    return fail(ps, "port rule protocol is not tcp or udp:", f[1]);
  if (parse_u16(f[2], &r->from) < 0 || parse_u16(f[3], &r->to) < 0 || r->from == 0 || r->to == 0)
    return fail(ps, "port rule needs ports 1-65535", NULL);
  if (nf == 5 && parse_ip(f[4], &r->addr_family, r->addr) < 0)
    return fail(ps, "port rule address is not an IP literal:", f[4]);
  plan->n_ports++;
  return 0;
}

/* host FROM TO: a name, or an IP literal mapped to one of its family. */
static int parse_host(struct parser *ps, char **f, int nf) {
  struct shim_plan *plan = ps->plan;
  struct shim_host_rule *r = &plan->hosts[plan->n_hosts];
  memset(r, 0, sizeof *r);
  r->from = f[1];
  r->to = f[2];
  r->from_len = strlen(f[1]);
  if (r->from_len > 1 && f[1][r->from_len - 1] == '.') r->from_len--;
  if (parse_ip(f[1], &r->literal_family, r->from_addr) == 0) {
    int tf = 0;
    if (parse_ip(f[2], &tf, r->to_addr) < 0 || tf != r->literal_family)
      return fail(ps, "host rule from an IP literal needs a literal of the same family:", f[2]);
  }
  plan->n_hosts++;
  return 0;
}

/* uname FIELD VALUE (at most 64 bytes, what struct utsname holds). */
static int parse_uname(struct parser *ps, char **f, int nf) {
  struct shim_plan *plan = ps->plan;
  if (strlen(f[2]) >= 65)
    return fail(ps, "uname value longer than 64 bytes:", f[1]);
  if (strcmp(f[1], DECANT_PLAN_UNAME_SYSNAME) == 0)
    plan->uname_sysname = f[2];
  else if (strcmp(f[1], DECANT_PLAN_UNAME_NODENAME) == 0)
    plan->uname_nodename = f[2];
  else if (strcmp(f[1], DECANT_PLAN_UNAME_RELEASE) == 0)
    plan->uname_release = f[2];
  else if (strcmp(f[1], DECANT_PLAN_UNAME_VERSION) == 0)
    plan->uname_version = f[2];
  else if (strcmp(f[1], DECANT_PLAN_UNAME_MACHINE) == 0)
    plan->uname_machine = f[2];
  else
    return fail(ps, "unknown uname field:", f[1]);
  return 0;
}

/* seccomp MODE ARCH [BPF]: BPF as hex, whole instructions, at most 4096. */
static int parse_seccomp(struct parser *ps, char **f, int nf) {
  struct shim_plan *plan = ps->plan;
  if (strcmp(f[1], DECANT_PLAN_SECCOMP_OFF) == 0)
    plan->seccomp_mode = SHIM_SECCOMP_OFF;
  else if (strcmp(f[1], DECANT_PLAN_SECCOMP_ENFORCE) == 0)
    plan->seccomp_mode = SHIM_SECCOMP_ENFORCE;
  else if (strcmp(f[1], DECANT_PLAN_SECCOMP_LOG) == 0)
    plan->seccomp_mode = SHIM_SECCOMP_LOG;
  else
    return fail(ps, "unknown seccomp mode:", f[1]);
  plan->seccomp_arch = f[2];
  if (nf == 4) {
    size_t hl = strlen(f[3]);
    /* A sock_filter is 8 bytes: 16 hex digits per instruction. */
    if (hl % 16 != 0 || hl / 16 > 4096)
      return fail(ps, "seccomp BPF length is not a whole number of instructions (max 4096)", NULL);
    unsigned char *bpf = arena_take(&ps->cur, ps->end, hl / 2);
    if (!bpf)
      return fail(ps, "plan arena too small for the BPF program", NULL);
    for (size_t i = 0; i < hl / 2; i++) {
      int h = hexval((unsigned char)f[3][2 * i]), l = hexval((unsigned char)f[3][2 * i + 1]);
      if (h < 0 || l < 0)
        return fail(ps, "seccomp BPF is not hex", NULL);
      bpf[i] = (unsigned char)(h * 16 + l);
    }
    plan->bpf = bpf;
    plan->bpf_len = hl / 2;
  } else if (plan->seccomp_mode != SHIM_SECCOMP_OFF)
    return fail(ps, "seccomp mode needs a BPF program", NULL);
  return 0;
}

/* proxy MODE: read by the container init (proxy/), accepted by the shim. */
static int parse_proxy(struct parser *ps, char **f, int nf) {
  struct shim_plan *plan = ps->plan;
  if (strcmp(f[1], DECANT_PLAN_PROXY_OFF) == 0)
    plan->proxy_mode = SHIM_PROXY_OFF;
  else if (strcmp(f[1], DECANT_PLAN_PROXY_AUTO) == 0)
    plan->proxy_mode = SHIM_PROXY_AUTO;
  else if (strcmp(f[1], DECANT_PLAN_PROXY_ON) == 0)
    plan->proxy_mode = SHIM_PROXY_ON;
  else
    return fail(ps, "unknown proxy mode:", f[1]);
  return 0;
}

/* Splits a directive line on single spaces and decodes every field. */
static int split_fields(struct parser *ps, char *line, char **f, int *nf) {
  char *s = line;
  *nf = 0;
  while (*s) {
    if (*nf == MAX_FIELDS) return fail(ps, "too many fields", NULL);
    f[(*nf)++] = s;
    char *sp = strchr(s, ' ');
    if (!sp) break;
    *sp = 0;
    s = sp + 1;
  }
  for (int i = 0; i < *nf; i++)
    if (f[i][0] == 0 || percent_decode(f[i]) < 0) return fail(ps, "empty or malformed field", NULL);
  return 0;
}

/* One directive line after the magic; sets *seen_end on 'end'. */
static int parse_directive(struct parser *ps, char *line, int *seen_end) {
  char *f[MAX_FIELDS] = {0};
  int nf = 0;
  if (split_fields(ps, line, f, &nf) < 0) return -1;
  const char *kw = f[0];
  if (strcmp(kw, DECANT_PLAN_KW_END) == 0 && nf == 1) {
    *seen_end = 1;
    return 0;
  }
  if (strcmp(kw, DECANT_PLAN_KW_PATH) == 0 && nf == 3) return parse_path(ps, f, nf);
  if (strcmp(kw, DECANT_PLAN_KW_PORT) == 0 && (nf == 4 || nf == 5)) return parse_port(ps, f, nf);
  if (strcmp(kw, DECANT_PLAN_KW_HOST) == 0 && nf == 3) return parse_host(ps, f, nf);
  if (strcmp(kw, DECANT_PLAN_KW_UNAME) == 0 && nf == 3) return parse_uname(ps, f, nf);
  if (strcmp(kw, DECANT_PLAN_KW_SECCOMP) == 0 && (nf == 3 || nf == 4)) return parse_seccomp(ps, f, nf);
  if (strcmp(kw, DECANT_PLAN_KW_PROXY) == 0 && nf == 2) return parse_proxy(ps, f, nf);
  return fail(ps, "unknown directive or wrong field count:", kw);
}

int shim_plan_parse(char *text, size_t len, void *arena, size_t arena_size, struct shim_plan *plan, char *err,
                    size_t errlen) {
  memset(plan, 0, sizeof *plan);
  text[len] = 0;
  if (memchr(text, 0, len) != NULL) {
    set_err(err, errlen, 0, "plan contains a NUL byte", NULL);
    return -1;
  }
  size_t lines = 1;
  for (size_t i = 0; i < len; i++)
    if (text[i] == '\n') lines++;
  struct parser ps = {plan, (char *)arena, (char *)arena + arena_size, 0, err, errlen};
  plan->paths = arena_take(&ps.cur, ps.end, lines * sizeof *plan->paths);
  plan->ports = arena_take(&ps.cur, ps.end, lines * sizeof *plan->ports);
  plan->hosts = arena_take(&ps.cur, ps.end, lines * sizeof *plan->hosts);
  struct shim_path_rule *sort_tmp = arena_take(&ps.cur, ps.end, lines * sizeof *sort_tmp);
  if (!plan->paths || !plan->ports || !plan->hosts || !sort_tmp) {
    set_err(err, errlen, 0, "plan arena too small", NULL);
    return -1;
  }

  int seen_magic = 0, seen_end = 0;
  char *p = text;
  while (*p) {
    char *nl = strchr(p, '\n');
    char *next = nl ? nl + 1 : p + strlen(p);
    if (nl) *nl = 0;
    ps.lineno++;
    char *line = p;
    p = next;
    size_t ll = strlen(line);
    if (ll && line[ll - 1] == '\r') line[--ll] = 0;
    if (ll == 0 || line[0] == '#') continue;
    if (seen_end) return fail(&ps, "text after 'end'", NULL);
    if (!seen_magic) {
      if (strcmp(line, DECANT_PLAN_MAGIC) != 0)
        return fail(&ps, "not a decant plan (expected '" DECANT_PLAN_MAGIC "')", NULL);
      seen_magic = 1;
      continue;
    }
    if (parse_directive(&ps, line, &seen_end) < 0) return -1;
  }
  if (!seen_magic || !seen_end) {
    set_err(err, errlen, 0, seen_magic ? "plan is truncated (no 'end' line)" : "empty plan", NULL);
    return -1;
  }
  sort_paths(plan->paths, sort_tmp, plan->n_paths);
  return 0;
}

/* ---- paths ---- */

int shim_path_is_clean(const char *path) {
  if (path[0] != '/') return 0;
  const char *s = path;
  while (*s) {
    /* s points at a '/' that starts a component. */
    const char *c = s + 1;
    if (*c == '/') return 0;
    if (*c == 0) return s == path; /* only "/" may end in '/' */
    if (c[0] == '.' && (c[1] == '/' || c[1] == 0)) return 0;
    if (c[0] == '.' && c[1] == '.' && (c[2] == '/' || c[2] == 0)) return 0;
    while (*c && *c != '/') c++;
    s = c;
  }
  return 1;
}

/* Appends the components of src to out[0..*len), resolving "." and "..". */
static int push_components(const char *src, char *out, size_t *len, size_t outsz) {
  const char *s = src;
  while (*s) {
    while (*s == '/') s++;
    if (!*s) break;
    const char *e = s;
    while (*e && *e != '/') e++;
    size_t cl = (size_t)(e - s);
    if (cl == 1 && s[0] == '.') {
      /* nothing */
    } else if (cl == 2 && s[0] == '.' && s[1] == '.') {
      while (*len > 0 && out[*len - 1] != '/') (*len)--;
      if (*len > 0) (*len)--; /* drop the '/' too; root stays empty */
    } else {
      if (*len + 1 + cl + 1 > outsz) return -1;
      out[(*len)++] = '/';
      memcpy(out + *len, s, cl);
      *len += cl;
    }
    s = e;
  }
  return 0;
}

long shim_normalize(const char *cwd, const char *path, char *out, size_t outsz) {
  size_t len = 0;
  if (outsz < 2) return -1;
  if (path[0] != '/' && cwd && push_components(cwd, out, &len, outsz) < 0) return -1;
  if (push_components(path, out, &len, outsz) < 0) return -1;
  size_t pl = strlen(path);
  int trailing = pl > 0 && path[pl - 1] == '/';
  if (len == 0) {
    out[len++] = '/';
  } else if (trailing) {
    if (len + 2 > outsz) return -1;
    out[len++] = '/';
  }
  out[len] = 0;
  return (long)len;
}

const struct shim_path_rule *shim_match_path(const struct shim_plan *plan, const char *norm, size_t len) {
  for (size_t i = 0; i < plan->n_paths; i++) {
    const struct shim_path_rule *r = &plan->paths[i];
    if (r->from_len == 1) return r; /* "/" matches everything */
    if (r->from_len <= len && memcmp(norm, r->from, r->from_len) == 0 &&
        (len == r->from_len || norm[r->from_len] == '/'))
      return r;
  }
  return NULL;
}

long shim_map_path(const struct shim_plan *plan, const char *base, const char *path, char *out, char *scratch) {
  long n = shim_normalize(path[0] == '/' ? NULL : base, path, scratch, SHIM_PATH_MAX);
  if (n < 0) return -1;
  const struct shim_path_rule *rule = shim_match_path(plan, scratch, (size_t)n);
  if (!rule) return 0;
  n = shim_apply_path_rule(rule, scratch, (size_t)n, out, SHIM_PATH_MAX);
  return n < 0 ? -2 : n;
}

long shim_apply_path_rule(const struct shim_path_rule *rule, const char *norm, size_t len, char *out, size_t outsz) {
  size_t skip = rule->from_len == 1 ? 0 : rule->from_len;
  const char *rest = norm + skip;
  size_t rest_len = len - skip;
  size_t to_len = rule->to_len;
  if (to_len == 1 && rest_len > 0) to_len = 0; /* "/" + "/x" must not become "//x" */
  if (to_len + rest_len + 1 > outsz) return -1;
  memcpy(out, rule->to, to_len);
  memcpy(out + to_len, rest, rest_len);
  out[to_len + rest_len] = 0;
  return (long)(to_len + rest_len);
}

/* ---- ports and hosts ---- */

const struct shim_port_rule *shim_match_port(const struct shim_plan *plan, int proto, uint16_t port) {
  for (size_t i = 0; i < plan->n_ports; i++)
    if (plan->ports[i].proto == proto && plan->ports[i].from == port) return &plan->ports[i];
  return NULL;
}

const struct shim_port_rule *shim_match_port_target(const struct shim_plan *plan, int proto, uint16_t port) {
  for (size_t i = 0; i < plan->n_ports; i++)
    if (plan->ports[i].proto == proto && plan->ports[i].to == port) return &plan->ports[i];
  return NULL;
}

const struct shim_host_rule *shim_match_host(const struct shim_plan *plan, const char *name) {
  if (!name) return NULL;
  size_t nl = strlen(name);
  if (nl > 1 && name[nl - 1] == '.') nl--;
  for (size_t i = 0; i < plan->n_hosts; i++) {
    const struct shim_host_rule *r = &plan->hosts[i];
    if (r->literal_family || r->from_len != nl) continue;
    size_t j = 0;
    while (j < nl && lower((unsigned char)name[j]) == lower((unsigned char)r->from[j])) j++;
    if (j == nl) return r;
  }
  return NULL;
}

const struct shim_host_rule *shim_match_addr(const struct shim_plan *plan, int family, const void *addr,
                                             int reverse) {
  size_t n = family == AF_INET ? 4 : 16;
  for (size_t i = 0; i < plan->n_hosts; i++) {
    const struct shim_host_rule *r = &plan->hosts[i];
    if (r->literal_family == family && memcmp(reverse ? r->to_addr : r->from_addr, addr, n) == 0) return r;
  }
  return NULL;
}
