#!/bin/sh
# Fleets on Kubernetes without a cluster: decant's own image is built twice
# by scripts/decant-image.sh with one digest; `decant fleet k8s` writes an
# Indexed Job and a merge Job for three sources (two directories with one
# basename, so guest/ and guest-2/, and a tar archive) that validate against
# the Kubernetes API models; every index's pod is run with podman from the
# YAML (same image, command, args and env, a host directory as the claims),
# all three at once, then the merge pod; the merged OUTDIR equals, file for
# file, one `decant convert` of the three sources in the same image.
set -u
. "$DECANT_SOURCE/tests/lib.sh"
. "$DECANT_SOURCE/tests/e2e_fleet_lib.sh"
require_root "a mount namespace for the image, podman"
require_tool podman
require_tool skopeo
PY=/usr/bin/python3
$PY -c 'import yaml, kubernetes' 2>/dev/null || skip "Debian's python3-yaml and python3-kubernetes are needed (scripts/install-deps.sh)"
[ -f "$DECANT_BUILD/libdecant-shim.so" ] || skip "shim not built: build target decant_shim"
tmp=$(mktemp -d /tmp/decant-e2e-fleet.XXXXXX) || fail "mktemp"
P=""
cleanup() {
    [ -z "$P" ] || $P rmi -a -f >/dev/null 2>&1
    rm -rf "$tmp"
}
trap cleanup EXIT
cd "$tmp" || exit 1
export SOURCE_DATE_EPOCH=1700000000

# Bad shard options are bad input, before anything is written.
"$DECANT" convert --shard-index 3 --shard-count 3 x -o bad 2>err; rc=$?
[ $rc -eq 2 ] && grep -q 'shard-index 3' err || fail "--shard-index 3 of 3: exit $rc: $(cat err)"
"$DECANT" convert --shard-index 0 x -o bad 2>err; rc=$?
[ $rc -eq 2 ] || fail "--shard-index without --shard-count: exit $rc"
[ ! -e bad ] || fail "a refused convert wrote bad/"

# decant's image, twice: the same bytes and digest.
"$DECANT_SOURCE/scripts/decant-image.sh" "$DECANT_BUILD" "$tmp/image1.tar" >d1 2>img.log || fail "decant-image.sh: $(tail -5 img.log)"
"$DECANT_SOURCE/scripts/decant-image.sh" "$DECANT_BUILD" "$tmp/image2.tar" >d2 2>>img.log || fail "decant-image.sh again: $(tail -5 img.log)"
grep -q '^sha256:' d1 || fail "no digest printed: $(cat d1)"
cmp -s d1 d2 || fail "two builds of decant's image differ: $(cat d1 d2)"
cmp -s image1.tar image2.tar || fail "two builds of decant's image are not byte-identical"

# Three sources under one claim; the list names them as the pods see them.
mkdir -p vms/a vms/b c
fleet_guest vms/a/guest 7071
fleet_guest vms/b/guest 7072
fleet_guest c/web 7073
tar -C c/web -cf vms/web.tar . || fail "tar"
printf '# three VMs\n/sources/a/guest\n/sources/b/guest\n\n/sources/web.tar\n' >list.txt
"$DECANT" fleet k8s --sources list.txt -o job.yaml --image localhost/decant:latest --decant /usr/local/bin/decant \
    --sources-pvc vms --pvc fleet-out 2>k8s.log || fail "fleet k8s: $(cat k8s.log)"
[ -f job.merge.yaml ] || fail "no job.merge.yaml"
$PY "$DECANT_SOURCE/tests/e2e_fleet_validate.py" job.yaml job.merge.yaml >valid.log 2>&1 ||
    fail "the Jobs do not validate: $(cat valid.log)"
grep -q '^3 documents valid' valid.log || fail "validator: $(cat valid.log)"
# The validator refuses what a cluster would: an unknown field, a wrong type.
sed 's/completionMode:/completionMod:/' job.yaml >broken.yaml
$PY "$DECANT_SOURCE/tests/e2e_fleet_validate.py" broken.yaml >/dev/null 2>&1 && fail "the validator took a misspelt field"
sed 's/parallelism: 3/parallelism: "3"/' job.yaml >broken.yaml
$PY "$DECANT_SOURCE/tests/e2e_fleet_validate.py" broken.yaml >/dev/null 2>&1 && fail "the validator took a string parallelism"

# podman on storage of its own (as e2e.kube); runc where cgroups are hybrid.
podman_conf "$tmp"
runtime=""
if [ -d /sys/fs/cgroup/unified ] && mountpoint -q /sys/fs/cgroup/unified 2>/dev/null; then
    command -v runc >/dev/null 2>&1 || skip "cgroups in hybrid mode and no runc (crun refuses them)"
    runtime="--runtime runc"
fi
mkdir -p ptmp pods
P="podman --root $tmp/root --runroot $tmp/run --tmpdir $tmp/ptmp $runtime"
$P info >/dev/null 2>podman.err || { P=""; skip "podman does not work here: $(head -1 podman.err)"; }
$P load -q -i image1.tar >load.log 2>&1 || fail "podman load: $(cat load.log)"
$P image exists localhost/decant:latest || fail "the image is not localhost/decant:latest: $(cat load.log)"

mkdir sharded full
$PY "$DECANT_SOURCE/tests/e2e_fleet_pods.py" "$P" pods job.yaml fleet-out="$tmp/sharded" vms="$tmp/vms" \
    -e SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH 2>pods.log || fail "the convert pods: $(tail -20 pods.log)"
[ "$(grep -c -- '--shard-index [012] ' pods.log)" -eq 3 ] || fail "not three indexed pods: $(cat pods.log)"
for d in guest guest-2 web; do
    [ -f "sharded/$d/summary.json" ] || fail "no sharded/$d/summary.json: $(ls sharded)"
done
[ ! -e sharded/summary.json ] || fail "a shard wrote the index"
$PY "$DECANT_SOURCE/tests/e2e_fleet_pods.py" "$P" pods job.merge.yaml fleet-out="$tmp/sharded" vms="$tmp/vms" \
    -e SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH 2>merge.log || fail "the merge pod: $(tail -20 merge.log)"
[ -f sharded/report.html ] && [ -f sharded/findings.sarif ] || fail "the merge wrote no fleet report: $(ls sharded)"

# One convert of the whole list, in the same image, at the same paths.
$P run --rm --network none --read-only --tmpfs /tmp -e XDG_CACHE_HOME=/tmp -e SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH \
    -v "$tmp/vms:/sources:ro" -v "$tmp/full:/out" --entrypoint /usr/local/bin/decant localhost/decant:latest \
    convert /sources/a/guest /sources/b/guest /sources/web.tar -o /out >full.log 2>&1 || fail "the full convert: $(tail full.log)"
grep -q '"converted": 1' full/summary.json || fail "the full run converted nothing: $(cat full/summary.json)"
fleet_tree full >full.tree
fleet_tree sharded >sharded.tree
cmp -s full.tree sharded.tree || fail "the merged shards differ from one convert: $(diff full.tree sharded.tree | head -20)"
grep -q 'guest-2/summary.json' sharded.tree || fail "the tree listing missed guest-2"
echo "PASS: three shards from the Job's YAML in parallel, merged = one convert ($(wc -l <full.tree) entries); image digest $(cat d1)"
