#!/bin/sh
# Learning inside a packaged artifact: `decant learn ARTIFACT --workload CMD`
# runs the service of a bundle and of an OCI archive (sshd of the bullseye
# guest, whose sshd_config lost its commented "#Port 22") under decant run
# with the shim recording, while a client (the workload) reads each
# greeting through a published port. The port is only guessed statically
# (medium: the documented default), so the images publish none; learning sees them bound and a re-package of the
# learned profile publishes them. A file the service looked for and the
# image lacked is reported, and the re-packaged image has it whenever the
# guest does. The artifacts are unchanged byte for byte (a bundle's volumes
# aside: they are its state); a failing workload
# makes learn fail; bad uses get one line and exit 2.
set -u
. "$DECANT_SOURCE/tests/lib.sh"
require_root "crun and the guest"
require_tool crun
require_tool python3
GUEST=$(bullseye_guest) || exit $?
SHIM="$DECANT_BUILD/libdecant-shim.so"
[ -f "$SHIM" ] || skip "shim not built ($SHIM): build target decant_shim"
tmp=$(mktemp -d /tmp/decant-e2e-learn.XXXXXX) || fail "mktemp"
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1

# A copy of the guest (hard links; the file changed is replaced, never
# written through) whose sshd_config lacks the commented "#Port 22" that
# confirms the documented default: port 22 is then only guessed.
cp -al "$GUEST" guest || fail "cannot hard-link the guest"
rm -f guest/etc/ssh/sshd_config && grep -v '^#Port 22$' "$GUEST/etc/ssh/sshd_config" >guest/etc/ssh/sshd_config ||
    fail "cannot write the copy's sshd_config"
GUEST=$tmp/guest
"$DECANT" convert "$GUEST" -o out --shim "$SHIM" --only ssh --format bundle -q 2>convert.log ||
    fail "convert: $(tail -5 convert.log)"
grep -A3 'port: 22$' out/ssh/profile.yaml | grep -q 'confidence: medium' ||
    fail "ssh: its port is no longer only guessed; this test needs a medium-confidence port"
"$DECANT" package out/ssh/profile.yaml --root "$GUEST" --shim "$SHIM" --network private --format bundle \
    -o b-ssh 2>package.log || fail "package ssh: $(tail -3 package.log)"
"$DECANT" package out/ssh/profile.yaml --root "$GUEST" --shim "$SHIM" --network private --format oci-archive \
    -o ssh.tar 2>>package.log || fail "package ssh as an OCI archive: $(tail -3 package.log)"
# publishes CONFIG PORT: the runtime config's port annotation lists PORT.
publishes() {
    python3 -c 'import json, sys
c = json.load(open(sys.argv[1]))
ports = json.loads(c.get("annotations", {}).get("io.decant.ports", "[]"))
sys.exit(0 if any(p["port"] == int(sys.argv[2]) for p in ports) else 1)' "$1" "$2"
}
publishes b-ssh/config.json 22 && fail "b-ssh publishes port 22, which was only guessed"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
cat >greet.py <<'PY'
# greet.py PORT REGEX: the service's first line on 127.0.0.1:PORT matches
# REGEX within 30 s (the container may still be starting).
import re, socket, sys, time
end = time.time() + 30
while time.time() < end:
    try:
        s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2)
        line = s.recv(200).decode(errors="replace")
        if re.search(sys.argv[2], line):
            print("greeting:", line.strip())
            sys.exit(0)
    except OSError:
        pass
    time.sleep(0.3)
sys.exit(1)
PY
# A bundle's rootfs and config (its volumes/ are the service's state, written
# by any run of it).
tree_digest() { (cd "$1" && find rootfs config.json -printf '%p %m %U %G %s %l\n' | LC_ALL=C sort && find rootfs config.json -type f -exec sha256sum {} + | LC_ALL=C sort) | sha256sum; }

# learn_and_repackage NAME ARTIFACT PORT REGEX FORMAT
learn_and_repackage() {
    name=$1 artifact=$2 port=$3 regex=$4 format=$5
    before=$(if [ -d "$artifact" ]; then tree_digest "$artifact"; else sha256sum <"$artifact"; fi)
    host=$(free_port)
    # In the background for its pid: the container it runs is named
    # decant-SERVICE-PID, told apart from other tests' containers.
    "$DECANT" learn "$artifact" -o "$name.learned.yaml" -p "127.0.0.1:$host:$port" --timeout 60 \
        --workload "python3 $tmp/greet.py $host '$regex'" >"learn-$name.out" 2>"learn-$name.log" &
    learn_pid=$!
    wait "$learn_pid" || fail "$name: learn failed: $(grep -v "$name\[" "learn-$name.log" | tail -5)"
    grep -q 'the workload ended' "learn-$name.log" || fail "$name: learning did not end with the workload"
    grep -q "port $port/tcp seen bound" "learn-$name.log" || fail "$name: port $port not confirmed: $(tail -5 "learn-$name.log")"
    python3 - "$name.learned.yaml" "$port" <<'PY' || fail "$name: the learned profile lacks port $port high with observed evidence"
import sys, yaml
p = yaml.safe_load(open(sys.argv[1]))
l = [x for x in p["network"]["listen"] if x["port"] == int(sys.argv[2])]
sys.exit(0 if l and l[0]["confidence"] == "high" and any(e.startswith("observed: listen()") for e in l[0]["evidence"]) else 1)
PY
    after=$(if [ -d "$artifact" ]; then tree_digest "$artifact"; else sha256sum <"$artifact"; fi)
    [ "$before" = "$after" ] || fail "$name: learning changed the artifact $artifact"
    crun list 2>/dev/null | grep -q "^decant-[^ ]*-$learn_pid " && fail "$name: its container was left behind: $(crun list)"
    "$DECANT" package "$name.learned.yaml" --root "$GUEST" --shim "$SHIM" --network private --format bundle \
        -o "b2-$name" 2>"package2-$name.log" || fail "$name: re-package: $(tail -3 "package2-$name.log")"
    publishes "b2-$name/config.json" "$port" || fail "$name: the re-packaged image does not publish $port"
    # Each file the image lacked comes with the re-package when the guest has it.
    sed -n 's/^decant: image miss: file \([^ ]*\) .*/\1/p' "learn-$name.log" | while read -r f; do
        if [ -e "$GUEST$f" ] || [ -L "$GUEST$f" ]; then
            [ -e "b2-$name/rootfs$f" ] || [ -L "b2-$name/rootfs$f" ] || fail "$name: $f was reported missing, the guest has it, the re-package does not"
            echo "ok: $name: the image lacked $f; the re-package has it"
        fi
    done || exit 1
    echo "ok: $name: learned in its $format artifact, port $port confirmed and published after re-packaging"
}

learn_and_repackage ssh b-ssh 22 '^SSH-2\.0-' bundle
learn_and_repackage ssh-oci ssh.tar 22 '^SSH-2\.0-' oci-archive

# A workload that fails makes learning fail (the profile is still written).
host=$(free_port)
"$DECANT" learn b-ssh -o failed.yaml -p "127.0.0.1:$host:22" --workload 'exit 3' 2>failed.log
[ $? -eq 1 ] || fail "a failing workload did not make learn exit 1: $(tail -3 failed.log)"
grep -q 'the workload failed (status 3)' failed.log || fail "no note of the failing workload: $(tail -3 failed.log)"

# Bad uses: one line, exit 2, nothing written.
mkdir not-decant
expect_bad() {
    want=$1; shift
    "$DECANT" learn "$@" >bad.out 2>bad.log
    rc=$?
    [ "$rc" -eq 2 ] || fail "learn $*: exit $rc, not 2: $(cat bad.log)"
    [ "$(wc -l <bad.log)" -eq 1 ] || fail "learn $*: not one line: $(cat bad.log)"
    grep -q "$want" bad.log || fail "learn $*: '$want' not in: $(cat bad.log)"
    [ -e x.yaml ] && fail "learn $*: wrote x.yaml"
    return 0
}
expect_bad 'not made by decant\|config.json' not-decant -o x.yaml
expect_bad 'an artifact is learned with the profile it carries' b-ssh --profile out/ssh/profile.yaml -o x.yaml
expect_bad 'are for an artifact' --workload true -o x.yaml -- /bin/true
expect_bad 'already exists' b-ssh -o ssh.learned.yaml
echo "PASS"
