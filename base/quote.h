// How a message shows input it echoes back: bounded, so that a refused 8 KiB key makes a short
// error line that still says how long the key was.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace rustorium {

// Input bytes a quote shows before it is cut.
inline constexpr std::size_t kQuotedInputBytes = 32;

// `input` in single quotes, printable ASCII as is, a backslash as "\\" and every other byte as
// "\xNN". Input longer than `max_bytes` shows its first `max_bytes` bytes, an ellipsis and its
// size: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa…' (8192 bytes).
std::string QuoteInput(std::string_view input, std::size_t max_bytes = kQuotedInputBytes);

// `text` with every run of non-blank bytes longer than 2 * kQuotedInputBytes replaced by its
// QuoteInput: for messages of other libraries that echo input unbounded (CLI11's parse errors).
std::string ShortenLongWords(std::string_view text);

}  // namespace rustorium
