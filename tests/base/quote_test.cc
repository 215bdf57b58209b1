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

TEST(TextForm, PrintableUtf8StaysAndControlsAndBadBytesAreEscaped) {
  EXPECT_EQ(EscapeBytes("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
            "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");  // é € 😀 as they are
  EXPECT_EQ(EscapeBytes(std::string("\x00\x1f\x7f", 3)), "\\x00\\x1f\\x7f");  // C0, DEL
  EXPECT_EQ(EscapeBytes("\xc2\x85"), "\\xc2\\x85");  // C1 (U+0085), both bytes
  EXPECT_EQ(EscapeBytes("\xc2\xa0"), "\xc2\xa0");    // U+00A0 is not a control
  EXPECT_EQ(EscapeBytes("\\"), "\\\\");
  // Not UTF-8: a lone continuation byte, a truncated sequence, overlong forms, surrogates,
  // above U+10FFFF, 0xff.
  EXPECT_EQ(EscapeBytes("\x80"), "\\x80");
  EXPECT_EQ(EscapeBytes("\xe2\x82"), "\\xe2\\x82");
  EXPECT_EQ(EscapeBytes("\xc0\xaf"), "\\xc0\\xaf");
  EXPECT_EQ(EscapeBytes("\xe0\x80\xaf"), "\\xe0\\x80\\xaf");
  EXPECT_EQ(EscapeBytes("\xed\xa0\x80"), "\\xed\\xa0\\x80");
  EXPECT_EQ(EscapeBytes("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");
  EXPECT_EQ(EscapeBytes("a\xff"
                        "b"),
            "a\\xffb");
  EXPECT_TRUE(IsValidUtf8("caf\xc3\xa9"));
  EXPECT_TRUE(IsValidUtf8("\xf4\x8f\xbf\xbf"));  // U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));
  EXPECT_FALSE(IsValidUtf8("\xc3"));
}

TEST(TextForm, WhatIsPrintedIsTakenBackAndBadEscapesAreRefused) {
  for (int b = 0; b < 256; ++b) {
    const std::string one(1, static_cast<char>(b));
    const std::string bytes = "k" + one + "\xc3\xa9" + one + one;
    auto back = UnescapeBytes(EscapeBytes(bytes));
    ASSERT_TRUE(back.ok()) << b;
    EXPECT_EQ(*back, bytes) << b;
  }
  EXPECT_EQ(*UnescapeBytes("a\\x41\\x4A\\\\"), "aAJ\\");
  EXPECT_EQ(*UnescapeBytes(""), "");
  for (const char* bad : {"\\", "a\\n", "\\x4", "\\xg0", "\\x"}) {
    Result<std::string> r = UnescapeBytes(bad);
    ASSERT_TRUE(r.status().IsInvalidArgument()) << bad;
    EXPECT_NE(r.status().message().find("write a literal backslash as \\\\"), std::string::npos)
        << r.status().message();
  }
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
