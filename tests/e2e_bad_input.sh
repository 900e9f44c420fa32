#!/bin/sh
# End-to-end test of `decant analyze` on bad input: non-ELF, empty, truncated
# and corrupt ELFs (generated at test time by tests/fuzz/make_seeds.sh),
# directories, FIFOs, missing and unreadable paths, symlink loops on the host
# and inside a --root guest, and symlinks that try to escape the guest; file
# names that are not UTF-8 (analyze and package must not abort); profiles
# that `decant package --no-shim` must refuse (bad redirects, paths climbing
# above /, NUL and line breaks, deep nesting). Each
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

# --- names that are not UTF-8 (old guests have Latin-1 file names) ---

ff=$(printf '\377')
latin1=$(printf 'caf\351')
cc_cmd=$(command -v cc || command -v gcc || true)
if [ -n "$cc_cmd" ]; then
  mkdir "$tmp/bytes"
  printf 'int f(void) { return 1; }\n' >"$tmp/bytes/l.c"
  printf 'int main(void) { return 0; }\n' >"$tmp/bytes/m.c"
  if "$cc_cmd" -shared -fPIC -o "$tmp/bytes/lib$ff.so" "$tmp/bytes/l.c" -Wl,-soname,"lib$ff.so" &&
     "$cc_cmd" -o "$tmp/bytes/needs-ff" "$tmp/bytes/m.c" -Wl,--no-as-needed "$tmp/bytes/lib$ff.so"; then
    for format in json yaml; do
      cases=$((cases + 1))
      timeout 10 "$DECANT" analyze --format "$format" "$tmp/bytes/needs-ff" >"$tmp/stdout" 2>"$tmp/stderr"
      rc=$?
      if [ "$rc" != 0 ]; then
        fail "DT_NEEDED lib\\xff.so ($format)" "exit code $rc: $(head -c 300 "$tmp/stderr")"
      elif ! grep -q 'lib\\uefff\.so' "$tmp/stdout"; then
        fail "DT_NEEDED lib\\xff.so ($format)" "the byte is not written as \\uefff: $(grep -a 'lib.*\.so' "$tmp/stdout" | head -n 2)"
      elif [ "$format" = json ] && command -v python3 >/dev/null 2>&1 &&
           ! python3 -c 'import json, sys; json.load(open(sys.argv[1], encoding="utf-8"))' "$tmp/stdout"; then
        fail "DT_NEEDED lib\\xff.so (json)" "the output is not UTF-8 JSON"
      fi
    done
    # A symbol name that is not UTF-8 (the code cache stores names as JSON).
    printf 'int g(void) __asm__("g\\377x");\nint g(void) { return 2; }\nint main(void) { return g(); }\n' \
      >"$tmp/bytes/sym.c"
    if "$cc_cmd" -o "$tmp/bytes/sym-ff" "$tmp/bytes/sym.c"; then
      cases=$((cases + 1))
      timeout 20 "$DECANT" analyze --format json "$tmp/bytes/sym-ff" >"$tmp/stdout" 2>"$tmp/stderr"
      rc=$?
      [ "$rc" = 0 ] || fail "symbol g\\xffx" "exit code $rc: $(head -c 300 "$tmp/stderr")"
    else
      fail "symbol g\\xffx" "could not compile the test binary with $cc_cmd"
    fi
  else
    fail "DT_NEEDED lib\\xff.so" "could not compile the test binary with $cc_cmd"
  fi
else
  echo "NOTE: DT_NEEDED lib\\xff.so case skipped: no C compiler"
  if [ "${DECANT_MUST_WORK:-0}" = 1 ]; then fail "DT_NEEDED lib\\xff.so" "no C compiler"; fi
fi

# run_cmd ARGS...: runs decant ARGS under `timeout 20`; sets rc.
run_cmd() {
  timeout 20 "$DECANT" "$@" >"$tmp/stdout" 2>"$tmp/stderr"
  rc=$?
}

# expect_bad_package LABEL NEEDLE PROFILE: `decant package --no-shim` of the
# profile fails with exit 2, one line naming the profile and NEEDLE, and
# leaves nothing in the output directory.
expect_bad_package() {
  cases=$((cases + 1))
  run_cmd package "$3" --root / --no-shim -o "$out/image.tar"
  check_rc2 "$1"
  check_stderr "$1" "$3"
  check_stderr "$1" "$2"
  if [ -n "$(ls -A "$out")" ]; then
    fail "$1" "left files behind: $(ls -A "$out" | tr '\n' ' ')"
    rm -rf "${out:?}"/* "$out"/.[!.]* 2>/dev/null
  fi
}

# A profile of the host's /bin/true that lists a Latin-1 file: packaged.
mkdir "$tmp/$latin1"
printf 'data\n' >"$tmp/$latin1/x"
run_decant "" /bin/true -o "$tmp/true.yaml"
if [ "$rc" != 0 ] || ! grep -q '^files: \[\]$' "$tmp/true.yaml"; then
  fail "profile of /bin/true" "analyze failed or wrote no 'files: []' (exit $rc)"
else
  sed "s|^files: \[\]\$|files: [{path: \"$tmp/$latin1/x\", access: read, evidence: [\"user: caf$ff\"]}]|" \
    "$tmp/true.yaml" >"$tmp/latin1.yaml"
  cases=$((cases + 1))
  run_cmd package "$tmp/latin1.yaml" --root / --no-shim -o "$out/image.tar"
  if [ "$rc" != 0 ]; then
    fail "package a Latin-1 file" "exit code $rc: $(head -c 300 "$tmp/stderr")"
  elif ! tar -xOf "$out/image.tar" index.json >/dev/null 2>&1; then
    fail "package a Latin-1 file" "no OCI archive written"
  fi
  rm -rf "${out:?}"/* "$out"/.[!.]* 2>/dev/null
  # The same bytes in what the runtime config carries as JSON text: refused.
  sed "s|^entrypoint: .*|entrypoint: [\"/bin/true\", \"$latin1\"]|" "$tmp/true.yaml" >"$tmp/latin1-arg.yaml"
  expect_bad_package "Latin-1 entrypoint argument" "entrypoint[1]: is not valid UTF-8" "$tmp/latin1-arg.yaml"
  # A written Latin-1 directory becomes a mount in the JSON runtime config,
  # which cannot carry it: the CLI boundary reports it (no abort, no scratch).
  sed "s|^files: \[\]\$|files: [{path: \"$tmp/$latin1\", access: write}]|" "$tmp/true.yaml" >"$tmp/latin1-dir.yaml"
  cases=$((cases + 1))
  run_cmd package "$tmp/latin1-dir.yaml" --root / --no-shim -o "$out/image.tar"
  check_rc2 "written Latin-1 directory"
  check_stderr "written Latin-1 directory" "UTF-8"
  if [ -n "$(ls -A "$out")" ]; then
    fail "written Latin-1 directory" "left files behind: $(ls -A "$out" | tr '\n' ' ')"
    rm -rf "${out:?}"/* "$out"/.[!.]* 2>/dev/null
  fi
fi

# --- profiles that must be refused even without the shim (no plan compiled) ---

bad_profile() {  # bad_profile NAME BODY: a minimal profile of /bin/true plus BODY
  printf 'apiVersion: decant/v1\nkind: Profile\nbinary: {path: /bin/true}\n%s\n' "$2" >"$tmp/$1.yaml"
}
bad_profile port0 'redirects: {ports: [{from: 0, to: 8080}]}'
expect_bad_package "redirect port 0" "ports must be 1-65535" "$tmp/port0.yaml"
bad_profile dup-source 'redirects: {paths: [{from: /var/log, to: /a}, {from: /var/log/, to: /b}]}'
expect_bad_package "path redirected twice" "redirected twice" "$tmp/dup-source.yaml"
bad_profile dup-port 'redirects: {ports: [{from: 80, to: 81}, {from: 80, to: 82}]}'
expect_bad_package "port redirected twice" "80/tcp redirected twice" "$tmp/dup-port.yaml"
bad_profile uname "redirects: {identity: {uname_release: $(printf '%070d' 0)}}"
expect_bad_package "overlong uname field" "redirects.identity.uname_release" "$tmp/uname.yaml"
bad_profile to-root 'redirects: {paths: [{from: /var/lib/app, to: /}]}'
expect_bad_package "redirect onto /" "cannot be a redirect target" "$tmp/to-root.yaml"
for target in /proc/self/environ /sys/kernel/x /dev/shm/x; do
  bad_profile to-kernel "redirects: {paths: [{from: /etc/app.conf, to: $target}]}"
  expect_bad_package "redirect onto $target" "which the kernel and runtime own" "$tmp/to-kernel.yaml"
done
bad_profile climb 'files: [{path: /etc/../../etc/shadow, access: read}]'
expect_bad_package "path climbing above /" "climbs above /" "$tmp/climb.yaml"
bad_profile climb-to 'redirects: {paths: [{from: /a, to: /srv/../../..}]}'
expect_bad_package "redirect target climbing above /" "climbs above /" "$tmp/climb-to.yaml"
bad_profile workdir 'workdir: srv/app'
expect_bad_package "relative workdir" "workdir: 'srv/app' is not absolute" "$tmp/workdir.yaml"
bad_profile env-nul 'env: {A: "x\0y"}'
expect_bad_package "NUL in env" "contains a NUL byte" "$tmp/env-nul.yaml"
bad_profile env-nl 'env: {A: "x\ny"}'
expect_bad_package "newline in env" "contains a line break" "$tmp/env-nl.yaml"
bad_profile arg-nl 'entrypoint: [/bin/true, "a\nb"]'
expect_bad_package "newline in an entrypoint argument" "contains a line break" "$tmp/arg-nl.yaml"
deep=$(printf '%3000s' '' | tr ' ' '[')$(printf '%3000s' '' | tr ' ' ']')
bad_profile deep "metadata: {name: $deep}"
expect_bad_package "deep nesting" "line 4: nesting too deep" "$tmp/deep.yaml"
printf '{"apiVersion": "decant/v1", "kind": "Profile", "binary": {"path": "/bin/true"},\n "env": %s}\n' "$deep" \
  >"$tmp/deep.json"
expect_bad_package "deep nesting (JSON)" "line 2: nesting too deep" "$tmp/deep.json"

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
