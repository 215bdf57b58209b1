#include "base/quote.h"

namespace rustorium {

namespace {
constexpr char kHexDigits[] = "0123456789abcdef";
}  // namespace

std::string QuoteInput(std::string_view input, std::size_t max_bytes) {
  const bool cut = input.size() > max_bytes;
  const std::string_view shown = cut ? input.substr(0, max_bytes) : input;
  std::string out = "'";
  for (char ch : shown) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '\\') {
      out += "\\\\";
    } else if (c >= 0x20 && c < 0x7f) {
      out.push_back(ch);
    } else {
      out += "\\x";
      out.push_back(kHexDigits[c >> 4]);
      out.push_back(kHexDigits[c & 0xf]);
    }
  }
  if (cut) out += "\u2026";  // …
  out += "'";
  if (cut) out += " (" + std::to_string(input.size()) + " bytes)";
  return out;
}

std::string ShortenLongWords(std::string_view text) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    const bool blank = text[i] == ' ' || text[i] == '\t' || text[i] == '\n';
    std::size_t j = i;
    while (j < text.size() && (text[j] == ' ' || text[j] == '\t' || text[j] == '\n') == blank) {
      ++j;
    }
    const std::string_view run = text.substr(i, j - i);
    if (!blank && run.size() > 2 * kQuotedInputBytes) {
      out += QuoteInput(run);
    } else {
      out += run;
    }
    i = j;
  }
  return out;
}

}  // namespace rustorium
