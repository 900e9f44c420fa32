#!/bin/sh
# The readiness report as a person and a CI job see it: convert two services
# of the bullseye guest, render report.html with headless Chromium (a PNG
# kept under the build dir as a test artifact) and check the DOM names every
# service with the verdict that docs/report.md's rules give (recomputed here
# from the profiles); merge two VMs into one fleet report; validate
# findings.sarif against the official SARIF 2.1.0 schema; --fail-on exit
# codes; bad input is one line, exit 2, nothing written.
set -u
. "$DECANT_SOURCE/tests/lib.sh"
require_root "the guest"
require_tool python3
require_tool chromium
# The python3 first in PATH may be a private one without Debian's modules: then Debian's own.
PY=python3
$PY -c 'import jsonschema, yaml' 2>/dev/null || PY=/usr/bin/python3
$PY -c 'import jsonschema, yaml' 2>/dev/null || skip "python3-jsonschema and python3-yaml are not installed (run scripts/install-deps.sh)"
GUEST=$(bullseye_guest) || exit $?
ARTIFACTS="$DECANT_BUILD/test-artifacts/e2e.report"
SCHEMA="$DECANT_SOURCE/tests/data/sarif-schema-2.1.0.json"
mkdir -p "$ARTIFACTS" || fail "cannot create $ARTIFACTS"

tmp=$(mktemp -d /tmp/decant-e2e-report.XXXXXX) || fail "mktemp"
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
# Two VMs: hard-linked copies of the guest under their own names.
cp -al "$GUEST" vm-a && cp -al "$GUEST" vm-b || fail "cannot hard-link the guest"
# vm-b's memcached wrapper finds its daemon through perl's PATH, which
# decant does not guess: a failed service for the report (the file is
# replaced, never written through the hard link).
w=vm-b/usr/share/memcached/scripts/systemd-memcached-wrapper
rm -f "$w" && printf '#!/usr/bin/perl\nexec "memcached", @ARGV;\n' >"$w" && chmod 755 "$w" || fail "cannot replace $w"
# 2026-12-02: the report's date, so the OS age is fixed (bullseye's LTS ended 2026-08-31).
export SOURCE_DATE_EPOCH=1796169600

"$DECANT" convert vm-a -o out-a --only redis-server --only lighttpd --no-shim -q 2>convert-a.log
rc=$?
[ $rc -eq 0 ] || fail "convert vm-a exited $rc: $(cat convert-a.log)"
"$DECANT" convert vm-b -o out-b --only memcached --only vsftpd --no-shim -q 2>convert-b.log
rc=$?
[ $rc -eq 1 ] || fail "convert vm-b exited $rc, want 1 (memcached's wrapper names no program): $(cat convert-b.log)"
for d in out-a out-b; do
    for f in report.html report.md findings.sarif; do
        [ -s "$d/$f" ] || fail "convert wrote no $d/$f"
    done
done

# Chromium renders the page; the PNG stays for people to look at.
render() {  # render HTML PNG DOM
    timeout 120 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1280,2400 \
        --screenshot="$2" "file://$tmp/$1" >"$tmp/chromium.log" 2>&1 || fail "chromium --screenshot $1: $(tail -3 "$tmp/chromium.log")"
    [ -s "$2" ] || fail "chromium wrote no $2"
    timeout 120 chromium --headless --no-sandbox --disable-gpu --dump-dom "file://$tmp/$1" >"$3" 2>"$tmp/chromium.log" \
        || fail "chromium --dump-dom $1: $(tail -3 "$tmp/chromium.log")"
}
render out-a/report.html "$ARTIFACTS/report-one-vm.png" dom-a.html
cp out-a/report.html "$ARTIFACTS/report-one-vm.html"
# The same page with every <details> open, as it prints, for people to read the evidence.
sed 's/<details id=/<details open id=/' out-a/report.html >out-a/report-open.html
timeout 120 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1280,9000 \
    --screenshot="$ARTIFACTS/report-one-vm-open.png" "file://$tmp/out-a/report-open.html" >/dev/null 2>&1 \
    || fail "chromium --screenshot of the opened report"

# The verdict of each service by docs/report.md's rules, from summary.json
# and the profiles, and what the DOM and the SARIF file must say.
cat >expect.py <<'PY'
import json, os, re, sys, yaml
from html.parser import HTMLParser

def verdicts(outdir):
    s = json.load(open(os.path.join(outdir, "summary.json")))
    out = {}
    for svc in s["services"]:
        if svc["status"] == "skipped":
            out[(svc["name"], svc["manager"])] = ("skipped", [])
            continue
        if svc["status"] == "failed":
            out[(svc["name"], svc["manager"])] = ("blocked", [])
            continue
        p = yaml.safe_load(open(os.path.join(outdir, svc["profile"])))
        hz = p.get("hazards") or []
        v = "ready"
        if (any(h["severity"] == "warning" for h in hz) or p.get("syscalls", {}).get("unresolved_sites", 0) > 0
                or p.get("enforcement", {}).get("seccomp", {}).get("mode", "enforce") != "enforce"
                or any(l.get("confidence") != "high" for l in (p.get("network") or {}).get("listen") or [])):
            v = "needs attention"
        if any(h["severity"] == "error" for h in hz):
            v = "blocked"
        out[(svc["name"], svc["manager"])] = (v, hz)
    return out

class Text(HTMLParser):
    """The services table's rows as text: service cell and verdict cell."""
    def __init__(self):
        super().__init__(); self.rows = []; self.row = None; self.cell = None; self.table = False
    def handle_starttag(self, tag, attrs):
        if tag == "table" and ("class", "services") in attrs: self.table = True
        elif self.table and tag == "tr": self.row = []
        elif self.row is not None and tag in ("td", "th"): self.cell = ""
    def handle_endtag(self, tag):
        if tag == "table": self.table = False
        elif tag in ("td", "th") and self.cell is not None: self.row.append(self.cell.strip()); self.cell = None
        elif tag == "tr" and self.row is not None: self.rows.append(self.row); self.row = None
    def handle_data(self, d):
        if self.cell is not None: self.cell += d
PY

"$PY" - out-a dom-a.html <<'PY' || fail "report.html of one VM (DOM) does not match the profiles"
import sys; sys.path.insert(0, ".")
from expect import verdicts, Text
outdir, dom = sys.argv[1:]
want = verdicts(outdir)
assert {n for n, _ in want} == {"redis-server", "lighttpd"}, want
t = Text(); t.feed(open(dom).read())
got = {tuple(r[0].split()[:2]): r[1] for r in t.rows[1:]}  # "redis-server systemd"
assert len(got) == len(want), (got, want)
for key, (v, _) in want.items():
    assert got.get(key) == v, f"{key}: DOM says {got.get(key)!r}, the rules say {v!r}"
text = open(dom).read()
assert "Debian GNU/Linux 11 (bullseye)" in text and "end of life" in text, "no OS age in the DOM"
assert "Image size per service" in text and "<svg" in text, "no size chart"
assert text.count("<details") == len(want), "want one <details> per service"
assert "Docker's default profile allows" in text, "no syscall comparison with Docker's default"
assert "glibc floor" in text, "no glibc floor"
print("one VM:", {k: v for k, (v, _) in want.items()})
PY

# A fleet: two OUTDIRs merge into one report naming both VMs.
mkdir fleet
"$DECANT" report out-a out-b -o fleet/report.html -q
rc=$?
[ $rc -eq 0 ] || fail "report of a fleet exited $rc"
for f in report.html report.md report.sarif; do [ -s "fleet/$f" ] || fail "report wrote no fleet/$f"; done
render fleet/report.html "$ARTIFACTS/report-fleet.png" dom-fleet.html
cp fleet/report.html "$ARTIFACTS/report-fleet.html"
"$PY" - dom-fleet.html out-a out-b <<'PY' || fail "fleet report.html (DOM) does not match the profiles"
import sys; sys.path.insert(0, ".")
from expect import verdicts, Text
dom, *outdirs = sys.argv[1:]
text = open(dom).read()
assert "fleet of 2 VMs" in text and "Verdicts per VM" in text, "not a fleet report"
t = Text(); t.feed(text)
# One services table per VM, in the order given.
tables, cur = [], None
for r in t.rows:
    if r[0] == "Service": cur = {}; tables.append(cur); continue
    cur[tuple(r[0].split()[:2])] = r[1]
assert len(tables) == 2, tables
for outdir, got in zip(outdirs, tables):
    want = {k: v for k, (v, _) in verdicts(outdir).items()}
    assert got == want, f"{outdir}: DOM {got}, rules {want}"
for vm in ("vm-a", "vm-b"):
    assert f">{vm}</h2>" in text, f"no section for {vm}"
assert "memcached" in text and "perl" in text, "the failed service's reason is missing"
print("fleet ok")
PY

# convert with two sources writes a report per source and the fleet report beside them.
"$DECANT" convert vm-a vm-b -o multi --only lighttpd --no-shim -q 2>convert-multi.log \
    || fail "convert of two sources failed: $(cat convert-multi.log)"
for f in multi/vm-a/report.html multi/vm-b/findings.sarif multi/report.html multi/report.md multi/findings.sarif; do
    [ -s "$f" ] || fail "convert of two sources wrote no $f"
done
grep -q "fleet of 2 VMs" multi/report.html || fail "multi/report.html is not a fleet report"

# findings.sarif: valid SARIF 2.1.0, one result per hazard and per blocked service.
"$PY" - "$SCHEMA" fleet/report.sarif out-a out-b <<'PY' || fail "findings.sarif"
import json, sys; sys.path.insert(0, ".")
import jsonschema
from expect import verdicts
schema_path, sarif_path, *outdirs = sys.argv[1:]
schema, log = json.load(open(schema_path)), json.load(open(sarif_path))
jsonschema.Draft4Validator.check_schema(schema)
errors = sorted(jsonschema.Draft4Validator(schema).iter_errors(log), key=str)
assert not errors, "schema: " + "; ".join(f"{list(e.path)}: {e.message}" for e in errors[:5])
assert log["version"] == "2.1.0" and len(log["runs"]) == 2
for outdir, run in zip(outdirs, log["runs"]):
    want = verdicts(outdir)
    rules = [r["id"] for r in run["tool"]["driver"]["rules"]]
    n_hazards = sum(len(hz) for _, hz in want.values())
    n_blocked = sum(v == "blocked" for v, _ in want.values())
    res = run["results"]
    assert len(res) == n_hazards + n_blocked, (outdir, len(res), n_hazards, n_blocked)
    for r in res:
        assert rules[r["ruleIndex"]] == r["ruleId"]
        loc = r["locations"][0]["physicalLocation"]["artifactLocation"]
        assert loc["uriBaseId"] == "GUESTROOT" and not loc["uri"].startswith("/"), loc
    hazard_rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    for _, hz in want.values():
        for h in hz:
            assert h["id"] in hazard_rules and hazard_rules[h["id"]]["help"]["text"].startswith("What to do:"), h["id"]
    assert run["originalUriBaseIds"]["GUESTROOT"]["uri"].startswith("file:///")
print("sarif valid:", [len(r["results"]) for r in log["runs"]], "results")
PY
for f in out-a/findings.sarif out-b/findings.sarif multi/findings.sarif multi/vm-a/findings.sarif; do
    "$PY" -c 'import json,sys,jsonschema; jsonschema.validate(json.load(open(sys.argv[2])), json.load(open(sys.argv[1])), cls=jsonschema.Draft4Validator)' \
        "$SCHEMA" "$f" || fail "$f does not validate against the SARIF 2.1.0 schema"
done

# The report is a function of the OUTDIR: decant report rewrites what convert wrote.
cp out-a/report.html first.html
"$DECANT" report out-a -q || fail "decant report out-a failed"
cmp -s first.html out-a/report.html || fail "decant report out-a differs from the report convert wrote"

# --fail-on: exit 3 when it matches, 0 when it does not (expectations from the rules).
expect_code() {  # expect_code WANT ARGS...
    want=$1; shift
    "$DECANT" report "$@" -q 2>err
    rc=$?
    [ $rc -eq "$want" ] || fail "decant report $* exited $rc, want $want: $(cat err)"
}
a_blocked=$("$PY" -c 'import sys; sys.path.insert(0,"."); from expect import verdicts; print(sum(v=="blocked" for v,_ in verdicts("out-a").values()))')
a_attention=$("$PY" -c 'import sys; sys.path.insert(0,"."); from expect import verdicts; print(sum(v=="needs attention" for v,_ in verdicts("out-a").values()))')
[ "$a_blocked" -eq 0 ] && expect_code 0 out-a --fail-on blocked || expect_code 3 out-a --fail-on blocked
[ $((a_blocked + a_attention)) -eq 0 ] && expect_code 0 out-a --fail-on attention || expect_code 3 out-a --fail-on attention
expect_code 3 out-a out-b -o fleet/gate.html --fail-on blocked  # memcached failed: blocked
expect_code 0 out-a out-b -o fleet/gate.html

# Bad input: one line, exit 2, nothing written.
bad_input() {  # bad_input WHAT ARGS...
    what=$1; shift
    "$DECANT" report "$@" 2>err
    rc=$?
    [ $rc -eq 2 ] || fail "report $what exited $rc, want 2"
    [ "$(wc -l <err)" -eq 1 ] || fail "report $what: want one stderr line, got: $(cat err)"
}
mkdir empty
bad_input "of a directory without summary.json" empty
[ -z "$(ls empty)" ] || fail "report wrote into a directory that is not an OUTDIR"
mkdir corrupt && cp -r out-a/redis-server corrupt/ && head -c 100 out-a/summary.json >corrupt/summary.json
bad_input "of a corrupt summary.json" corrupt
[ ! -e corrupt/report.html ] && [ ! -e corrupt/report.md ] && [ ! -e corrupt/findings.sarif ] || fail "report wrote output for a corrupt summary"
bad_input "of two OUTDIRs without -o" out-a out-b
bad_input "with a missing OUTDIR in a fleet" out-a /nonexistent -o fleet/bad.html
[ ! -e fleet/bad.html ] && [ ! -e fleet/bad.md ] && [ ! -e fleet/bad.sarif ] || fail "report wrote a fleet report with a bad OUTDIR"
bad_input "with an unknown --fail-on" out-a --fail-on sometimes
ls -a out-a | grep -q 'decant-tmp' && fail "a temporary file was left in out-a"
echo "PASS: e2e.report (PNGs in $ARTIFACTS)"
