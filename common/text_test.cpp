// Tests of the shared text helpers: how lines() splits (no phantom last
// line, empty lines kept, CR kept) and what trim() removes.
#include <gtest/gtest.h>

#include "common/text.h"

namespace decant {
namespace {

std::vector<std::string> collect(std::string_view text) {
  std::vector<std::string> out;
  for (std::string_view line : lines(text)) out.emplace_back(line);
  return out;
}

using V = std::vector<std::string>;

TEST(Lines, SplitsOnNewlines) {
  EXPECT_EQ(collect("a\nbb\nccc"), (V{"a", "bb", "ccc"}));
  EXPECT_EQ(collect("a\nbb\n"), (V{"a", "bb"}));
}

TEST(Lines, EmptyLinesAreKeptButNoneAfterTheLastNewline) {
  EXPECT_EQ(collect(""), V{});
  EXPECT_EQ(collect("\n"), V{""});
  EXPECT_EQ(collect("\n\nx\n\n"), (V{"", "", "x", ""}));
}

TEST(Lines, CarriageReturnsAndNulsAreKept) {
  EXPECT_EQ(collect("a\r\nb\r\n"), (V{"a\r", "b\r"}));
  std::string with_nul("a\0b\nc", 5);
  EXPECT_EQ(collect(with_nul), (V{std::string("a\0b", 3), "c"}));
}

TEST(Lines, ViewsPointIntoTheText) {
  std::string text = "one\ntwo\n";
  auto it = lines(text).begin();
  EXPECT_EQ(it->data(), text.data());
  ++it;
  EXPECT_EQ(it->data(), text.data() + 4);
  EXPECT_EQ(++it, lines(text).end());
}

TEST(Lines, CallbackAndVectorFormsAgree) {
  std::string text = "x=1\n\n# c\ny=2";
  V seen;
  for_each_line(text, [&](std::string_view l) { seen.emplace_back(l); });
  EXPECT_EQ(seen, collect(text));
  EXPECT_EQ(split_lines(text), collect(text));
}

TEST(SplitWords, RunsOfBlanksSeparate) {
  EXPECT_EQ(split_words(" a  b\tc \n"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(split_words(" \t ").empty());
  EXPECT_TRUE(split_words("").empty());
}

TEST(Split, KeepsEmptyFields) {
  EXPECT_EQ(split("a;;b", ';'), (std::vector<std::string>{"a", "", "b"}));
  EXPECT_EQ(split("", ';'), (std::vector<std::string>{""}));
  EXPECT_EQ(split(";x;", ';'), (std::vector<std::string>{"", "x", ""}));
}

TEST(Trim, RemovesBlanksAtBothEnds) {
  EXPECT_EQ(trim("  a b \t\r\n"), "a b");
  EXPECT_EQ(trim("\v\fx\f"), "x");
  EXPECT_EQ(trim(" \t \n"), "");
  EXPECT_EQ(trim(""), "");
  EXPECT_EQ(trim("x"), "x");
}

TEST(Trim, OnlyTheGivenCharacters) {
  EXPECT_EQ(trim(" \ta\r\n", " \t"), "a\r\n");
  EXPECT_EQ(trim("\"q\"", "\""), "q");
}

}  // namespace
}  // namespace decant
