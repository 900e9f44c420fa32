/* The contract between `decant plan` (policy/plan.cpp, policy/seccomp.cpp)
 * and the shim that reads the plan (shim/plan.c): the plan file's magic line,
 * the keywords of its line grammar (docs/shim.md, "Plan format") and the tag
 * the shim's own system calls carry so the compiled seccomp filter can let
 * them through. Each fact is defined here once; both sides include this
 * header, so a change to one side that the other does not know about fails
 * to compile instead of failing inside someone's container. Plain C macros
 * (string literals concatenate into format strings), includable from C++. */
#ifndef DECANT_SHIM_PLAN_CONTRACT_H
#define DECANT_SHIM_PLAN_CONTRACT_H

/* First directive of every plan: format name and version. */
#define DECANT_PLAN_MAGIC "decant-plan 1"

/* Directives, one a line, fields separated by one space. */
#define DECANT_PLAN_KW_PATH "path"       /* path FROM TO */
#define DECANT_PLAN_KW_PORT "port"       /* port PROTO FROM TO [ADDRESS] */
#define DECANT_PLAN_KW_HOST "host"       /* host FROM TO */
#define DECANT_PLAN_KW_UNAME "uname"     /* uname FIELD VALUE */
#define DECANT_PLAN_KW_SECCOMP "seccomp" /* seccomp MODE ARCH [BPF] */
#define DECANT_PLAN_KW_PROXY "proxy"     /* proxy MODE (docs/proxy.md) */
#define DECANT_PLAN_KW_END "end"         /* last line */

/* port PROTO */
#define DECANT_PLAN_PROTO_TCP "tcp"
#define DECANT_PLAN_PROTO_UDP "udp"

/* uname FIELD */
#define DECANT_PLAN_UNAME_SYSNAME "sysname"
#define DECANT_PLAN_UNAME_NODENAME "nodename"
#define DECANT_PLAN_UNAME_RELEASE "release"
#define DECANT_PLAN_UNAME_VERSION "version"
#define DECANT_PLAN_UNAME_MACHINE "machine"

/* seccomp MODE */
#define DECANT_PLAN_SECCOMP_OFF "off"
#define DECANT_PLAN_SECCOMP_ENFORCE "enforce"
#define DECANT_PLAN_SECCOMP_LOG "log"

/* proxy MODE: whether the init runs the service under the seccomp
 * user-notification proxy (proxy/). on: required, the service does not start
 * without it; auto: used when the kernel allows, else one warning; off: not
 * used (the default when the line is absent). */
#define DECANT_PLAN_PROXY_OFF "off"
#define DECANT_PLAN_PROXY_AUTO "auto"
#define DECANT_PLAN_PROXY_ON "on"

/* Marks the shim's own system calls in the otherwise unused sixth argument
 * register (see docs/shim.md, "Own system calls"). ASCII "decantsh". */
#define DECANT_SHIM_SYSCALL_TAG 0x6465636e74736868ULL

#endif
