// Unit tests of the readiness report: the verdict rules of docs/report.md,
// reading docs/hazards.md's tables, escaping of guest text in every format,
// the reference tables (OS lifecycle, Docker's seccomp allowlist), reading a
// convert OUTDIR and the SARIF 2.1.0 shape. The schema itself is checked by
// e2e.report with the official schema file.
#include <sys/stat.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/temp_dir.h"
#include "profiles/test_profiles.h"
#include "report/embedded.h"
#include "report/escape.h"
#include "report/hazard_doc.h"
#include "report/model.h"
#include "report/reference_data.h"
#include "report/render.h"
#include "report/write.h"

namespace decant {
namespace {

using json = nlohmann::json;

bool exists(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0;
}

bool has_rule(const VerdictResult& r, const std::string& rule) {
  for (const auto& x : r.reasons)
    if (x.rule == rule) return true;
  return false;
}

// ---- verdict rules ----

TEST(Verdict, ConvertedWithNothingToCheckIsReady) {
  Profile p = test_server_profile();
  auto r = decide_verdict("converted", "", &p, "srv/profile.yaml");
  EXPECT_EQ(r.verdict, Verdict::Ready);
  EXPECT_TRUE(r.reasons.empty());
  EXPECT_EQ(decide_verdict("unchanged", "", &p, "").verdict, Verdict::Ready);
}

TEST(Verdict, FailedIsBlockedWithConvertsReason) {
  auto r = decide_verdict("failed", "x is a script (#!/usr/bin/perl)", nullptr, "");
  EXPECT_EQ(r.verdict, Verdict::Blocked);
  ASSERT_TRUE(has_rule(r, "B1"));
  EXPECT_NE(r.reasons[0].text.find("perl"), std::string::npos);
  EXPECT_EQ(r.reasons[0].evidence.at(0).file, "summary.json");
}

TEST(Verdict, SkippedIsNeitherReadyNorBlocked) {
  auto r = decide_verdict("skipped", "masked", nullptr, "");
  EXPECT_EQ(r.verdict, Verdict::Skipped);
  EXPECT_TRUE(has_rule(r, "S1"));
}

TEST(Verdict, ErrorHazardBlocksWarningNeedsAttentionInfoDoesNothing) {
  Profile p = test_server_profile();
  p.hazards.push_back({"raw-syscall", "warning", "m", {"static: syscall instruction at srv+0x10 in f"}});
  auto r = decide_verdict("converted", "", &p, "srv/profile.yaml");
  EXPECT_EQ(r.verdict, Verdict::Attention);
  EXPECT_TRUE(has_rule(r, "A1"));
  EXPECT_EQ(r.reasons[0].evidence.at(0).file, "srv/profile.yaml");

  p.hazards.push_back({"missing-library", "error", "m", {"static: libgone.so.1 needed by /usr/sbin/srv"}});
  r = decide_verdict("converted", "", &p, "srv/profile.yaml");
  EXPECT_EQ(r.verdict, Verdict::Blocked);  // blocked outranks attention
  EXPECT_TRUE(has_rule(r, "B2"));
  EXPECT_TRUE(has_rule(r, "A1"));  // both reasons are kept

  Profile q = test_server_profile();
  q.hazards.push_back({"note", "info", "m", {}});
  EXPECT_EQ(decide_verdict("converted", "", &q, "").verdict, Verdict::Ready);
}

TEST(Verdict, UnresolvedSyscallsNeedAttention) {
  Profile p = test_server_profile();
  p.syscalls.unresolved_sites = 3;
  auto r = decide_verdict("converted", "", &p, "");
  EXPECT_EQ(r.verdict, Verdict::Attention);
  ASSERT_TRUE(has_rule(r, "A2"));
  EXPECT_NE(r.reasons[0].text.find("3 syscall"), std::string::npos);
}

TEST(Verdict, SeccompNotEnforcedNeedsAttention) {
  Profile p = test_server_profile();
  p.enforcement.seccomp.mode = "log";
  auto r = decide_verdict("converted", "", &p, "");
  EXPECT_EQ(r.verdict, Verdict::Attention);
  EXPECT_TRUE(has_rule(r, "A3"));
}

TEST(Verdict, GuessedPortNeedsAttention) {
  Profile p = test_server_profile();
  p.network.listen.push_back({8080, "tcp", "", "medium", {"static: .rodata \"8080\""}});
  auto r = decide_verdict("converted", "", &p, "");
  EXPECT_EQ(r.verdict, Verdict::Attention);
  ASSERT_TRUE(has_rule(r, "A4"));
  EXPECT_NE(r.reasons[0].text.find("8080/tcp"), std::string::npos);
  EXPECT_EQ(r.reasons[0].evidence.at(0).text, "static: .rodata \"8080\"");
}

// ---- docs/hazards.md ----

TEST(HazardDoc, BuiltinDocParses) {
  auto parsed = parse_hazard_doc(hazards_doc_text());
  ASSERT_TRUE(parsed) << parsed.error().message;
  const auto& docs = builtin_hazard_docs();
  ASSERT_EQ(docs.size(), parsed->size());
  // Both tables of the doc: structural and machine-code hazards.
  for (const char* id : {"execstack", "missing-library", "glibc-too-new", "vsyscall", "raw-syscall", "code-not-analyzed"})
    EXPECT_TRUE(docs.count(id)) << id;
  const HazardDoc& e = docs.at("execstack");
  EXPECT_EQ(e.severity, "warning");
  EXPECT_NE(e.what_to_do.find("execstack -c"), std::string::npos);
  EXPECT_EQ(e.what_to_do.find('`'), std::string::npos) << "plain text keeps no Markdown";
  EXPECT_NE(e.what_to_do_md.find("`execstack -c`"), std::string::npos);
  EXPECT_EQ(docs.at("vsyscall").severity, "error");
  // A link becomes its text.
  EXPECT_NE(docs.at("ld-so-conf-limit").meaning.find("(see closure.md)"), std::string::npos);
}

TEST(HazardDoc, ReadsAnyTableWithTheHeader) {
  auto d = parse_hazard_doc(
      "# T\n\n| id | severity | meaning | what to do |\n|---|---|---|---|\n"
      "| `a` | info | uses `x|y` and \\| | do [this](u.md) |\n\ntext\n\n| other | table |\n|---|---|\n| x | y |\n");
  ASSERT_TRUE(d) << d.error().message;
  ASSERT_EQ(d->size(), 1u);
  EXPECT_EQ(d->at("a").meaning, "uses x|y and |");
  EXPECT_EQ(d->at("a").what_to_do, "do this");
  EXPECT_EQ(d->at("a").section, "T");
}

TEST(HazardDoc, ErrorsNameTheLine) {
  const std::string head = "| id | severity | meaning | what to do |\n|---|---|---|---|\n";
  auto cells = parse_hazard_doc(head + "| a | info | m |\n");
  ASSERT_FALSE(cells);
  EXPECT_NE(cells.error().message.find("line 3"), std::string::npos) << cells.error().message;
  auto sev = parse_hazard_doc(head + "| a | fatal | m | t |\n");
  ASSERT_FALSE(sev);
  EXPECT_NE(sev.error().message.find("fatal"), std::string::npos);
  auto dup = parse_hazard_doc(head + "| a | info | m | t |\n| a | info | m | t |\n");
  ASSERT_FALSE(dup);
  EXPECT_NE(dup.error().message.find("twice"), std::string::npos);
  EXPECT_FALSE(parse_hazard_doc("no tables here\n"));
}

// ---- escaping ----

TEST(Escape, DisplayableKeepsUtf8AndShowsOtherBytes) {
  EXPECT_EQ(displayable("caf\xc3\xa9"), "caf\xc3\xa9");
  EXPECT_EQ(displayable("caf\xe9"), "caf\\xe9");
  EXPECT_EQ(displayable("a\nb\x1b[31m\x7f"), "a\\x0ab\\x1b[31m\\x7f");
  EXPECT_EQ(displayable("tab\tok"), "tab\tok");
  EXPECT_EQ(displayable("\xc0\xaf"), "\\xc0\\xaf");          // overlong '/'
  EXPECT_EQ(displayable("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // a surrogate
  EXPECT_EQ(displayable("\xc2\x85"), "\\xc2\\x85");          // C1 NEL
  EXPECT_EQ(displayable(std::string("a\0b", 3)), "a\\x00b");
}

TEST(Escape, HtmlEscapesMarkupAndQuotes) {
  EXPECT_EQ(html_escape("<img src=x onerror='a(\"1\")'>&"),
            "&lt;img src=x onerror=&#39;a(&quot;1&quot;)&#39;&gt;&amp;");
  EXPECT_EQ(html_escape("\xff<"), "\\xff&lt;");
}

TEST(Escape, MarkdownEscapesInlineSyntax) {
  EXPECT_EQ(md_escape("[x](y) | *b* `c` <i> _u_"), "\\[x\\](y) \\| \\*b\\* \\`c\\` \\<i\\> \\_u\\_");
  EXPECT_EQ(md_escape("/usr/sbin/redis-server"), "/usr/sbin/redis-server");
}

TEST(Escape, UriPathEncoding) {
  EXPECT_EQ(uri_path_encode("usr/lib/libc.so.6"), "usr/lib/libc.so.6");
  EXPECT_EQ(uri_path_encode("srv/caf\xe9 x#?"), "srv/caf%E9%20x%23%3F");
}

// ---- reference tables ----

TEST(ReferenceData, DockerAllowlistRules) {
  auto names = docker_allowlist(R"({"syscalls": [
      {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
      {"names": ["arm_only"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["arm", "arm64"]}},
      {"names": ["x86_only"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["amd64", "x32"]}},
      {"names": ["mount"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
      {"names": ["chroot"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_CHROOT"]}},
      {"names": ["clone"], "action": "SCMP_ACT_ALLOW", "excludes": {"caps": ["CAP_SYS_ADMIN"]}},
      {"names": ["setuid_off"], "action": "SCMP_ACT_ALLOW", "excludes": {"caps": ["CAP_SETUID"]}},
      {"names": ["denied"], "action": "SCMP_ACT_ERRNO"}]})");
  ASSERT_TRUE(names);
  EXPECT_EQ(*names, (std::set<std::string>{"read", "write", "x86_only", "chroot", "clone"}));
  EXPECT_FALSE(docker_allowlist("[]"));
  // The compiled-in profile, by the same rule.
  const auto& d = docker_default_allowlist();
  EXPECT_TRUE(d.count("read") && d.count("clone") && d.count("chroot") && d.count("arch_prctl"));
  EXPECT_FALSE(d.count("mount") || d.count("reboot") || d.count("kexec_load"));
}

TEST(ReferenceData, OsLifecycle) {
  auto deb = find_os_lifecycle("debian", "11");
  ASSERT_TRUE(deb);
  EXPECT_EQ(deb->released, "2021-08-14");
  EXPECT_FALSE(deb->source.empty());
  auto rhel = find_os_lifecycle("rhel", "7.9");
  ASSERT_TRUE(rhel);
  EXPECT_EQ(rhel->version, "7");
  EXPECT_FALSE(find_os_lifecycle("debian", "99"));
  EXPECT_FALSE(find_os_lifecycle("", ""));
  const int64_t day = 86400;
  // 2022-01-01, 2025-01-01, 2026-12-02 in days since the epoch.
  EXPECT_EQ(os_age(*deb, 18993 * day).status, "supported");
  EXPECT_EQ(os_age(*deb, 20089 * day).status, "extended");
  OsAge old = os_age(*deb, 20789 * day);
  EXPECT_EQ(old.status, "end-of-life");
  EXPECT_NEAR(old.years, 5.3, 0.05);
  EXPECT_NE(old.text.find("2026-08-31"), std::string::npos) << old.text;
  EXPECT_EQ(iso_date(20789 * day), "2026-12-02");
}

TEST(ReferenceData, BuiltinOsTableIsOrdered) {
  auto t = parse_os_table(std::string(os_eol_table_text()));
  ASSERT_TRUE(t) << t.error().message;
  ASSERT_GT(t->size(), 10u);
  for (const auto& o : *t) {
    EXPECT_LT(o.released, o.security_end) << o.name;  // ISO dates compare as strings
    if (!o.extended_end.empty()) EXPECT_LE(o.security_end, o.extended_end) << o.name;
    EXPECT_FALSE(o.source.empty()) << o.name;
  }
  EXPECT_FALSE(parse_os_table(R"({"releases": [{"id": "x", "version": "1", "name": "X", "released": "2020-13-01",
                                  "security_end": "2021-01-01"}]})"));
}

// ---- reading an OUTDIR ----

// A convert OUTDIR with one converted service (profile p) and one failed one.
void write_outdir(const TempDir& t, const std::string& dir, const Profile& p, const std::string& name = "srv") {
  t.mkdir(dir);
  t.mkdir(dir + "/" + name);
  t.write(dir + "/" + name + "/profile.yaml", to_yaml(p));
  t.write(dir + "/" + name + "/image.oci.tar", std::string(4096, 'x'));
  json s = {{"generator", "decant 0.1.0"}, {"source", t.path("guest")}, {"os", "Debian GNU/Linux 11 (bullseye)"},
            {"init", "systemd"},
            {"services",
             {{{"name", name}, {"manager", "systemd"}, {"binary", p.binary.path}, {"status", "converted"},
               {"profile", name + "/profile.yaml"},
               {"artifacts", {{{"format", "oci-archive"}, {"path", name + "/image.oci.tar"}, {"digest", "sha256:0"}}}},
               {"listen", {"80/tcp"}}, {"hazards", json::array()}},
              {{"name", "perlish"}, {"manager", "systemd"}, {"binary", "/usr/bin/perlish"}, {"status", "failed"},
               {"reason", "/usr/bin/perlish is a script (#!/usr/bin/perl)"}, {"artifacts", json::array()},
               {"listen", json::array()}, {"hazards", json::array()}}}}};
  t.write(dir + "/summary.json", s.dump(2));
}

Profile hostile_profile() {
  Profile p = test_server_profile();
  p.source.os = {"debian", "11", "Debian GNU/Linux 11 (bullseye)"};
  p.source.root = "/srv/vm";
  p.libraries.push_back({"libfoo.so.1", "/usr/lib/libfoo.so.1.2", "/usr/lib/libfoo.so.1", {"/usr/sbin/srv"}, "default", {}});
  p.hazards.push_back({"raw-syscall", "warning", "<script>alert(1)</script>",
                       {"static: syscall instruction at libfoo.so.1+0x1a2b in parse_conf <- main"}});
  p.hazards.push_back({"execstack", "warning", "stack", {"static: no PT_GNU_STACK in /usr/lib/libfoo.so.1.2"}});
  p.files.push_back({"/var/lib/<b>caf\xe9</b>", "write", false, {"discover: StateDirectory=\"x\" & <i>"}});
  p.syscalls.allow = {"read", "write", "mount"};
  return p;
}

TEST(Load, ReadsAnOutdir) {
  TempDir t;
  write_outdir(t, "out", hostile_profile());
  auto vm = load_vm(t.path("out"), LoadOptions{20789 * 86400, false});
  ASSERT_TRUE(vm) << vm.error().message;
  ASSERT_EQ(vm->services.size(), 2u);
  const ServiceReport& s = vm->services[0];
  EXPECT_EQ(s.verdict, Verdict::Attention);
  EXPECT_EQ(vm->services[1].verdict, Verdict::Blocked);
  EXPECT_EQ(s.image_size, 4096u);
  EXPECT_EQ(s.image_file, "srv/image.oci.tar");
  EXPECT_EQ(s.not_in_docker, std::vector<std::string>{"mount"});
  ASSERT_EQ(s.hazards.size(), 2u);
  EXPECT_NE(s.hazards[0].what_to_do.find("redirect at the container level"), std::string::npos);
  ASSERT_TRUE(vm->age);
  EXPECT_EQ(vm->age->status, "end-of-life");
  for (const auto& f : s.facts)
    for (const auto& e : f.evidence) EXPECT_TRUE(e.file.empty() || e.file == "srv/profile.yaml" ||
                                                 e.file == "srv/image.oci.tar" || e.file == "summary.json") << e.file;
}

TEST(Load, BadInputIsOneLine) {
  TempDir t;
  t.mkdir("empty");
  auto none = load_vm(t.path("empty"), {});
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message.find("not a decant convert OUTDIR"), std::string::npos);
  t.mkdir("corrupt");
  t.write("corrupt/summary.json", "{\"services\": [");
  auto corrupt = load_vm(t.path("corrupt"), {});
  ASSERT_FALSE(corrupt);
  EXPECT_NE(corrupt.error().message.find("not valid JSON"), std::string::npos);
  t.mkdir("escape");
  t.write("escape/summary.json", R"({"generator": "decant 0.1.0", "services": [{"name": "a", "status": "converted",
      "profile": "../../etc/passwd"}]})");
  auto escape = load_vm(t.path("escape"), {});
  ASSERT_FALSE(escape);
  EXPECT_NE(escape.error().message.find("leaves OUTDIR"), std::string::npos);
  for (const auto* e : {&none, &corrupt, &escape}) EXPECT_EQ(e->error().message.find('\n'), std::string::npos);
}

// ---- renderings ----

TEST(Render, HtmlEscapesGuestTextAndLoadsNothing) {
  TempDir t;
  Profile p = hostile_profile();
  write_outdir(t, "out", p, "<svc>");
  auto vm = load_vm(t.path("out"), LoadOptions{0, false});
  ASSERT_TRUE(vm) << vm.error().message;
  Fleet f;
  f.vms.push_back(*vm);
  std::string html = render_html(f, t.path("out"));
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<svc>"), std::string::npos);
  EXPECT_EQ(html.find("<b>"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;"), std::string::npos);
  EXPECT_NE(html.find("caf\\xe9"), std::string::npos);
  EXPECT_NE(html.find("<details id=\"s0-0\">"), std::string::npos);
  EXPECT_NE(html.find("<svg"), std::string::npos);
  // Self-contained: no external stylesheet, script, font or image.
  for (const char* bad : {"<link", "<script", "<img", "<iframe", "@import", "@font-face", "url(", "src="})
    EXPECT_EQ(html.find(bad), std::string::npos) << bad;
  // The evidence links are relative to the report's directory and escaped.
  EXPECT_NE(html.find("href=\"%3Csvc%3E/profile.yaml\""), std::string::npos);
  std::string md = render_markdown(f, t.path("out"));
  EXPECT_EQ(md.find("<script>"), std::string::npos);
  EXPECT_NE(md.find("\\<script\\>"), std::string::npos);
  EXPECT_NE(md.find("needs attention"), std::string::npos);
}

TEST(Render, EvidenceRefRuns) {
  auto ref = [](size_t n) { return "[" + std::to_string(n) + "]"; };
  EXPECT_EQ(ref_runs({1, 2, 3, 4, 7}, ref), "[1]–[4][7]");
  EXPECT_EQ(ref_runs({1, 2, 5, 6}, ref), "[1][2][5][6]");
  EXPECT_EQ(ref_runs({}, ref), "");
}

TEST(Render, LocateEvidence) {
  Profile p = hostile_profile();
  auto a = locate_evidence("static: syscall instruction at libfoo.so.1+0x1a2b in parse_conf <- main", p);
  EXPECT_EQ(a.path, "/usr/lib/libfoo.so.1.2");
  ASSERT_TRUE(a.address);
  EXPECT_EQ(*a.address, 0x1a2bu);
  EXPECT_EQ(a.function, "parse_conf");
  auto b = locate_evidence("static: srv+0x10 in main", p);
  EXPECT_EQ(b.path, "/usr/sbin/srv");
  auto c = locate_evidence("static: no PT_GNU_STACK in /usr/lib/x.so", p);
  EXPECT_EQ(c.path, "/usr/lib/x.so");
  EXPECT_FALSE(c.address);
  auto d = locate_evidence("static: libfoo.so.1: string \"./?.so\" at 0x25010 referenced at 0x223e9 not found", p);
  EXPECT_EQ(d.path, "/usr/lib/libfoo.so.1.2");
  ASSERT_TRUE(d.address);
  EXPECT_EQ(*d.address, 0x223e9u);  // the code that uses the string, not the string
  EXPECT_EQ(locate_evidence("static: libfoo.so.1 calls dlopen() and no library name was found", p).path,
            "/usr/lib/libfoo.so.1.2");
  EXPECT_EQ(locate_evidence("static: e_machine EM_386 (elf32)", p).path, "/usr/sbin/srv");
  EXPECT_EQ(locate_evidence("static: unknown.so+0xfffffffffffffffffff", p).path, "/usr/sbin/srv");
}

TEST(Render, SarifShape) {
  TempDir t;
  Profile p = hostile_profile();
  p.hazards.push_back({"vsyscall", "error", "vsyscall", {"static: srv+0x40 in main branches to the vsyscall page"}});
  write_outdir(t, "a", p);
  write_outdir(t, "b", test_server_profile(), "other");
  auto fleet = load_fleet({t.path("a"), t.path("b")}, LoadOptions{0, false});
  ASSERT_TRUE(fleet) << fleet.error().message;
  json s = json::parse(render_sarif(*fleet));
  EXPECT_EQ(s["version"], "2.1.0");
  ASSERT_EQ(s["runs"].size(), 2u);
  const json& run = s["runs"][0];
  const json& rules = run["tool"]["driver"]["rules"];
  // Every documented hazard is a rule, with the doc's help.
  for (const auto& [id, doc] : builtin_hazard_docs()) {
    bool found = false;
    for (const auto& r : rules)
      if (r["id"] == id) {
        found = true;
        EXPECT_EQ(r["help"]["text"], "What to do: " + doc.what_to_do);
      }
    EXPECT_TRUE(found) << id;
  }
  // 3 hazards of srv + srv blocked (vsyscall) + perlish blocked (failed).
  const json& results = run["results"];
  ASSERT_EQ(results.size(), 5u);
  size_t blocked = 0;
  for (const auto& r : results) {
    EXPECT_EQ(rules[r["ruleIndex"].get<size_t>()]["id"], r["ruleId"]);
    std::string level = r["level"];
    EXPECT_TRUE(level == "error" || level == "warning" || level == "note") << level;
    blocked += r["ruleId"] == "service-blocked";
  }
  EXPECT_EQ(blocked, 2u);
  const json& raw = results[0];
  EXPECT_EQ(raw["ruleId"], "raw-syscall");
  const json& loc = raw["locations"][0]["physicalLocation"];
  EXPECT_EQ(loc["artifactLocation"]["uri"], "usr/lib/libfoo.so.1.2");
  EXPECT_EQ(loc["artifactLocation"]["uriBaseId"], "GUESTROOT");
  EXPECT_EQ(loc["address"]["absoluteAddress"], 0x1a2b);
  EXPECT_EQ(raw["locations"][0]["logicalLocations"][0]["name"], "parse_conf");
  EXPECT_EQ(run["originalUriBaseIds"]["GUESTROOT"]["uri"], "file:///srv/vm/");
  EXPECT_EQ(s["runs"][1]["results"].size(), 1u);  // b: only perlish, blocked
}

// ---- writing ----

TEST(Write, FilesBesideTheHtmlAndNothingOnBadInput) {
  TempDir t;
  write_outdir(t, "out", test_server_profile());
  ReportOptions o;
  o.now = 0;
  o.measure_guest = false;
  auto one = write_reports({t.path("out")}, o);
  ASSERT_TRUE(one) << one.error().message;
  for (const char* f : {"out/report.html", "out/report.md", "out/findings.sarif"}) EXPECT_TRUE(exists(t.path(f))) << f;

  o.output = t.path("fleet.html");
  EXPECT_FALSE(write_reports({t.path("out"), t.path("nowhere")}, o));
  for (const char* f : {"fleet.html", "fleet.md", "fleet.sarif"}) EXPECT_FALSE(exists(t.path(f))) << f;
  ASSERT_TRUE(write_reports({t.path("out"), t.path("out")}, o));
  for (const char* f : {"fleet.html", "fleet.md", "fleet.sarif"}) EXPECT_TRUE(exists(t.path(f))) << f;

  ReportOptions none;
  EXPECT_FALSE(report_files({t.path("out"), t.path("out")}, none));  // a fleet needs -o
  none.output = t.dir();
  EXPECT_FALSE(report_files({t.path("out")}, none));  // -o names a file
  none.output = "r";
  auto f = report_files({"x"}, none);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->markdown, "r.md");
  EXPECT_EQ(f->sarif, "r.sarif");
}

}  // namespace
}  // namespace decant
