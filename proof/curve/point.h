// Points of a short Weierstrass curve y² = x³ + b (a = 0) over a field F: the arithmetic
// shared by G1 (over Fq) and G2 (over Fq2).
//
// C is a curve parameter struct with
//   using Field = ...;                  // Fq or Fq2
//   static constexpr Field kB;          // the curve's b
//
// AffinePoint is the storage and wire form; JacobianPoint (X/Z², Y/Z³) is the working form,
// with inversion-free addition and doubling. Both are plain values, safe to use from any
// thread. Nothing here is constant-time: scalar multiplication branches on the scalar's
// digits, so it must not be given secrets where timing is observable.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "proof/field/fr.h"
#include "proof/field/prime_field.h"

namespace rustorium::proof {

template <typename C>
class AffinePoint {
 public:
  using F = typename C::Field;

  // The point at infinity (the group's identity).
  constexpr AffinePoint() = default;
  // The finite point (x, y); not checked to be on the curve (see IsOnCurve).
  constexpr AffinePoint(const F& x, const F& y) : x_(x), y_(y), infinity_(false) {}

  static constexpr AffinePoint Infinity() { return AffinePoint(); }

  constexpr bool IsInfinity() const { return infinity_; }
  // x and y; both zero for the point at infinity.
  constexpr const F& x() const { return x_; }
  constexpr const F& y() const { return y_; }

  // y² = x³ + b, or the point at infinity.
  constexpr bool IsOnCurve() const { return infinity_ || y_.Square() == x_.Square() * x_ + C::kB; }

  constexpr AffinePoint operator-() const { return infinity_ ? *this : AffinePoint(x_, -y_); }
  friend constexpr bool operator==(const AffinePoint& a, const AffinePoint& b) {
    if (a.infinity_ || b.infinity_) return a.infinity_ == b.infinity_;
    return a.x_ == b.x_ && a.y_ == b.y_;
  }

 private:
  F x_{};
  F y_{};
  bool infinity_ = true;
};

template <typename C>
class JacobianPoint {
 public:
  using F = typename C::Field;
  using Affine = AffinePoint<C>;

  // The point at infinity: (1, 1, 0).
  constexpr JacobianPoint() : x_(F::One()), y_(F::One()), z_(F::Zero()) {}
  constexpr explicit JacobianPoint(const Affine& a)
      : x_(a.IsInfinity() ? F::One() : a.x()),
        y_(a.IsInfinity() ? F::One() : a.y()),
        z_(a.IsInfinity() ? F::Zero() : F::One()) {}
  // Raw Jacobian coordinates (x/z², y/z³); z = 0 is the point at infinity. Not checked.
  static constexpr JacobianPoint FromCoordinates(const F& x, const F& y, const F& z) {
    JacobianPoint p;
    p.x_ = x;
    p.y_ = y;
    p.z_ = z;
    return p;
  }
  static constexpr JacobianPoint Infinity() { return JacobianPoint(); }

  constexpr bool IsInfinity() const { return z_.IsZero(); }
  constexpr const F& x() const { return x_; }
  constexpr const F& y() const { return y_; }
  constexpr const F& z() const { return z_; }

  // Y² = X³ + b·Z⁶, or the point at infinity.
  constexpr bool IsOnCurve() const {
    if (IsInfinity()) return true;
    const F z2 = z_.Square();
    const F z6 = z2.Square() * z2;
    return y_.Square() == x_.Square() * x_ + C::kB * z6;
  }

  // 2·this ("dbl-2009-l" of the Explicit-Formulas Database, for a = 0).
  constexpr JacobianPoint Double() const {
    const F a = x_.Square();
    const F b = y_.Square();
    const F c = b.Square();
    const F d = ((x_ + b).Square() - a - c).Double();
    const F e = a.Double() + a;
    const F x3 = e.Square() - d.Double();
    const F c8 = c.Double().Double().Double();
    return FromCoordinates(x3, e * (d - x3) - c8, (y_ * z_).Double());
  }

  // this + o ("add-2007-bl"), with the identity and doubling cases handled.
  constexpr JacobianPoint operator+(const JacobianPoint& o) const {
    if (IsInfinity()) return o;
    if (o.IsInfinity()) return *this;
    const F z1z1 = z_.Square();
    const F z2z2 = o.z_.Square();
    const F u1 = x_ * z2z2;
    const F u2 = o.x_ * z1z1;
    const F s1 = y_ * o.z_ * z2z2;
    const F s2 = o.y_ * z_ * z1z1;
    const F h = u2 - u1;
    if (h.IsZero()) return s1 == s2 ? Double() : Infinity();
    const F i = h.Double().Square();
    const F j = h * i;
    const F r = (s2 - s1).Double();
    const F v = u1 * i;
    const F x3 = r.Square() - j - v.Double();
    return FromCoordinates(x3, r * (v - x3) - (s1 * j).Double(),
                           ((z_ + o.z_).Square() - z1z1 - z2z2) * h);
  }

  // this + o for an affine o ("madd-2007-bl"): cheaper than the general addition.
  constexpr JacobianPoint operator+(const Affine& o) const {
    if (o.IsInfinity()) return *this;
    if (IsInfinity()) return JacobianPoint(o);
    const F z1z1 = z_.Square();
    const F u2 = o.x() * z1z1;
    const F s2 = o.y() * z_ * z1z1;
    const F h = u2 - x_;
    if (h.IsZero()) return s2 == y_ ? Double() : Infinity();
    const F hh = h.Square();
    const F i = hh.Double().Double();
    const F j = h * i;
    const F r = (s2 - y_).Double();
    const F v = x_ * i;
    const F x3 = r.Square() - j - v.Double();
    return FromCoordinates(x3, r * (v - x3) - (y_ * j).Double(), (z_ + h).Square() - z1z1 - hh);
  }

  constexpr JacobianPoint operator-() const { return FromCoordinates(x_, -y_, z_); }
  constexpr JacobianPoint operator-(const JacobianPoint& o) const { return *this + (-o); }
  constexpr JacobianPoint& operator+=(const JacobianPoint& o) { return *this = *this + o; }
  constexpr JacobianPoint& operator+=(const Affine& o) { return *this = *this + o; }

  // k·this for a non-negative integer k below 2^256 (limbs least significant first), by a
  // signed window (width-5 NAF): about 256 doublings and 43 additions.
  JacobianPoint Mul(const Limbs& k) const;
  JacobianPoint operator*(const Fr& k) const { return Mul(k.ToCanonical()); }

  // The affine form (one inversion).
  Affine ToAffine() const {
    if (IsInfinity()) return Affine::Infinity();
    const F zinv = z_.Inverse();
    const F zinv2 = zinv.Square();
    return Affine(x_ * zinv2, y_ * zinv2 * zinv);
  }

  // The affine forms of `points` with one inversion in all (Montgomery's trick); `out` must
  // have the same size as `points`.
  static void BatchToAffine(std::span<const JacobianPoint> points, std::span<Affine> out);
  static std::vector<Affine> BatchToAffine(std::span<const JacobianPoint> points) {
    std::vector<Affine> out(points.size());
    BatchToAffine(points, out);
    return out;
  }

  // Equality as points (X1·Z2² = X2·Z1² and Y1·Z2³ = Y2·Z1³), not as coordinates.
  friend constexpr bool operator==(const JacobianPoint& a, const JacobianPoint& b) {
    if (a.IsInfinity() || b.IsInfinity()) return a.IsInfinity() && b.IsInfinity();
    const F az2 = a.z_.Square();
    const F bz2 = b.z_.Square();
    return a.x_ * bz2 == b.x_ * az2 && a.y_ * bz2 * b.z_ == b.y_ * az2 * a.z_;
  }

 private:
  F x_, y_, z_;
};

template <typename C>
JacobianPoint<C> JacobianPoint<C>::Mul(const Limbs& k) const {
  constexpr int kWidth = 5;
  constexpr int kHalf = 1 << (kWidth - 1);  // digits are odd, in (-16, 16)
  // The width-5 NAF of k, least significant digit first. k is kept on five limbs: adding
  // back a negative digit can carry past 2^256.
  std::array<int8_t, 258> naf{};
  std::array<uint64_t, 5> n = {k[0], k[1], k[2], k[3], 0};
  int len = 0;
  while ((n[0] | n[1] | n[2] | n[3] | n[4]) != 0) {
    int digit = 0;
    if (n[0] & 1) {
      digit = static_cast<int>(n[0] & (2 * kHalf - 1));
      if (digit >= kHalf) digit -= 2 * kHalf;
      // n -= digit
      uint64_t carry = 0;
      if (digit > 0) {
        n[0] = field_detail::SubBorrow(n[0], static_cast<uint64_t>(digit), carry);
        for (int i = 1; i < 5; ++i) n[i] = field_detail::SubBorrow(n[i], 0, carry);
      } else {
        n[0] = field_detail::AddCarry(n[0], static_cast<uint64_t>(-digit), carry);
        for (int i = 1; i < 5; ++i) n[i] = field_detail::AddCarry(n[i], 0, carry);
      }
    }
    naf[len++] = static_cast<int8_t>(digit);
    for (int i = 0; i < 4; ++i) n[i] = (n[i] >> 1) | (n[i + 1] << 63);
    n[4] >>= 1;
  }
  // Odd multiples this, 3·this, ..., 15·this.
  std::array<JacobianPoint, kHalf / 2> odd;
  odd[0] = *this;
  const JacobianPoint twice = Double();
  for (std::size_t i = 1; i < odd.size(); ++i) odd[i] = odd[i - 1] + twice;

  JacobianPoint acc;
  for (int i = len - 1; i >= 0; --i) {
    acc = acc.Double();
    const int d = naf[i];
    if (d > 0) acc += odd[d / 2];
    if (d < 0) acc += -odd[-d / 2];
  }
  return acc;
}

template <typename C>
void JacobianPoint<C>::BatchToAffine(std::span<const JacobianPoint> points, std::span<Affine> out) {
  // prefix[i] = product of the nonzero z's before i.
  std::vector<F> prefix(points.size());
  F acc = F::One();
  for (std::size_t i = 0; i < points.size(); ++i) {
    prefix[i] = acc;
    if (!points[i].IsInfinity()) acc = acc * points[i].z_;
  }
  F inv = acc.Inverse();  // inverse of the product of all nonzero z's
  for (std::size_t i = points.size(); i-- > 0;) {
    const JacobianPoint& p = points[i];
    if (p.IsInfinity()) {
      out[i] = Affine::Infinity();
      continue;
    }
    const F zinv = inv * prefix[i];
    inv = inv * p.z_;
    const F zinv2 = zinv.Square();
    out[i] = Affine(p.x_ * zinv2, p.y_ * zinv2 * zinv);
  }
}

}  // namespace rustorium::proof
