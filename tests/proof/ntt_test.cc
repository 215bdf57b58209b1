// NTT over Fr: the roots of unity, agreement with naive evaluation (plain and on a coset),
// round trips up to 2^16 on one and several threads, and refusal of bad sizes.
#include "proof/field/ntt.h"

#include <gtest/gtest.h>

#include <vector>

#include "tests/proof/curve_test_util.h"

namespace rustorium::proof {
namespace {

std::vector<Fr> RandomValues(std::mt19937_64& rng, std::size_t n) {
  std::vector<Fr> v;
  for (std::size_t i = 0; i < n; ++i) v.push_back(testing::RandomFr(rng));
  return v;
}

// Σ_j a_j·x^j by Horner's rule.
Fr Evaluate(const std::vector<Fr>& a, const Fr& x) {
  Fr acc;
  for (std::size_t j = a.size(); j-- > 0;) acc = acc * x + a[j];
  return acc;
}

TEST(Ntt, RootsOfUnityHaveTheirOrder) {
  // snarkjs's ω_{2^28} (ffjavascript 0.2.63, Fr.w[28]).
  EXPECT_EQ(RootOfUnity(28).ToDecimal(),
            "19103219067921713944291392827692070036145651957329286315305642004821462161904");
  for (int k = 0; k <= kFrTwoAdicity; ++k) {
    const Fr w = RootOfUnity(k);
    EXPECT_EQ(w.Pow(uint64_t{1} << k), Fr::One()) << k;
    if (k > 0) {
      EXPECT_EQ(w.Pow(uint64_t{1} << (k - 1)), -Fr::One()) << k;
    }
  }
  EXPECT_EQ(RootOfUnity(0), Fr::One());
}

TEST(Ntt, MatchesNaiveEvaluation) {
  auto rng = testing::SeededRng();
  const Fr shift = Fr::FromUint64(7);
  for (int log_n = 0; log_n <= 6; ++log_n) {
    const std::size_t n = std::size_t{1} << log_n;
    const std::vector<Fr> coefficients = RandomValues(rng, n);
    const Fr w = RootOfUnity(log_n);
    std::vector<Fr> values = coefficients;
    ASSERT_TRUE(Ntt(values).ok());
    std::vector<Fr> coset = coefficients;
    ASSERT_TRUE(CosetNtt(coset, shift).ok());
    Fr x = Fr::One();
    for (std::size_t i = 0; i < n; ++i) {
      EXPECT_EQ(values[i], Evaluate(coefficients, x)) << "n=" << n << " i=" << i;
      EXPECT_EQ(coset[i], Evaluate(coefficients, shift * x)) << "n=" << n << " i=" << i;
      x *= w;
    }
    ASSERT_TRUE(InverseNtt(values).ok());
    EXPECT_EQ(values, coefficients);
    ASSERT_TRUE(InverseCosetNtt(coset, shift).ok());
    EXPECT_EQ(coset, coefficients);
  }
}

TEST(Ntt, RoundTripsOnOneAndSeveralThreads) {
  auto rng = testing::SeededRng();
  for (int log_n : {12, 13, 16}) {
    const std::size_t n = std::size_t{1} << log_n;
    const std::vector<Fr> coefficients = RandomValues(rng, n);
    std::vector<Fr> serial = coefficients;
    ASSERT_TRUE(Ntt(serial, {.threads = 1}).ok());
    for (int threads : {2, 3, 4, 8}) {
      std::vector<Fr> parallel = coefficients;
      ASSERT_TRUE(Ntt(parallel, {.threads = threads}).ok());
      EXPECT_EQ(parallel, serial) << "n=" << n << " threads=" << threads;
    }
    // Spot checks against direct evaluation.
    const Fr w = RootOfUnity(log_n);
    for (int probe = 0; probe < 3; ++probe) {
      const std::size_t i = rng() % n;
      EXPECT_EQ(serial[i], Evaluate(coefficients, w.Pow(i)));
    }
    ASSERT_TRUE(InverseNtt(serial, {.threads = 2}).ok());
    EXPECT_EQ(serial, coefficients);
    std::vector<Fr> coset = coefficients;
    const Fr shift = RootOfUnity(log_n + 1);  // snarkjs's odd coset
    ASSERT_TRUE(CosetNtt(coset, shift, {.threads = 2}).ok());
    EXPECT_EQ(coset[5], Evaluate(coefficients, shift * w.Pow(5)));
    ASSERT_TRUE(InverseCosetNtt(coset, shift).ok());
    EXPECT_EQ(coset, coefficients);
  }
}

TEST(Ntt, ConvolutionThroughTheTransform) {
  // Polynomial product by pointwise multiplication of evaluations.
  auto rng = testing::SeededRng();
  const std::vector<Fr> a = RandomValues(rng, 5), b = RandomValues(rng, 7);
  std::vector<Fr> want(a.size() + b.size() - 1);
  for (std::size_t i = 0; i < a.size(); ++i) {
    for (std::size_t j = 0; j < b.size(); ++j) want[i + j] += a[i] * b[j];
  }
  std::vector<Fr> fa(16), fb(16);
  std::copy(a.begin(), a.end(), fa.begin());
  std::copy(b.begin(), b.end(), fb.begin());
  ASSERT_TRUE(Ntt(fa).ok());
  ASSERT_TRUE(Ntt(fb).ok());
  for (std::size_t i = 0; i < 16; ++i) fa[i] *= fb[i];
  ASSERT_TRUE(InverseNtt(fa).ok());
  want.resize(16);
  EXPECT_EQ(fa, want);
}

TEST(Ntt, RefusesBadSizesAndShifts) {
  std::vector<Fr> empty, three(3), four(4);
  EXPECT_TRUE(Ntt(empty).IsInvalidArgument());
  EXPECT_TRUE(Ntt(three).IsInvalidArgument());
  EXPECT_TRUE(InverseNtt(three).IsInvalidArgument());
  EXPECT_TRUE(CosetNtt(four, Fr::Zero()).IsInvalidArgument());
  EXPECT_TRUE(InverseCosetNtt(four, Fr::Zero()).IsInvalidArgument());
}

}  // namespace
}  // namespace rustorium::proof
