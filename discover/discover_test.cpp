// Unit tests of the discover stage: the unit-file, shell, inetd and xinetd
// readers from text, including the awkward cases (continuations with
// comments, quoting, specifiers, prefixes, resets, drop-ins, aliases, masks,
// sourced defaults), and whole fake guests built in a temp directory.
#include "discover/discover.h"

#include <algorithm>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "discover/shell_vars.h"
#include "discover/superserver.h"
#include "discover/unit_file.h"
#include "guest/test_tree.h"

namespace decant {
namespace {

using Strings = std::vector<std::string>;

TEST(UnitFile, ContinuationsCommentsAndResets) {
  UnitFile u;
  ASSERT_TRUE(parse_unit_text("# c\n[Service]\nExecStart=/bin/a \\\n# skipped inside\n  -x \\\n  y\n"
                              "Environment=A=1\nEnvironment=\nEnvironment=B=2\n; semi comment\n[Install]\nWantedBy=m.target\n",
                              "/u.service", u)
                  .ok());
  EXPECT_EQ(u.get("Service", "ExecStart"), "/bin/a -x y");
  ASSERT_EQ(u.all("Service", "Environment").size(), 1u);
  EXPECT_EQ(u.all("Service", "Environment")[0]->value, "B=2");
  EXPECT_EQ(u.last("Service", "ExecStart")->origin, "/u.service:3");
  EXPECT_EQ(u.get("Install", "WantedBy"), "m.target");
  UnitFile bad;
  EXPECT_FALSE(parse_unit_text("ExecStart=/bin/x\n", "/bad", bad).ok());
}

TEST(UnitFile, WordsQuotesAndEscapes) {
  auto w = split_unit_words(R"(/bin/x "two words" 'single "q"' a\ b \x41\tz)");
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(*w, (Strings{"/bin/x", "two words", "single \"q\"", "a b", "A\tz"}));
  EXPECT_FALSE(split_unit_words("\"open").ok());
}

TEST(UnitFile, ExecPrefixesSpecifiersAndVariables) {
  UnitNames n = unit_names("getty@tty1.service");
  EXPECT_EQ(n.prefix, "getty");
  EXPECT_EQ(n.instance, "tty1");
  std::map<std::string, std::string> env = {{"OPTS", "-a  -b"}, {"CONF", "/etc/x.conf"}};
  auto c = parse_exec("-/sbin/agetty $OPTS --conf=${CONF} %I %n %%", n, env);
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->ignore_failure);
  EXPECT_EQ(c->path, "/sbin/agetty");
  EXPECT_EQ(c->argv, (Strings{"/sbin/agetty", "-a", "-b", "--conf=/etc/x.conf", "tty1", "getty@tty1.service", "%"}));
  auto at = parse_exec("@/usr/sbin/daemon mydaemon -f", n, {});
  ASSERT_TRUE(at.ok());
  EXPECT_EQ(at->path, "/usr/sbin/daemon");
  EXPECT_EQ(at->argv, (Strings{"mydaemon", "-f"}));
  auto plus = parse_exec("+/bin/true $UNSET", n, {});
  ASSERT_TRUE(plus.ok());
  EXPECT_TRUE(plus->privileged);
  EXPECT_EQ(plus->argv, Strings{"/bin/true"});
  EXPECT_FALSE(parse_exec("-", n, {}).ok());
  EXPECT_EQ(expand_specifiers("%p-%i %H", unit_names("a-b@x\\x2dy.service")), "a-b-x\\x2dy %H");
  EXPECT_EQ(expand_specifiers("%I", unit_names("a@x-y.service")), "x/y");
}

// `${A}` repeated over a long A would expand to gigabytes; systemd's own
// line limit (1 MiB) bounds what a command may become.
TEST(UnitFile, ExpansionPastTheLineLimitIsAnError) {
  std::map<std::string, std::string> env = {{"A", std::string(32 * 1024, 'x')}, {"B", "1 2"}};
  std::string braced = "/bin/d", lone = "/bin/d";
  for (int i = 0; i < 8000; ++i) braced += " ${A}${A}", lone += " $A";
  auto c = parse_exec(braced, unit_names("x.service"), env);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("expands past"), std::string::npos);
  EXPECT_FALSE(parse_exec(lone, unit_names("x.service"), env).ok());
  auto fine = parse_exec("/bin/d ${A} $B", unit_names("x.service"), env);
  ASSERT_TRUE(fine.ok());
  EXPECT_EQ(fine->argv.size(), 4u);
}

TEST(Shell, AssignmentsQuotesDefaultsAndSourcing) {
  ShellScript sh;
  auto reader = [](const std::string& p) -> Result<std::string> {
    if (p == "/etc/default/d") return std::string("START=no\nOPTS=\"-p 99 $BASE\"\n");
    return bad_input("absent");
  };
  evaluate_shell("#!/bin/sh\nBASE=/srv\nNAME=d\nDAEMON=/usr/sbin/$NAME\nX=${UNSET:-fallback}\n"
                 "[ -r /etc/default/$NAME ] && . /etc/default/$NAME\n. /etc/default/missing\n"
                 "Q='it''s' ; export Y=\"a \\\"b\\\"\"\nD=$(date)\n"
                 "do_start() {\n  start-stop-daemon --start --exec $DAEMON -- $OPTS\n}\n",
                 "/etc/init.d/d", reader, sh);
  EXPECT_EQ(sh.vars["DAEMON"].value, "/usr/sbin/d");
  EXPECT_EQ(sh.vars["X"].value, "fallback");
  EXPECT_EQ(sh.vars["START"].value, "no");
  EXPECT_EQ(sh.vars["START"].origin, "/etc/default/d:1");
  EXPECT_EQ(sh.vars["OPTS"].value, "-p 99 /srv");
  EXPECT_EQ(sh.vars["Q"].value, "its");
  EXPECT_EQ(sh.vars["Y"].value, "a \"b\"");
  EXPECT_FALSE(sh.vars["D"].known);
  EXPECT_EQ(sh.sourced, Strings{"/etc/default/d"});
  ASSERT_FALSE(sh.commands.empty());
  auto last = expand_shell_words(sh.commands.back().raw, sh.vars);
  EXPECT_EQ(last, (Strings{"start-stop-daemon", "--start", "--exec", "/usr/sbin/d", "--", "-p", "99", "/srv"}));
}

// "$A -x" inside double quotes keeps A's blanks (fetchmail's
// OPTIONS="$OPTIONS -f $CONFFILE", xinetd's XINETD_OPTS="$XINETD_OPTS -inetd_compat").
TEST(Shell, DoubleQuotedExpansionsAreNotSplit) {
  ShellScript sh;
  evaluate_shell("OPTS=\"-stayalive\"\nOPTS=\"$OPTS -inetd_compat\"\nOPTS=\"${OPTS}  -x ${MISSING:-a  b}\"\n"
                 "C=/etc/c\nO=\"$O -f $C --pid $(cat p)\"\nssd --start -- $OPTS \"$C  d\"\n",
                 "/s", [](const std::string&) -> Result<std::string> { return bad_input("none"); }, sh);
  EXPECT_EQ(sh.vars["OPTS"].value, "-stayalive -inetd_compat  -x a  b");
  EXPECT_EQ(sh.vars["O"].value, " -f /etc/c --pid ");
  EXPECT_FALSE(sh.vars["O"].known);
  EXPECT_EQ(expand_shell_words(sh.commands.back().raw, sh.vars),
            (Strings{"ssd", "--start", "--", "-stayalive", "-inetd_compat", "-x", "a", "b", "/etc/c  d"}));
}

// A hostile guest's script that sources itself, or fans out to files that
// source each other, ends after a bounded number of reads.
TEST(Shell, SourcingIsBoundedAndCyclesAreNotReentered) {
  size_t reads = 0;
  auto reader = [&](const std::string& p) -> Result<std::string> {
    ++reads;
    if (p == "/a") return std::string(". /b\n. /b\n. /a\nA=1\n");
    return std::string(". /a\n. /b\n. /a\nB=2\n");
  };
  ShellScript sh;
  evaluate_shell(". /a\n. /a\n. /b\n. /b\n", "/etc/init.d/x", reader, sh);
  EXPECT_LE(reads, kMaxSourcedFiles);
  EXPECT_EQ(sh.vars["A"].value, "1");
  EXPECT_EQ(sh.vars["B"].value, "2");
  ShellScript self;
  evaluate_shell(". /etc/init.d/x\nC=3\n", "/etc/init.d/x", reader, self);
  EXPECT_TRUE(self.sourced.empty());
}

// A value doubled on every line, a file sourcing itself under other names,
// a deep ${a:-${a:-...}} nest: found by the fuzzer as a 7 s, 1.3 GB input.
TEST(Shell, HostileExpansionsAreBoundedAndUnknown) {
  std::string doubling = "a=x\n";
  for (int i = 0; i < 40; ++i) doubling += "a=$a$a\n";
  for (int i = 0; i < 2000; ++i) doubling += fmt::format(". /b{}; cmd $a $a $a\n", i);
  ShellScript sh;
  evaluate_shell(doubling, "/etc/init.d/x", [&](const std::string&) -> Result<std::string> { return doubling; }, sh);
  EXPECT_LE(sh.sourced_bytes, kMaxSourcedBytes);
  EXPECT_LT(sh.sourced.size(), kMaxSourcedFiles);  // the byte bound stopped it first
  EXPECT_LE(sh.vars["a"].value.size(), 64u * 1024);
  EXPECT_FALSE(sh.vars["a"].known);
  size_t produced = 0;
  for (const auto& c : sh.commands)
    for (const auto& w : c.words) produced += w.size();
  EXPECT_LE(produced, size_t{5} << 20);

  std::string nest = "a=1\nb=";
  for (int i = 0; i < 5000; ++i) nest += "${a:-";
  nest += std::string(5000, '}') + "\nc=${a:-${a:-ok}}\n";
  ShellScript deep;
  evaluate_shell(nest, "/x", [](const std::string&) -> Result<std::string> { return bad_input("none"); }, deep);
  EXPECT_EQ(deep.vars["c"].value, "1");
  EXPECT_TRUE(deep.vars["c"].known);
}

TEST(Superserver, InetdTcpdOffMarkerAndServices) {
  auto services = parse_services("ftp 21/tcp\ntftp 69/udp\nfinger 79/tcp # comment\nsmtp 25/tcp mail\n");
  EXPECT_EQ(services.port("mail", "tcp"), 25);
  auto e = parse_inetd_conf("# comment\nftp stream tcp nowait root /usr/sbin/tcpd in.ftpd -l\n"
                            "#<off># finger stream tcp nowait nobody /usr/sbin/tcpd /usr/sbin/in.fingerd\n"
                            "tftp dgram udp wait nobody.nogroup /usr/sbin/in.tftpd in.tftpd /srv/tftp\n"
                            "echo stream tcp nowait root internal\n",
                            "/etc/inetd.conf", services);
  ASSERT_EQ(e.size(), 4u);
  EXPECT_EQ(e[0].argv, (Strings{"/usr/sbin/in.ftpd", "-l"}));
  EXPECT_EQ(e[0].wrapper, "/usr/sbin/tcpd");
  EXPECT_EQ(e[0].port, 21);
  EXPECT_TRUE(e[1].disabled);
  EXPECT_EQ(e[1].argv, Strings{"/usr/sbin/in.fingerd"});
  EXPECT_EQ(e[2].argv, (Strings{"/usr/sbin/in.tftpd", "/srv/tftp"}));
  EXPECT_EQ(e[2].user, "nobody");
  EXPECT_EQ(e[2].group, "nogroup");
  EXPECT_TRUE(e[2].wait);
  EXPECT_EQ(e[2].port, 69);
  EXPECT_TRUE(e[3].internal);
}

TEST(Superserver, XinetdBlocksIncludesAndDisable) {
  auto services = parse_services("telnet 23/tcp\n");
  auto f = parse_xinetd("defaults\n{\n  instances = 60\n}\nincludedir /etc/xinetd.d\n"
                        "service telnet\n{\n  socket_type = stream\n  wait = no\n  user = root\n"
                        "  server = /usr/sbin/in.telnetd\n  server_args = -h\n  server_args += -n\n}\n"
                        "service tftp\n{\n  socket_type = dgram\n  port = 6969\n  server = /usr/sbin/in.tftpd\n"
                        "  disable = yes\n}\n",
                        "/etc/xinetd.conf", services);
  EXPECT_EQ(f.includedirs, Strings{"/etc/xinetd.d"});
  ASSERT_EQ(f.entries.size(), 2u);
  EXPECT_EQ(f.entries[0].argv, (Strings{"/usr/sbin/in.telnetd", "-h", "-n"}));
  EXPECT_EQ(f.entries[0].port, 23);
  EXPECT_EQ(f.entries[0].protocol, "tcp");
  EXPECT_EQ(f.entries[1].port, 6969);
  EXPECT_EQ(f.entries[1].protocol, "udp");
  EXPECT_TRUE(f.entries[1].disabled);
}

const DiscoveredService* find(const Discovery& d, const std::string& name, const std::string& manager) {
  for (const auto& s : d.services)
    if (s.name == name && s.manager == manager) return &s;
  return nullptr;
}

// A systemd guest: an enabled service with a drop-in and an alias, a masked
// one, an instance, a socket unit, SysV scripts (one superseded, one
// disabled in /etc/default, one plain) and inetd entries behind an enabled inetd.
class SystemdGuest : public ::testing::Test {
 protected:
  void SetUp() override {
    t.write("/etc/os-release", "ID=debian\n");
    t.write("/lib/systemd/systemd", "");
    t.symlink("/lib/systemd/systemd", "/sbin/init");
    t.symlink("/lib/systemd/system/multi-user.target", "/etc/systemd/system/default.target");
    t.write("/lib/systemd/system/multi-user.target", "[Unit]\nWants=extra.service\n");
    t.write("/lib/systemd/system/web.service",
            "[Service]\nUser=www\nEnvironmentFile=-/etc/default/web\nExecStart=/usr/sbin/web -f $WEB_OPTS\n"
            "StateDirectory=web\nReadWritePaths=-/srv/uploads /srv/tmp\n"
            "[Install]\nWantedBy=multi-user.target\nAlias=httpd.service\n");
    t.write("/etc/default/web", "WEB_OPTS=\"-p 8080\"\n");
    t.write("/etc/systemd/system/web.service.d/override.conf", "[Service]\nExecStart=\nExecStart=/usr/sbin/web -D\n");
    t.symlink("/lib/systemd/system/web.service", "/etc/systemd/system/multi-user.target.wants/httpd.service");
    t.symlink("/lib/systemd/system/web.service", "/etc/systemd/system/www.service");  // an alias
    t.write("/lib/systemd/system/multi-user.target", "[Unit]\nWants=extra.service www.service\n");
    t.write("/lib/systemd/system/extra.service", "[Service]\nType=oneshot\nExecStart=/bin/setup\n");
    t.write("/lib/systemd/system/old.service", "[Service]\nExecStart=/usr/sbin/old\n[Install]\nWantedBy=multi-user.target\n");
    t.symlink("/dev/null", "/etc/systemd/system/old.service");
    t.symlink("/lib/systemd/system/old.service", "/etc/systemd/system/multi-user.target.wants/old.service");
    t.write("/lib/systemd/system/worker@.service", "[Service]\nExecStart=/usr/bin/worker --queue %i\n");
    t.symlink("/lib/systemd/system/worker@.service", "/etc/systemd/system/multi-user.target.wants/worker@mail.service");
    t.write("/lib/systemd/system/idle.service", "[Service]\nExecStart=/usr/bin/idle\n[Install]\nWantedBy=multi-user.target\n");
    t.write("/lib/systemd/system/sockets.target", "");
    t.write("/lib/systemd/system/multi-user.target.wants/sockets.target", "");
    t.write("/lib/systemd/system/echo.socket", "[Socket]\nListenStream=0.0.0.0:7777\nListenDatagram=7778\nListenStream=/run/e.sock\n");
    t.write("/lib/systemd/system/echo.service", "[Service]\nExecStart=/usr/bin/echod\n");
    t.symlink("/lib/systemd/system/echo.socket", "/etc/systemd/system/sockets.target.wants/echo.socket");
    t.write("/etc/init.d/web", "DAEMON=/usr/sbin/web\n");
    t.symlink("../init.d/web", "/etc/rc2.d/S01web");
    t.write("/etc/init.d/legacyd", "NAME=legacyd\nDAEMON=/opt/legacy/bin/$NAME\n[ -r /etc/default/$NAME ] && . /etc/default/$NAME\n"
                                   "case \"$1\" in\n start)\n  start-stop-daemon --start --quiet --chuid legacy:staff "
                                   "--pidfile /run/$NAME.pid --exec $DAEMON -- $DAEMON_OPTS\n  ;;\nesac\n");
    t.write("/etc/default/legacyd", "DAEMON_OPTS=\"-c /etc/legacy.conf\"\n");
    t.symlink("../init.d/legacyd", "/etc/rc3.d/S20legacyd");
    t.write("/etc/init.d/offd", "DAEMON=/usr/sbin/offd\n. /etc/default/offd\n");
    t.write("/etc/default/offd", "ENABLED=0\n");
    t.symlink("../init.d/offd", "/etc/rc2.d/S02offd");
    t.write("/etc/init.d/inetutils-inetd", "start-stop-daemon --start --exec /usr/sbin/inetutils-inetd\n");
    // Its program holds the configuration path it reads by default.
    t.write("/usr/sbin/inetutils-inetd", std::string("\x7f" "ELF\0\0", 7) + "/etc/inetd.conf");
    t.symlink("../init.d/inetutils-inetd", "/etc/rc2.d/S03inetutils-inetd");
    t.write("/etc/services", "ftp 21/tcp\n");
    t.write("/etc/inetd.conf", "ftp stream tcp nowait root /usr/sbin/tcpd in.ftpd\n");
  }
  TestTree t;
};

TEST_F(SystemdGuest, FindsWhatSystemdStarts) {
  auto root = GuestRoot::open(t.root());
  ASSERT_TRUE(root.ok());
  auto d = discover_services(*root);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->init, "systemd");
  EXPECT_EQ(d->default_target, "multi-user.target");

  const DiscoveredService* web = find(*d, "web", "systemd");
  ASSERT_NE(web, nullptr);
  EXPECT_TRUE(web->enabled) << web->reason;
  EXPECT_EQ(web->argv, (Strings{"/usr/sbin/web", "-D"}));  // the drop-in reset and replaced ExecStart
  EXPECT_EQ(web->user, "www");
  EXPECT_EQ(web->env.at("WEB_OPTS"), "-p 8080");
  ASSERT_EQ(web->writable.size(), 3u);
  EXPECT_EQ(web->writable[0].path, "/var/lib/web");
  EXPECT_EQ(web->writable[1].path, "/srv/uploads");
  EXPECT_EQ(web->writable[2].path, "/srv/tmp");

  const DiscoveredService* old = find(*d, "old", "systemd");
  ASSERT_NE(old, nullptr);
  EXPECT_FALSE(old->enabled);
  EXPECT_NE(old->reason.find("masked"), std::string::npos);

  const DiscoveredService* worker = find(*d, "worker@mail", "systemd");
  ASSERT_NE(worker, nullptr);
  EXPECT_TRUE(worker->enabled);
  EXPECT_EQ(worker->argv, (Strings{"/usr/bin/worker", "--queue", "mail"}));
  EXPECT_EQ(find(*d, "worker@", "systemd"), nullptr);

  const DiscoveredService* extra = find(*d, "extra", "systemd");
  ASSERT_NE(extra, nullptr);
  EXPECT_NE(extra->reason.find("oneshot"), std::string::npos);

  const DiscoveredService* idle = find(*d, "idle", "systemd");
  ASSERT_NE(idle, nullptr);
  EXPECT_FALSE(idle->enabled);

  const DiscoveredService* echo = find(*d, "echo", "systemd");
  ASSERT_NE(echo, nullptr);
  EXPECT_TRUE(echo->enabled);
  ASSERT_EQ(echo->listen.size(), 2u);
  EXPECT_EQ(echo->listen[0].port, 7777);
  EXPECT_EQ(echo->listen[1].proto, "udp");

  const DiscoveredService* sysv_web = find(*d, "web", "sysv");
  ASSERT_NE(sysv_web, nullptr);
  EXPECT_FALSE(sysv_web->enabled);
  EXPECT_NE(sysv_web->reason.find("superseded"), std::string::npos);

  const DiscoveredService* legacy = find(*d, "legacyd", "sysv");
  ASSERT_NE(legacy, nullptr);
  EXPECT_TRUE(legacy->enabled) << legacy->reason;
  EXPECT_EQ(legacy->argv, (Strings{"/opt/legacy/bin/legacyd", "-c", "/etc/legacy.conf"}));
  EXPECT_EQ(legacy->user, "legacy");
  EXPECT_EQ(legacy->group, "staff");
  EXPECT_EQ(legacy->pidfile, "/run/legacyd.pid");
  ASSERT_EQ(legacy->writable.size(), 1u);
  EXPECT_EQ(legacy->writable[0].path, "/run");

  const DiscoveredService* off = find(*d, "offd", "sysv");
  ASSERT_NE(off, nullptr);
  EXPECT_FALSE(off->enabled);
  EXPECT_NE(off->reason.find("/etc/default/offd:1: ENABLED=0"), std::string::npos);

  const DiscoveredService* ftp = find(*d, "ftp", "inetd");
  ASSERT_NE(ftp, nullptr);
  EXPECT_TRUE(ftp->enabled) << ftp->reason;
  EXPECT_EQ(ftp->argv, Strings{"/usr/sbin/in.ftpd"});
  ASSERT_EQ(ftp->listen.size(), 1u);
  EXPECT_EQ(ftp->listen[0].port, 21);
}

// Superserver entries are started only when a boot service reads their
// file: by argument or as its program's compiled-in path, whatever its name.
TEST_F(SystemdGuest, SuperserverEntriesNeedAServiceThatReadsTheirFile) {
  t.write("/usr/sbin/inetutils-inetd", "no configuration path in here");
  auto d = discover_services(*GuestRoot::open(t.root()));
  ASSERT_TRUE(d.ok());
  const DiscoveredService* ftp = find(*d, "ftp", "inetd");
  ASSERT_NE(ftp, nullptr);
  EXPECT_FALSE(ftp->enabled);
  EXPECT_NE(ftp->reason.find("reads /etc/inetd.conf"), std::string::npos) << ftp->reason;
  t.write("/etc/init.d/inetutils-inetd", "start-stop-daemon --start --exec /usr/sbin/inetutils-inetd -- /etc/inetd.conf\n");
  d = discover_services(*GuestRoot::open(t.root()));
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(find(*d, "ftp", "inetd")->enabled);
}

// systemd's own programs and terminal logins start at boot but are not
// applications: found by the unit's directory and TTY settings, not by name.
TEST_F(SystemdGuest, InitComponentsAndTerminalsAreListedNotConverted) {
  t.write("/lib/systemd/systemd-logd", "");
  t.write("/lib/systemd/system/logd.service", "[Service]\nExecStart=/lib/systemd/systemd-logd\n");
  t.write("/lib/systemd/system/term@.service", "[Service]\nExecStart=-/sbin/agetty -o '-p -- \\\\u' --noclear %I $TERM\n"
                                             "TTYPath=/dev/%I\nStandardInput=tty\n");
  t.write("/lib/systemd/system/console.service", "[Service]\nExecStart=/sbin/sulogin\nStandardInput=tty-force\n");
  t.write("/usr/local/lib/systemd/d", "");  // another systemd directory: not the init's own
  t.write("/lib/systemd/system/local.service", "[Service]\nExecStart=/usr/local/lib/systemd/d\n");
  t.write("/lib/systemd/system/multi-user.target",
          "[Unit]\nWants=logd.service term@tty1.service console.service local.service bare.service nowhere.service\n");
  t.write("/usr/bin/bared", "");
  t.write("/bin/bared", "");
  t.write("/lib/systemd/system/bare.service", "[Service]\nExecStart=bared -f\n");
  t.write("/lib/systemd/system/nowhere.service", "[Service]\nExecStart=nowhered\n");
  auto d = discover_services(*GuestRoot::open(t.root()));
  ASSERT_TRUE(d.ok());
  const DiscoveredService* logd = find(*d, "logd", "systemd");
  ASSERT_NE(logd, nullptr);
  EXPECT_TRUE(logd->enabled);
  EXPECT_NE(logd->reason.find("part of systemd itself"), std::string::npos) << logd->reason;
  const DiscoveredService* term = find(*d, "term@tty1", "systemd");
  ASSERT_NE(term, nullptr);
  EXPECT_NE(term->reason.find("TTYPath=/dev/%I: a terminal login"), std::string::npos) << term->reason;
  EXPECT_EQ(term->argv, (Strings{"/sbin/agetty", "-o", "-p -- \\u", "--noclear", "tty1"}));  // unset $TERM: no word
  EXPECT_NE(find(*d, "console", "systemd")->reason.find("StandardInput=tty-force"), std::string::npos);
  const DiscoveredService* local = find(*d, "local", "systemd");
  EXPECT_EQ(find(*d, "bare", "systemd")->argv, (Strings{"/usr/bin/bared", "-f"}));  // systemd's search path
  EXPECT_EQ(find(*d, "nowhere", "systemd")->argv, (Strings{"nowhered"}));
  ASSERT_NE(local, nullptr);
  EXPECT_TRUE(local->reason.empty()) << local->reason;
  // The inetd entry names the boot service that serves it.
  EXPECT_EQ(find(*d, "ftp", "inetd")->superserver, "inetutils-inetd");
}

// xinetd names services by their unique id and keeps the first of an id
// (Debian ships chargen-dgram in both chargen and chargen-udp); a SysV
// script starts xinetd, whose program holds both file paths.
TEST_F(SystemdGuest, XinetdIdsAndTheSuperserverThatServesThem) {
  t.write("/etc/xinetd.conf", "defaults\n{\n}\nincludedir /etc/xinetd.d\n");
  t.write("/etc/xinetd.d/chargen", "service chargen\n{\n type = INTERNAL\n id = chargen-stream\n}\n"
                                   "service chargen\n{\n type = INTERNAL\n id = chargen-dgram\n socket_type = dgram\n}\n");
  t.write("/etc/xinetd.d/chargen-udp", "service chargen\n{\n type = INTERNAL\n id = chargen-dgram\n}\n");
  t.write("/etc/xinetd.d/rsync", "service rsync\n{\n disable = no\n server = /usr/bin/rsync\n server_args = --daemon\n}\n");
  t.write("/etc/services", "ftp 21/tcp\nchargen 19/tcp\nchargen 19/udp\nrsync 873/tcp\n");
  t.write("/etc/init.d/xinetd", "DAEMON=/usr/sbin/xinetd\nstart-stop-daemon --start --exec $DAEMON -- -stayalive\n");
  t.write("/usr/sbin/xinetd", std::string("\x7f" "ELF\0", 5) + "/etc/xinetd.conf /etc/inetd.conf");
  t.symlink("../init.d/xinetd", "/etc/rc2.d/S01xinetd");
  t.write("/usr/sbin/inetutils-inetd", "reads nothing");
  auto d = discover_services(*GuestRoot::open(t.root()));
  ASSERT_TRUE(d.ok());
  int chargens = 0;
  for (const auto& s : d->services) chargens += s.name.rfind("chargen", 0) == 0;
  EXPECT_EQ(chargens, 2);
  const DiscoveredService* dgram = find(*d, "chargen-dgram", "xinetd");
  ASSERT_NE(dgram, nullptr);
  EXPECT_EQ(dgram->listen.at(0).proto, "udp");
  EXPECT_NE(dgram->evidence[0].find("/etc/xinetd.d/chargen:"), std::string::npos) << dgram->evidence[0];
  const DiscoveredService* rsync = find(*d, "rsync", "xinetd");
  ASSERT_NE(rsync, nullptr);
  EXPECT_TRUE(rsync->enabled) << rsync->reason;
  EXPECT_EQ(rsync->superserver, "xinetd");
  EXPECT_EQ(rsync->argv, (Strings{"/usr/bin/rsync", "--daemon"}));
  EXPECT_EQ(rsync->listen.at(0).port, 873);
  EXPECT_EQ(find(*d, "ftp", "inetd")->superserver, "xinetd");  // xinetd's -inetd_compat file
  // xinetd binds what it serves: rsync's and ftp's ports with their
  // protocols, not the internal (disabled) chargen ones.
  const DiscoveredService* xinetd = find(*d, "xinetd", "sysv");
  ASSERT_NE(xinetd, nullptr);
  std::vector<std::string> ports;
  for (const auto& l : xinetd->listen) ports.push_back(fmt::format("{}/{}", l.port, l.proto));
  std::sort(ports.begin(), ports.end());
  EXPECT_EQ(ports, (Strings{"21/tcp", "873/tcp"}));
  EXPECT_NE(std::find_if(xinetd->evidence.begin(), xinetd->evidence.end(),
                         [](const std::string& e) { return e.find("starts /usr/bin/rsync per connection") == 0; }),
            xinetd->evidence.end());
}

// `defaults { disabled = ... }` turns entries off by id; `enabled = ...`
// keeps only those listed; udp comes from socket_type or protocol.
TEST(Superserver, XinetdDefaultsListsAndUdp) {
  auto services = parse_services("tftp 69/udp\ntime 37/tcp\ntime 37/udp\n");
  auto f = parse_xinetd("defaults\n{\n  disabled = time-dgram\n  disabled += echo\n  enabled = tftp\n}\n"
                        "service tftp\n{\n  socket_type = dgram\n  server = /usr/sbin/in.tftpd\n}\n"
                        "service time\n{\n  protocol = udp\n  type = INTERNAL\n  id = time-dgram\n}\n",
                        "/etc/xinetd.conf", services);
  EXPECT_EQ(f.disabled_ids, (Strings{"time-dgram", "echo"}));
  EXPECT_EQ(f.enabled_ids, Strings{"tftp"});
  ASSERT_EQ(f.entries.size(), 2u);
  EXPECT_EQ(f.entries[0].protocol, "udp");
  EXPECT_EQ(f.entries[0].port, 69);
  EXPECT_EQ(f.entries[1].protocol, "udp");
  EXPECT_EQ(f.entries[1].port, 37);
  auto inetd = parse_inetd_conf("tftp dgram udp wait nobody /usr/sbin/tcpd /usr/sbin/in.tftpd /srv/tftp\n",
                                "/etc/inetd.conf", services);
  ASSERT_EQ(inetd.size(), 1u);
  EXPECT_EQ(inetd[0].protocol, "udp");
  EXPECT_EQ(inetd[0].port, 69);
  EXPECT_EQ(inetd[0].wrapper, "/usr/sbin/tcpd");
}

TEST_F(SystemdGuest, XinetdDefaultsDisableEntries) {
  t.write("/etc/xinetd.conf", "defaults\n{\n enabled = rsync\n}\nservice tftp\n{\n socket_type = dgram\n"
                              " server = /usr/sbin/in.tftpd\n}\nservice rsync\n{\n server = /usr/bin/rsync\n}\n");
  t.write("/etc/services", "tftp 69/udp\nrsync 873/tcp\n");
  t.write("/etc/init.d/xinetd", "DAEMON=/usr/sbin/xinetd\nstart-stop-daemon --start --exec $DAEMON\n");
  t.write("/usr/sbin/xinetd", std::string("\x7f" "ELF\0", 5) + "/etc/xinetd.conf");
  t.symlink("../init.d/xinetd", "/etc/rc2.d/S01xinetd");
  auto d = discover_services(*GuestRoot::open(t.root()));
  ASSERT_TRUE(d.ok());
  const DiscoveredService* tftp = find(*d, "tftp", "xinetd");
  ASSERT_NE(tftp, nullptr);
  EXPECT_FALSE(tftp->enabled);
  EXPECT_NE(tftp->reason.find("enabled = "), std::string::npos) << tftp->reason;
  EXPECT_TRUE(find(*d, "rsync", "xinetd")->enabled);
  const DiscoveredService* xinetd = find(*d, "xinetd", "sysv");
  ASSERT_NE(xinetd, nullptr);
  ASSERT_EQ(xinetd->listen.size(), 1u);
  EXPECT_EQ(xinetd->listen[0].port, 873);
}

// Path conditions are judged on the guest (rsync.service's
// ConditionPathExists=/etc/rsyncd.conf, ssh's =!/etc/ssh/sshd_not_to_be_run);
// run-time paths are assumed to hold; `|` conditions need one that holds.
TEST_F(SystemdGuest, PathConditionsSkipUnitsAsSystemdWould) {
  const std::pair<const char*, const char*> kUnits[] = {
      {"needconf", "ConditionPathExists=/etc/needconf.conf\n"},
      {"notflag", "ConditionPathExists=!/etc/default/web\n"},
      {"sshlike", "ConditionPathExists=!/etc/sshlike_not_to_be_run\n"},
      {"runtime", "ConditionPathExists=/run/only-at-boot\nConditionDirectoryNotEmpty=/dev/x\n"},
      {"either", "ConditionPathExists=|/etc/a\nConditionPathExists=|/etc/default/web\n"},
      {"neither", "ConditionPathExists=|/etc/a\nConditionPathExists=|/etc/b\n"},
      {"empty", "ConditionFileNotEmpty=/etc/empty\nConditionPathIsDirectory=/etc\n"},
      {"reset", "ConditionPathExists=/etc/a\nConditionPathExists=\n"}};
  std::string wants;
  for (const auto& [name, cond] : kUnits) {
    t.write(std::string("/lib/systemd/system/") + name + ".service",
            std::string("[Unit]\n") + cond + "[Service]\nExecStart=/usr/sbin/" + name + "\n");
    wants += std::string(" ") + name + ".service";
  }
  t.write("/etc/empty", "");
  t.write("/lib/systemd/system/multi-user.target", "[Unit]\nWants=" + wants + "\n");
  auto d = discover_services(*GuestRoot::open(t.root()));
  ASSERT_TRUE(d.ok());
  auto reason = [&](const char* n) { return find(*d, n, "systemd") ? find(*d, n, "systemd")->reason : "missing"; };
  EXPECT_NE(reason("needconf").find("ConditionPathExists=/etc/needconf.conf fails in the guest"), std::string::npos)
      << reason("needconf");
  EXPECT_NE(reason("notflag").find("=!/etc/default/web fails"), std::string::npos) << reason("notflag");
  EXPECT_EQ(reason("sshlike"), "");
  EXPECT_EQ(reason("runtime"), "");
  EXPECT_EQ(reason("either"), "");
  EXPECT_NE(reason("neither").find("|/etc/a fails"), std::string::npos) << reason("neither");
  EXPECT_NE(reason("empty").find("ConditionFileNotEmpty=/etc/empty"), std::string::npos) << reason("empty");
  EXPECT_EQ(reason("reset"), "");  // an empty Condition…= resets the list
}

// /etc/default switches: which say "off", which hand the daemon to a
// superserver, and which only configure it (xinetd's INETD_COMPAT=Yes).
TEST(Discover, DefaultSwitchesOffSuperserverOrConfiguration) {
  TestTree t;
  t.write("/sbin/init", "");
  const std::pair<const char*, const char*> kCases[] = {
      {"xin", "INETD_COMPAT=Yes\nXINETD_OPTS=\"-stayalive\"\n"},  // configuration, still started
      {"atf", "USE_INETD=true\n"},
      {"rs", "RSYNC_ENABLE=inetd\n"},
      {"fm", "# Declare here if we want to start fetchmail. 'yes' or 'no'\nSTART_DAEMON=no\n"},
      {"via", "RUN_FROM_XINETD=yes\n"},
      {"on", "START_DAEMON=yes\nUSE_INETD=false\n"}};
  for (const auto& [name, defaults] : kCases) {
    t.write(std::string("/etc/init.d/") + name,
            std::string("NAME=") + name + "\nDAEMON=/usr/sbin/$NAME\ntest -e /etc/default/$NAME && . /etc/default/$NAME\n");
    t.write(std::string("/etc/default/") + name, defaults);
    t.symlink(std::string("../init.d/") + name, std::string("/etc/rc2.d/S01") + name);
  }
  auto d = discover_services(*GuestRoot::open(t.root()));
  ASSERT_TRUE(d.ok());
  auto reason = [&](const char* n) { return find(*d, n, "sysv") ? find(*d, n, "sysv")->reason : "missing"; };
  EXPECT_EQ(reason("xin"), "");
  EXPECT_TRUE(find(*d, "xin", "sysv")->enabled);
  EXPECT_NE(reason("atf").find("USE_INETD=true: started by a superserver"), std::string::npos) << reason("atf");
  EXPECT_NE(reason("rs").find("RSYNC_ENABLE=inetd: started by a superserver"), std::string::npos) << reason("rs");
  EXPECT_NE(reason("fm").find("/etc/default/fm:2: START_DAEMON=no: disabled"), std::string::npos) << reason("fm");
  EXPECT_NE(reason("via").find("superserver"), std::string::npos) << reason("via");
  EXPECT_EQ(reason("on"), "");
}

TEST(Discover, SysvGuestUsesInittabRunlevel) {
  TestTree t;
  t.write("/etc/inittab", "id:3:initdefault:\n");
  t.write("/sbin/init", "");
  t.write("/etc/init.d/a", "DAEMON=/usr/sbin/a\n");
  t.symlink("../init.d/a", "/etc/rc3.d/S10a");
  t.write("/etc/init.d/b", "DAEMON=/usr/sbin/b\n");
  t.symlink("../init.d/b", "/etc/rc2.d/S10b");
  t.write("/etc/init.d/c", "echo nothing to start\n");
  t.symlink("../init.d/c", "/etc/rc3.d/S11c");
  auto d = discover_services(*GuestRoot::open(t.root()));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->init, "sysv");
  EXPECT_EQ(d->default_target, "runlevel 3");
  ASSERT_NE(find(*d, "a", "sysv"), nullptr);
  EXPECT_TRUE(find(*d, "a", "sysv")->enabled);
  EXPECT_EQ(find(*d, "b", "sysv"), nullptr);
  ASSERT_NE(find(*d, "c", "sysv"), nullptr);
  EXPECT_FALSE(find(*d, "c", "sysv")->enabled);
  EXPECT_FALSE(discover_services(*GuestRoot::open("/proc/self/fdinfo")).ok());
}

// systemd.time(7) spans as systemd's parse_sec() reads them: units, sums,
// fractions, and the values it logs and ignores.
TEST(TimeSpan, SystemdSyntax) {
  auto usec = [](const std::string& v) {
    auto r = parse_time_span_usec(v);
    return r.ok() ? *r : uint64_t{12345};  // 12345: refused
  };
  const uint64_t s = 1000000;
  EXPECT_EQ(usec("90"), 90 * s);
  EXPECT_EQ(usec("30s"), 30 * s);
  EXPECT_EQ(usec("30 sec"), 30 * s);
  EXPECT_EQ(usec("1min 30s"), 90 * s);
  EXPECT_EQ(usec("1min30s"), 90 * s);
  EXPECT_EQ(usec("2m"), 120 * s);
  EXPECT_EQ(usec("500ms"), 500000u);
  EXPECT_EQ(usec("250us"), 250u);
  EXPECT_EQ(usec("1h"), 3600 * s);
  EXPECT_EQ(usec("1hr 1d"), (3600 + 86400) * s);
  EXPECT_EQ(usec("1.5h"), 5400 * s);
  EXPECT_EQ(usec(".5s"), s / 2);
  EXPECT_EQ(usec("1 2"), 3 * s);  // a bare number is seconds, and components add up
  EXPECT_EQ(usec("  5min  "), 300 * s);
  EXPECT_EQ(usec("1M"), 2629800 * s);  // month; "m" is minute
  EXPECT_EQ(usec("\xc2\xb5s"), 12345u);  // a unit without a number
  EXPECT_EQ(usec("7\xce\xbcs"), 7u);
  EXPECT_EQ(usec("0"), 0u);
  EXPECT_EQ(usec("infinity"), UINT64_MAX);
  EXPECT_EQ(usec(" infinity "), UINT64_MAX);
  for (const char* bad : {"", "  ", "-5", "5x", "5 x", "5mins", "3.", "3.s", "1.2.3", "infinity 5", "abc",
                          "99999999999999999999", "9223372036854775807h"})
    EXPECT_FALSE(parse_time_span_usec(bad).ok()) << "'" << bad << "'";
}

TEST(TimeSpan, StopTimeoutSecondsForInit) {
  auto secs = [](const std::string& v) {
    auto r = parse_stop_timeout(v);
    return r.ok() ? static_cast<int64_t>(*r) : -1;
  };
  EXPECT_EQ(secs("90"), 90);
  EXPECT_EQ(secs("1min 30s"), 90);
  EXPECT_EQ(secs("500ms"), 1);   // rounded up
  EXPECT_EQ(secs("1us"), 1);
  EXPECT_EQ(secs("2.1s"), 3);
  EXPECT_EQ(secs("infinity"), kStopTimeoutCap);
  EXPECT_EQ(secs("0"), kStopTimeoutCap);  // systemd: 0 turns the timeout off
  EXPECT_EQ(secs("2d"), kStopTimeoutCap);
  EXPECT_EQ(secs("1d"), 86400);
  EXPECT_EQ(secs("soon"), -1);
}

// TimeoutStopSec= and TimeoutSec= in file order, drop-ins after the unit;
// a value systemd ignores leaves the one before it; none: 0, and no evidence.
TEST(Discover, StopTimeoutFromTheUnit) {
  TestTree t;
  t.write("/lib/systemd/systemd", "");
  t.symlink("/lib/systemd/systemd", "/sbin/init");
  std::string install = "[Install]\nWantedBy=multi-user.target\n";
  t.write("/lib/systemd/system/a.service", "[Service]\nExecStart=/usr/sbin/a\nTimeoutStopSec=1min 30s\n" + install);
  t.write("/lib/systemd/system/b.service", "[Service]\nExecStart=/usr/sbin/b\nTimeoutSec=45\n" + install);
  t.write("/lib/systemd/system/c.service",
          "[Service]\nExecStart=/usr/sbin/c\nTimeoutSec=45\nTimeoutStopSec=5\nTimeoutStopSec=soon\n" + install);
  t.write("/lib/systemd/system/d.service", "[Service]\nExecStart=/usr/sbin/d\nTimeoutStartSec=20\n" + install);
  t.write("/lib/systemd/system/e.service", "[Service]\nExecStart=/usr/sbin/e\nTimeoutStopSec=20\n" + install);
  t.write("/etc/systemd/system/e.service.d/stop.conf", "[Service]\nTimeoutSec=infinity\n");
  t.write("/lib/systemd/system/f.service", "[Service]\nExecStart=/usr/sbin/f\nTimeoutStopSec=\n" + install);
  for (const char* n : {"a", "b", "c", "d", "e", "f"})
    t.symlink(fmt::format("/lib/systemd/system/{}.service", n),
              fmt::format("/etc/systemd/system/multi-user.target.wants/{}.service", n));
  auto d = discover_services(*GuestRoot::open(t.root()));
  ASSERT_TRUE(d.ok());
  auto svc = [&](const char* name) {
    const DiscoveredService* s = find(*d, name, "systemd");
    EXPECT_NE(s, nullptr) << name;
    return s ? *s : DiscoveredService{};
  };
  EXPECT_EQ(svc("a").stop_timeout, 90u);
  EXPECT_EQ(svc("a").stop_timeout_evidence, "/lib/systemd/system/a.service:3: TimeoutStopSec=1min 30s");
  EXPECT_NE(std::find(svc("a").evidence.begin(), svc("a").evidence.end(), svc("a").stop_timeout_evidence),
            svc("a").evidence.end());
  EXPECT_EQ(svc("b").stop_timeout, 45u);
  EXPECT_EQ(svc("b").stop_timeout_evidence, "/lib/systemd/system/b.service:3: TimeoutSec=45");
  EXPECT_EQ(svc("c").stop_timeout, 5u);  // "soon" is ignored, as systemd does
  EXPECT_EQ(svc("c").stop_timeout_evidence, "/lib/systemd/system/c.service:4: TimeoutStopSec=5");
  EXPECT_EQ(svc("d").stop_timeout, 0u);  // the start timeout only
  EXPECT_EQ(svc("d").stop_timeout_evidence, "");
  EXPECT_EQ(svc("e").stop_timeout, kStopTimeoutCap);  // the drop-in's TimeoutSec= comes last
  EXPECT_EQ(svc("e").stop_timeout_evidence, "/etc/systemd/system/e.service.d/stop.conf:2: TimeoutSec=infinity");
  EXPECT_EQ(svc("f").stop_timeout, 0u);  // empty: ignored
}

}  // namespace
}  // namespace decant
