#include "tools/rustorium/byte_format.h"

#include "base/codec.h"
#include "base/quote.h"

namespace rustorium::tools {

std::string ToHex(std::string_view bytes) { return EncodeHex(bytes); }

Result<std::string> FromHex(std::string_view hex) {
  std::string out;
  if (!DecodeHex(hex, out)) {
    return Status::InvalidArgument("not a hex string (even count of 0-9a-f): " + QuoteInput(hex));
  }
  return out;
}

Result<std::string> ParseBytesArg(std::string_view what, std::string_view text, bool hex) {
  Result<std::string> bytes = hex ? FromHex(text) : UnescapeBytes(text);
  if (!bytes.ok()) return bytes.status().WithContext(std::string(what));
  return bytes;
}

void SetJsonBytes(nlohmann::json& j, const std::string& name, std::string_view bytes, bool hex) {
  if (!hex && IsValidUtf8(bytes)) {
    j[name] = std::string(bytes);
  } else {
    j[name + "_hex"] = ToHex(bytes);
  }
}

}  // namespace rustorium::tools
