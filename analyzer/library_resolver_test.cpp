// Tests of the ld.so-faithful closure on fake guests whose libraries are
// compiled at test time: RPATH of the loader chain versus RUNPATH of the
// loader only, skipping wrong-class candidates, ld.so.conf order, missing
// libraries, and DST expansion.
#include <gtest/gtest.h>

#include <algorithm>

#include "analyzer/analyze.h"
#include "analyzer/library_resolver.h"
#include "guest/test_tree.h"

namespace decant {
namespace {

class ResolverFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    t_.write("/src/a.c", "int b(void); int a(void) { return b(); }\n");
    t_.write("/src/b.c", "int b(void) { return 1; }\n");
    t_.write("/src/b2.c", "int b(void) { return 2; }\n");
    t_.write("/src/main.c", "int a(void); int main(void) { return a(); }\n");
    t_.mkdir("/app/lib");
    t_.mkdir("/app/bin");
    t_.mkdir("/lib/x86_64-linux-gnu");
    t_.mkdir("/usr/lib/x86_64-linux-gnu");
    t_.mkdir("/usr/local/lib");
    t_.write("/etc/ld.so.conf", "include /etc/ld.so.conf.d/*.conf\n");
    t_.write("/etc/ld.so.conf.d/local.conf", "/usr/local/lib\n");
    const char* build =
        "set -e; cd $T/src; "
        "cc -shared -fPIC -Wl,-soname,libB.so.1 -o $T/app/lib/libB.so.1 b.c; "
        "cc -shared -fPIC -Wl,-soname,libB.so.1 -o $T/usr/lib/x86_64-linux-gnu/libB.so.1 b2.c; "
        // A 32-bit impostor earlier in the search: ld.so must skip it.
        "cp $T/usr/lib/x86_64-linux-gnu/libB.so.1 $T/usr/local/lib/libB.so.1; "
        "printf '\\001' | dd of=$T/usr/local/lib/libB.so.1 bs=1 seek=4 conv=notrunc 2>/dev/null; "
        "cc -shared -fPIC -Wl,-soname,libA.so.1 -o $T/app/lib/libA.so.1 a.c -L$T/app/lib -l:libB.so.1; "
        "cc -o $T/app/bin/main_rpath main.c -L$T/app/lib -l:libA.so.1 -Wl,-rpath-link,$T/app/lib "
        "  -Wl,--disable-new-dtags -Wl,-rpath,'$ORIGIN/../lib'; "
        "cc -o $T/app/bin/main_runpath main.c -L$T/app/lib -l:libA.so.1 -Wl,-rpath-link,$T/app/lib "
        "  -Wl,--enable-new-dtags -Wl,-rpath,'$ORIGIN/../lib'";
    ASSERT_EQ(t_.sh(build), 0) << "cannot compile the fixture libraries";
    auto root = GuestRoot::open(t_.root());
    ASSERT_TRUE(root.ok());
    root_ = std::make_unique<GuestRoot>(std::move(*root));
  }

  Profile analyze(const std::string& binary) {
    auto a = analyze_binary(*root_, binary, {}, cache_);
    EXPECT_TRUE(a.ok()) << (a.ok() ? "" : a.error().message);
    return a.ok() ? a->profile : Profile{};
  }

  static const Library* find(const Profile& p, const std::string& soname) {
    for (auto& l : p.libraries)
      if (l.soname == soname) return &l;
    return nullptr;
  }

  TestTree t_;
  std::unique_ptr<GuestRoot> root_;
  ElfCache cache_;
};

TEST_F(ResolverFixture, RpathOfTheMainProgramServesItsLibrariesDependencies) {
  Profile p = analyze("/app/bin/main_rpath");
  const Library* a = find(p, "libA.so.1");
  const Library* b = find(p, "libB.so.1");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(a->path, "/app/lib/libA.so.1");
  EXPECT_EQ(a->found_via, "rpath");
  EXPECT_EQ(b->path, "/app/lib/libB.so.1");  // via main's RPATH, on behalf of libA
  EXPECT_EQ(b->found_via, "rpath");
  EXPECT_EQ(b->needed_by, std::vector<std::string>{"/app/lib/libA.so.1"});
  EXPECT_EQ(p.binary.rpath, std::vector<std::string>{"/app/bin/../lib"});
}

TEST_F(ResolverFixture, RunpathServesOnlyTheObjectThatCarriesIt) {
  Profile p = analyze("/app/bin/main_runpath");
  const Library* a = find(p, "libA.so.1");
  const Library* b = find(p, "libB.so.1");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(a->found_via, "runpath");
  // libA has no RUNPATH of its own: main's RUNPATH does not apply, the 32-bit
  // impostor in /usr/local/lib (from ld.so.conf) is skipped, and the default
  // directory wins.
  EXPECT_EQ(b->path, "/usr/lib/x86_64-linux-gnu/libB.so.1");
  EXPECT_EQ(b->found_via, "default");
  EXPECT_EQ(p.binary.runpath, std::vector<std::string>{"/app/bin/../lib"});
}

TEST_F(ResolverFixture, MissingLibrariesAndInterpreterAreReportedNotFatal) {
  Profile p = analyze("/app/bin/main_rpath");
  std::vector<std::string> missing;
  for (auto& m : p.missing_libraries) missing.push_back(m.soname);
  EXPECT_NE(std::find(missing.begin(), missing.end(), "libc.so.6"), missing.end());
  EXPECT_NE(std::find(missing.begin(), missing.end(), "/lib64/ld-linux-x86-64.so.2"), missing.end());
  bool hazard = std::any_of(p.hazards.begin(), p.hazards.end(), [](const Hazard& h) { return h.id == "missing-library"; });
  EXPECT_TRUE(hazard);
}

TEST_F(ResolverFixture, LoadOrderIsBreadthFirst) {
  Profile p = analyze("/app/bin/main_rpath");
  ASSERT_GE(p.libraries.size(), 2u);
  EXPECT_EQ(p.libraries[0].soname, "libA.so.1");
  EXPECT_EQ(p.libraries[1].soname, "libB.so.1");
}

TEST(ExpandDst, AllTokensBothSpellings) {
  LoaderConfig cfg;
  cfg.lib_dst = "lib/x86_64-linux-gnu";
  cfg.platform = "x86_64";
  EXPECT_EQ(expand_dst("$ORIGIN/../$LIB/${PLATFORM}/x", "/opt/app/bin", cfg),
            "/opt/app/bin/../lib/x86_64-linux-gnu/x86_64/x");
  EXPECT_EQ(expand_dst("${ORIGIN}", "/o", cfg), "/o");
  EXPECT_EQ(expand_dst("$ORIGINAL/$LIBRARY", "/o", cfg), "$ORIGINAL/$LIBRARY");
  EXPECT_EQ(expand_dst("/plain", "/o", cfg), "/plain");
}

TEST(SymbolVersions, SplitFamilies) {
  std::string f, v;
  ASSERT_TRUE(split_symbol_version("GLIBC_2.2.5", f, v));
  EXPECT_EQ(f + " " + v, "GLIBC 2.2.5");
  ASSERT_TRUE(split_symbol_version("OPENSSL_1_1_0", f, v));
  EXPECT_EQ(f + " " + v, "OPENSSL 1.1.0");
  ASSERT_TRUE(split_symbol_version("LIBXML2_2.4.30", f, v));
  EXPECT_EQ(f + " " + v, "LIBXML2 2.4.30");
  ASSERT_TRUE(split_symbol_version("CXXABI_TM_1", f, v));
  EXPECT_EQ(f + " " + v, "CXXABI_TM 1");
  EXPECT_FALSE(split_symbol_version("GLIBC_PRIVATE", f, v));
}

}  // namespace
}  // namespace decant

namespace decant {
namespace {

// One cache shared by many closures (convert, analyze BIN...) and the
// headers-only mode must not change a single profile.
TEST_F(ResolverFixture, SharedAndHeadersOnlyCachesGiveTheSameProfiles) {
  AnalyzeOptions o;
  o.code = false;
  ElfCache shared(ElfRead::Headers);
  for (const char* bin : {"/app/bin/main_rpath", "/app/bin/main_runpath", "/app/bin/main_rpath"}) {
    ElfCache fresh;
    auto want = analyze_binary(*root_, bin, o, fresh);
    auto got = analyze_binary(*root_, bin, o, shared);
    ASSERT_TRUE(want.ok() && got.ok()) << bin;
    EXPECT_EQ(serialize(got->profile, ProfileFormat::Yaml), serialize(want->profile, ProfileFormat::Yaml)) << bin;
    // Headers mode: libraries are not hashed, the main binary is.
    EXPECT_FALSE(got->profile.binary.sha256.empty());
    for (size_t i = 1; i < got->closure.objects.size(); ++i) EXPECT_TRUE(got->closure.objects[i].elf->sha256.empty());
    for (size_t i = 1; i < want->closure.objects.size(); ++i)
      EXPECT_FALSE(want->closure.objects[i].elf->sha256.empty());
  }
}

}  // namespace
}  // namespace decant
