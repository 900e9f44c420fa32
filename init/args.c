/* decant-init's command line: the options the packager derives from the
 * profile's service section and the service user (docs/init.md), then `--`
 * and the service command. Anything malformed is one line on stderr and
 * exit status 2, like a shell builtin's usage error. */
#include "init.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static const char *const cap_names[] = {
    "chown", "dac_override", "dac_read_search", "fowner", "fsetid", "kill", "setgid", "setuid", "setpcap",
    "linux_immutable", "net_bind_service", "net_broadcast", "net_admin", "net_raw", "ipc_lock", "ipc_owner",
    "sys_module", "sys_rawio", "sys_chroot", "sys_ptrace", "sys_pacct", "sys_admin", "sys_boot", "sys_nice",
    "sys_resource", "sys_time", "sys_tty_config", "mknod", "lease", "audit_write", "audit_control", "setfcap",
    "mac_override", "mac_admin", "syslog", "wake_alarm", "block_suspend", "audit_read", "perfmon", "bpf",
    "checkpoint_restore"};

void init_warn(const char *fmt, ...) {
  char line[1024];
  va_list ap;
  int n = snprintf(line, sizeof line, "decant-init: ");
  va_start(ap, fmt);
  vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
  va_end(ap);
  size_t len = strlen(line);
  line[len++] = '\n';
  /* One write: lines from the relay and from here never interleave. */
  (void)!write(2, line, len);
}

int init_cap_number(const char *name) {
  if (strncasecmp(name, "CAP_", 4) == 0) name += 4;
  for (size_t i = 0; i < sizeof cap_names / sizeof cap_names[0]; i++)
    if (strcasecmp(name, cap_names[i]) == 0) return (int)i;
  return -1;
}

static int parse_ulong(const char *s, unsigned long max, unsigned long *out) {
  char *end;
  if (*s < '0' || *s > '9') return -1;
  errno = 0;
  unsigned long v = strtoul(s, &end, 10);
  if (errno || *end || v > max) return -1;
  *out = v;
  return 0;
}

static int parse_user(const char *s, struct init_options *o) {
  char buf[64];
  unsigned long u, g;
  const char *colon = strchr(s, ':');
  if (!colon || (size_t)(colon - s) >= sizeof buf) return -1;
  memcpy(buf, s, (size_t)(colon - s));
  buf[colon - s] = 0;
  if (parse_ulong(buf, UINT_MAX - 1, &u) || parse_ulong(colon + 1, UINT_MAX - 1, &g)) return -1;
  o->have_user = 1;
  o->uid = (uid_t)u;
  o->gid = (gid_t)g;
  return 0;
}

/* A comma-separated list; each item goes through one(item, o). */
static int parse_list(const char *s, struct init_options *o, int (*one)(const char *, struct init_options *)) {
  char item[64];
  while (*s) {
    size_t n = strcspn(s, ",");
    if (n == 0 || n >= sizeof item) return -1;
    memcpy(item, s, n);
    item[n] = 0;
    if (one(item, o)) return -1;
    s += n;
    if (*s == ',') s++;
  }
  return 0;
}

static int one_group(const char *s, struct init_options *o) {
  unsigned long g;
  if (parse_ulong(s, UINT_MAX - 1, &g) || o->ngroups >= INIT_MAX_GROUPS) return -1;
  o->groups[o->ngroups++] = (gid_t)g;
  return 0;
}

static int one_cap(const char *s, struct init_options *o) {
  int c = init_cap_number(s);
  if (c < 0) return -1;
  o->caps |= 1ull << c;
  return 0;
}

static int parse_seconds(const char *s, int *ms) {
  unsigned long v;
  if (parse_ulong(s, 86400, &v)) return -1;
  *ms = (int)v * 1000;
  return 0;
}

static int usage(const char *why, const char *what) {
  init_warn("%s%s%s (usage: decant-init [--type simple|exec|notify|idle|forking] [--pidfile PATH] "
            "[--user UID:GID] [--groups G,...] [--caps CAP,...] [--syslog PATH] [--setup FILE] -- COMMAND ...)",
            why, what ? ": " : "", what ? what : "");
  return -1;
}

static int parse_type(const char *v, struct init_options *o) {
  if (!strcmp(v, "forking")) {
    o->type = INIT_FORKING;
    return 0;
  }
  /* systemd's other long-running types track the started process; notify
   * does not need sd_notify here (the service is up once it runs). */
  const char *simple[] = {"simple", "exec", "notify", "notify-reload", "idle", "dbus"};
  for (size_t i = 0; i < sizeof simple / sizeof simple[0]; i++)
    if (!strcmp(v, simple[i])) {
      o->type = INIT_SIMPLE;
      return 0;
    }
  return -1;
}

/* Options that take a value: the option, its value, and whether it parsed. */
static int parse_one(const char *opt, const char *v, struct init_options *o) {
  if (!strcmp(opt, "--type")) return parse_type(v, o) ? usage("unknown service type", v) : 0;
  if (!strcmp(opt, "--pidfile")) {
    if (v[0] != '/') return usage("--pidfile needs an absolute path", v);
    o->pidfile = v;
    return 0;
  }
  if (!strcmp(opt, "--pidfile-timeout"))
    return parse_seconds(v, &o->pidfile_timeout_ms) ? usage("bad --pidfile-timeout", v) : 0;
  if (!strcmp(opt, "--stop-timeout"))
    return parse_seconds(v, &o->stop_timeout_ms) ? usage("bad --stop-timeout", v) : 0;
  if (!strcmp(opt, "--user")) return parse_user(v, o) ? usage("--user needs UID:GID", v) : 0;
  if (!strcmp(opt, "--groups")) {
    o->ngroups = 0;
    return parse_list(v, o, one_group) ? usage("bad --groups (numeric, comma-separated, at most 64)", v) : 0;
  }
  if (!strcmp(opt, "--caps")) {
    o->have_caps = 1;
    o->caps = 0;
    return parse_list(v, o, one_cap) ? usage("bad --caps (capability names, comma-separated)", v) : 0;
  }
  if (!strcmp(opt, "--syslog")) {
    if (v[0] != '/') return usage("--syslog needs an absolute path", v);
    o->syslog_path = v;
    return 0;
  }
  if (!strcmp(opt, "--setup")) {
    o->setup_path = v;
    return 0;
  }
  if (!strcmp(opt, "--seed-root")) {
    o->seed_root = v;
    return 0;
  }
  return usage("unknown option", opt);
}

int init_parse_args(int argc, char **argv, struct init_options *o) {
  memset(o, 0, sizeof *o);
  o->type = INIT_SIMPLE;
  o->pidfile_timeout_ms = 30000;
  o->stop_timeout_ms = 10000;
  o->ngroups = -1;
  o->seed_root = "/.decant/seed";
  int i = 1;
  for (; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--")) {
      i++;
      break;
    }
    if (a[0] != '-') break; /* the command itself, without a "--" */
    const char *eq = strchr(a, '=');
    char opt[32];
    const char *v;
    if (eq) {
      if ((size_t)(eq - a) >= sizeof opt) return usage("unknown option", a);
      memcpy(opt, a, (size_t)(eq - a));
      opt[eq - a] = 0;
      v = eq + 1;
    } else {
      if (strlen(a) >= sizeof opt) return usage("unknown option", a);
      strcpy(opt, a);
      if (i + 1 >= argc) return usage("missing value for", a);
      v = argv[++i];
    }
    if (parse_one(opt, v, o)) return -1;
  }
  if (i >= argc || argv[i][0] == 0) return usage("no service command", NULL);
  o->argv = argv + i;
  return 0;
}
