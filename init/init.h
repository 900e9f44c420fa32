/* decant-init's internal interface: the container's first process, which
 * prepares what the VM's init would have (runtime directories, volume seeds,
 * /dev/log), starts the service as its child with the service's user, groups
 * and capabilities, follows it the way systemd does (Type=forking through a
 * PID file or the only remaining child), forwards signals, reaps zombies and
 * stops the container when the service ends. Plain C, libc only, linked
 * static (docs/init.md). */
#ifndef DECANT_INIT_H
#define DECANT_INIT_H

#include <stddef.h>
#include <sys/types.h>

#define INIT_MAX_GROUPS 64

enum init_type { INIT_SIMPLE, INIT_FORKING };

struct init_options {
  enum init_type type;
  const char *pidfile;       /* forking: where the daemon writes its pid; NULL: the only child left */
  int pidfile_timeout_ms;    /* bounded wait for the pid file after the parent exits */
  int stop_timeout_ms;       /* SIGTERM -> SIGKILL grace when the service has ended */
  int have_user;             /* --user given: switch to uid/gid before exec */
  uid_t uid;
  gid_t gid;
  int ngroups;               /* -1: leave the supplementary groups as they are */
  gid_t groups[INIT_MAX_GROUPS];
  int have_caps;             /* --caps given: the service gets exactly caps */
  unsigned long long caps;   /* capability bit mask */
  const char *syslog_path;   /* bind an AF_UNIX datagram socket here and relay to stderr */
  const char *setup_path;    /* lines: "dir MODE UID GID PATH", "seed PATH" */
  const char *seed_root;     /* where seed PATH's initial content lives */
  char **argv;               /* the service command */
  /* Set by main, not by arguments: the seccomp proxy (docs/proxy.md). */
  unsigned proxy_classes;    /* proxy_plan_classes of $DECANT_PLAN; 0: no filter */
  int proxy_required;        /* the plan says `proxy on`: no filter, no service */
  int proxy_sock;            /* the child's end of the socketpair the listener goes through */
};

/* Parses argv; on bad usage prints one line and returns -1. */
int init_parse_args(int argc, char **argv, struct init_options *o);

/* Capability name ("CAP_NET_BIND_SERVICE" or "net_bind_service") to its
 * number; -1 when unknown. */
int init_cap_number(const char *name);

/* Applies the setup file: runtime directories, then copy-up of volume seeds.
 * Problems are warnings on stderr (the service may still start). */
void init_apply_setup(const struct init_options *o);

/* Creates the syslog socket; returns its fd or -1 (warning printed). */
int init_syslog_open(const char *path);
/* Reads every pending datagram on fd and writes one line each to stderr. */
void init_syslog_drain(int fd);

/* In the child between fork and exec: the one place that prepares the
 * service process (signal mask, credentials, capabilities) and execs it.
 * Never returns; on failure writes errno to err_fd and exits 127/126. This
 * is the hook point for whatever must also run in the service process
 * before exec (a seccomp user-notification filter, for instance). */
void init_child_exec(const struct init_options *o, const void *sigmask_to_restore, int err_fd);

/* The proxy for a service the shim cannot reach (docs/init.md): when
 * $DECANT_PLAN names a plan whose proxy mode is not off and the kernel has
 * user notification, sets o->proxy_classes and o->proxy_sock and returns
 * the init's end of the socketpair (-1: no proxy). Exits 125 when the plan
 * requires the proxy and it cannot work. */
int init_proxy_prepare(struct init_options *o);
/* In the parent right after fork: receives the child's listener and
 * starts serving it; returns the fd to poll, or -1. */
int init_proxy_attach(const struct init_options *o, int sock);
/* The listener is readable (or hung up): answer one notification. Returns
 * -1 once the proxy is gone (every filtered process exited). */
int init_proxy_serve(void);

/* Drops credentials the way init_child_exec does; returns 0 or -errno. */
int init_drop_privileges(const struct init_options *o);

/* Prints "decant-init: " + message + newline on stderr. */
void init_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
