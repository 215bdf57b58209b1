// How a message shows input it echoes back: bounded, so that a refused 8 KiB key makes a short
// error line that still says how long the key was.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "base/status.h"

namespace rustorium {

// The text form of byte strings, for people (docs/cli.md, "Keys and values"): printable UTF-8
// as is; control characters (C0, DEL, C1), bytes that are not valid UTF-8 and the backslash
// escaped as "\xNN" and "\\".
std::string EscapeBytes(std::string_view bytes);

// The bytes a text-form string stands for: "\\" is a backslash, "\xNN" (either case) the byte
// NN, everything else as is, so that UnescapeBytes(EscapeBytes(b)) == b. InvalidArgument for
// any other backslash sequence (the message says to write a literal backslash as "\\").
Result<std::string> UnescapeBytes(std::string_view text);

// True when `bytes` is well-formed UTF-8 (no overlong forms, surrogates or code points above
// U+10FFFF).
bool IsValidUtf8(std::string_view bytes);

// Input bytes a quote shows before it is cut.
inline constexpr std::size_t kQuotedInputBytes = 32;

// `input` in single quotes, in the text form (EscapeBytes). Input longer than `max_bytes` shows its
// first `max_bytes` bytes, an ellipsis and its size: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa…' (8192
// bytes).
std::string QuoteInput(std::string_view input, std::size_t max_bytes = kQuotedInputBytes);

// `text` with every run of non-blank bytes longer than 2 * kQuotedInputBytes replaced by its
// QuoteInput: for messages of other libraries that echo input unbounded (CLI11's parse errors).
std::string ShortenLongWords(std::string_view text);

}  // namespace rustorium
