#include "proof/curve/pairing.h"

#include <array>
#include <vector>

namespace rustorium::proof {

namespace {

using u128 = unsigned __int128;

// 6x + 2 (65 bits) in non-adjacent form, least significant digit first.
struct Naf {
  std::array<int8_t, 68> digits;
  int length;
};

constexpr Naf ComputeNaf(u128 n) {
  Naf out{};
  while (n != 0) {
    int digit = 0;
    if (n & 1) {
      digit = 2 - static_cast<int>(n & 3);  // +1 when n ≡ 1 (mod 4), -1 when n ≡ 3
      n = digit == 1 ? n - 1 : n + 1;
    }
    out.digits[out.length++] = static_cast<int8_t>(digit);
    n >>= 1;
  }
  return out;
}

constexpr Naf kAteLoop = ComputeNaf(6 * static_cast<u128>(kBnX) + 2);

constexpr Fq kHalf = Fq::FromUint64(2).Inverse();
constexpr Fq2 kThreeB = G2Curve::kB + G2Curve::kB + G2Curve::kB;

// A point of the twist in homogeneous projective coordinates (x = X/Z, y = Y/Z), the form in
// which the Miller loop's doubling and addition steps are cheapest.
struct TwistPoint {
  Fq2 x, y, z;
};

// A line through points of the twist, to be evaluated at P = (xp, yp) of G1 as
//   a·yp + (b·xp)·w + c·v·w
// in Fq12 (the untwisting map sends (x, y) to (x·w², y·w³)); the lines are scaled by factors
// in Fq2, which the final exponentiation removes.
struct Line {
  Fq2 a, b, c;
};

// T ← 2T, and the tangent at T. With λ = 3x²/(2y) the tangent at P is
// yp - λ·xp·w + (λ·x - y)·w³; multiplied by 2YZ² (and divided by Z, using the curve
// equation Y²Z = X³ + b'Z³) it is 2YZ·yp - 3X²·xp·w + (Y² - 3b'Z²)·vw. The doubling formulas
// are Costello, Lange and Naehrig's for a = 0 ("Faster pairing computations on curves with
// high-degree twists", PKC 2010).
Line DoublingStep(TwistPoint& t) {
  const Fq2 a = (t.x * t.y).MulByFq(kHalf);
  const Fq2 b = t.y.Square();
  const Fq2 c = t.z.Square();
  const Fq2 e = kThreeB * c;
  const Fq2 f = e + e + e;
  const Fq2 g = (b + f).MulByFq(kHalf);
  const Fq2 h = (t.y + t.z).Square() - (b + c);  // 2YZ
  const Fq2 j = t.x.Square();
  t.x = a * (b - f);
  t.y = g.Square() - (e.Square() + e.Square() + e.Square());
  t.z = b * h;
  return {h, -(j + j + j), b - e};
}

// T ← T + Q, and the line through T and Q. With θ = Y - yq·Z and λ = X - xq·Z the slope is
// θ/λ; times λ the line is λ·yp - θ·xp·w + (θ·xq - λ·yq)·vw.
Line AdditionStep(TwistPoint& t, const G2Affine& q) {
  const Fq2 theta = t.y - q.y() * t.z;
  const Fq2 lambda = t.x - q.x() * t.z;
  const Fq2 c = theta.Square();
  const Fq2 d = lambda.Square();
  const Fq2 e = lambda * d;
  const Fq2 f = t.z * c;
  const Fq2 g = t.x * d;
  const Fq2 h = e + f - (g + g);
  t.x = lambda * h;
  t.y = theta * (g - h) - t.y * e;
  t.z = t.z * e;
  return {lambda, -theta, theta * q.x() - lambda * q.y()};
}

Fq12 MulByLine(const Fq12& f, const Line& l, const G1Affine& p) {
  return f.MulBy034(l.a.MulByFq(p.y()), l.b.MulByFq(p.x()), l.c);
}

// π(Q) = (conj(x)·ξ^((q-1)/3), conj(y)·ξ^((q-1)/2)): the q-power Frobenius of E(Fq12) seen
// through the twist. π²(Q) likewise with q² (and no conjugation).
G2Affine TwistFrobenius(const G2Affine& q) {
  const auto& k = tower_detail::kFrobenius;
  return G2Affine(q.x().Conjugate() * k.gamma2[1], q.y().Conjugate() * k.gamma3[1]);
}
G2Affine TwistFrobeniusSquared(const G2Affine& q) {
  const auto& k = tower_detail::kFrobenius;
  return G2Affine(q.x() * k.gamma2[2], q.y() * k.gamma3[2]);
}

// f^x for x = kBnX and f in the cyclotomic subgroup, by square-and-multiply from the top bit
// (62 cyclotomic squarings, 27 products).
Fq12 PowX(const Fq12& f) {
  Fq12 result = f;
  for (int bit = 61; bit >= 0; --bit) {
    result = result.CyclotomicSquare();
    if ((kBnX >> bit) & 1) result = result * f;
  }
  return result;
}
static_assert(kBnX >> 62 == 1, "PowX starts with bit 62 of x set");

}  // namespace

Fq12 MillerLoop(std::span<const PairingInput> pairs) {
  std::vector<G1Affine> ps;
  std::vector<G2Affine> qs;
  ps.reserve(pairs.size());
  qs.reserve(pairs.size());
  for (const auto& [p, q] : pairs) {
    if (p.IsInfinity() || q.IsInfinity()) continue;  // e(0, Q) = e(P, 0) = 1
    ps.push_back(p);
    qs.push_back(q);
  }
  std::vector<TwistPoint> ts;
  ts.reserve(qs.size());
  for (const G2Affine& q : qs) ts.push_back({q.x(), q.y(), Fq2::One()});

  Fq12 f = Fq12::One();
  // The top digit is 1: T starts at Q.
  for (int i = kAteLoop.length - 2; i >= 0; --i) {
    f = f.Square();
    for (std::size_t j = 0; j < ps.size(); ++j) f = MulByLine(f, DoublingStep(ts[j]), ps[j]);
    const int digit = kAteLoop.digits[i];
    if (digit == 0) continue;
    for (std::size_t j = 0; j < ps.size(); ++j) {
      f = MulByLine(f, AdditionStep(ts[j], digit > 0 ? qs[j] : -qs[j]), ps[j]);
    }
  }
  // The optimal ate pairing's two extra lines: T + π(Q), then the line to -π²(Q).
  for (std::size_t j = 0; j < ps.size(); ++j) {
    f = MulByLine(f, AdditionStep(ts[j], TwistFrobenius(qs[j])), ps[j]);
    f = MulByLine(f, AdditionStep(ts[j], -TwistFrobeniusSquared(qs[j])), ps[j]);
  }
  return f;
}

Fq12 FinalExponentiation(const Fq12& f) {
  // The easy part, f^((q^6 - 1)(q^2 + 1)). Afterwards f has norm 1 over Fq6, so its inverse
  // is its conjugate.
  const Fq12 f1 = f.Conjugate() * f.Inverse();
  const Fq12 g = f1.Frobenius(2) * f1;
  // The hard part: g^e with
  //   e = (12x³+6x²+4x-1)·q³ + (12x³+6x²+6x)·q² + (12x³+6x²+4x)·q + (12x³+12x²+6x+1)
  //     = 2x(6x²+3x+1)·(q⁴ - q² + 1)/r   (Fuentes-Castañeda et al.; checked by the tests).
  const Fq12 gx = PowX(g);
  const Fq12 g2x = gx.CyclotomicSquare();
  const Fq12 g6x = g2x * g2x.CyclotomicSquare();
  const Fq12 g6x2 = PowX(g6x);
  const Fq12 g12x3 = PowX(g6x2.CyclotomicSquare());
  const Fq12 k = g12x3 * g6x2 * g6x;   // 12x³ + 6x² + 6x
  const Fq12 l = k * g2x.Conjugate();  // 12x³ + 6x² + 4x
  const Fq12 m = k * g6x2 * g;         // 12x³ + 12x² + 6x + 1
  const Fq12 t = l * g.Conjugate();    // 12x³ + 6x² + 4x - 1
  return t.Frobenius(3) * k.Frobenius(2) * l.Frobenius(1) * m;
}

Fq12 Pairing(const G1Affine& p, const G2Affine& q) {
  const PairingInput pair{p, q};
  return FinalExponentiation(MillerLoop({&pair, 1}));
}

Fq12 MultiPairing(std::span<const PairingInput> pairs) {
  return FinalExponentiation(MillerLoop(pairs));
}

bool PairingProductIsOne(std::span<const PairingInput> pairs) {
  return MultiPairing(pairs).IsOne();
}

}  // namespace rustorium::proof
