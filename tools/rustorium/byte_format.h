// How the CLI shows and reads byte strings (docs/cli.md, "Keys and values"): the text form
// (EscapeBytes and UnescapeBytes in base/quote.h), hex, and the JSON form.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "base/quote.h"
#include "base/status.h"

namespace rustorium::tools {

// Lower-case hex of every byte.
std::string ToHex(std::string_view bytes);

// Inverse of ToHex (either case); InvalidArgument on odd length or a non-hex character.
Result<std::string> FromHex(std::string_view hex);

// An argument as bytes: FromHex with `hex`, else UnescapeBytes. `what` names the argument in
// the error ("KEY: not a hex string …").
Result<std::string> ParseBytesArg(std::string_view what, std::string_view text, bool hex);

// Sets j[name] to `bytes` when they are valid UTF-8 and `hex` is false, else j[name + "_hex"]
// to their hex (the JSON form of docs/cli.md; never both).
void SetJsonBytes(nlohmann::json& j, const std::string& name, std::string_view bytes, bool hex);

}  // namespace rustorium::tools
