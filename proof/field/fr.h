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
#include <algorithm>

#include "engine/status.h"

namespace rustorium::proof {

using Limbs = std::array<uint64_t, 4>;  // a 256-bit integer, least significant limb first

// The arithmetic kernels, in the header so that hot loops inline them. Not part of the API.
namespace fr_detail {

using u128 = unsigned __int128;
inline constexpr Limbs kR = {0x43e1f593f0000001ULL, 0x2833e84879b97091ULL,
                             0xb85045b68181585dULL, 0x30644e72e131a029ULL};

// a + b + carry -> (sum, carry out)
constexpr uint64_t AddCarry(uint64_t a, uint64_t b, uint64_t& carry) {
  u128 s = static_cast<u128>(a) + b + carry;
  carry = static_cast<uint64_t>(s >> 64);
  return static_cast<uint64_t>(s);
}

// a - b - borrow -> (difference, borrow out)
constexpr uint64_t SubBorrow(uint64_t a, uint64_t b, uint64_t& borrow) {
  u128 d = static_cast<u128>(a) - b - borrow;
  borrow = static_cast<uint64_t>(d >> 64) & 1;
  return static_cast<uint64_t>(d);
}

// a >= b as 256-bit integers.
constexpr bool GreaterOrEqual(const Limbs& a, const Limbs& b) {
  for (int i = 3; i >= 0; --i) {
    if (a[i] != b[i]) return a[i] > b[i];
  }
  return true;
}

constexpr Limbs Sub(const Limbs& a, const Limbs& b) {
  Limbs out{};
  uint64_t borrow = 0;
  for (int i = 0; i < 4; ++i) out[i] = SubBorrow(a[i], b[i], borrow);
  return out;
}

// (a + b) mod r for a, b < r.
constexpr Limbs AddMod(const Limbs& a, const Limbs& b) {
  Limbs sum{};
  uint64_t carry = 0;
  for (int i = 0; i < 4; ++i) sum[i] = AddCarry(a[i], b[i], carry);
  // r < 2^254, so the sum never exceeds 2^255: no carry out of the top limb. Subtract r
  // unless that borrows, without a branch.
  Limbs diff{};
  uint64_t borrow = 0;
  for (int i = 0; i < 4; ++i) diff[i] = SubBorrow(sum[i], kR[i], borrow);
  const uint64_t keep = 0 - borrow;
  for (int i = 0; i < 4; ++i) sum[i] = (sum[i] & keep) | (diff[i] & ~keep);
  return sum;
}

// (a - b) mod r for a, b < r, without a branch.
constexpr Limbs SubMod(const Limbs& a, const Limbs& b) {
  Limbs out{};
  uint64_t borrow = 0;
  for (int i = 0; i < 4; ++i) out[i] = SubBorrow(a[i], b[i], borrow);
  const uint64_t mask = 0 - borrow;  // all ones when a < b: add r back
  uint64_t carry = 0;
  for (int i = 0; i < 4; ++i) out[i] = AddCarry(out[i], kR[i] & mask, carry);
  return out;
}

// -r^{-1} mod 2^64 by Newton's iteration (each step doubles the correct low bits).
constexpr uint64_t ComputeInv() {
  uint64_t x = 1;
  for (int i = 0; i < 7; ++i) x *= 2 - kR[0] * x;
  return ~x + 1;
}
inline constexpr uint64_t kInv = ComputeInv();
static_assert(kR[0] * kInv == ~uint64_t{0}, "kInv must be -r^-1 mod 2^64");

// 2^k mod r by doubling.
constexpr Limbs PowerOfTwoModR(int k) {
  Limbs x = {1, 0, 0, 0};
  for (int i = 0; i < k; ++i) x = AddMod(x, x);
  return x;
}
inline constexpr Limbs kR1 = PowerOfTwoModR(256);  // Montgomery form of 1
inline constexpr Limbs kR2 = PowerOfTwoModR(512);  // converts into Montgomery form

// r's top limb is below 2^62, so the CIOS loop needs no fifth limb for the running sum
// (the "no-carry" variant): t4 + carry never overflows.
static_assert(kR[3] < (uint64_t{1} << 62), "no-carry Montgomery multiplication needs r < 2^254");

// Montgomery product a·b·2^-256 mod r (CIOS, no-carry), fully unrolled.
inline Limbs MontMul(const Limbs& a, const Limbs& b) {
  uint64_t t0 = 0, t1 = 0, t2 = 0, t3 = 0;
  for (int i = 0; i < 4; ++i) {
    const uint64_t bi = b[i];
    u128 p = static_cast<u128>(a[0]) * bi + t0;
    t0 = static_cast<uint64_t>(p);
    p = static_cast<u128>(a[1]) * bi + t1 + static_cast<uint64_t>(p >> 64);
    t1 = static_cast<uint64_t>(p);
    p = static_cast<u128>(a[2]) * bi + t2 + static_cast<uint64_t>(p >> 64);
    t2 = static_cast<uint64_t>(p);
    p = static_cast<u128>(a[3]) * bi + t3 + static_cast<uint64_t>(p >> 64);
    t3 = static_cast<uint64_t>(p);
    const uint64_t t4 = static_cast<uint64_t>(p >> 64);

    const uint64_t m = t0 * kInv;
    p = static_cast<u128>(m) * kR[0] + t0;
    p = static_cast<u128>(m) * kR[1] + t1 + static_cast<uint64_t>(p >> 64);
    t0 = static_cast<uint64_t>(p);
    p = static_cast<u128>(m) * kR[2] + t2 + static_cast<uint64_t>(p >> 64);
    t1 = static_cast<uint64_t>(p);
    p = static_cast<u128>(m) * kR[3] + t3 + static_cast<uint64_t>(p >> 64);
    t2 = static_cast<uint64_t>(p);
    t3 = t4 + static_cast<uint64_t>(p >> 64);
  }
  // The result is below 2r: one conditional subtraction, without a branch.
  uint64_t borrow = 0;
  const uint64_t s0 = SubBorrow(t0, kR[0], borrow);
  const uint64_t s1 = SubBorrow(t1, kR[1], borrow);
  const uint64_t s2 = SubBorrow(t2, kR[2], borrow);
  const uint64_t s3 = SubBorrow(t3, kR[3], borrow);
  const uint64_t keep = 0 - borrow;  // all ones when t < r
  return {(t0 & keep) | (s0 & ~keep), (t1 & keep) | (s1 & ~keep), (t2 & keep) | (s2 & ~keep),
          (t3 & keep) | (s3 & ~keep)};
}

}  // namespace fr_detail

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

  Fr operator+(const Fr& o) const { return FromMontgomery(fr_detail::AddMod(m_, o.m_)); }
  Fr operator-(const Fr& o) const { return FromMontgomery(fr_detail::SubMod(m_, o.m_)); }
  Fr operator-() const { return Fr() - *this; }
  Fr operator*(const Fr& o) const { return FromMontgomery(fr_detail::MontMul(m_, o.m_)); }
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

static_assert(Fr::kModulus == fr_detail::kR);

}  // namespace rustorium::proof
