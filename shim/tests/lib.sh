# Helpers shared by the shim's script tests (sourced, POSIX sh): a private
# temp dir cleaned on exit, background processes killed on exit, skip/fail
# conventions (exit 77 skips unless DECANT_MUST_WORK=1 turns it into a
# failure), random free ports and waiting for a server to announce itself.
# Expects DECANT, SHIM, CORPUS from CTest's environment.

: "${DECANT:?DECANT not set (run through ctest)}"
: "${SHIM:?SHIM not set (run through ctest)}"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/decant-shim-test.XXXXXX") || exit 1
pids=""
cleanup() {
  for p in $pids; do kill "$p" 2>/dev/null; done
  [ -n "${KEEP_TMP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

fail() {
  echo "FAIL: $*" >&2
  for f in "$tmp"/*.out "$tmp"/*.err; do
    [ -s "$f" ] && { echo "--- $f" >&2; tail -20 "$f" >&2; }
  done
  exit 1
}
ok() { echo "ok: $*"; }
skip() {
  if [ "${DECANT_MUST_WORK:-0}" = 1 ]; then
    fail "would skip, but DECANT_MUST_WORK=1: $*"
  fi
  echo "SKIP: $*"
  exit 77
}
expect() { # EXPECTED DESCRIPTION ACTUAL
  [ "$3" = "$1" ] || fail "$2: expected '$1', got '$3'"
  ok "$2"
}

random_port() {
  # Below the kernel's ephemeral range (32768-60999), where clients hold ports.
  echo $(($(od -An -N2 -tu2 /dev/urandom) % 12000 + 20000))
}
# A port nobody listens on right now (best effort; servers still retry).
free_port() {
  while :; do
    p=$(random_port)
    if ! (ss -Htln "sport = :$p" 2>/dev/null | grep -q .); then
      echo "$p"
      return
    fi
  done
}

# wait_listening OUTFILE PID: the server printed "listening on", or fail.
# Up to 20 s: a loaded CI machine can take seconds to start a preloaded server.
wait_listening() {
  i=0
  while [ $i -lt 400 ]; do
    grep -q '^listening on ' "$1" 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || { grep -q '^listening on ' "$1" 2>/dev/null; return; }
    sleep 0.05
    i=$((i + 1))
  done
  return 1
}

# plan NAME: compiles $tmp/NAME.yaml into $tmp/NAME.plan.
plan() {
  "$DECANT" plan "$tmp/$1.yaml" -o "$tmp/$1.plan" --force 2>"$tmp/$1.plan.err" ||
    fail "decant plan $1: $(cat "$tmp/$1.plan.err")"
}

# shim PLANNAME CMD...: runs CMD with the shim and that plan.
shim() {
  _p=$1
  shift
  timeout 30 env LD_PRELOAD="$SHIM" DECANT_PLAN="$tmp/$_p.plan" "$@"
}

# A minimal valid profile head; callers append sections.
profile_head() {
  printf 'apiVersion: decant/v1\nkind: Profile\nmetadata: {name: %s, generator: test}\nbinary: {path: /bin/true, arch: x86_64}\n' "$1"
}
