#include "base/quote.h"

#include <gtest/gtest.h>

#include <string>

namespace rustorium {
namespace {

TEST(QuoteInput, ShortInputIsQuotedWhole) {
  EXPECT_EQ(QuoteInput("apple"), "'apple'");
  EXPECT_EQ(QuoteInput(""), "''");
  EXPECT_EQ(QuoteInput(std::string(kQuotedInputBytes, 'x')),
            "'" + std::string(kQuotedInputBytes, 'x') + "'");
}

TEST(QuoteInput, LongInputIsCutAndNamesItsSize) {
  const std::string key(8192, 'a');
  EXPECT_EQ(QuoteInput(key), "'" + std::string(kQuotedInputBytes, 'a') + "\u2026' (8192 bytes)");
  EXPECT_EQ(QuoteInput(std::string(kQuotedInputBytes + 1, 'b')),
            "'" + std::string(kQuotedInputBytes, 'b') + "\u2026' (33 bytes)");
  EXPECT_EQ(QuoteInput("abcdef", 3), "'abc\u2026' (6 bytes)");
}

TEST(QuoteInput, UnprintableBytesAreEscaped) {
  EXPECT_EQ(QuoteInput(std::string("a\\b\x00\xff\n", 6)), "'a\\\\b\\x00\\xff\\x0a'");
  // A terminal escape sequence in a bad value cannot reach the terminal.
  EXPECT_EQ(QuoteInput("\x1b[2J"), "'\\x1b[2J'");
}

TEST(ShortenLongWords, OnlyLongRunsAreCut) {
  const std::string message = "Could not convert: --limit = " + std::string(8192, 'x');
  const std::string shown = ShortenLongWords(message);
  EXPECT_EQ(shown, "Could not convert: --limit = '" + std::string(kQuotedInputBytes, 'x') +
                       "\u2026' (8192 bytes)");
  const std::string ordinary = "The following arguments were not expected: --bogus  extra\n";
  EXPECT_EQ(ShortenLongWords(ordinary), ordinary);
  const std::string edge(2 * kQuotedInputBytes, 'y');
  EXPECT_EQ(ShortenLongWords(edge), edge);
  EXPECT_NE(ShortenLongWords(edge + "y"), edge + "y");
}

}  // namespace
}  // namespace rustorium
