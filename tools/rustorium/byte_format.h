// How the CLI shows and reads byte strings.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace rustorium::tools {

// Printable ASCII as is, backslash as "\\", every other byte as "\xNN".
std::string EscapeBytes(std::string_view bytes);

// Lower-case hex of every byte.
std::string ToHex(std::string_view bytes);

// Inverse of ToHex (either case); InvalidArgument on odd length or a non-hex character.
Result<std::string> FromHex(std::string_view hex);

}  // namespace rustorium::tools
