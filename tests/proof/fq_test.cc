// Fq, the BN254 base field, against GMP on random and edge inputs.
#include "proof/curve/fq.h"

#include <gmpxx.h>
#include <gtest/gtest.h>

#include "tests/proof/curve_test_util.h"

namespace rustorium::proof {
namespace {

using testing::FromMpz;
using testing::kQ;
using testing::RandomMpz;
using testing::ToMpz;

TEST(Fq, ModulusMatchesTheKnownDecimal) {
  EXPECT_EQ(testing::LimbsToMpz(Fq::kModulus), kQ);
  EXPECT_EQ(mpz_probab_prime_p(kQ.get_mpz_t(), 30), 1);
}

TEST(Fq, ArithmeticAgreesWithGmpOnRandomInputs) {
  auto rng = testing::SeededRng();
  for (int i = 0; i < 2000; ++i) {
    // Mix uniform values with edge values near 0 and q.
    mpz_class a = (i % 10 == 0) ? kQ - 1 - (rng() % 3) : RandomMpz(rng, kQ);
    mpz_class b = (i % 7 == 0) ? mpz_class(rng() % 3) : RandomMpz(rng, kQ);
    Fq fa = FromMpz<Fq>(a), fb = FromMpz<Fq>(b);
    ASSERT_EQ(ToMpz(fa), a);
    EXPECT_EQ(ToMpz(fa + fb), mpz_class((a + b) % kQ));
    mpz_class diff = (a - b) % kQ;
    if (diff < 0) diff += kQ;
    EXPECT_EQ(ToMpz(fa - fb), diff);
    EXPECT_EQ(ToMpz(fa * fb), mpz_class((a * b) % kQ));
    EXPECT_EQ(ToMpz(fa.Square()), mpz_class((a * a) % kQ));
    EXPECT_EQ(ToMpz(fa.Double()), mpz_class((2 * a) % kQ));
    EXPECT_EQ(ToMpz(-fa), mpz_class((kQ - a) % kQ));
    if (a != 0) {
      mpz_class inv;
      mpz_invert(inv.get_mpz_t(), a.get_mpz_t(), kQ.get_mpz_t());
      EXPECT_EQ(ToMpz(fa.Inverse()), inv);
    }
    const uint64_t e = rng();
    mpz_class pw;
    mpz_powm_ui(pw.get_mpz_t(), a.get_mpz_t(), e, kQ.get_mpz_t());
    EXPECT_EQ(ToMpz(fa.Pow(e)), pw);
  }
}

TEST(Fq, SquareRootsAgreeWithTheLegendreSymbol) {
  auto rng = testing::SeededRng();
  int squares = 0;
  for (int i = 0; i < 500; ++i) {
    const mpz_class a = (i == 0) ? mpz_class(0) : RandomMpz(rng, kQ);
    const Fq fa = FromMpz<Fq>(a);
    const bool square = a == 0 || mpz_legendre(a.get_mpz_t(), kQ.get_mpz_t()) == 1;
    EXPECT_EQ(IsSquare(fa), square) << a;
    auto root = Sqrt(fa);
    ASSERT_EQ(root.has_value(), square) << a;
    if (root) {
      EXPECT_EQ(root->Square(), fa);
      ++squares;
    }
    // a² always has a root, and it is ±a.
    auto back = Sqrt(fa.Square());
    ASSERT_TRUE(back.has_value());
    EXPECT_TRUE(*back == fa || *back == -fa);
  }
  EXPECT_GT(squares, 150);                     // about half
  EXPECT_FALSE(Sqrt(-Fq::One()).has_value());  // q ≡ 3 (mod 4)
}

TEST(Fq, LexicographicSignSplitsAtHalfTheModulus) {
  const mpz_class half = (kQ - 1) / 2;
  EXPECT_FALSE(IsLexicographicallyLargest(Fq::Zero()));
  EXPECT_FALSE(IsLexicographicallyLargest(FromMpz<Fq>(half)));
  EXPECT_TRUE(IsLexicographicallyLargest(FromMpz<Fq>(half + 1)));
  EXPECT_TRUE(IsLexicographicallyLargest(-Fq::One()));
  auto rng = testing::SeededRng();
  for (int i = 0; i < 100; ++i) {
    const Fq a = testing::RandomFq(rng);
    if (a.IsZero()) continue;
    EXPECT_NE(IsLexicographicallyLargest(a), IsLexicographicallyLargest(-a));
  }
}

TEST(Fq, EncodingsRoundTripAndRefuseOutOfRange) {
  auto rng = testing::SeededRng();
  for (int i = 0; i < 200; ++i) {
    const Fq f = testing::RandomFq(rng);
    EXPECT_EQ(*Fq::FromBytesBE(f.ToBytesBE()), f);
    EXPECT_EQ(*Fq::FromBytesLE(f.ToBytesLE()), f);
    EXPECT_EQ(*Fq::FromMontgomeryBytesLE(f.ToMontgomeryBytesLE()), f);
    EXPECT_EQ(*Fq::Parse(f.ToDecimal()), f);
    EXPECT_EQ(*Fq::Parse(f.ToHex()), f);
  }
  // Montgomery bytes of 1 are 2^256 mod q, little-endian.
  const mpz_class r1 = (mpz_class(1) << 256) % kQ;
  const auto one = Fq::One().ToMontgomeryBytesLE();
  mpz_class got = 0;
  for (int i = 31; i >= 0; --i) got = (got << 8) + one[i];
  EXPECT_EQ(got, r1);
  std::array<uint8_t, 32> q_bytes = Fq::Zero().ToBytesLE();
  for (int i = 0; i < 32; ++i)
    q_bytes[i] = static_cast<uint8_t>(Fq::kModulus[i / 8] >> (8 * (i % 8)));
  EXPECT_TRUE(Fq::FromBytesLE(q_bytes).status().IsInvalidArgument());
  EXPECT_TRUE(Fq::FromMontgomeryBytesLE(q_bytes).status().IsInvalidArgument());
  EXPECT_TRUE(Fq::Parse(kQ.get_str()).status().IsInvalidArgument());
  const mpz_class top = kQ - 1;
  EXPECT_EQ(Fq::Parse(top.get_str())->ToDecimal(), top.get_str());
}

}  // namespace
}  // namespace rustorium::proof
