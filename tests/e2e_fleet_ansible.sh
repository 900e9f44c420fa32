#!/bin/sh
# The Ansible playbook for live VMs (contrib/ansible/decant-fleet.yml) with
# ansible-playbook against two local guest roots (local connection, each
# host's root in decant_root, tar run without ssh): both roots are streamed
# read-only (unchanged afterwards), converted one shard per host, and merged;
# the result equals one `decant convert` of the two streamed archives.
set -u
. "$DECANT_SOURCE/tests/lib.sh"
. "$DECANT_SOURCE/tests/e2e_fleet_lib.sh"
require_root "guest files owned by root"
require_tool ansible-playbook
[ -f "$DECANT_BUILD/libdecant-shim.so" ] || skip "shim not built: build target decant_shim"
tmp=$(mktemp -d /tmp/decant-e2e-fleet-ansible.XXXXXX) || fail "mktemp"
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
export SOURCE_DATE_EPOCH=1700000000 ANSIBLE_NOCOLOR=1 ANSIBLE_LOCAL_TEMP="$tmp/ansible-tmp" ANSIBLE_HOME="$tmp/ansible-home"

fleet_guest "$tmp/vm1" 7074
fleet_guest "$tmp/vm2" 7075
mkdir -p vm1/proc/1 && echo "not for the archive" >vm1/proc/1/status  # what --exclude=./proc/* leaves out
fleet_tree vm1 >vm1.before
fleet_tree vm2 >vm2.before
cat >inventory.ini <<INV
[vms]
guest1 decant_root=$tmp/vm1
guest2 decant_root=$tmp/vm2

[all:vars]
ansible_connection=local
ansible_python_interpreter=/usr/bin/python3
decant_stream_shell=""
decant_executable=$DECANT
decant_workdir=$tmp/work
INV
ansible-playbook -i inventory.ini "$DECANT_SOURCE/contrib/ansible/decant-fleet.yml" >play.log 2>&1 ||
    fail "ansible-playbook: $(tail -30 play.log)"
grep -q 'guest1.*failed=0' play.log && grep -q 'guest2.*failed=0' play.log || fail "play recap: $(tail -8 play.log)"

fleet_tree vm1 >vm1.after
fleet_tree vm2 >vm2.after
cmp -s vm1.before vm1.after && cmp -s vm2.before vm2.after || fail "the playbook changed a guest root"
tar -tf work/in/guest1.tar >members || fail "guest1.tar is not an archive"
grep -q '^\./usr/sbin/legacy_forkd$' members || fail "guest1.tar lacks the daemon: $(head members)"
grep -q '^\./proc/1' members && fail "guest1.tar holds /proc's content"
grep -q '^\./proc/$' members || fail "guest1.tar lost the /proc mount point"
ls work/*.part work/in/*.part >/dev/null 2>&1 && fail "a partial stream was left behind"
for h in guest1 guest2; do
    grep -q '"status": "converted"' "work/out/$h/summary.json" || fail "$h not converted: $(cat work/out/$h/summary.json)"
    [ -f "work/out/$h/legacy-forkd/image.oci.tar" ] || fail "no image for $h"
done
[ -f work/out/report.html ] && [ -f work/out/findings.sarif ] || fail "no fleet report: $(ls work/out)"

# The same two archives in one convert: the same tree.
"$DECANT" convert "$tmp/work/in/guest1.tar" "$tmp/work/in/guest2.tar" -o "$tmp/direct" -q 2>direct.log ||
    fail "direct convert: $(cat direct.log)"
fleet_tree work/out >played.tree
fleet_tree direct >direct.tree
cmp -s played.tree direct.tree || fail "the playbook's outputs differ from one convert: $(diff played.tree direct.tree | head -20)"
echo "PASS: two guests streamed read-only, converted in parallel and merged; = one convert ($(wc -l <direct.tree) entries)"
