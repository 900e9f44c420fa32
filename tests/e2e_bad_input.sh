#!/bin/sh
# End-to-end test of `decant analyze` on bad input: non-ELF, empty, truncated
# and corrupt ELFs (generated at test time by tests/fuzz/make_seeds.sh),
# directories, FIFOs, missing and unreadable paths, symlink loops on the host
# and inside a --root guest, and symlinks that try to escape the guest. Each
# must end within seconds with exit 2 and exactly one stderr line
# "decant: <path as given>...", and leave nothing behind with -o. Also checks
# that -o never clobbers an existing file without --force.
# Env: DECANT (the binary), DECANT_SOURCE (the tree); DECANT_MUST_WORK=1 turns
# the skipped unreadable-file case into a failure.
set -u

: "${DECANT:?DECANT must point to the decant binary}"
: "${DECANT_SOURCE:?DECANT_SOURCE must point to the source tree}"
if [ ! -x "$DECANT" ]; then
  echo "FAIL: $DECANT is not an executable (build the decant target first)"
  exit 1
fi

tmp=$(mktemp -d)
trap 'chmod -R u+rwX "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
# World-traversable so the unreadable-file case can run as nobody.
chmod 755 "$tmp"
out="$tmp/out"
mkdir -m 1777 "$out"
failures=0
cases=0

fail() {
  echo "FAIL: $1: $2"
  failures=$((failures + 1))
}

# run_decant PREFIX ARGS...: runs decant under `timeout 10`, optionally
# through a privilege-dropping PREFIX ("" for none); sets rc.
run_decant() {
  _prefix=$1
  shift
  # shellcheck disable=SC2086
  $_prefix timeout 10 "$DECANT" analyze "$@" >"$tmp/stdout" 2>"$tmp/stderr"
  rc=$?
}

# check_stderr LABEL NAMED: stderr is one line, "decant: ", naming NAMED.
check_stderr() {
  _lines=$(wc -l <"$tmp/stderr" | tr -d ' ')
  _first=$(head -n 1 "$tmp/stderr")
  if [ "$_lines" != 1 ] || [ -n "$(tail -c 1 "$tmp/stderr")" ]; then
    fail "$1" "stderr is not exactly one line: $(head -c 400 "$tmp/stderr")"
    return
  fi
  case "$_first" in
    "decant: "*) ;;
    *) fail "$1" "stderr does not start with 'decant: ': $_first" ;;
  esac
  case "$_first" in
    *"$2"*) ;;
    *) fail "$1" "stderr does not name '$2': $_first" ;;
  esac
}

check_rc2() {
  if [ "$rc" = 124 ]; then
    fail "$1" "did not finish within 10 seconds"
  elif [ "$rc" != 2 ]; then
    fail "$1" "exit code $rc, expected 2 (stderr: $(head -c 300 "$tmp/stderr"))"
  fi
}

# expect_bad LABEL NAMED PREFIX ARGS...: decant analyze ARGS must fail with
# exit 2 and one line naming NAMED, printing nothing on stdout, and with -o
# must leave neither the output nor a temporary file.
expect_bad() {
  _label=$1 _named=$2 _pfx=$3
  shift 3
  cases=$((cases + 1))
  run_decant "$_pfx" "$@"
  check_rc2 "$_label"
  check_stderr "$_label" "$_named"
  [ -s "$tmp/stdout" ] && fail "$_label" "partial output on stdout: $(head -c 200 "$tmp/stdout")"
  run_decant "$_pfx" -o "$out/OUT" "$@"
  check_rc2 "$_label (-o)"
  check_stderr "$_label (-o)" "$_named"
  if [ -n "$(ls -A "$out")" ]; then
    fail "$_label (-o)" "left files behind: $(ls -A "$out" | tr '\n' ' ')"
    rm -rf "${out:?}"/* "$out"/.[!.]* 2>/dev/null
  fi
}

# --- generated ELF inputs: good-* must pass, bad-* fail, odd-* never crash ---

elf="$tmp/elf"
if ! sh "$DECANT_SOURCE/tests/fuzz/make_seeds.sh" "$elf"; then
  echo "FAIL: make_seeds.sh could not generate the inputs"
  exit 1
fi
for f in "$elf"/*; do
  name=$(basename "$f")
  case "$name" in
    good-*)
      cases=$((cases + 1))
      run_decant "" "$f"
      [ "$rc" = 0 ] || fail "$name" "a well-formed ELF failed with exit $rc: $(head -c 300 "$tmp/stderr")"
      ;;
    odd-*)
      cases=$((cases + 1))
      run_decant "" "$f"
      if [ "$rc" = 2 ]; then
        check_stderr "$name" "$f"
      elif [ "$rc" != 0 ]; then
        fail "$name" "exit code $rc, expected 0 or 2 (stderr: $(head -c 300 "$tmp/stderr"))"
      fi
      ;;
    bad-*)
      expect_bad "$name" "$f" "" "$f"
      ;;
  esac
done
# The same file named by a relative path is named as given.
cd "$elf" && expect_bad "relative path" "bad-text" "" bad-text && cd / || fail "relative path" "cannot cd"

# --- not a file, or not there ---

mkdir "$tmp/a-directory"
expect_bad "directory" "$tmp/a-directory" "" "$tmp/a-directory"
expect_bad "missing path" "$tmp/no-such-file" "" "$tmp/no-such-file"
expect_bad "missing parent" "$tmp/no-such-dir/file" "" "$tmp/no-such-dir/file"
expect_bad "file used as a directory" "$elf/good-true/x" "" "$elf/good-true/x"
mkfifo "$tmp/a-fifo"
expect_bad "fifo (must not block)" "$tmp/a-fifo" "" "$tmp/a-fifo"
expect_bad "character device" "/dev/null" "" /dev/null
expect_bad "empty path" "empty" "" ""

# --- unreadable: root reads everything, so drop to nobody when root ---

cp /bin/true "$tmp/unreadable"
chmod 000 "$tmp/unreadable"
if [ "$(id -u)" != 0 ]; then
  expect_bad "unreadable file" "$tmp/unreadable" "" "$tmp/unreadable"
else
  drop=""
  if command -v setpriv >/dev/null 2>&1; then
    drop="setpriv --reuid=nobody --regid=nogroup --clear-groups"
  elif command -v runuser >/dev/null 2>&1; then
    drop="runuser -u nobody --"
  fi
  if [ -n "$drop" ] && $drop test -x "$DECANT" && $drop test -d "$tmp/elf"; then
    expect_bad "unreadable file (as nobody)" "$tmp/unreadable" "$drop" "$tmp/unreadable"
  else
    echo "NOTE: unreadable-file case skipped: running as root and cannot run $DECANT as nobody"
    if [ "${DECANT_MUST_WORK:-0}" = 1 ]; then fail "unreadable file" "could not drop privileges"; fi
  fi
fi

# --- symlinks on the host ---

ln -s loop-b "$tmp/loop-a"
ln -s loop-a "$tmp/loop-b"
expect_bad "host symlink loop" "$tmp/loop-a" "" "$tmp/loop-a"
ln -s self "$tmp/self"
expect_bad "host self-symlink" "$tmp/self" "" "$tmp/self"
ln -s no-such-target "$tmp/dangling"
expect_bad "host dangling symlink" "$tmp/dangling" "" "$tmp/dangling"

# --- symlinks inside a guest: resolved inside it, never on the host ---

guest="$tmp/guest"
mkdir -p "$guest/bin" "$guest/usr/bin" "$guest/opt/app"
ln -s /bin/loop-b "$guest/bin/loop-a"
ln -s loop-a "$guest/bin/loop-b"
expect_bad "guest symlink loop" "/bin/loop-a" "" --root "$guest" /bin/loop-a
ln -s ../../../../../../../../bin/true "$guest/opt/app/escape"
ln -s /usr/bin/true "$guest/opt/app/abs-escape"
ln -s ../../../../../../.. "$guest/opt/app/up"
# The host has /bin/true and /usr/bin/true; the guest does not (yet), so a
# resolution that leaked out of the guest would succeed here.
expect_bad "guest ../ escape" "/opt/app/escape" "" --root "$guest" /opt/app/escape
expect_bad "guest absolute escape" "/opt/app/abs-escape" "" --root "$guest" /opt/app/abs-escape
expect_bad "guest ../ escape via dir" "/opt/app/up/bin/true" "" --root "$guest" /opt/app/up/bin/true
expect_bad "guest dotdot path" "/../../../../bin/true" "" --root "$guest" /../../../../bin/true
# Now give the guest a text file at those names: the error must be about it.
printf 'not an ELF\n' >"$guest/bin/true"
printf 'not an ELF\n' >"$guest/usr/bin/true"
for p in /opt/app/escape /opt/app/abs-escape /opt/app/up/bin/true; do
  expect_bad "guest escape lands in guest $p" "$p" "" --root "$guest" "$p"
  grep -q "not an ELF" "$tmp/stderr" || fail "guest escape $p" "did not read the guest's file: $(cat "$tmp/stderr")"
done
expect_bad "guest root missing" "$tmp/no-such-guest" "" --root "$tmp/no-such-guest" /bin/true
expect_bad "guest root is a file" "$elf/good-true" "" --root "$elf/good-true" /bin/true

# --- -o: never clobber without --force, replace with it ---

cases=$((cases + 1))
printf 'ORIGINAL\n' >"$out/existing"
run_decant "" -o "$out/existing" /bin/true
check_rc2 "-o existing without --force"
check_stderr "-o existing without --force" "$out/existing"
[ "$(cat "$out/existing")" = ORIGINAL ] || fail "-o existing without --force" "the existing file was modified"
run_decant "" -o "$out/existing" --force "$elf/bad-text"
check_rc2 "-o existing --force, bad input"
[ "$(cat "$out/existing")" = ORIGINAL ] || fail "-o existing --force, bad input" "a failed run modified the file"
run_decant "" -o "$out/existing" --force /bin/true
if [ "$rc" != 0 ]; then
  fail "-o existing --force" "exit code $rc: $(head -c 300 "$tmp/stderr")"
elif ! head -n 1 "$out/existing" | grep -q '^apiVersion: '; then
  fail "-o existing --force" "file not replaced by a profile: $(head -c 100 "$out/existing")"
fi
leftover=$(ls -A "$out" | grep -v '^existing$')
[ -z "$leftover" ] || fail "-o" "temporary files left behind: $leftover"

if [ "$failures" -ne 0 ]; then
  echo "e2e.bad_input: $failures failure(s) in $cases cases"
  exit 1
fi
echo "e2e.bad_input: all $cases cases passed"
