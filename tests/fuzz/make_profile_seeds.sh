#!/bin/sh
# Seeds for profile_fuzz: the example of docs/profile.md, and real profiles
# `decant analyze` writes (YAML and JSON) for host and corpus binaries when
# the build has them. usage: make_profile_seeds.sh OUTDIR
set -eu
out=$1
mkdir -p "$out"
src=${DECANT_SOURCE:?}
# The fenced yaml example of docs/profile.md.
awk '/^```yaml$/{on=1; next} /^```$/{on=0} on' "$src/docs/profile.md" >"$out/doc-example.yaml"
printf '{}\n' >"$out/empty.json"
printf 'version: 1\nbinary: {path: /x}\nunknown: [1, {a: b}]\n' >"$out/unknown.yaml"
# Deep nesting and anchors: yaml-cpp's depth guard and alias handling.
awk 'BEGIN{for(i=0;i<2000;i++) printf "["; print ""}' >"$out/deep.yaml"
printf 'a: &x [*x]\nb: &y {k: *y}\n' >"$out/alias.yaml"
n=0
if [ -n "${DECANT:-}" ] && [ -x "$DECANT" ]; then
  for b in /bin/true "${DECANT_BUILD:-/nonexistent}"/corpus/*/*; do
    [ -f "$b" ] && [ -x "$b" ] || continue
    n=$((n + 1)); [ $n -le 3 ] || break
    "$DECANT" analyze "$b" -o "$out/analyzed-$n.yaml" >/dev/null 2>&1 || true
    "$DECANT" analyze "$b" --format json -o "$out/analyzed-$n.json" >/dev/null 2>&1 || true
  done
fi
find "$out" -type f -size 0 -delete
exit 0
