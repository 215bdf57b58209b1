// Byte encodings shared by every module's keys, records and messages: fixed-width big-endian
// integers, a writer and a bounded reader for length-prefixed records, and hex.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
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

// Appends `v` as 4 big-endian bytes.
inline void PutFixed32BE(std::string& out, uint32_t v) {
  for (int i = 3; i >= 0; --i) out.push_back(static_cast<char>(v >> (8 * i)));
}

// Reads 4 big-endian bytes; `in` must hold at least 4.
inline uint32_t GetFixed32BE(std::string_view in) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = v << 8 | static_cast<uint8_t>(in[i]);
  return v;
}

// Appends `v` as 2 big-endian bytes.
inline void PutFixed16BE(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v));
}

// Reads 2 big-endian bytes; `in` must hold at least 2.
inline uint16_t GetFixed16BE(std::string_view in) {
  return static_cast<uint16_t>(static_cast<uint8_t>(in[0]) << 8 | static_cast<uint8_t>(in[1]));
}

// Builds a record: big-endian integers, fixed-size arrays and length-prefixed byte strings
// (a 4-byte big-endian length, then the bytes).
class ByteWriter {
 public:
  void U8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void U16(uint16_t v) { PutFixed16BE(out_, v); }
  void U32(uint32_t v) { PutFixed32BE(out_, v); }
  void U64(uint64_t v) { PutFixed64BE(out_, v); }
  template <std::size_t N>
  void Fixed(const std::array<uint8_t, N>& a) {
    out_.append(reinterpret_cast<const char*>(a.data()), N);
  }
  void Raw(std::string_view b) { out_.append(b); }
  // A length-prefixed byte string; `b` must be shorter than 4 GiB.
  void Bytes(std::string_view b) {
    U32(static_cast<uint32_t>(b.size()));
    out_.append(b);
  }
  std::string& str() { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

// Reads what ByteWriter writes, from bytes nobody vouches for: every read checks that the
// bytes are there and every length is bounded by the caller, so a forged length can neither
// read past the end nor make the caller allocate. Each read returns false (and consumes
// nothing useful) when it cannot be satisfied; callers refuse the whole record then.
class ByteReader {
 public:
  explicit ByteReader(std::string_view in) : in_(in) {}
  bool U8(uint8_t& v) {
    if (in_.size() < 1) return false;
    v = static_cast<uint8_t>(in_[0]);
    in_.remove_prefix(1);
    return true;
  }
  bool U16(uint16_t& v) {
    if (in_.size() < 2) return false;
    v = GetFixed16BE(in_);
    in_.remove_prefix(2);
    return true;
  }
  bool U32(uint32_t& v) {
    if (in_.size() < 4) return false;
    v = GetFixed32BE(in_);
    in_.remove_prefix(4);
    return true;
  }
  bool U64(uint64_t& v) {
    if (in_.size() < 8) return false;
    v = GetFixed64BE(in_);
    in_.remove_prefix(8);
    return true;
  }
  template <std::size_t N>
  bool Fixed(std::array<uint8_t, N>& a) {
    if (in_.size() < N) return false;
    std::memcpy(a.data(), in_.data(), N);
    in_.remove_prefix(N);
    return true;
  }
  // The next `n` bytes, viewed (not copied).
  bool Raw(std::size_t n, std::string_view& out) {
    if (in_.size() < n) return false;
    out = in_.substr(0, n);
    in_.remove_prefix(n);
    return true;
  }
  // A length-prefixed byte string of at most `max` bytes, viewed.
  bool Bytes(std::string_view& out, std::size_t max) {
    uint32_t n;
    return U32(n) && n <= max && Raw(n, out);
  }
  bool Bytes(std::string& out, std::size_t max) {
    std::string_view v;
    if (!Bytes(v, max)) return false;
    out.assign(v);
    return true;
  }
  // A count of list items, refused when over `max_count` or when the rest cannot hold that
  // many items of at least `min_item` bytes each.
  bool Count(uint32_t& n, std::size_t max_count, std::size_t min_item) {
    return U32(n) && n <= max_count && static_cast<std::size_t>(n) * min_item <= in_.size();
  }
  std::size_t remaining() const { return in_.size(); }
  bool done() const { return in_.empty(); }

 private:
  std::string_view in_;
};

// Lower-case hex of every byte.
inline std::string EncodeHex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char ch : bytes) {
    const auto c = static_cast<unsigned char>(ch);
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0xf]);
  }
  return out;
}

// Decodes hex (either case) into `out`; false on an odd length or a non-hex character. Says
// nothing about the input, so callers decoding secrets can word their own errors.
inline bool DecodeHex(std::string_view hex, std::string& out) {
  auto digit = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (hex.size() % 2 != 0) return false;
  out.clear();
  out.reserve(hex.size() / 2);
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int hi = digit(hex[i]), lo = digit(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out.push_back(static_cast<char>(hi << 4 | lo));
  }
  return true;
}

}  // namespace rustorium
