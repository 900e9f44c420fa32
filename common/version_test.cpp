// The configured version header says what project(decant VERSION ...) says.
#include <gtest/gtest.h>

#include <string>

#include "common/version.h"

namespace decant {
namespace {

TEST(Version, ComesFromTheCMakeProject) {
  EXPECT_STREQ(kVersion, DECANT_PROJECT_VERSION);
  EXPECT_EQ(std::string(kVersionString), std::string("decant ") + DECANT_PROJECT_VERSION);
}

}  // namespace
}  // namespace decant
