// Byte encodings shared by every module's keys and records.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace rustorium {

// Appends `v` as 8 big-endian bytes: keys that embed integers this way sort numerically.
inline void PutFixed64BE(std::string& out, uint64_t v) {
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>(v >> (8 * i)));
}

// Reads 8 big-endian bytes; `in` must hold at least 8.
inline uint64_t GetFixed64BE(std::string_view in) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = v << 8 | static_cast<uint8_t>(in[i]);
  return v;
}

}  // namespace rustorium
