// Multi-scalar multiplication against naive summation, over random sizes and every window
// width, on one and several threads, with zero scalars, repeated points, points at infinity
// and extreme scalars.
#include "proof/curve/msm.h"

#include <gtest/gtest.h>

#include <vector>

#include "tests/proof/curve_test_util.h"

namespace rustorium::proof {
namespace {

template <typename C>
struct MsmCase {
  std::vector<AffinePoint<C>> points;
  std::vector<Fr> scalars;
};

template <typename C>
JacobianPoint<C> Naive(const MsmCase<C>& m) {
  JacobianPoint<C> sum;
  for (std::size_t i = 0; i < m.points.size(); ++i)
    sum += JacobianPoint<C>(m.points[i]) * m.scalars[i];
  return sum;
}

template <typename C>
AffinePoint<C> Generator();
template <>
G1Affine Generator<G1Curve>() {
  return G1Generator();
}
template <>
G2Affine Generator<G2Curve>() {
  return G2Generator();
}

// n points and scalars with the edge cases mixed in.
template <typename C>
MsmCase<C> MakeCase(std::mt19937_64& rng, std::size_t n) {
  MsmCase<C> m;
  // A few random base points; the rest are small multiples of them, so that building the
  // input stays cheap (batch conversion) while the points stay distinct.
  std::vector<JacobianPoint<C>> jac;
  JacobianPoint<C> step = JacobianPoint<C>(Generator<C>()) * testing::RandomFr(rng);
  JacobianPoint<C> cur = step;
  for (std::size_t i = 0; i < n; ++i) {
    jac.push_back(cur);
    cur += step;
  }
  m.points = JacobianPoint<C>::BatchToAffine(jac);
  for (std::size_t i = 0; i < n; ++i) {
    switch (rng() % 10) {
      case 0:
        m.scalars.push_back(Fr::Zero());
        break;
      case 1:
        m.scalars.push_back(-Fr::One());
        break;  // r - 1: every window, top carry
      case 2:
        m.scalars.push_back(Fr::FromUint64(rng() % 5));
        break;
      default:
        m.scalars.push_back(testing::RandomFr(rng));
        break;
    }
    if (i > 0 && rng() % 8 == 0) m.points[i] = m.points[rng() % i];  // repeated point
    if (rng() % 12 == 0) m.points[i] = AffinePoint<C>::Infinity();
  }
  return m;
}

template <typename C>
void ExpectMsmMatches(const MsmCase<C>& m, const MsmOptions& options,
                      const JacobianPoint<C>& want) {
  auto got = MultiScalarMul(m.points, m.scalars, options);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, want) << "n=" << m.points.size() << " c=" << options.window_bits
                        << " threads=" << options.threads;
}

TEST(Msm, G1MatchesNaiveSummation) {
  auto rng = testing::SeededRng();
  for (std::size_t n : {0, 1, 2, 3, 5, 17, 64, 100, 250}) {
    const auto m = MakeCase<G1Curve>(rng, n);
    const G1 want = Naive(m);
    ExpectMsmMatches(m, {}, want);
    for (int c : {1, 2, 3, 4, 7, 8, 11, 15})
      ExpectMsmMatches(m, {.threads = 1, .window_bits = c}, want);
  }
}

TEST(Msm, G2MatchesNaiveSummation) {
  auto rng = testing::SeededRng();
  for (std::size_t n : {0, 1, 4, 9, 40}) {
    const auto m = MakeCase<G2Curve>(rng, n);
    const G2 want = Naive(m);
    ExpectMsmMatches(m, {}, want);
    for (int c : {1, 3, 6, 13}) ExpectMsmMatches(m, {.threads = 1, .window_bits = c}, want);
  }
}

TEST(Msm, ThreadsAgreeOnLargerInputs) {
  auto rng = testing::SeededRng();
  // Above the serial threshold, so the threads really split the windows.
  const auto m = MakeCase<G1Curve>(rng, 3000);
  auto one = MultiScalarMul(m.points, m.scalars, {.threads = 1});
  ASSERT_TRUE(one.ok());
  for (int threads : {2, 3, 8}) {
    for (int c : {0, 5, 12}) ExpectMsmMatches(m, {.threads = threads, .window_bits = c}, *one);
  }
  // And the result is right: a 200-point prefix against the naive sum.
  MsmCase<G1Curve> prefix{{m.points.begin(), m.points.begin() + 200},
                          {m.scalars.begin(), m.scalars.begin() + 200}};
  ExpectMsmMatches(prefix, {.threads = 2}, Naive(prefix));
  // Linearity: MSM(P, a) + MSM(P, b) = MSM(P, a + b).
  std::vector<Fr> b, sum;
  for (const Fr& a : m.scalars) {
    b.push_back(testing::RandomFr(rng));
    sum.push_back(a + b.back());
  }
  EXPECT_EQ(*one + *MultiScalarMul(m.points, b, {.threads = 2}),
            *MultiScalarMul(m.points, sum, {.threads = 2}));
}

// The affine-bucket path (digits over 2^10 buckets or more, 2048 points or more): every bucket sees
// sums, doublings (the same point twice) and cancellations (P and -P), and points at
// infinity, on G1 and G2, against the naive sum.
template <typename C>
void ExpectAffineBucketsMatch(int c) {
  auto rng = testing::SeededRng();
  MsmCase<C> m = MakeCase<C>(rng, 2048);
  for (std::size_t i = 0; i + 1 < m.points.size(); i += 16) {
    m.points[i + 1] = m.points[i];  // doubling
    m.scalars[i + 1] = m.scalars[i];
    m.points[i + 3] = -m.points[i + 2];  // cancellation
    m.scalars[i + 3] = m.scalars[i + 2];
  }
  const JacobianPoint<C> want = Naive(m);
  for (int threads : {1, 2}) ExpectMsmMatches(m, {.threads = threads, .window_bits = c}, want);
  ExpectMsmMatches(m, {.threads = 1, .window_bits = c, .affine_buckets = false}, want);
  // One digit decomposition shared by two MSMs over the same scalars.
  auto digits = MsmDigits::Recode(m.scalars, {.threads = 1, .window_bits = c});
  ASSERT_TRUE(digits.ok());
  EXPECT_EQ(digits->window_bits(), c);
  auto shared = MultiScalarMul(m.points, *digits);
  ASSERT_TRUE(shared.ok());
  EXPECT_EQ(*shared, want);
}

// Digits crowded into eight buckets of a wide window: nearly every point meets its bucket
// busy and waits, so the waiting points are requeued batch after batch.
TEST(Msm, AffineBucketsWithCrowdedDigits) {
  auto rng = testing::SeededRng();
  MsmCase<G1Curve> m = MakeCase<G1Curve>(rng, 4096);
  for (std::size_t i = 0; i < m.scalars.size(); ++i) m.scalars[i] = Fr::FromUint64(1 + i % 8);
  const G1 want = Naive(m);
  ExpectMsmMatches(m, {.threads = 1, .window_bits = 12}, want);
  ExpectMsmMatches(m, {.threads = 2, .window_bits = 11}, want);
}

TEST(Msm, AffineBucketsMatchNaiveSummation) {
  ExpectAffineBucketsMatch<G1Curve>(11);
  ExpectAffineBucketsMatch<G1Curve>(15);  // 2^14 buckets: batches of one point per bucket
  ExpectAffineBucketsMatch<G2Curve>(12);
}

TEST(Msm, DigitsRefuseMismatchedPoints) {
  const std::vector<Fr> scalars(3, Fr::One());
  auto digits = MsmDigits::Recode(scalars);
  ASSERT_TRUE(digits.ok());
  const std::vector<G1Affine> two(2, G1Generator());
  EXPECT_TRUE(MultiScalarMul(two, *digits).status().IsInvalidArgument());
  const std::vector<G2Affine> three(3, G2Generator());
  EXPECT_EQ(*MultiScalarMul(three, *digits), G2(G2Generator()) * Fr::FromUint64(3));
  EXPECT_TRUE(MsmDigits::Recode(scalars, {.window_bits = 16}).status().IsInvalidArgument());
}

TEST(Msm, RefusesMismatchedInputsAndBadOptions) {
  const std::vector<G1Affine> points(3, G1Generator());
  const std::vector<Fr> scalars(2, Fr::One());
  EXPECT_TRUE(MultiScalarMul(points, scalars).status().IsInvalidArgument());
  const std::vector<Fr> three(3, Fr::One());
  EXPECT_TRUE(MultiScalarMul(points, three, {.window_bits = 16}).status().IsInvalidArgument());
  EXPECT_TRUE(MultiScalarMul(points, three, {.threads = -1}).status().IsInvalidArgument());
  EXPECT_EQ(*MultiScalarMul(points, three), G1(G1Generator()) * Fr::FromUint64(3));
}

TEST(Msm, WindowWidthGrowsWithInputSize) {
  EXPECT_LE(MsmWindowBits(1), 3);
  EXPECT_EQ(MsmWindowBits(1 << 16), 13);
  EXPECT_EQ(MsmWindowBits(1 << 20), 15);
  int last = 0;
  for (std::size_t n = 1; n < (1u << 22); n *= 2) {
    EXPECT_GE(MsmWindowBits(n), last);
    last = MsmWindowBits(n);
  }
}

}  // namespace
}  // namespace rustorium::proof
