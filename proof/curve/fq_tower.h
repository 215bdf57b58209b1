// The extension tower of BN254's base field, the one snarkjs (ffjavascript), EIP-197 and
// most BN254 code use:
//
//   Fq2  = Fq[u]  / (u² + 1)
//   Fq6  = Fq2[v] / (v³ - ξ),  ξ = 9 + u
//   Fq12 = Fq6[w] / (w² - v)
//
// G2 lives over Fq2; pairing values live in Fq12. Elements are plain values (no heap), safe
// to use from any thread. The arithmetic is constexpr, so constants such as the Frobenius
// coefficients are computed from q by the compiler rather than pasted in. Nothing here is
// constant-time in exponents (Pow) or in square roots.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>

#include "proof/curve/fq.h"

namespace rustorium::proof {

namespace tower_detail {

// base^exponent by left-to-right square-and-multiply; the exponent's limbs least
// significant first.
template <typename F>
constexpr F PowLimbs(const F& base, std::span<const uint64_t> exponent) {
  F result = F::One();
  bool started = false;
  for (std::size_t i = exponent.size(); i-- > 0;) {
    for (int bit = 63; bit >= 0; --bit) {
      if (started) result = result.Square();
      if ((exponent[i] >> bit) & 1) {
        result = started ? result * base : base;
        started = true;
      }
    }
  }
  return result;
}

}  // namespace tower_detail

// c0 + c1·u with u² = -1.
struct Fq2 {
  Fq c0, c1;

  static constexpr Fq2 Zero() { return {}; }
  static constexpr Fq2 One() { return {Fq::One(), Fq::Zero()}; }
  // ξ = 9 + u, the non-residue that defines Fq6 (and the twist of G2).
  static constexpr Fq2 NonResidue() { return {Fq::FromUint64(9), Fq::One()}; }

  constexpr Fq2 operator+(const Fq2& o) const { return {c0 + o.c0, c1 + o.c1}; }
  constexpr Fq2 operator-(const Fq2& o) const { return {c0 - o.c0, c1 - o.c1}; }
  constexpr Fq2 operator-() const { return {-c0, -c1}; }
  constexpr Fq2 operator*(const Fq2& o) const {
    // Karatsuba: three products in Fq.
    const Fq a = c0 * o.c0;
    const Fq b = c1 * o.c1;
    return {a - b, (c0 + c1) * (o.c0 + o.c1) - a - b};
  }
  constexpr Fq2& operator+=(const Fq2& o) { return *this = *this + o; }
  constexpr Fq2& operator-=(const Fq2& o) { return *this = *this - o; }
  constexpr Fq2& operator*=(const Fq2& o) { return *this = *this * o; }
  constexpr Fq2 Square() const {
    // (c0 + c1·u)² = (c0 + c1)(c0 - c1) + 2·c0·c1·u
    const Fq t = c0 * c1;
    return {(c0 + c1) * (c0 - c1), t + t};
  }
  constexpr Fq2 Double() const { return {c0.Double(), c1.Double()}; }
  constexpr Fq2 MulByFq(const Fq& s) const { return {c0 * s, c1 * s}; }
  // this·ξ = (9·c0 - c1) + (c0 + 9·c1)·u, without a multiplication.
  constexpr Fq2 MulByNonResidue() const {
    const Fq c0x8 = c0.Double().Double().Double();
    const Fq c1x8 = c1.Double().Double().Double();
    return {c0x8 + c0 - c1, c1x8 + c1 + c0};
  }
  constexpr Fq2 Conjugate() const { return {c0, -c1}; }
  // The multiplicative inverse; the inverse of zero is zero.
  constexpr Fq2 Inverse() const {
    const Fq t = (c0.Square() + c1.Square()).Inverse();
    return {c0 * t, -(c1 * t)};
  }
  // this^(q^k): u^q = -u since q ≡ 3 (mod 4).
  constexpr Fq2 Frobenius(int k) const { return (k & 1) ? Conjugate() : *this; }
  // this^exponent, the exponent's limbs least significant first.
  constexpr Fq2 Pow(std::span<const uint64_t> exponent) const {
    return tower_detail::PowLimbs(*this, exponent);
  }

  constexpr bool IsZero() const { return c0.IsZero() && c1.IsZero(); }
  friend constexpr bool operator==(const Fq2& a, const Fq2& b) {
    return a.c0 == b.c0 && a.c1 == b.c1;
  }
};

// A square root of `a` (either of the two), or nullopt when `a` is not a square in Fq2.
std::optional<Fq2> Sqrt(const Fq2& a);

// ffjavascript's sign of an Fq2 element (how compressed G2 points name ±y): c1's when c1 is
// nonzero, else c0's; true means "above (q-1)/2".
bool IsLexicographicallyLargest(const Fq2& a);

// c0 + c1·v + c2·v² with v³ = ξ.
struct Fq6 {
  Fq2 c0, c1, c2;

  static constexpr Fq6 Zero() { return {}; }
  static constexpr Fq6 One() { return {Fq2::One(), Fq2::Zero(), Fq2::Zero()}; }

  constexpr Fq6 operator+(const Fq6& o) const { return {c0 + o.c0, c1 + o.c1, c2 + o.c2}; }
  constexpr Fq6 operator-(const Fq6& o) const { return {c0 - o.c0, c1 - o.c1, c2 - o.c2}; }
  constexpr Fq6 operator-() const { return {-c0, -c1, -c2}; }
  constexpr Fq6 operator*(const Fq6& o) const {
    // Karatsuba over three coefficients: six products in Fq2.
    const Fq2 t0 = c0 * o.c0;
    const Fq2 t1 = c1 * o.c1;
    const Fq2 t2 = c2 * o.c2;
    return {((c1 + c2) * (o.c1 + o.c2) - t1 - t2).MulByNonResidue() + t0,
            (c0 + c1) * (o.c0 + o.c1) - t0 - t1 + t2.MulByNonResidue(),
            (c0 + c2) * (o.c0 + o.c2) - t0 - t2 + t1};
  }
  constexpr Fq6& operator+=(const Fq6& o) { return *this = *this + o; }
  constexpr Fq6& operator-=(const Fq6& o) { return *this = *this - o; }
  constexpr Fq6& operator*=(const Fq6& o) { return *this = *this * o; }
  constexpr Fq6 Square() const {
    // Chung and Hasan's SQR2: two squarings, two products and one more squaring in Fq2.
    const Fq2 s0 = c0.Square();
    const Fq2 s1 = (c0 * c1).Double();
    const Fq2 s2 = (c0 - c1 + c2).Square();
    const Fq2 s3 = (c1 * c2).Double();
    const Fq2 s4 = c2.Square();
    return {s0 + s3.MulByNonResidue(), s1 + s4.MulByNonResidue(), s1 + s2 + s3 - s0 - s4};
  }
  constexpr Fq6 Double() const { return {c0.Double(), c1.Double(), c2.Double()}; }
  constexpr Fq6 MulByFq2(const Fq2& s) const { return {c0 * s, c1 * s, c2 * s}; }
  // this·v: v³ = ξ moves the top coefficient round to the bottom.
  constexpr Fq6 MulByV() const { return {c2.MulByNonResidue(), c0, c1}; }
  // this·(b0 + b1·v): five products in Fq2 instead of six.
  constexpr Fq6 MulBy01(const Fq2& b0, const Fq2& b1) const {
    const Fq2 t0 = c0 * b0;
    const Fq2 t1 = c1 * b1;
    return {((c1 + c2) * b1 - t1).MulByNonResidue() + t0, (c0 + c1) * (b0 + b1) - t0 - t1,
            (c0 + c2) * b0 - t0 + t1};
  }
  // The multiplicative inverse; the inverse of zero is zero.
  constexpr Fq6 Inverse() const {
    const Fq2 a = c0.Square() - (c1 * c2).MulByNonResidue();
    const Fq2 b = c2.Square().MulByNonResidue() - c0 * c1;
    const Fq2 c = c1.Square() - c0 * c2;
    const Fq2 t = (c0 * a + (c2 * b + c1 * c).MulByNonResidue()).Inverse();
    return {a * t, b * t, c * t};
  }
  // this^(q^k) for 0 <= k < 12.
  constexpr Fq6 Frobenius(int k) const;
  constexpr Fq6 Pow(std::span<const uint64_t> exponent) const {
    return tower_detail::PowLimbs(*this, exponent);
  }

  constexpr bool IsZero() const { return c0.IsZero() && c1.IsZero() && c2.IsZero(); }
  friend constexpr bool operator==(const Fq6& a, const Fq6& b) {
    return a.c0 == b.c0 && a.c1 == b.c1 && a.c2 == b.c2;
  }
};

// c0 + c1·w with w² = v. Pairing values are the elements of order r of Fq12*.
struct Fq12 {
  Fq6 c0, c1;

  static constexpr Fq12 Zero() { return {}; }
  static constexpr Fq12 One() { return {Fq6::One(), Fq6::Zero()}; }

  constexpr Fq12 operator+(const Fq12& o) const { return {c0 + o.c0, c1 + o.c1}; }
  constexpr Fq12 operator-(const Fq12& o) const { return {c0 - o.c0, c1 - o.c1}; }
  constexpr Fq12 operator-() const { return {-c0, -c1}; }
  constexpr Fq12 operator*(const Fq12& o) const {
    const Fq6 t0 = c0 * o.c0;
    const Fq6 t1 = c1 * o.c1;
    return {t0 + t1.MulByV(), (c0 + c1) * (o.c0 + o.c1) - t0 - t1};
  }
  constexpr Fq12& operator*=(const Fq12& o) { return *this = *this * o; }
  constexpr Fq12 Square() const {
    // (c0 + c1·w)² = (c0 + c1)(c0 + v·c1) - c0c1 - v·c0c1 + 2·c0c1·w
    const Fq6 ab = c0 * c1;
    return {(c0 + c1) * (c0 + c1.MulByV()) - ab - ab.MulByV(), ab.Double()};
  }
  // this² for an element of the cyclotomic subgroup (order dividing q⁴ - q² + 1: every value
  // after the pairing's easy part), by Granger and Scott's formula ("Faster squaring in the
  // cyclotomic subgroup of sixth degree extensions", PKC 2010): Fq12 seen as Fq4[t]/(t³ - s)
  // with Fq4 = Fq2[s]/(s² - ξ), s = w³, t = w; then A0 + A1·t + A2·t² squares to
  // (3A0² - 2·Ā0) + (3s·A2² + 2·Ā1)·t + (3A1² - 2·Ā2)·t². Wrong for other elements.
  constexpr Fq12 CyclotomicSquare() const {
    // (a + b·s)² = (a² + ξ·b²) + 2ab·s
    auto fq4_square = [](const Fq2& a, const Fq2& b, Fq2& c0, Fq2& c1) {
      const Fq2 a2 = a.Square(), b2 = b.Square();
      c0 = b2.MulByNonResidue() + a2;
      c1 = (a + b).Square() - a2 - b2;
    };
    // A0 = (c0.c0, c1.c1), A1 = (c1.c0, c0.c2), A2 = (c0.c1, c1.c2).
    Fq2 t0, t1, t2, t3, t4, t5;
    fq4_square(c0.c0, c1.c1, t0, t1);
    fq4_square(c1.c0, c0.c2, t2, t3);
    fq4_square(c0.c1, c1.c2, t4, t5);
    auto three_minus_two = [](const Fq2& t, const Fq2& z) { return (t - z).Double() + t; };
    auto three_plus_two = [](const Fq2& t, const Fq2& z) { return (t + z).Double() + t; };
    Fq12 r;
    r.c0.c0 = three_minus_two(t0, c0.c0);
    r.c1.c1 = three_plus_two(t1, c1.c1);
    r.c1.c0 = three_plus_two(t5.MulByNonResidue(), c1.c0);
    r.c0.c2 = three_minus_two(t4, c0.c2);
    r.c0.c1 = three_minus_two(t2, c0.c1);
    r.c1.c2 = three_plus_two(t3, c1.c2);
    return r;
  }
  // this · (l0 + (l3 + l4·v)·w): the shape of a line function of the pairing (only the
  // coefficients of 1, w and v·w are nonzero); 13 products in Fq2 instead of 18.
  constexpr Fq12 MulBy034(const Fq2& l0, const Fq2& l3, const Fq2& l4) const {
    const Fq6 t0 = c0.MulByFq2(l0);
    const Fq6 t1 = c1.MulBy01(l3, l4);
    return {t0 + t1.MulByV(), (c0 + c1).MulBy01(l0 + l3, l4) - t0 - t1};
  }
  // this^(q^6): for elements of norm one (everything after the pairing's easy part) this is
  // the inverse.
  constexpr Fq12 Conjugate() const { return {c0, -c1}; }
  // The multiplicative inverse; the inverse of zero is zero.
  constexpr Fq12 Inverse() const {
    // (c0 + c1·w)(c0 - c1·w) = c0² - v·c1², which lies in Fq6.
    const Fq6 t = (c0.Square() - c1.Square().MulByV()).Inverse();
    return {c0 * t, -(c1 * t)};
  }
  // this^(q^k) for 0 <= k < 12.
  constexpr Fq12 Frobenius(int k) const;
  constexpr Fq12 Pow(std::span<const uint64_t> exponent) const {
    return tower_detail::PowLimbs(*this, exponent);
  }

  constexpr bool IsZero() const { return c0.IsZero() && c1.IsZero(); }
  constexpr bool IsOne() const { return *this == One(); }
  friend constexpr bool operator==(const Fq12& a, const Fq12& b) {
    return a.c0 == b.c0 && a.c1 == b.c1;
  }
};

namespace tower_detail {

// n / d for a small divisor d that divides n exactly (checked by the callers' static_asserts
// through the remainder).
struct Quotient {
  Limbs quotient;
  uint64_t remainder;
};
constexpr Quotient DivideSmall(const Limbs& n, uint64_t d) {
  Quotient out{};
  field_detail::u128 rem = 0;
  for (int i = 3; i >= 0; --i) {
    const field_detail::u128 cur = (rem << 64) | n[i];
    out.quotient[i] = static_cast<uint64_t>(cur / d);
    rem = cur % d;
  }
  out.remainder = static_cast<uint64_t>(rem);
  return out;
}

inline constexpr Quotient kQMinusOneOverSix =
    DivideSmall(field_detail::Sub(Fq::kModulus, Limbs{1, 0, 0, 0}), 6);
static_assert(kQMinusOneOverSix.remainder == 0, "the tower needs q ≡ 1 (mod 6)");

// gamma[k] = ξ^((q^k - 1)/6) = w^(q^k - 1), so that w^(q^k) = gamma[k]·w, v^(q^k) =
// gamma[k]²·v and (v²)^(q^k) = gamma[k]⁴·v². Built from gamma[1] = ξ^((q-1)/6) by
// gamma[k] = gamma[k-1]^q · gamma[1], since (q^k - 1)/6 = q·(q^(k-1) - 1)/6 + (q - 1)/6.
struct FrobeniusCoefficients {
  std::array<Fq2, 12> gamma;
  std::array<Fq2, 12> gamma2;
  std::array<Fq2, 12> gamma3;
  std::array<Fq2, 12> gamma4;
};

constexpr FrobeniusCoefficients ComputeFrobeniusCoefficients() {
  FrobeniusCoefficients c{};
  const Fq2 g1 = Fq2::NonResidue().Pow(kQMinusOneOverSix.quotient);
  c.gamma[0] = Fq2::One();
  for (int k = 1; k < 12; ++k) c.gamma[k] = c.gamma[k - 1].Conjugate() * g1;
  for (int k = 0; k < 12; ++k) {
    c.gamma2[k] = c.gamma[k].Square();
    c.gamma3[k] = c.gamma2[k] * c.gamma[k];
    c.gamma4[k] = c.gamma2[k].Square();
  }
  return c;
}

inline constexpr FrobeniusCoefficients kFrobenius = ComputeFrobeniusCoefficients();

}  // namespace tower_detail

constexpr Fq6 Fq6::Frobenius(int k) const {
  const auto& f = tower_detail::kFrobenius;
  return {c0.Frobenius(k), c1.Frobenius(k) * f.gamma2[k], c2.Frobenius(k) * f.gamma4[k]};
}

constexpr Fq12 Fq12::Frobenius(int k) const {
  return {c0.Frobenius(k), c1.Frobenius(k).MulByFq2(tower_detail::kFrobenius.gamma[k])};
}

}  // namespace rustorium::proof
