// Fr: the scalar field of BN254 (alt_bn128), the field of circom, snarkjs and iden3.
//
//   r = 0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001
//
// Elements are kept in Montgomery form (a·2^256 mod r) on four 64-bit limbs, least
// significant first. No heap, no exceptions; all operations are constant-size and safe to
// call from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "engine/status.h"

namespace rustorium::proof {

using Limbs = std::array<uint64_t, 4>;  // a 256-bit integer, least significant limb first

class Fr {
 public:
  // The modulus r, as limbs.
  static constexpr Limbs kModulus = {0x43e1f593f0000001ULL, 0x2833e84879b97091ULL,
                                     0xb85045b68181585dULL, 0x30644e72e131a029ULL};

  constexpr Fr() = default;  // zero

  static Fr Zero() { return Fr(); }
  static Fr One();
  static Fr FromUint64(uint64_t v);
  // The element whose canonical value is `v`; InvalidArgument when v >= r.
  static Result<Fr> FromCanonical(const Limbs& v);
  // v mod r, for any 256-bit v (used for hash outputs and random draws).
  static Fr FromLimbsReduced(const Limbs& v);

  // Decimal ("123") or hex with a 0x prefix ("0x7b"). Leading zeros are allowed; signs,
  // spaces, empty strings, other characters and values >= r are InvalidArgument.
  static Result<Fr> Parse(std::string_view text);
  static Result<Fr> FromDecimal(std::string_view text);
  static Result<Fr> FromHex(std::string_view text);  // with or without 0x

  // Canonical 32-byte encodings; decoding refuses values >= r.
  static Result<Fr> FromBytesBE(std::span<const uint8_t, 32> bytes);
  static Result<Fr> FromBytesLE(std::span<const uint8_t, 32> bytes);
  std::array<uint8_t, 32> ToBytesBE() const;
  std::array<uint8_t, 32> ToBytesLE() const;

  std::string ToDecimal() const;
  std::string ToHex() const;  // "0x" and 64 lower-case hex digits

  // The canonical value (not Montgomery form).
  Limbs ToCanonical() const;

  Fr operator+(const Fr& o) const;
  Fr operator-(const Fr& o) const;
  Fr operator-() const;
  Fr operator*(const Fr& o) const;
  Fr& operator+=(const Fr& o) { return *this = *this + o; }
  Fr& operator-=(const Fr& o) { return *this = *this - o; }
  Fr& operator*=(const Fr& o) { return *this = *this * o; }
  Fr Square() const { return *this * *this; }
  // this^exponent, the exponent a canonical 256-bit integer.
  Fr Pow(const Limbs& exponent) const;
  Fr Pow(uint64_t exponent) const { return Pow(Limbs{exponent, 0, 0, 0}); }
  // The multiplicative inverse; the inverse of zero is zero.
  Fr Inverse() const;

  bool IsZero() const { return (m_[0] | m_[1] | m_[2] | m_[3]) == 0; }
  friend bool operator==(const Fr& a, const Fr& b) { return a.m_ == b.m_; }

  // Montgomery-form limbs, for code that stores or compares elements in bulk.
  const Limbs& montgomery() const { return m_; }
  // The element with Montgomery-form limbs `m`, which must be < r (as montgomery() gives).
  static constexpr Fr FromMontgomery(const Limbs& m) {
    Fr f;
    f.m_ = m;
    return f;
  }

 private:
  Limbs m_{};  // Montgomery form, always < r
};

}  // namespace rustorium::proof
