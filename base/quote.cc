#include "base/quote.h"

namespace rustorium {

namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

// The length of the well-formed UTF-8 sequence at the start of `s` and its code point, or 0
// when `s` does not start with one (Unicode 15, table 3-7).
std::size_t Utf8Sequence(std::string_view s, char32_t& code) {
  const auto b = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char c = b(0);
  if (c < 0x80) {
    code = c;
    return 1;
  }
  std::size_t n = 0;
  unsigned char lo = 0x80, hi = 0xbf;  // the second byte's range
  if (c >= 0xc2 && c <= 0xdf) {
    n = 2;
    code = c & 0x1f;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    code = c & 0x0f;
    if (c == 0xe0) lo = 0xa0;  // overlong
    if (c == 0xed) hi = 0x9f;  // surrogates
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    code = c & 0x07;
    if (c == 0xf0) lo = 0x90;  // overlong
    if (c == 0xf4) hi = 0x8f;  // above U+10FFFF
  } else {
    return 0;
  }
  if (s.size() < n || b(1) < lo || b(1) > hi) return 0;
  code = (code << 6) | (b(1) & 0x3f);
  for (std::size_t i = 2; i < n; ++i) {
    if (b(i) < 0x80 || b(i) > 0xbf) return 0;
    code = (code << 6) | (b(i) & 0x3f);
  }
  return n;
}

bool IsControl(char32_t code) { return code < 0x20 || (code >= 0x7f && code <= 0x9f); }

void AppendEscaped(std::string& out, unsigned char c) {
  out += "\\x";
  out.push_back(kHexDigits[c >> 4]);
  out.push_back(kHexDigits[c & 0xf]);
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string EscapeBytes(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  while (!bytes.empty()) {
    char32_t code = 0;
    const std::size_t n = Utf8Sequence(bytes, code);
    if (n == 0 || IsControl(code)) {
      // A byte outside valid UTF-8, or each byte of a control character's sequence.
      const std::size_t len = n == 0 ? 1 : n;
      for (std::size_t i = 0; i < len; ++i)
        AppendEscaped(out, static_cast<unsigned char>(bytes[i]));
      bytes.remove_prefix(len);
    } else if (code == '\\') {
      out += "\\\\";
      bytes.remove_prefix(1);
    } else {
      out.append(bytes.substr(0, n));
      bytes.remove_prefix(n);
    }
  }
  return out;
}

Result<std::string> UnescapeBytes(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\') {
      out.push_back(text[i]);
      continue;
    }
    if (i + 1 < text.size() && text[i + 1] == '\\') {
      out.push_back('\\');
      ++i;
      continue;
    }
    if (i + 3 < text.size() && text[i + 1] == 'x' && HexValue(text[i + 2]) >= 0 &&
        HexValue(text[i + 3]) >= 0) {
      out.push_back(static_cast<char>(HexValue(text[i + 2]) * 16 + HexValue(text[i + 3])));
      i += 3;
      continue;
    }
    return Status::InvalidArgument(
        "a backslash must start \\\\ or \\xNN (write a literal backslash as \\\\) at byte " +
        std::to_string(i) + " of " + QuoteInput(text));
  }
  return out;
}

bool IsValidUtf8(std::string_view bytes) {
  while (!bytes.empty()) {
    char32_t code = 0;
    const std::size_t n = Utf8Sequence(bytes, code);
    if (n == 0) return false;
    bytes.remove_prefix(n);
  }
  return true;
}

std::string QuoteInput(std::string_view input, std::size_t max_bytes) {
  const bool cut = input.size() > max_bytes;
  const std::string_view shown = cut ? input.substr(0, max_bytes) : input;
  std::string out = "'" + EscapeBytes(shown);
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
