// Unit tests of convert's pure parts: --service NAME=CMD parsing, the
// directory names of several sources, and the progress lines and bar.
#include "convert/convert.h"
#include "convert/progress.h"

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

}  // namespace
}  // namespace decant
