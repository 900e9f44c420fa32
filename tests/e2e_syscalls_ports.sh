#!/bin/sh
# Ports from string literals and service names: compiles a tiny server and
# client at test time (heredoc C, no fixture in the tree) whose only port
# evidence is strings — "8080" and ":21" near getaddrinfo()/bind(),
# "0.0.0.0:5432", a getservbyname("gopher") lookup, and a client dialing
# "db.internal.example" port "6432" — and checks that `decant analyze`
# reports each in network.listen or network.connect with static evidence.
set -u
. "$DECANT_SOURCE/tests/lib.sh"
require_tool cc
require_tool python3
grep -q '^gopher[[:space:]]*70/tcp' /etc/services 2>/dev/null || skip "/etc/services has no gopher 70/tcp"

out=$(mktemp -d "${TMPDIR:-/tmp}/decant-e2e-ports.XXXXXX") || fail "mktemp"
trap 'rm -rf "$out"' EXIT

cat >"$out/ports.c" <<'EOF'
#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Listens on SPEC: "PORT", ":PORT" or "ADDR:PORT". */
__attribute__((noinline)) static int serve(const char *spec) {
  char host[64] = "";
  const char *port = spec, *colon = strrchr(spec, ':');
  if (colon) {
    snprintf(host, sizeof host, "%.*s", (int)(colon - spec), spec);
    port = colon + 1;
  }
  struct addrinfo hints, *res;
  memset(&hints, 0, sizeof hints);
  hints.ai_flags = AI_PASSIVE;
  hints.ai_socktype = SOCK_STREAM;
  if (getaddrinfo(*host ? host : NULL, port, &hints, &res) != 0) return -1;
  int fd = socket(res->ai_family, res->ai_socktype, 0);
  if (fd >= 0 && (bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 8) != 0)) {
    close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  return fd;
}

__attribute__((noinline)) static int serve_service(void) {
  struct servent *s = getservbyname("gopher", "tcp");
  if (!s) return -1;
  char port[8];
  snprintf(port, sizeof port, "%d", ntohs(s->s_port));
  return serve(port);
}

__attribute__((noinline)) static int dial(void) {
  struct addrinfo hints, *res;
  memset(&hints, 0, sizeof hints);
  hints.ai_socktype = SOCK_STREAM;
  if (getaddrinfo("db.internal.example", "6432", &hints, &res) != 0) return -1;
  int fd = socket(res->ai_family, res->ai_socktype, 0);
  if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
    close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  return fd;
}

int main(int argc, char **argv) {
  /* Never run by the test: only analyzed. */
  if (argc < 2) return 0;
  if (!strcmp(argv[1], "web")) return serve("8080") < 0;
  if (!strcmp(argv[1], "ftp")) return serve(":21") < 0;
  if (!strcmp(argv[1], "pg")) return serve("0.0.0.0:5432") < 0;
  if (!strcmp(argv[1], "gopher")) return serve_service() < 0;
  return dial() < 0;
}
EOF
cc -O2 -o "$out/ports" "$out/ports.c" || fail "cannot compile the port program"
"$DECANT" analyze "$out/ports" --format json >"$out/ports.json" 2>"$out/err" || { cat "$out/err" >&2; fail "analyze failed"; }

python3 - "$out/ports.json" <<'EOF' || fail "ports from literals missing"
import json, sys
p = json.load(open(sys.argv[1]))
net = p.get("network", {})
ok = True
def static(f):
    return any(e.startswith("static:") for e in f.get("evidence", []))
for port in (8080, 21, 5432, 70):
    hits = [f for f in net.get("listen", []) if f.get("port") == port and static(f)]
    print(f"listen {port}: " + (hits[0]["evidence"][0] if hits else "MISSING"))
    ok &= bool(hits)
hits = [f for f in net.get("connect", []) if f.get("port") == 6432 and static(f)]
print("connect 6432: " + (json.dumps({k: hits[0][k] for k in ("host", "port", "confidence")}) if hits else "MISSING"))
ok &= bool(hits) and hits[0].get("host") == "db.internal.example"
wrong = [f["port"] for f in net.get("listen", []) if f.get("port") == 6432]
if wrong:
    print(f"connect port 6432 also listed as a listen port")
    ok = False
sys.exit(0 if ok else 1)
EOF
echo "ok: ports from string literals and service names"
