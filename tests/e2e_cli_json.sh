#!/bin/sh
# The CLI's promises for machines and people (docs/cli.md): every command's
# --json prints exactly one JSON object on stdout whose keys are exactly the
# ones docs/cli.md lists (the tables are read from the doc, so doc and code
# cannot drift), on the README's example VM (legacy_forkd started by a
# systemd unit); `package -o -` streams an OCI archive skopeo and tar read and
# is refused for directory formats; bad --tag values are refused with nothing
# written; typos get the nearest command or option; `decant help CMD` is
# `decant CMD --help`; --fail-on exits 3 exactly when the verdicts say so.
set -u
. "$DECANT_SOURCE/tests/lib.sh"
require_root "crun for decant run"
require_tool python3
require_tool crun
require_tool skopeo
CORPUS="$DECANT_BUILD/corpus"
SHIM="$DECANT_BUILD/libdecant-shim.so"
DOC="$DECANT_SOURCE/docs/cli.md"
[ -x "$CORPUS/legacy_forkd" ] || fail "corpus not built ($CORPUS/legacy_forkd)"
[ -f "$SHIM" ] || skip "shim not built ($SHIM): build target decant_shim"

tmp=$(mktemp -d /tmp/decant-e2e-clijson.XXXXXX) || fail "mktemp"
run_pid=""
cleanup() {
    [ -n "$run_pid" ] && kill "$run_pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
cd "$tmp" || exit 1
port=$((20000 + ($$ + 29) % 12000))  # below the ephemeral range (32768+), where clients hold ports
export SOURCE_DATE_EPOCH=1700000000

# The example VM of scripts/demo-convert.sh, on a port of this run's own.
VM=$tmp/vm
mkdir -p "$VM/usr/sbin" "$VM/etc/legacy" "$VM/var/log/legacy" "$VM/lib/systemd/system" \
    "$VM/etc/systemd/system/multi-user.target.wants"
cp "$CORPUS/legacy_forkd" "$VM/usr/sbin/legacy_forkd"
for lib in $(ldd "$CORPUS/legacy_forkd" | awk '/\// { for (i = 1; i <= NF; i++) if ($i ~ /^\//) print $i }'); do
    mkdir -p "$VM$(dirname "$lib")" && cp -L "$lib" "$VM$lib"
done
cp /etc/os-release "$VM/etc/os-release"
echo "greeting" >"$VM/etc/legacy/forkd.conf"
printf '[Service]\nExecStart=/usr/sbin/legacy_forkd -1 -p %s\nLogsDirectory=legacy\n[Install]\nWantedBy=multi-user.target\n' \
    "$port" >"$VM/lib/systemd/system/legacy-forkd.service"
ln -s /lib/systemd/system/legacy-forkd.service "$VM/etc/systemd/system/multi-user.target.wants/legacy-forkd.service"

# check_json CMD FILE [PYTHON-ASSERTIONS]: FILE is one JSON object with
# exactly docs/cli.md's keys for CMD (recursively, where the doc lists
# children); the assertions see it as `d`.
check_json() {
    python3 - "$DOC" "$1" "$2" "${3:-True}" <<'PY' || fail "$1 --json: $(head -c 600 "$2")"
import json, re, sys
doc, cmd, path, extra = sys.argv[1:]
keys, cur = set(), None
for line in open(doc, encoding="utf-8"):
    m = re.match(r"^### `decant (\w+) --json`", line)
    if m:
        cur = m.group(1)
        continue
    if line.startswith("#"):
        cur = None
    m = re.match(r"^\| `([^`]+)` \|", line)
    if m and cur == cmd:
        keys.add(m.group(1))
assert keys, f"docs/cli.md lists no keys for {cmd}"
text = open(path, encoding="utf-8").read()
d = json.loads(text)  # fails on anything before or after the one value
assert isinstance(d, dict), f"not an object: {type(d)}"

def check(obj, prefix):
    want = {k[len(prefix):] for k in keys if k.startswith(prefix) and not re.search(r"\.|\[\]", k[len(prefix):])}
    assert set(obj) == want, f"{cmd} {prefix or 'top'}: keys {sorted(obj)} != documented {sorted(want)}"
    for c in want:
        if any(k.startswith(prefix + c + ".") for k in keys):
            assert isinstance(obj[c], dict), f"{prefix}{c} is not an object"
            check(obj[c], prefix + c + ".")
        if any(k.startswith(prefix + c + "[].") for k in keys):
            assert isinstance(obj[c], list), f"{prefix}{c} is not an array"
            for e in obj[c]:
                check(e, prefix + c + "[].")

check(d, "")
assert eval(extra), f"{cmd}: {extra} does not hold"
print(f"{cmd} --json: {len(keys)} documented keys ok")
PY
}

# expect_refused RC-FILE ERR-FILE WHAT: exit 2 and one line on stderr.
expect_refused() {
    [ "$(cat "$1")" = 2 ] || fail "$3: exit $(cat "$1"), want 2: $(cat "$2")"
    [ "$(wc -l <"$2")" -eq 1 ] || fail "$3: want one line on stderr, got: $(cat "$2")"
}

# discover: embedded without -o, named with -o.
"$DECANT" discover --root "$VM" --json >discover.json 2>discover.err || fail "discover: $(cat discover.err)"
check_json discover discover.json 'd["discovery"]["services"] and d["output"] is None and d["started"] >= 1'
"$DECANT" discover --root "$VM" -o discovered.json --json >discover2.json || fail "discover -o"
check_json discover discover2.json 'd["output"] == "discovered.json" and d["discovery"] is None'
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' discovered.json || fail "discover -o wrote no JSON"

# analyze
"$DECANT" analyze --root "$VM" /usr/sbin/legacy_forkd --json >analyze.json 2>analyze.err || fail "analyze: $(cat analyze.err)"
check_json analyze analyze.json 'd["binary"] == "/usr/sbin/legacy_forkd" and d["profile"]["binary"]["path"] == d["binary"] and d["libraries"] >= 1'
"$DECANT" analyze --root "$VM" /usr/sbin/legacy_forkd -o a.yaml --json >analyze2.json || fail "analyze -o"
check_json analyze analyze2.json 'd["output"] == "a.yaml" and d["profile"] is None'
grep -q "^kind: Profile" a.yaml || fail "analyze -o --json did not write the YAML profile"

# convert, with the verdicts it reports
"$DECANT" convert "$VM" -o out --shim "$SHIM" --json >convert.json 2>convert.err
rc=$?
[ $rc -eq 0 ] || fail "convert exited $rc: $(cat convert.err)"
check_json convert convert.json 'd["status"]["converted"] == 1 and d["sources"][0]["services"][0]["artifacts"] and d["gate_tripped"] is False'
verdict=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print([s["verdict"] for s in d["sources"][0]["services"] if s["name"]=="legacy-forkd"][0])' convert.json)
echo "legacy-forkd: $verdict"
case "$verdict" in ready | attention | blocked) ;; *) fail "convert: verdict '$verdict'" ;; esac
"$DECANT" convert "$VM" -o out --shim "$SHIM" --json --fail-on attention >convert2.json 2>/dev/null
rc=$?
want=0; [ "$verdict" = ready ] || want=3
[ $rc -eq $want ] || fail "convert --fail-on attention exited $rc with verdict $verdict, want $want"
check_json convert convert2.json "d['status']['unchanged'] == 1 and d['gate_tripped'] == ($want == 3) and d['fail_on'] == 'attention'"

# A VM whose service lacks a library it needs is blocked: --fail-on trips (3).
cp -a "$VM" vm-broken
rm -f vm-broken/lib/x86_64-linux-gnu/libc.so.6 vm-broken/usr/lib/x86_64-linux-gnu/libc.so.6
"$DECANT" convert vm-broken -o out-broken --shim "$SHIM" --json --fail-on blocked >broken.json 2>broken.err
rc=$?
[ $rc -eq 3 ] || fail "convert --fail-on blocked of a VM without libc exited $rc, want 3: $(tail -3 broken.err)"
check_json convert broken.json 'd["gate_tripped"] is True and d["verdicts"]["blocked"] == 1'
"$DECANT" report out-broken --fail-on blocked -q >/dev/null
rc=$?
[ $rc -eq 3 ] || fail "report --fail-on blocked of the VM without libc exited $rc, want 3"

# report, and its gate
"$DECANT" report out --json >report.json 2>report.err || fail "report: $(cat report.err)"
check_json report report.json "d['vms'][0]['services'][0]['verdict'] == '$verdict' and d['fail_on'] is None"
"$DECANT" report out --json --fail-on attention >report2.json 2>/dev/null
rc=$?
[ $rc -eq $want ] || fail "report --fail-on attention exited $rc with verdict $verdict, want $want"
check_json report report2.json "d['gate_tripped'] == ($want == 3)"
"$DECANT" report out --fail-on blocked -q >/dev/null
rc=$?
wantb=0; [ "$verdict" = blocked ] && wantb=3
[ $rc -eq $wantb ] || fail "report --fail-on blocked exited $rc with verdict $verdict"

# plan
PROFILE=out/legacy-forkd/profile.yaml
"$DECANT" plan "$PROFILE" --json >plan.json 2>plan.err || fail "plan: $(cat plan.err)"
check_json plan plan.json 'd["plan"] and d["output"] is None and d["bpf_instructions"] > 0'

# package: --root from the profile's source.root, said on stderr
"$DECANT" package "$PROFILE" -o img.tar --json >package.json 2>package.err || fail "package: $(cat package.err)"
grep -q "no --root given: packaging from $VM" package.err || fail "package did not say where the guest came from: $(cat package.err)"
check_json package package.json "d['root'] == '$VM' and d['digest'].startswith('sha256:') and d['output'] == 'img.tar'"
"$DECANT" package "$PROFILE" -o img2.tar --tag localhost:5000/team/forkd:v1.0 --json >package2.json || fail "package --tag"
check_json package package2.json 'd["image_ref"] == "localhost:5000/team/forkd:v1.0"'

# package -o -: an OCI archive on stdout (through a pipe) that skopeo and tar
# read; skopeo's oci-archive transport needs a file it can stat, not a pipe.
"$DECANT" package "$PROFILE" -o - 2>stdout.err | cat >streamed.tar || fail "package -o - | cat: $(cat stdout.err)"
skopeo inspect oci-archive:streamed.tar >inspect.json || fail "skopeo inspect of the streamed archive: $(cat stdout.err)"
digest=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["Digest"])' inspect.json)
grep -q "$digest written to stdout" stdout.err || fail "package -o -: stderr does not name digest $digest: $(cat stdout.err)"
"$DECANT" package "$PROFILE" -o - 2>/dev/null | tar -tf - >listing || fail "package -o - | tar -t"
grep -qx "index.json" listing && grep -q "^blobs/sha256/" listing || fail "package -o -: not an OCI layout: $(head listing)"
[ ! -e ./- ] || fail "package -o - created a file named -"
# refused: directory formats, --json with -o -, a terminal
for f in bundle oci-dir lxc; do
    ( "$DECANT" package "$PROFILE" -o - --format "$f" >/dev/null 2>err; echo $? >rc )
    expect_refused rc err "package -o - --format $f"
    grep -q "only oci-archive" err || fail "package -o - --format $f: $(cat err)"
done
( "$DECANT" package "$PROFILE" -o - --json >/dev/null 2>err; echo $? >rc )
expect_refused rc err "package -o - --json"
if command -v script >/dev/null 2>&1; then
    script -qec "$DECANT package $PROFILE -o -" /dev/null >tty.out 2>&1
    grep -q "stdout is a terminal" tty.out || fail "package -o - on a terminal: $(head -c 300 tty.out)"
fi
[ ! -e ./- ] || fail "a refused package -o - created a file named -"
ls -a "${TMPDIR:-/tmp}" | grep -q "^\.decant-package-" && fail "package -o - left its scratch in ${TMPDIR:-/tmp}"

# bad tags: refused before anything is written
for tag in "Decant/forkd:latest" "forkd:" "forkd:-x" "a//b" "forkd@sha256:1234" "UPPER" "host:port/x" \
    "$(python3 -c 'print("a" * 256)')"; do
    ( "$DECANT" package "$PROFILE" -o badtag.tar --tag "$tag" >/dev/null 2>err; echo $? >rc )
    expect_refused rc err "package --tag $tag"
    grep -q -- "--tag" err || fail "package --tag $tag: error does not name --tag: $(cat err)"
    [ ! -e badtag.tar ] || fail "package --tag $tag wrote badtag.tar"
    ls -a | grep -q "decant-tmp" && fail "package --tag $tag left a scratch directory"
done

# run: the service's stdout is kept off stdout; the object comes when it exits
"$DECANT" run out/legacy-forkd/bundle --json >run.json 2>run.err &
run_pid=$!
i=0
until "$CORPUS/legacy_client" -h 127.0.0.1 -p "$port" -c PING >/dev/null 2>&1; do
    i=$((i + 1))
    [ $i -lt 100 ] || fail "converted server did not answer on $port: $(tail -5 run.err)"
    sleep 0.1
done
wait "$run_pid"
rc=$?
run_pid=""
check_json run run.json "d['exit_status'] == $rc and d['artifact'] == 'out/legacy-forkd/bundle' and d['runtime']"

# learn: the command's stdout goes to stderr
"$DECANT" learn --shim "$SHIM" -o - --json -- /bin/echo from-the-command >learn.json 2>learn.err ||
    fail "learn: $(cat learn.err)"
grep -q from-the-command learn.err || fail "learn: the command's output is not on stderr"
check_json learn learn.json 'd["exit_status"] == 0 and d["signal"] is None and d["profile"]["entrypoint"][0] == "/bin/echo"'
"$DECANT" learn --shim "$SHIM" -o learned.yaml --json -- /bin/sh -c 'exit 3' >learn2.json 2>/dev/null || fail "learn -o"
check_json learn learn2.json 'd["exit_status"] == 3 and d["output"] == "learned.yaml" and d["profile"] is None'

# typos and help
( "$DECANT" convrt "$VM" -o x >/dev/null 2>err; echo $? >rc )
expect_refused rc err "decant convrt"
grep -q "unknown command 'convrt'; did you mean 'convert'? (see decant convert --help)" err || fail "convrt: $(cat err)"
( "$DECANT" package --fromat bundle "$PROFILE" -o x >/dev/null 2>err; echo $? >rc )
expect_refused rc err "decant package --fromat"
grep -q "package: unknown option --fromat; did you mean --format? (see decant package --help)" err ||
    fail "--fromat: $(cat err)"
[ ! -e x ] || fail "a refused command wrote x"
( "$DECANT" report out --fail-on blockd >/dev/null 2>err; echo $? >rc )
expect_refused rc err "report --fail-on blockd"
grep -q "decant report --help" err || fail "report --fail-on blockd: $(cat err)"
"$DECANT" help package >help1 || fail "decant help package exited $?"
"$DECANT" package --help >help2 || fail "decant package --help exited $?"
cmp -s help1 help2 || fail "decant help package differs from decant package --help"
grep -q -- "--tag" help1 || fail "decant help package shows no options"
"$DECANT" help >helpall || fail "decant help exited $?"
for c in analyze convert discover learn package plan report run help; do
    grep -q "^  $c" helpall || fail "decant help does not list $c: $(cat helpall)"
done
( "$DECANT" help pakage >/dev/null 2>err; echo $? >rc )
expect_refused rc err "decant help pakage"
grep -q "did you mean 'package'" err || fail "help pakage: $(cat err)"
echo "PASS: e2e.cli_json"
