// The out-of-line members of PrimeField<P>. Included only by the .cc file that explicitly
// instantiates a field (fr.cc, fq.cc); everyone else includes the field's own header.
#pragma once

#include <algorithm>

#include "proof/field/prime_field.h"

namespace rustorium::proof {
namespace field_detail {

// Parses `digits` in `base` (10 or 16) into a 256-bit integer; false on overflow or a bad
// character.
inline bool ParseDigits(std::string_view digits, int base, Limbs& out) {
  out = {0, 0, 0, 0};
  if (digits.empty()) return false;
  for (char c : digits) {
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (base == 16 && c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else if (base == 16 && c >= 'A' && c <= 'F') {
      d = c - 'A' + 10;
    } else {
      return false;
    }
    uint64_t carry = static_cast<uint64_t>(d);
    for (int i = 0; i < 4; ++i) {
      u128 p = static_cast<u128>(out[i]) * static_cast<uint64_t>(base) + carry;
      out[i] = static_cast<uint64_t>(p);
      carry = static_cast<uint64_t>(p >> 64);
    }
    if (carry != 0) return false;
  }
  return true;
}

inline Limbs LimbsFromBytesLE(std::span<const uint8_t, 32> bytes) {
  Limbs v{};
  for (int i = 0; i < 32; ++i) v[i / 8] |= static_cast<uint64_t>(bytes[i]) << (8 * (i % 8));
  return v;
}

inline std::array<uint8_t, 32> LimbsToBytesLE(const Limbs& v) {
  std::array<uint8_t, 32> out{};
  for (int i = 0; i < 32; ++i) out[i] = static_cast<uint8_t>(v[i / 8] >> (8 * (i % 8)));
  return out;
}

}  // namespace field_detail

template <typename P>
Result<PrimeField<P>> PrimeField<P>::FromCanonical(const Limbs& v) {
  if (field_detail::GreaterOrEqual(v, kModulus)) {
    return Status::InvalidArgument("field element out of range (must be below " +
                                   std::string(P::kName) + ")");
  }
  return FromMontgomery(Mont::MontMul(v, Mont::kR2));
}

template <typename P>
PrimeField<P> PrimeField<P>::FromLimbsReduced(const Limbs& v) {
  Limbs x = v;
  // p >= 2^253 for the fields used here; for smaller p this loop just runs longer.
  while (field_detail::GreaterOrEqual(x, kModulus)) x = field_detail::Sub(x, kModulus);
  return FromMontgomery(Mont::MontMul(x, Mont::kR2));
}

template <typename P>
Result<PrimeField<P>> PrimeField<P>::FromDecimal(std::string_view text) {
  Limbs v;
  if (!field_detail::ParseDigits(text, 10, v)) {
    return Status::InvalidArgument("not a field element: '" + std::string(text.substr(0, 80)) +
                                   "' (expected decimal digits)");
  }
  return FromCanonical(v);
}

template <typename P>
Result<PrimeField<P>> PrimeField<P>::FromHex(std::string_view text) {
  if (text.size() >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    text.remove_prefix(2);
  }
  Limbs v;
  if (!field_detail::ParseDigits(text, 16, v)) {
    return Status::InvalidArgument("not a field element: '" + std::string(text.substr(0, 80)) +
                                   "' (expected hex digits)");
  }
  return FromCanonical(v);
}

template <typename P>
Result<PrimeField<P>> PrimeField<P>::Parse(std::string_view text) {
  if (text.size() >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    return FromHex(text);
  }
  return FromDecimal(text);
}

template <typename P>
Result<PrimeField<P>> PrimeField<P>::FromBytesLE(std::span<const uint8_t, 32> bytes) {
  return FromCanonical(field_detail::LimbsFromBytesLE(bytes));
}

template <typename P>
Result<PrimeField<P>> PrimeField<P>::FromBytesBE(std::span<const uint8_t, 32> bytes) {
  std::array<uint8_t, 32> le;
  std::reverse_copy(bytes.begin(), bytes.end(), le.begin());
  return FromBytesLE(le);
}

template <typename P>
std::array<uint8_t, 32> PrimeField<P>::ToBytesLE() const {
  return field_detail::LimbsToBytesLE(ToCanonical());
}

template <typename P>
std::array<uint8_t, 32> PrimeField<P>::ToBytesBE() const {
  std::array<uint8_t, 32> out = ToBytesLE();
  std::reverse(out.begin(), out.end());
  return out;
}

template <typename P>
Result<PrimeField<P>> PrimeField<P>::FromMontgomeryBytesLE(std::span<const uint8_t, 32> bytes) {
  const Limbs m = field_detail::LimbsFromBytesLE(bytes);
  if (field_detail::GreaterOrEqual(m, kModulus)) {
    return Status::InvalidArgument("Montgomery-form field element out of range (must be below " +
                                   std::string(P::kName) + ")");
  }
  return FromMontgomery(m);
}

template <typename P>
std::array<uint8_t, 32> PrimeField<P>::ToMontgomeryBytesLE() const {
  return field_detail::LimbsToBytesLE(m_);
}

template <typename P>
std::string PrimeField<P>::ToHex() const {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out = "0x";
  for (uint8_t b : ToBytesBE()) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0xf]);
  }
  return out;
}

template <typename P>
std::string PrimeField<P>::ToDecimal() const {
  Limbs v = ToCanonical();
  std::string digits;
  // Divide by 10^19 repeatedly; each remainder gives 19 decimal digits.
  constexpr uint64_t kChunk = 10000000000000000000ULL;
  while ((v[0] | v[1] | v[2] | v[3]) != 0) {
    field_detail::u128 rem = 0;
    for (int i = 3; i >= 0; --i) {
      field_detail::u128 cur = (rem << 64) | v[i];
      v[i] = static_cast<uint64_t>(cur / kChunk);
      rem = cur % kChunk;
    }
    uint64_t chunk = static_cast<uint64_t>(rem);
    for (int d = 0; d < 19; ++d) {
      digits.push_back(static_cast<char>('0' + chunk % 10));
      chunk /= 10;
    }
  }
  if (digits.empty()) return std::string(1, '0');
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  std::reverse(digits.begin(), digits.end());
  return digits;
}

}  // namespace rustorium::proof
