// Unit tests of the CLI's own logic: the image reference grammar that
// --tag is checked against, and the nearest-word suggestions for typos.
#include <gtest/gtest.h>

#include "cli/oci_reference.h"
#include "cli/suggest.h"

namespace decant {
namespace {

TEST(ImageReference, AcceptsTheGrammar) {
  for (const char* ref : {"decant/redis:latest", "redis", "redis:6.0", "a/b/c", "my_app", "my__app", "my--app",
                          "my.app", "docker.io/library/redis:7", "localhost/x", "localhost:5000/team/app:v1.2-rc_3",
                          "registry.example.com:443/a:b", "Registry.Example.com/a", "x:_tag", "x:Tag.With-Dots",
                          "localhost:5000",  // name localhost, tag 5000
                          "r@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                          "r:t@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}) {
    Status s = check_image_reference(ref);
    EXPECT_TRUE(s.ok()) << ref << ": " << (s ? "" : s.error().message);
  }
  std::string t128(128, 't');
  EXPECT_TRUE(check_image_reference("a:" + t128).ok());
  EXPECT_TRUE(check_image_reference(std::string(255, 'a')).ok());
}

TEST(ImageReference, RefusesWhatRegistriesRefuse) {
  for (const char* ref : {"", "Redis", "decant/Redis:latest", "a//b", "/a", "a/", "-a", "a-", "a.", "a..b", "a___b",
                          "a:", "a:-t", "a:.t", "a:t!", "a b", "a:t:u", "my.host:port/a", "-host.com/a", "ho_st.com/a",
                          ":tag", "a@", "a@sha256:abc", "a@md5:0123456789abcdef0123456789abcdef",
                          "a@sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
                          "a/b:t/c"}) {
    Status s = check_image_reference(ref);
    EXPECT_FALSE(s.ok()) << "accepted " << ref;
    if (!s) {
      EXPECT_EQ(s.error().kind, ErrorKind::BadInput);
    }
  }
  EXPECT_FALSE(check_image_reference("a:" + std::string(129, 't')).ok());
  EXPECT_FALSE(check_image_reference(std::string(256, 'a')).ok());
  EXPECT_FALSE(check_image_reference(std::string(200, 'a') + "/" + std::string(60, 'b') + ":t").ok());
}

TEST(ImageReference, ErrorNamesThePart) {
  Status s = check_image_reference("decant/Redis:latest");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("'Redis'"), std::string::npos) << s.error().message;
  s = check_image_reference("a:b!c", "--tag");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message.rfind("--tag a:b!c: tag 'b!c'", 0), 0u) << s.error().message;
}

TEST(Suggest, EditDistance) {
  EXPECT_EQ(edit_distance("", ""), 0u);
  EXPECT_EQ(edit_distance("convrt", "convert"), 1u);
  EXPECT_EQ(edit_distance("--fromat", "--format"), 1u);  // a swap is one edit
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("abc", ""), 3u);
}

TEST(Suggest, NearestWord) {
  std::vector<std::string> cmds = {"analyze", "convert", "discover", "learn", "package", "plan", "report", "run"};
  EXPECT_EQ(nearest_word("convrt", cmds), "convert");
  EXPECT_EQ(nearest_word("pakage", cmds), "package");
  EXPECT_EQ(nearest_word("rn", cmds), "run");
  EXPECT_EQ(nearest_word("xyzzyq", cmds), "");
  EXPECT_EQ(nearest_word("--fromat", {"--force", "--format", "--mode"}), "--format");
  EXPECT_EQ(nearest_word("--output", {}), "");
}

}  // namespace
}  // namespace decant
