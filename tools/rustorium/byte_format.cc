#include "tools/rustorium/byte_format.h"

#include "base/codec.h"
#include "base/quote.h"

namespace rustorium::tools {

namespace {
constexpr char kHexDigits[] = "0123456789abcdef";
}  // namespace

std::string EscapeBytes(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (char ch : bytes) {
    auto c = static_cast<unsigned char>(ch);
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
  return out;
}

std::string ToHex(std::string_view bytes) { return EncodeHex(bytes); }

Result<std::string> FromHex(std::string_view hex) {
  std::string out;
  if (!DecodeHex(hex, out)) {
    return Status::InvalidArgument("not a hex string (even count of 0-9a-f): " + QuoteInput(hex));
  }
  return out;
}

}  // namespace rustorium::tools
