#!/bin/sh
# End-to-end checks of `decant analyze` on the compiled corpus: structural
# facts and hazards of real binaries, both output formats, -o semantics.
set -eu
. "$DECANT_SOURCE/tests/lib.sh"
require_tool jq
C="$DECANT_BUILD/corpus"
[ -x "$C/legacy_forkd" ] || fail "corpus not built at $C"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

j() { "$DECANT" analyze --format json "$@"; }

# A dynamic PIE server: closure has libc and the interpreter, glibc floor set.
j "$C/legacy_forkd" > "$W/forkd.json"
[ "$(jq -r .binary.linkage "$W/forkd.json")" = dynamic ] || fail "forkd linkage"
[ "$(jq -r .binary.pie "$W/forkd.json")" = true ] || fail "forkd pie"
[ "$(jq -r .binary.arch "$W/forkd.json")" = x86_64 ] || fail "forkd arch"
jq -e '.libraries | map(.soname) | index("libc.so.6")' "$W/forkd.json" >/dev/null || fail "forkd closure lacks libc"
jq -e '.libraries | map(.found_via) | index("interpreter")' "$W/forkd.json" >/dev/null || fail "forkd closure lacks ld.so"
jq -e '.requires.glibc | test("^2\\.[0-9]+$")' "$W/forkd.json" >/dev/null || fail "forkd requires.glibc"
[ "$(jq -r .binary.sha256 "$W/forkd.json")" = "$(sha256sum "$C/legacy_forkd" | cut -d' ' -f1)" ] || fail "sha256"
jq -e '.binary.build_id | length == 40' "$W/forkd.json" >/dev/null || fail "build-id"
jq -e '.source.libc.name == "glibc" and (.source.libc.version | length > 0)' "$W/forkd.json" >/dev/null || fail "source.libc"
jq -e '.source.os.id | length > 0' "$W/forkd.json" >/dev/null || fail "source.os"
jq -e '[.hazards[].id] | index("execstack") | not' "$W/forkd.json" >/dev/null || fail "forkd wrongly flagged execstack"

# Executable stack and static linkage are hazards with evidence.
j "$C/legacy_execstack" > "$W/es.json"
jq -e '.hazards[] | select(.id == "execstack") | .evidence[0] | test("PT_GNU_STACK flags RWE")' "$W/es.json" >/dev/null \
    || fail "execstack hazard missing"
if [ -x "$C/legacy_static" ]; then
    j "$C/legacy_static" > "$W/st.json"
    [ "$(jq -r .binary.linkage "$W/st.json")" = static ] || fail "legacy_static linkage: $(jq -r .binary.linkage "$W/st.json")"
    jq -e '[.hazards[].id] | index("static-binary-no-preload")' "$W/st.json" >/dev/null || fail "static hazard missing"
    jq -e '.libraries == []' "$W/st.json" >/dev/null || fail "static binary has a closure"
fi

# --target-glibc older than the need gives glibc-too-new.
j --target-glibc 2.2 "$C/legacy_forkd" > "$W/old.json"
jq -e '.hazards[] | select(.id == "glibc-too-new") | .severity == "error"' "$W/old.json" >/dev/null || fail "glibc-too-new"

# setuid binaries are flagged.
cp "$C/legacy_forkd" "$W/suid" && chmod 4755 "$W/suid"
j "$W/suid" | jq -e '[.hazards[].id] | index("setuid")' >/dev/null || fail "setuid hazard missing"

# YAML is the default and carries the same facts.
"$DECANT" analyze "$C/legacy_forkd" > "$W/forkd.yaml"
grep -q '^apiVersion: decant/v1$' "$W/forkd.yaml" || fail "yaml header"
grep -q '^  linkage: dynamic$' "$W/forkd.yaml" || fail "yaml linkage"

# -o writes atomically, refuses to overwrite without --force.
"$DECANT" analyze "$C/legacy_forkd" -o "$W/out.yaml"
cmp -s "$W/out.yaml" "$W/forkd.yaml" || fail "-o output differs from stdout output"
echo "keep me" > "$W/keep.yaml"
if "$DECANT" analyze "$C/legacy_forkd" -o "$W/keep.yaml" 2>"$W/err"; then fail "-o overwrote without --force"; fi
[ "$(cat "$W/keep.yaml")" = "keep me" ] || fail "existing output was modified"
grep -q "already exists" "$W/err" || fail "refusal message: $(cat "$W/err")"
"$DECANT" analyze "$C/legacy_forkd" -o "$W/keep.yaml" --force
grep -q '^apiVersion' "$W/keep.yaml" || fail "--force did not replace"
ls -a "$W" | grep -q decant-tmp && fail "temporary files left behind"

# A guest root: absolute links inside the guest resolve inside it.
mkdir -p "$W/guest/opt/app" "$W/guest/usr/bin"
cp "$C/legacy_forkd" "$W/guest/opt/app/forkd"
ln -s /opt/app/forkd "$W/guest/usr/bin/forkd"
j --root "$W/guest" /usr/bin/forkd > "$W/g.json"
jq -e '.missing_libraries | map(.soname) | index("libc.so.6")' "$W/g.json" >/dev/null \
    || fail "an empty guest must not borrow the host's libc"
jq -e '[.hazards[].id] | index("missing-library")' "$W/g.json" >/dev/null || fail "missing-library hazard"
echo "analyze CLI: all checks passed"
