// PrimeField<P>: a prime field of at most 254 bits in fixed-width Montgomery form, the one
// implementation behind Fr (the BN254 scalar field) and Fq (its base field).
//
// Elements are kept in Montgomery form (a·2^256 mod p) on four 64-bit limbs, least
// significant first. No heap, no exceptions; all operations are constant-size and safe to
// call from any thread. Not constant-time where noted (Pow's exponent, parsing).
//
// P is a parameter struct with
//   static constexpr Limbs kModulus;              // p, odd, below 2^254
//   static constexpr std::string_view kName;      // names p in error messages
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

#include "base/status.h"

// The x86-64 multiplication kernel (inline assembly; GCC and Clang). Build with
// -DRUSTORIUM_FIELD_ADX=0 to leave it out.
#ifndef RUSTORIUM_FIELD_ADX
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define RUSTORIUM_FIELD_ADX 1
#else
#define RUSTORIUM_FIELD_ADX 0
#endif
#endif

namespace rustorium::proof {

using Limbs = std::array<uint64_t, 4>;  // a 256-bit integer, least significant limb first
using Wide = std::array<uint64_t, 8>;   // a 512-bit integer (a product), the same order

// The arithmetic kernels, in the header so that hot loops inline them. Not part of the API.
namespace field_detail {

using u128 = unsigned __int128;

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

// a - b as 256-bit integers (wrapping).
constexpr Limbs Sub(const Limbs& a, const Limbs& b) {
  Limbs out{};
  uint64_t borrow = 0;
  for (int i = 0; i < 4; ++i) out[i] = SubBorrow(a[i], b[i], borrow);
  return out;
}

// a + b as 256-bit integers (wrapping).
constexpr Limbs Add(const Limbs& a, const Limbs& b) {
  Limbs out{};
  uint64_t carry = 0;
  for (int i = 0; i < 4; ++i) out[i] = AddCarry(a[i], b[i], carry);
  return out;
}

// a >> k for 0 <= k < 64.
constexpr Limbs ShiftRight(const Limbs& a, int k) {
  if (k == 0) return a;
  Limbs out{};
  for (int i = 0; i < 4; ++i) {
    out[i] = a[i] >> k;
    if (i < 3) out[i] |= a[i + 1] << (64 - k);
  }
  return out;
}

#if RUSTORIUM_FIELD_ADX
// Whether MontMul takes the mulx/adcx/adox kernel: the CPU has BMI2 and ADX, and
// $RUSTORIUM_FIELD_PORTABLE was not set (non-empty) when the process started. Set once, before
// main; a multiplication during static initialization that runs before it takes the portable
// kernel, which gives the same results.
bool DetectAdx();
inline const bool kUseAdx = DetectAdx();
inline bool UseAdx() { return kUseAdx; }
#endif

// Montgomery arithmetic modulo P::kModulus.
template <typename P>
struct Montgomery {
  static constexpr Limbs kM = P::kModulus;

  // p below 2^254 keeps sums of two elements below 2^255 (no carry out of the top limb) and
  // lets the CIOS loop go without a fifth limb (the "no-carry" variant).
  static_assert(kM[3] < (uint64_t{1} << 62), "Montgomery kernels need a modulus below 2^254");
  static_assert((kM[0] & 1) == 1, "Montgomery form needs an odd modulus");

  // -p^{-1} mod 2^64 by Newton's iteration (each step doubles the correct low bits).
  static constexpr uint64_t ComputeInv() {
    uint64_t x = 1;
    for (int i = 0; i < 7; ++i) x *= 2 - kM[0] * x;
    return ~x + 1;
  }
  static constexpr uint64_t kInv = ComputeInv();
  static_assert(kM[0] * kInv == ~uint64_t{0}, "kInv must be -p^-1 mod 2^64");

  // (a + b) mod p for a, b < p, without a branch. Written out limb by limb: loops over
  // arrays here compile (at -O2) to stack round trips and vector selects that stall on
  // store forwarding, several times slower.
  static constexpr Limbs AddMod(const Limbs& a, const Limbs& b) {
    uint64_t carry = 0;
    const uint64_t s0 = AddCarry(a[0], b[0], carry);
    const uint64_t s1 = AddCarry(a[1], b[1], carry);
    const uint64_t s2 = AddCarry(a[2], b[2], carry);
    const uint64_t s3 = AddCarry(a[3], b[3], carry);
    // Subtract p unless that borrows.
    uint64_t borrow = 0;
    const uint64_t d0 = SubBorrow(s0, kM[0], borrow);
    const uint64_t d1 = SubBorrow(s1, kM[1], borrow);
    const uint64_t d2 = SubBorrow(s2, kM[2], borrow);
    const uint64_t d3 = SubBorrow(s3, kM[3], borrow);
    const uint64_t keep = 0 - borrow;  // all ones when the sum is below p
    return {(s0 & keep) | (d0 & ~keep), (s1 & keep) | (d1 & ~keep), (s2 & keep) | (d2 & ~keep),
            (s3 & keep) | (d3 & ~keep)};
  }

  // (a - b) mod p for a, b < p, without a branch.
  static constexpr Limbs SubMod(const Limbs& a, const Limbs& b) {
    uint64_t borrow = 0;
    const uint64_t d0 = SubBorrow(a[0], b[0], borrow);
    const uint64_t d1 = SubBorrow(a[1], b[1], borrow);
    const uint64_t d2 = SubBorrow(a[2], b[2], borrow);
    const uint64_t d3 = SubBorrow(a[3], b[3], borrow);
    const uint64_t mask = 0 - borrow;  // all ones when a < b: add p back
    uint64_t carry = 0;
    const uint64_t r0 = AddCarry(d0, kM[0] & mask, carry);
    const uint64_t r1 = AddCarry(d1, kM[1] & mask, carry);
    const uint64_t r2 = AddCarry(d2, kM[2] & mask, carry);
    const uint64_t r3 = AddCarry(d3, kM[3] & mask, carry);
    return {r0, r1, r2, r3};
  }

  // Montgomery product a·b·2^-256 mod p: the mulx/adcx/adox kernel on x86-64 CPUs that have
  // it (chosen at run time, field_detail::UseAdx), else the portable one.
  static constexpr Limbs MontMul(const Limbs& a, const Limbs& b) {
#if RUSTORIUM_FIELD_ADX
    if (!std::is_constant_evaluated() && UseAdx()) return MontMulAdx(a, b);
#endif
    return MontMulPortable(a, b);
  }

  // Montgomery square a·a·2^-256 mod p, equal to MontMul(a, a) with 10 word products instead
  // of 16 before the reduction. Same kernel choice as MontMul.
  static constexpr Limbs MontSquare(const Limbs& a) {
#if RUSTORIUM_FIELD_ADX
    if (!std::is_constant_evaluated() && UseAdx()) return MontSquareAdx(a);
#endif
    return MontSquarePortable(a);
  }

  // Lazy reduction: full 512-bit products, summed, then one reduction. A sum of at most
  // kLazyProducts products of elements below p stays below p·2^256, which ReduceWide needs.
  static constexpr int kLazyProducts = static_cast<int>(~uint64_t{0} / (kM[3] + 1));
  static_assert(kLazyProducts >= 4, "a modulus below 2^254 leaves room for four products");

  // a·b as a 512-bit integer (not reduced), for a, b < p.
  static constexpr Wide MulWide(const Limbs& a, const Limbs& b) {
#if RUSTORIUM_FIELD_ADX
    if (!std::is_constant_evaluated() && UseAdx()) return MulWideAdx(a, b);
#endif
    return MulWidePortable(a, b);
  }

  // t += u as 512-bit integers; the caller keeps the sum below 2^512.
  static constexpr void AddWide(Wide& t, const Wide& u) {
    uint64_t carry = 0;
    t[0] = AddCarry(t[0], u[0], carry);
    t[1] = AddCarry(t[1], u[1], carry);
    t[2] = AddCarry(t[2], u[2], carry);
    t[3] = AddCarry(t[3], u[3], carry);
    t[4] = AddCarry(t[4], u[4], carry);
    t[5] = AddCarry(t[5], u[5], carry);
    t[6] = AddCarry(t[6], u[6], carry);
    t[7] = AddCarry(t[7], u[7], carry);
  }

  // t·2^-256 mod p for t < p·2^256 (Montgomery's REDC). The low half is reduced on its own,
  // (t mod 2^256 + m·p) / 2^256 <= p, and added to the high half, floor(t / 2^256) < p: the sum
  // is below 2p, one conditional subtraction.
  static constexpr Limbs ReduceWide(const Wide& t) {
#if RUSTORIUM_FIELD_ADX
    if (!std::is_constant_evaluated() && UseAdx()) return ReduceWideAdx(t);
#endif
    return ReduceWidePortable(t);
  }

#if RUSTORIUM_FIELD_ADX
  // The kernels with BMI2's mulx and ADX's two carry chains (adcx on CF, adox on OF), so that
  // the products of a row are added without waiting on one flag; inline assembly, in
  // proof/field/montgomery_adx.h.
  static Limbs MontMulAdx(const Limbs& a, const Limbs& b);
  static Limbs MontSquareAdx(const Limbs& a) { return ReduceWideAdx(SquareWideAdx(a)); }
  static Wide MulWideAdx(const Limbs& a, const Limbs& b);
  static Wide SquareWideAdx(const Limbs& a);
  static Limbs ReduceWideAdx(const Wide& t);
#endif

  // t - p if t >= p, else t, for t < 2p; without a branch.
  static constexpr Limbs ReduceOnce(uint64_t t0, uint64_t t1, uint64_t t2, uint64_t t3) {
    uint64_t borrow = 0;
    const uint64_t s0 = SubBorrow(t0, kM[0], borrow);
    const uint64_t s1 = SubBorrow(t1, kM[1], borrow);
    const uint64_t s2 = SubBorrow(t2, kM[2], borrow);
    const uint64_t s3 = SubBorrow(t3, kM[3], borrow);
    const uint64_t keep = 0 - borrow;  // all ones when t < p
    return {(t0 & keep) | (s0 & ~keep), (t1 & keep) | (s1 & ~keep), (t2 & keep) | (s2 & ~keep),
            (t3 & keep) | (s3 & ~keep)};
  }

  // One round of Montgomery reduction: t += m·p with m = t0·kInv (so t0 becomes zero), then
  // t >>= 64: t0..t2 take t1..t3 and the round returns the limb carried out of t3.
  static constexpr uint64_t ReductionRound(uint64_t& t0, uint64_t& t1, uint64_t& t2, uint64_t& t3) {
    const uint64_t m = t0 * kInv;
    u128 p = static_cast<u128>(m) * kM[0] + t0;
    p = static_cast<u128>(m) * kM[1] + t1 + static_cast<uint64_t>(p >> 64);
    t0 = static_cast<uint64_t>(p);
    p = static_cast<u128>(m) * kM[2] + t2 + static_cast<uint64_t>(p >> 64);
    t1 = static_cast<uint64_t>(p);
    p = static_cast<u128>(m) * kM[3] + t3 + static_cast<uint64_t>(p >> 64);
    t2 = static_cast<uint64_t>(p);
    return static_cast<uint64_t>(p >> 64);
  }

  // Montgomery product a·b·2^-256 mod p (CIOS, no-carry), fully unrolled, in portable C++.
  static constexpr Limbs MontMulPortable(const Limbs& a, const Limbs& b) {
    uint64_t t0 = 0, t1 = 0, t2 = 0, t3 = 0;
#pragma GCC unroll 4
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
      t3 = t4 + ReductionRound(t0, t1, t2, t3);
    }
    // The result is below 2p: one conditional subtraction.
    return ReduceOnce(t0, t1, t2, t3);
  }

  // a·b as a 512-bit integer in portable C++ (schoolbook, row by row).
  static constexpr Wide MulWidePortable(const Limbs& a, const Limbs& b) {
    Wide t{};
#pragma GCC unroll 4
    for (int i = 0; i < 4; ++i) {
      const uint64_t bi = b[i];
      u128 p = static_cast<u128>(a[0]) * bi + t[i];
      t[i] = static_cast<uint64_t>(p);
      p = static_cast<u128>(a[1]) * bi + t[i + 1] + static_cast<uint64_t>(p >> 64);
      t[i + 1] = static_cast<uint64_t>(p);
      p = static_cast<u128>(a[2]) * bi + t[i + 2] + static_cast<uint64_t>(p >> 64);
      t[i + 2] = static_cast<uint64_t>(p);
      p = static_cast<u128>(a[3]) * bi + t[i + 3] + static_cast<uint64_t>(p >> 64);
      t[i + 3] = static_cast<uint64_t>(p);
      t[i + 4] = static_cast<uint64_t>(p >> 64);
    }
    return t;
  }

  // a·a as a 512-bit integer: the six cross products a_i·a_j (i < j) doubled, and the four
  // squares added.
  static constexpr Wide SquareWidePortable(const Limbs& a) {
    u128 p = static_cast<u128>(a[0]) * a[1];
    uint64_t r1 = static_cast<uint64_t>(p);
    p = static_cast<u128>(a[0]) * a[2] + static_cast<uint64_t>(p >> 64);
    uint64_t r2 = static_cast<uint64_t>(p);
    p = static_cast<u128>(a[0]) * a[3] + static_cast<uint64_t>(p >> 64);
    uint64_t r3 = static_cast<uint64_t>(p);
    uint64_t r4 = static_cast<uint64_t>(p >> 64);
    p = static_cast<u128>(a[1]) * a[2] + r3;
    r3 = static_cast<uint64_t>(p);
    p = static_cast<u128>(a[1]) * a[3] + r4 + static_cast<uint64_t>(p >> 64);
    r4 = static_cast<uint64_t>(p);
    uint64_t r5 = static_cast<uint64_t>(p >> 64);
    p = static_cast<u128>(a[2]) * a[3] + r5;
    r5 = static_cast<uint64_t>(p);
    uint64_t r6 = static_cast<uint64_t>(p >> 64);
    const uint64_t r7 = r6 >> 63;
    r6 = (r6 << 1) | (r5 >> 63);
    r5 = (r5 << 1) | (r4 >> 63);
    r4 = (r4 << 1) | (r3 >> 63);
    r3 = (r3 << 1) | (r2 >> 63);
    r2 = (r2 << 1) | (r1 >> 63);
    r1 <<= 1;
    Wide t{};
    uint64_t carry = 0;
    p = static_cast<u128>(a[0]) * a[0];
    t[0] = static_cast<uint64_t>(p);
    t[1] = AddCarry(r1, static_cast<uint64_t>(p >> 64), carry);
    p = static_cast<u128>(a[1]) * a[1];
    t[2] = AddCarry(r2, static_cast<uint64_t>(p), carry);
    t[3] = AddCarry(r3, static_cast<uint64_t>(p >> 64), carry);
    p = static_cast<u128>(a[2]) * a[2];
    t[4] = AddCarry(r4, static_cast<uint64_t>(p), carry);
    t[5] = AddCarry(r5, static_cast<uint64_t>(p >> 64), carry);
    p = static_cast<u128>(a[3]) * a[3];
    t[6] = AddCarry(r6, static_cast<uint64_t>(p), carry);
    t[7] = AddCarry(r7, static_cast<uint64_t>(p >> 64), carry);
    return t;
  }

  // ReduceWide in portable C++.
  static constexpr Limbs ReduceWidePortable(const Wide& t) {
    uint64_t u0 = t[0], u1 = t[1], u2 = t[2], u3 = t[3];
#pragma GCC unroll 4
    for (int i = 0; i < 4; ++i) u3 = ReductionRound(u0, u1, u2, u3);
    uint64_t carry = 0;
    const uint64_t s0 = AddCarry(t[4], u0, carry);
    const uint64_t s1 = AddCarry(t[5], u1, carry);
    const uint64_t s2 = AddCarry(t[6], u2, carry);
    const uint64_t s3 = AddCarry(t[7], u3, carry);
    return ReduceOnce(s0, s1, s2, s3);
  }

  // The square in portable C++, as MontSquareAdx computes it.
  static constexpr Limbs MontSquarePortable(const Limbs& a) {
    return ReduceWidePortable(SquareWidePortable(a));
  }

  // 2^k mod p by doubling.
  static constexpr Limbs PowerOfTwo(int k) {
    Limbs x = {1, 0, 0, 0};
    for (int i = 0; i < k; ++i) x = AddMod(x, x);
    return x;
  }
  static constexpr Limbs kR1 = PowerOfTwo(256);  // Montgomery form of 1
  static constexpr Limbs kR2 = PowerOfTwo(512);  // converts into Montgomery form
};

}  // namespace field_detail

template <typename P>
class PrimeField {
  using Mont = field_detail::Montgomery<P>;

 public:
  // The modulus p, as limbs.
  static constexpr Limbs kModulus = P::kModulus;

  constexpr PrimeField() = default;  // zero

  static constexpr PrimeField Zero() { return PrimeField(); }
  static constexpr PrimeField One() { return FromMontgomery(Mont::kR1); }
  static constexpr PrimeField FromUint64(uint64_t v) {
    return FromMontgomery(Mont::MontMul(Limbs{v, 0, 0, 0}, Mont::kR2));
  }
  // The element whose canonical value is `v`; InvalidArgument when v >= p.
  static Result<PrimeField> FromCanonical(const Limbs& v);
  // v mod p, for any 256-bit v (used for hash outputs and random draws).
  static PrimeField FromLimbsReduced(const Limbs& v);

  // Decimal ("123") or hex with a 0x prefix ("0x7b"). Leading zeros are allowed; signs,
  // spaces, empty strings, other characters and values >= p are InvalidArgument.
  static Result<PrimeField> Parse(std::string_view text);
  static Result<PrimeField> FromDecimal(std::string_view text);
  static Result<PrimeField> FromHex(std::string_view text);  // with or without 0x

  // Canonical 32-byte encodings; decoding refuses values >= p.
  static Result<PrimeField> FromBytesBE(std::span<const uint8_t, 32> bytes);
  static Result<PrimeField> FromBytesLE(std::span<const uint8_t, 32> bytes);
  std::array<uint8_t, 32> ToBytesBE() const;
  std::array<uint8_t, 32> ToBytesLE() const;
  // The Montgomery form as 32 little-endian bytes: how snarkjs (ffjavascript) stores field
  // elements in .zkey files. Decoding refuses Montgomery values >= p.
  static Result<PrimeField> FromMontgomeryBytesLE(std::span<const uint8_t, 32> bytes);
  std::array<uint8_t, 32> ToMontgomeryBytesLE() const;

  std::string ToDecimal() const;
  std::string ToHex() const;  // "0x" and 64 lower-case hex digits

  // The canonical value (not Montgomery form).
  constexpr Limbs ToCanonical() const { return Mont::MontMul(m_, Limbs{1, 0, 0, 0}); }

  constexpr PrimeField operator+(const PrimeField& o) const {
    return FromMontgomery(Mont::AddMod(m_, o.m_));
  }
  constexpr PrimeField operator-(const PrimeField& o) const {
    return FromMontgomery(Mont::SubMod(m_, o.m_));
  }
  constexpr PrimeField operator-() const { return PrimeField() - *this; }
  constexpr PrimeField operator*(const PrimeField& o) const {
    return FromMontgomery(Mont::MontMul(m_, o.m_));
  }
  constexpr PrimeField& operator+=(const PrimeField& o) { return *this = *this + o; }
  constexpr PrimeField& operator-=(const PrimeField& o) { return *this = *this - o; }
  constexpr PrimeField& operator*=(const PrimeField& o) { return *this = *this * o; }
  constexpr PrimeField Square() const { return FromMontgomery(Mont::MontSquare(m_)); }
  constexpr PrimeField Double() const { return *this + *this; }
  // a[0]·b[0] + ... + a[n-1]·b[n-1], equal to the sum of the products but with one
  // Montgomery reduction per few products (lazy reduction) instead of one per product.
  static constexpr PrimeField SumOfProducts(std::span<const PrimeField> a,
                                            std::span<const PrimeField> b) {
    PrimeField sum;
    const std::size_t n = a.size() < b.size() ? a.size() : b.size();
    for (std::size_t i = 0; i < n; i += Mont::kLazyProducts) {
      Wide acc = Mont::MulWide(a[i].m_, b[i].m_);
      const std::size_t end = i + Mont::kLazyProducts < n ? i + Mont::kLazyProducts : n;
      for (std::size_t j = i + 1; j < end; ++j) Mont::AddWide(acc, Mont::MulWide(a[j].m_, b[j].m_));
      sum += FromMontgomery(Mont::ReduceWide(acc));
    }
    return sum;
  }
  // this^exponent, the exponent a canonical 256-bit integer. Not constant-time in the
  // exponent.
  constexpr PrimeField Pow(const Limbs& exponent) const {
    PrimeField result = One();
    for (int i = 3; i >= 0; --i) {
      for (int bit = 63; bit >= 0; --bit) {
        result = result.Square();
        if ((exponent[i] >> bit) & 1) result = result * *this;
      }
    }
    return result;
  }
  constexpr PrimeField Pow(uint64_t exponent) const { return Pow(Limbs{exponent, 0, 0, 0}); }
  // The multiplicative inverse; the inverse of zero is zero.
  constexpr PrimeField Inverse() const {
    // Fermat: a^(p-2).
    return Pow(field_detail::Sub(kModulus, Limbs{2, 0, 0, 0}));
  }

  constexpr bool IsZero() const { return (m_[0] | m_[1] | m_[2] | m_[3]) == 0; }
  friend constexpr bool operator==(const PrimeField& a, const PrimeField& b) {
    return a.m_ == b.m_;
  }

  // Montgomery-form limbs, for code that stores or compares elements in bulk.
  constexpr const Limbs& montgomery() const { return m_; }
  // The element with Montgomery-form limbs `m`, which must be < p (as montgomery() gives).
  static constexpr PrimeField FromMontgomery(const Limbs& m) {
    PrimeField f;
    f.m_ = m;
    return f;
  }

 private:
  Limbs m_{};  // Montgomery form, always < p
};

}  // namespace rustorium::proof

#if RUSTORIUM_FIELD_ADX
#include "proof/field/montgomery_adx.h"
#endif
