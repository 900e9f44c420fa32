// Unit tests of convert's pure parts: --service NAME=CMD parsing, the
// directory names of several sources, the progress lines and bar, and
// reading a service's start script for its daemon.
#include "convert/convert.h"
#include "convert/progress.h"
#include "convert/wrapper.h"
#include "guest/memory_guest.h"

#include <cstdio>
#include <string>

#include <gtest/gtest.h>

namespace decant {
namespace {

TEST(ManualService, SplitsLikeAShellSimpleCommand) {
  auto m = parse_manual_service("mc=memcached -l '127.0.0.1 x' -p \"11 211\" a\\ b");
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->name, "mc");
  EXPECT_EQ(m->argv, (std::vector<std::string>{"memcached", "-l", "127.0.0.1 x", "-p", "11 211", "a b"}));
  auto eq = parse_manual_service("x=/bin/prog --opt=a=b");
  ASSERT_TRUE(eq);
  EXPECT_EQ(eq->name, "x");
  EXPECT_EQ(eq->argv, (std::vector<std::string>{"/bin/prog", "--opt=a=b"}));
}

TEST(ManualService, RefusesWhatItWouldHaveToGuess) {
  for (const char* bad : {"noequals", "=cmd", "x=", "x=   ", "../x=/bin/sh", "a/b=/bin/sh", ".hidden=/bin/sh",
                          "x=prog $HOME", "x=prog `id`", "x=prog | tee", "x=prog >log", "x=prog; rm", "x=a && b",
                          "x=prog\nnext"}) {
    auto m = parse_manual_service(bad);
    EXPECT_FALSE(m) << bad;
    if (!m) EXPECT_EQ(m.error().message.find('\n'), std::string::npos) << bad;
  }
}

TEST(SourceNames, OneSourceHasNoSubdirectory) {
  EXPECT_EQ(source_dir_names({"/vms/a"}), std::vector<std::string>{""});
}

TEST(SourceNames, BasenamesWithoutSuffixesDeduplicated) {
  EXPECT_EQ(source_dir_names({"/vms/web/", "b/web", "/x/db.tar.zst", "/x/db.qcow2", "/", "/x/.hidden", "a b:c"}),
            (std::vector<std::string>{"web", "web-2", "db", "db-2", "source", "source-2", "a-b-c"}));
  EXPECT_EQ(source_dir_names({"/x/summary.json", "y"}), (std::vector<std::string>{"source", "y"}));
  // A generated name never takes one given later: "web-2" given as a source stays unique too.
  EXPECT_EQ(source_dir_names({"a/web", "b/web", "c/web-2"}), (std::vector<std::string>{"web", "web-2", "web-2-2"}));
}

std::string printed(ProgressPrinter::Style style, const std::vector<ProgressEvent>& events) {
  char* buf = nullptr;
  size_t len = 0;
  std::FILE* f = open_memstream(&buf, &len);
  {
    ProgressPrinter p(f, style, 60);
    for (const auto& e : events) p(e);
    p.finish();
  }
  std::fclose(f);
  std::string out(buf, len);
  free(buf);
  return out;
}

const std::vector<ProgressEvent> kEvents = {
    {ProgressEvent::Discovered, "", "", "3 services, 2 to convert, 1 skipped", 2},
    {ProgressEvent::Started, "", "redis-server", "", 0},
    {ProgressEvent::Stage, "", "redis-server", "analyze", 0},
    {ProgressEvent::Stage, "", "redis-server", "package bundle with a long name", 0},
    {ProgressEvent::Finished, "", "redis-server", "converted", 0},
    {ProgressEvent::Started, "", "memcached", "", 0},
    {ProgressEvent::Finished, "", "memcached", "failed: a script", 0},
};

TEST(Progress, PlainLinesOnePerService) {
  EXPECT_EQ(printed(ProgressPrinter::Style::Lines, kEvents),
            "decant: discovered 3 services, 2 to convert, 1 skipped\n"
            "decant: redis-server: converted\n"
            "decant: memcached: failed: a script\n");
  std::vector<ProgressEvent> two = {{ProgressEvent::Finished, "vm1", "sshd", "converted", 0}};
  EXPECT_EQ(printed(ProgressPrinter::Style::Lines, two), "decant: vm1/sshd: converted\n");
}

TEST(Progress, BarIsRedrawnInPlaceAndFitsTheWidth) {
  std::string out = printed(ProgressPrinter::Style::Bar, kEvents);
  EXPECT_NE(out.find("\r\033[K[....................] 0/2  redis-server: analyze"), std::string::npos) << out;
  EXPECT_NE(out.find("\r\033[Kdecant: redis-server: converted\n"), std::string::npos) << out;
  EXPECT_NE(out.find("[##########..........] 1/2"), std::string::npos) << out;
  // Every drawn bar is cut to width - 1 so it never wraps.
  for (size_t at = 0; (at = out.find("\r\033[K[", at)) != std::string::npos; ++at) {
    size_t end = out.find('\r', at + 1);
    EXPECT_LE((end == std::string::npos ? out.size() : end) - at - 4, 59u) << out.substr(at, end - at);
  }
  EXPECT_EQ(out.substr(out.size() - 4), "\r\033[K");  // finish() leaves a clean line
}

std::shared_ptr<MemoryGuest> wrapper_guest() {
  auto g = std::make_shared<MemoryGuest>();
  const std::string elf("\x7f" "ELF\2\1\1", 7);
  for (const char* p : {"/bin/sh", "/usr/bin/perl", "/usr/sbin/httpd2", "/usr/bin/mkdir", "/usr/bin/id", "/usr/bin/cached",
                        "/usr/bin/systemctl", "/usr/sbin/helperd"})
    g->add_file(p, elf, 0755);
  g->add_directory("/var/run");
  return g;
}

// apachectl's shape: the daemon comes from a variable default, an
// environment file is sourced, utilities run at command positions and in
// command substitutions; systemctl (no service manager in a container) is
// left out, and the run directory it makes becomes an optional write.
TEST(ServiceWrapper, ShellScriptStartsTheDaemonItsVariablesName) {
  auto g = wrapper_guest();
  g->add_file("/etc/web/envvars", "export WEB_RUN_DIR=/var/run/web\n");
  g->add_file("/usr/sbin/webctl",
              "#!/bin/sh\nCONF=/etc/web\n. $CONF/envvars\nHTTPD=${WEB_HTTPD:-/usr/sbin/httpd2}\n"
              "[ `id -u` -eq 0 ] && mkdir -p ${WEB_RUN_DIR:-/var/run/x}\n"
              "if $need_systemd; then systemctl start web; else $HTTPD -k \"$@\"; fi\n",
              0755);
  auto w = read_service_wrapper(GuestRoot(g), "/usr/sbin/webctl", "/bin/sh", "web");
  EXPECT_EQ(w.daemon, "/usr/sbin/httpd2") << w.why;
  EXPECT_EQ(w.interpreter, "/bin/sh");
  EXPECT_EQ(w.sourced, std::vector<std::string>{"/etc/web/envvars"});
  EXPECT_EQ(w.programs, (std::vector<std::string>{"/bin/sh", "/usr/bin/mkdir", "/usr/bin/id"}));
  ASSERT_EQ(w.creates.size(), 1u);
  EXPECT_EQ(w.creates[0].first, "/var/run/web");
}

// memcached's perl wrapper: no shell to evaluate, the daemon's path is a
// string; a daemon named like the service wins over another program.
TEST(ServiceWrapper, OtherLanguagesNameTheirDaemonByPath) {
  auto g = wrapper_guest();
  g->add_file("/usr/share/c/wrapper", "#!/usr/bin/perl -w\nmy $d = \"/usr/bin/cached\";\nsystem('/usr/sbin/helperd');\nexec $d, @p;\n",
              0755);
  auto w = read_service_wrapper(GuestRoot(g), "/usr/share/c/wrapper", "/usr/bin/perl -w", "cached");
  EXPECT_EQ(w.daemon, "/usr/bin/cached") << w.why;
  EXPECT_EQ(w.why, "named like the service");
  EXPECT_EQ(w.programs, (std::vector<std::string>{"/usr/bin/perl", "/usr/sbin/helperd"}));
  auto two = read_service_wrapper(GuestRoot(g), "/usr/share/c/wrapper", "/usr/bin/perl -w", "other");
  EXPECT_EQ(two.daemon, "");
  EXPECT_NE(two.why.find("/usr/bin/cached, /usr/sbin/helperd"), std::string::npos) << two.why;
  auto none = read_service_wrapper(GuestRoot(g), "/usr/share/c/wrapper", "/usr/bin/python3", "cached");
  EXPECT_EQ(none.daemon, "");
  EXPECT_NE(none.why.find("interpreter /usr/bin/python3 is not in the guest"), std::string::npos) << none.why;
}

}  // namespace
}  // namespace decant
