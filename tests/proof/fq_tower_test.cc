// Fq2, Fq6 and Fq12: products against an independent model of Fq12 (polynomials over Fq
// modulo w^12 - 18·w^6 + 82, in GMP), inverses, Frobenius maps against x^q by
// square-and-multiply, the sparse products the pairing uses, and square roots in Fq2.
#include "proof/curve/fq_tower.h"

#include <gmpxx.h>
#include <gtest/gtest.h>

#include <vector>

#include "tests/proof/curve_test_util.h"

namespace rustorium::proof {
namespace {

using testing::kQ;
using testing::RandomFq12;
using testing::RandomFq2;
using testing::RandomFq6;
using testing::ToMpz;

// Fq12 as Fq[w]/(w^12 - 18·w^6 + 82): w^6 = ξ = 9 + u gives u = w^6 - 9, and u² = -1 gives
// (w^6 - 9)² + 1 = 0. The tower's basis element at c_i.c_j is w^(2j + i).
using Poly = std::vector<mpz_class>;

void AddFq2At(Poly& p, int power, const Fq2& x) {
  const mpz_class a = ToMpz(x.c0), b = ToMpz(x.c1);
  p[power] += a - 9 * b;  // (a + b·u)·w^k = (a - 9b)·w^k + b·w^(k+6)
  p[power + 6] += b;
}

Poly Normalise(Poly p) {
  for (auto& c : p) {
    c %= kQ;
    if (c < 0) c += kQ;
  }
  return p;
}

Poly ToPoly(const Fq12& x) {
  Poly p(12, 0);
  const Fq6* six[2] = {&x.c0, &x.c1};
  for (int i = 0; i < 2; ++i) {
    const Fq2* two[3] = {&six[i]->c0, &six[i]->c1, &six[i]->c2};
    for (int j = 0; j < 3; ++j) AddFq2At(p, 2 * j + i, *two[j]);
  }
  return Normalise(p);
}

Poly PolyMul(const Poly& a, const Poly& b) {
  Poly p(23, 0);
  for (int i = 0; i < 12; ++i) {
    for (int j = 0; j < 12; ++j) p[i + j] += a[i] * b[j];
  }
  for (int k = 22; k >= 12; --k) {  // w^12 = 18·w^6 - 82
    p[k - 6] += 18 * p[k];
    p[k - 12] -= 82 * p[k];
    p[k] = 0;
  }
  p.resize(12);
  return Normalise(p);
}

Fq12 Embed(const Fq6& x) { return {x, Fq6::Zero()}; }
Fq12 Embed(const Fq2& x) { return Embed(Fq6{x, Fq2::Zero(), Fq2::Zero()}); }

const std::span<const uint64_t> kQExponent(Fq::kModulus);

TEST(FqTower, ProductsAgreeWithThePolynomialModel) {
  auto rng = testing::SeededRng();
  for (int i = 0; i < 200; ++i) {
    const Fq2 a2 = RandomFq2(rng), b2 = RandomFq2(rng);
    EXPECT_EQ(ToPoly(Embed(a2 * b2)), PolyMul(ToPoly(Embed(a2)), ToPoly(Embed(b2))));
    const Fq6 a6 = RandomFq6(rng), b6 = RandomFq6(rng);
    EXPECT_EQ(ToPoly(Embed(a6 * b6)), PolyMul(ToPoly(Embed(a6)), ToPoly(Embed(b6))));
    const Fq12 a = RandomFq12(rng), b = RandomFq12(rng);
    EXPECT_EQ(ToPoly(a * b), PolyMul(ToPoly(a), ToPoly(b)));
  }
}

TEST(FqTower, SquaresInversesAndSpecialProducts) {
  auto rng = testing::SeededRng();
  const Fq2 xi = Fq2::NonResidue();
  for (int i = 0; i < 100; ++i) {
    const Fq2 a2 = RandomFq2(rng);
    EXPECT_EQ(a2.Square(), a2 * a2);
    EXPECT_EQ(a2 * a2.Inverse(), Fq2::One());
    EXPECT_EQ(a2.MulByNonResidue(), a2 * xi);
    EXPECT_EQ(a2.Double(), a2 + a2);
    EXPECT_EQ(a2.MulByFq(a2.c0), (a2 * Fq2{a2.c0, Fq::Zero()}));

    const Fq6 a6 = RandomFq6(rng), b6 = RandomFq6(rng);
    EXPECT_EQ(a6.Square(), a6 * a6);
    EXPECT_EQ(a6 * a6.Inverse(), Fq6::One());
    EXPECT_EQ(a6.MulByV(), (a6 * Fq6{Fq2::Zero(), Fq2::One(), Fq2::Zero()}));
    EXPECT_EQ(a6.MulBy01(b6.c0, b6.c1), (a6 * Fq6{b6.c0, b6.c1, Fq2::Zero()}));
    EXPECT_EQ(a6.MulByFq2(b6.c0), (a6 * Fq6{b6.c0, Fq2::Zero(), Fq2::Zero()}));

    const Fq12 a = RandomFq12(rng), b = RandomFq12(rng);
    EXPECT_EQ(a.Square(), a * a);
    EXPECT_EQ(a * a.Inverse(), Fq12::One());
    EXPECT_EQ(a.MulBy034(b.c0.c0, b.c1.c0, b.c1.c1),
              (a * Fq12{{b.c0.c0, Fq2::Zero(), Fq2::Zero()}, {b.c1.c0, b.c1.c1, Fq2::Zero()}}));
    // Ring laws the products above do not already pin down.
    EXPECT_EQ(a * b, b * a);
    EXPECT_EQ((a + b) * a, a * a + b * a);
    EXPECT_EQ(a - a, Fq12::Zero());
    EXPECT_EQ(-a + a, Fq12::Zero());
  }
  EXPECT_TRUE(Fq2::Zero().Inverse().IsZero());
  EXPECT_TRUE(Fq6::Zero().Inverse().IsZero());
  EXPECT_TRUE(Fq12::Zero().Inverse().IsZero());
}

TEST(FqTower, FrobeniusIsPowerByQ) {
  auto rng = testing::SeededRng();
  for (int i = 0; i < 8; ++i) {
    const Fq2 a2 = RandomFq2(rng);
    EXPECT_EQ(a2.Frobenius(1), a2.Pow(kQExponent));
    EXPECT_EQ(a2.Frobenius(2), a2);
    const Fq6 a6 = RandomFq6(rng);
    EXPECT_EQ(a6.Frobenius(1), a6.Pow(kQExponent));
    const Fq12 a = RandomFq12(rng);
    const Fq12 aq = a.Pow(kQExponent);
    EXPECT_EQ(a.Frobenius(1), aq);
    EXPECT_EQ(a.Frobenius(2), aq.Pow(kQExponent));
    // Every power of Frobenius is the first one applied k times; the twelfth is the identity.
    Fq12 iterated = a;
    Fq6 iterated6 = a6;
    for (int k = 1; k <= 12; ++k) {
      iterated = iterated.Frobenius(1);
      iterated6 = iterated6.Frobenius(1);
      EXPECT_EQ(iterated, a.Frobenius(k % 12)) << "k=" << k;
      EXPECT_EQ(iterated6, a6.Frobenius(k % 12)) << "k=" << k;
    }
    EXPECT_EQ(iterated, a);
    EXPECT_EQ(a.Frobenius(6), a.Conjugate());
    // Frobenius is a ring homomorphism.
    const Fq12 b = RandomFq12(rng);
    EXPECT_EQ((a * b).Frobenius(3), a.Frobenius(3) * b.Frobenius(3));
  }
}

TEST(FqTower, CyclotomicSquareIsTheSquareInTheCyclotomicSubgroup) {
  auto rng = testing::SeededRng();
  for (int i = 0; i < 50; ++i) {
    const Fq12 f = RandomFq12(rng);
    // f^((q^6 - 1)(q^2 + 1)) has order dividing q^4 - q^2 + 1.
    const Fq12 f1 = f.Conjugate() * f.Inverse();
    const Fq12 g = f1.Frobenius(2) * f1;
    EXPECT_EQ(g.CyclotomicSquare(), g.Square());
    EXPECT_EQ(g.CyclotomicSquare().CyclotomicSquare(), g.Square().Square());
  }
}

TEST(FqTower, Fq2SquareRoots) {
  auto rng = testing::SeededRng();
  // (q² - 1)/2: Euler's criterion in Fq2.
  const mpz_class half = (kQ * kQ - 1) / 2;
  const std::vector<uint64_t> half_limbs = testing::MpzToLimbs(half);
  int squares = 0;
  for (int i = 0; i < 200; ++i) {
    Fq2 a = RandomFq2(rng);
    if (i % 10 == 0) a.c1 = Fq::Zero();  // elements of Fq: all squares in Fq2
    if (i % 10 == 1) a.c0 = Fq::Zero();
    const bool square = a.IsZero() || a.Pow(half_limbs) == Fq2::One();
    auto root = Sqrt(a);
    ASSERT_EQ(root.has_value(), square);
    if (root) {
      EXPECT_EQ(root->Square(), a);
      ++squares;
    }
    auto back = Sqrt(a.Square());
    ASSERT_TRUE(back.has_value());
    EXPECT_TRUE(*back == a || *back == -a);
    if (!a.IsZero()) {
      EXPECT_NE(IsLexicographicallyLargest(a), IsLexicographicallyLargest(-a));
    }
  }
  EXPECT_GT(squares, 60);
  EXPECT_EQ(Sqrt(Fq2::Zero()), Fq2::Zero());
  EXPECT_EQ(*Sqrt(-Fq2::One()) * *Sqrt(-Fq2::One()), -Fq2::One());
}

TEST(FqTower, FrobeniusCoefficientsAreTheirDefinition) {
  // gamma[1]^6 = ξ^(q-1), computed the long way.
  const Fq2 xi = Fq2::NonResidue();
  const Fq2 g1 = tower_detail::kFrobenius.gamma[1];
  EXPECT_EQ(g1.Square().Square() * g1.Square(), xi.Pow(kQExponent) * xi.Inverse());
}

}  // namespace
}  // namespace rustorium::proof
