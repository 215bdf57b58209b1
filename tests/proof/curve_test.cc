// G1 and G2: group laws, scalar multiplication against double-and-add (and, for G1, against
// affine arithmetic in GMP), the generators and the group orders, batch affine conversion,
// and the encodings (round trips, and refusal of points off the curve or outside G2).
#include <gmpxx.h>
#include <gtest/gtest.h>

#include <vector>

#include "proof/curve/g1.h"
#include "proof/curve/g2.h"
#include "tests/proof/curve_test_util.h"

namespace rustorium::proof {
namespace {

using testing::FromMpz;
using testing::kQ;
using testing::kR;
using testing::ToMpz;

Limbs MpzToLimbs4(const mpz_class& v) {
  const auto limbs = testing::MpzToLimbs(v);
  EXPECT_LE(limbs.size(), 4u);
  Limbs out{};
  for (std::size_t i = 0; i < limbs.size() && i < 4; ++i) out[i] = limbs[i];
  return out;
}

// Per-group hooks for the typed tests.
template <typename C>
struct Group;

template <>
struct Group<G1Curve> {
  static G1Affine Generator() { return G1Generator(); }
  static Fq RandomField(std::mt19937_64& rng) { return testing::RandomFq(rng); }
};

template <>
struct Group<G2Curve> {
  static G2Affine Generator() { return G2Generator(); }
  static Fq2 RandomField(std::mt19937_64& rng) { return testing::RandomFq2(rng); }
};

template <typename C>
class CurveTest : public ::testing::Test {
 protected:
  using Affine = AffinePoint<C>;
  using Point = JacobianPoint<C>;
  using F = typename C::Field;

  // A random point of the group: a random multiple of the generator.
  Point RandomPoint() { return Point(Group<C>::Generator()) * testing::RandomFr(rng_); }
  // The same point with its Jacobian coordinates rescaled by a random λ.
  Point Rescaled(const Point& p) {
    const F l = Group<C>::RandomField(rng_);
    const F l2 = l.Square();
    return Point::FromCoordinates(p.x() * l2, p.y() * l2 * l, p.z() * l);
  }
  // The reference: plain double-and-add from the top bit.
  static Point DoubleAndAdd(const Point& p, const Limbs& k) {
    Point acc;
    for (int i = 255; i >= 0; --i) {
      acc = acc.Double();
      if ((k[i / 64] >> (i % 64)) & 1) acc = acc + p;
    }
    return acc;
  }

  std::mt19937_64 rng_ = testing::SeededRng();
};

using Curves = ::testing::Types<G1Curve, G2Curve>;
TYPED_TEST_SUITE(CurveTest, Curves);

TYPED_TEST(CurveTest, GeneratorHasOrderR) {
  using Point = typename TestFixture::Point;
  const auto g = Group<TypeParam>::Generator();
  ASSERT_TRUE(g.IsOnCurve());
  const Point gj(g);
  EXPECT_TRUE(gj.Mul(Fr::kModulus).IsInfinity());
  EXPECT_FALSE(gj.IsInfinity());
  EXPECT_EQ(gj.Mul(MpzToLimbs4(kR - 1)), -gj);
  EXPECT_EQ(gj.Mul(MpzToLimbs4(kR + 1)), gj);
  EXPECT_EQ(gj * Fr::One(), gj);
  EXPECT_TRUE((gj * Fr::Zero()).IsInfinity());
}

TYPED_TEST(CurveTest, GroupLaws) {
  using Point = typename TestFixture::Point;
  const Point o;
  for (int i = 0; i < 30; ++i) {
    const Point a = this->RandomPoint(), b = this->RandomPoint(), c = this->RandomPoint();
    ASSERT_TRUE(a.IsOnCurve());
    EXPECT_EQ((a + b) + c, a + (b + c));
    EXPECT_EQ(a + b, b + a);
    EXPECT_EQ(a + o, a);
    EXPECT_EQ(o + a, a);
    EXPECT_TRUE((a - a).IsInfinity());
    EXPECT_TRUE((a + -a).IsInfinity());
    EXPECT_EQ(a + a, a.Double());
    EXPECT_EQ(a + this->Rescaled(a), a.Double());  // doubling found through addition
    EXPECT_EQ(this->Rescaled(a), a);
    EXPECT_NE(a, b);
    EXPECT_NE(a, o);
    // Mixed addition agrees with the general one, in all its cases.
    const auto b_affine = b.ToAffine();
    EXPECT_EQ(this->Rescaled(a) + b_affine, a + b);
    EXPECT_EQ(a + a.ToAffine(), a.Double());
    EXPECT_TRUE((a + (-a).ToAffine()).IsInfinity());
    EXPECT_EQ(o + b_affine, b);
    EXPECT_EQ(a + TestFixture::Affine::Infinity(), a);
    EXPECT_TRUE((a + b).IsOnCurve());
    EXPECT_TRUE(a.Double().IsOnCurve());
    EXPECT_TRUE(b_affine.IsOnCurve());
  }
  EXPECT_TRUE(o.Double().IsInfinity());
  EXPECT_TRUE((o + o).IsInfinity());
  EXPECT_TRUE((-o).IsInfinity());
}

TYPED_TEST(CurveTest, ScalarMultiplicationMatchesDoubleAndAdd) {
  using Point = typename TestFixture::Point;
  const Point p = this->RandomPoint();
  std::vector<Limbs> scalars = {
      {0, 0, 0, 0},          {1, 0, 0, 0},
      {2, 0, 0, 0},          {15, 0, 0, 0},
      {31, 0, 0, 0},         {~0ULL, ~0ULL, ~0ULL, ~0ULL},  // 2^256 - 1: the NAF is 257 digits
      {0, 0, 0, 1ULL << 63}, Fr::kModulus,
      MpzToLimbs4(kR - 1)};
  for (int i = 0; i < 12; ++i) {
    scalars.push_back({this->rng_(), this->rng_(), this->rng_(), this->rng_()});
  }
  for (const Limbs& k : scalars) {
    EXPECT_EQ(p.Mul(k), TestFixture::DoubleAndAdd(p, k)) << k[0] << " " << k[3];
  }
  // Linearity in the scalar.
  for (int i = 0; i < 10; ++i) {
    const Fr a = testing::RandomFr(this->rng_), b = testing::RandomFr(this->rng_);
    EXPECT_EQ(p * (a + b), p * a + p * b);
    EXPECT_EQ((p * a) * b, p * (a * b));
    EXPECT_EQ(p * (-a), -(p * a));
  }
}

TYPED_TEST(CurveTest, BatchToAffineMatchesOneByOne) {
  using Point = typename TestFixture::Point;
  std::vector<Point> points;
  for (int i = 0; i < 20; ++i) {
    points.push_back(i % 7 == 3 ? Point::Infinity() : this->Rescaled(this->RandomPoint()));
  }
  const auto affine = Point::BatchToAffine(points);
  ASSERT_EQ(affine.size(), points.size());
  for (std::size_t i = 0; i < points.size(); ++i) {
    EXPECT_EQ(affine[i], points[i].ToAffine());
    EXPECT_EQ(Point(affine[i]), points[i]);
  }
  EXPECT_TRUE(Point::BatchToAffine(std::vector<Point>{}).empty());
  EXPECT_TRUE(Point::BatchToAffine(std::vector<Point>{Point()})[0].IsInfinity());
}

// G1 against affine arithmetic written independently in GMP.
struct MpzPoint {
  mpz_class x, y;
  bool infinity = true;
};

mpz_class Mod(const mpz_class& v) {
  mpz_class m = v % kQ;
  if (m < 0) m += kQ;
  return m;
}

mpz_class InvMod(const mpz_class& v) {
  mpz_class inv;
  mpz_invert(inv.get_mpz_t(), v.get_mpz_t(), kQ.get_mpz_t());
  return inv;
}

MpzPoint MpzAdd(const MpzPoint& a, const MpzPoint& b) {
  if (a.infinity) return b;
  if (b.infinity) return a;
  mpz_class lambda;
  if (a.x == b.x) {
    if (Mod(a.y + b.y) == 0) return {};
    lambda = Mod(3 * a.x * a.x * InvMod(Mod(2 * a.y)));
  } else {
    lambda = Mod((b.y - a.y) * InvMod(Mod(b.x - a.x)));
  }
  MpzPoint r;
  r.infinity = false;
  r.x = Mod(lambda * lambda - a.x - b.x);
  r.y = Mod(lambda * (a.x - r.x) - a.y);
  return r;
}

TEST(G1, MultiplesAgreeWithGmpAffineArithmetic) {
  auto rng = testing::SeededRng();
  const MpzPoint g{1, 2, false};
  for (int i = 0; i < 10; ++i) {
    const mpz_class k = i == 0 ? mpz_class(2) : testing::RandomMpz(rng, kR);
    MpzPoint acc, base = g;
    for (std::size_t bit = 0; bit < mpz_sizeinbase(k.get_mpz_t(), 2); ++bit) {
      if (mpz_tstbit(k.get_mpz_t(), bit)) acc = MpzAdd(acc, base);
      base = MpzAdd(base, base);
    }
    const G1Affine ours = G1(G1Generator()).Mul(MpzToLimbs4(k)).ToAffine();
    ASSERT_FALSE(ours.IsInfinity());
    EXPECT_EQ(ToMpz(ours.x()), acc.x) << k;
    EXPECT_EQ(ToMpz(ours.y()), acc.y) << k;
  }
  // 2·G1, as published with EIP-196's test vectors.
  const G1Affine two = G1(G1Generator()).Double().ToAffine();
  EXPECT_EQ(two.x().ToDecimal(),
            "1368015179489954701390400359078579693043519447331113978918064868415326638035");
  EXPECT_EQ(two.y().ToDecimal(),
            "9918110051302171585080402603319702774565515993150576347155970296011118125764");
}

// A point of E'(Fq2) that is (almost surely) not in G2: a random x with a square x³ + b.
G2Affine RandomTwistPoint(std::mt19937_64& rng) {
  for (;;) {
    const Fq2 x = testing::RandomFq2(rng);
    if (auto y = Sqrt(x.Square() * x + G2Curve::kB)) return G2Affine(x, *y);
  }
}

TEST(G2, TwistHasOrderRTimesCofactor) {
  auto rng = testing::SeededRng();
  EXPECT_EQ(G2Curve::kB * Fq2::NonResidue(), (Fq2{Fq::FromUint64(3), Fq::Zero()}));
  EXPECT_TRUE(IsInG2Subgroup(G2Generator()));
  // #E'(Fq2) = r·(2q - r): clearing the cofactor lands in G2.
  const Limbs cofactor = MpzToLimbs4(2 * kQ - kR);
  for (int i = 0; i < 3; ++i) {
    const G2Affine p = RandomTwistPoint(rng);
    ASSERT_TRUE(p.IsOnCurve());
    EXPECT_FALSE(IsInG2Subgroup(p));
    const G2 cleared = G2(p).Mul(cofactor);
    EXPECT_FALSE(cleared.IsInfinity());
    EXPECT_TRUE(IsInG2Subgroup(cleared));
  }
}

template <typename Point, typename Encode, typename Decode>
void ExpectRoundTrip(const Point& p, Encode encode, Decode decode) {
  const auto bytes = encode(p);
  auto back = decode(bytes);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, p);
}

TEST(G1, EncodingsRoundTrip) {
  auto rng = testing::SeededRng();
  std::vector<G1Affine> points = {G1Affine::Infinity(), G1Generator(), -G1Generator()};
  for (int i = 0; i < 20; ++i)
    points.push_back((G1(G1Generator()) * testing::RandomFr(rng)).ToAffine());
  for (const G1Affine& p : points) {
    ExpectRoundTrip(p, EncodeG1Uncompressed, DecodeG1Uncompressed);
    ExpectRoundTrip(p, EncodeG1Compressed, DecodeG1Compressed);
    ExpectRoundTrip(p, EncodeG1Snarkjs, DecodeG1Snarkjs);
    const auto json = G1ToSnarkjsJson(p);
    auto back = G1FromSnarkjsJson(json);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, p);
    if (!p.IsInfinity()) {
      // Affine (two coordinates) and Jacobian with z != 1 are read too.
      auto two = G1FromSnarkjsJson(std::span<const std::string>(json.data(), 2));
      ASSERT_TRUE(two.ok());
      EXPECT_EQ(*two, p);
      const G1 scaled = G1::FromCoordinates(p.x() * Fq::FromUint64(4), p.y() * Fq::FromUint64(8),
                                            Fq::FromUint64(2));
      const std::array<std::string, 3> jac = {scaled.x().ToDecimal(), scaled.y().ToDecimal(), "2"};
      EXPECT_EQ(*G1FromSnarkjsJson(jac), p);
    }
  }
  EXPECT_EQ(G1ToSnarkjsJson(G1Affine::Infinity()), (std::array<std::string, 3>{"0", "1", "0"}));
  EXPECT_EQ(G1ToSnarkjsJson(G1Generator()), (std::array<std::string, 3>{"1", "2", "1"}));
  EXPECT_EQ(EncodeG1Compressed(G1Affine::Infinity())[0], 0x40);
  // The generator's y = 2 is the smaller root: no flag.
  EXPECT_EQ(EncodeG1Compressed(G1Generator())[0], 0x00);
  EXPECT_EQ(EncodeG1Compressed(-G1Generator())[0], 0x80);
}

TEST(G1, DecodersRefuseBadPoints) {
  const G1Affine g = G1Generator();
  auto off = EncodeG1Uncompressed(g);
  off[63] ^= 1;  // y = 3: not on the curve
  EXPECT_TRUE(DecodeG1Uncompressed(off).status().IsInvalidArgument());
  auto big = EncodeG1Uncompressed(g);
  big[0] |= 0x80;  // x >= q
  EXPECT_TRUE(DecodeG1Uncompressed(big).status().IsInvalidArgument());
  big = EncodeG1Uncompressed(G1Affine::Infinity());
  big[0] = 0x40;  // the compressed form's infinity flag is not an uncompressed encoding
  EXPECT_TRUE(DecodeG1Uncompressed(big).status().IsInvalidArgument());

  auto snark = EncodeG1Snarkjs(g);
  snark[40] ^= 1;
  EXPECT_TRUE(DecodeG1Snarkjs(snark).status().IsInvalidArgument());
  snark.fill(0xff);
  EXPECT_TRUE(DecodeG1Snarkjs(snark).status().IsInvalidArgument());

  auto comp = EncodeG1Compressed(G1Affine::Infinity());
  comp[31] = 1;  // infinity flag with a nonzero x
  EXPECT_TRUE(DecodeG1Compressed(comp).status().IsInvalidArgument());
  comp = EncodeG1Compressed(g);
  comp[0] |= 0xc0;
  EXPECT_TRUE(DecodeG1Compressed(comp).status().IsInvalidArgument());
  // An x with no point: x³ + 3 not a square.
  for (uint64_t x = 1;; ++x) {
    const Fq fx = Fq::FromUint64(x);
    if (IsSquare(fx.Square() * fx + G1Curve::kB)) continue;
    EXPECT_TRUE(DecodeG1Compressed(fx.ToBytesBE()).status().IsInvalidArgument()) << x;
    break;
  }
  // x = q (and above) is refused rather than reduced.
  std::array<uint8_t, 32> q_bytes{};
  for (int i = 0; i < 32; ++i)
    q_bytes[31 - i] = static_cast<uint8_t>(Fq::kModulus[i / 8] >> (8 * (i % 8)));
  EXPECT_TRUE(DecodeG1Compressed(q_bytes).status().IsInvalidArgument());

  const std::vector<std::vector<std::string>> bad_json = {
      {"1", "3", "1"}, {"1"}, {"1", "2", "1", "1"}, {"1", "x"}, {kQ.get_str(), "2"}, {"", "2"}};
  for (const auto& j : bad_json) {
    EXPECT_TRUE(G1FromSnarkjsJson(j).status().IsInvalidArgument()) << j[0];
  }
  // ffjavascript reads z = 0 as infinity whatever x and y are.
  EXPECT_TRUE(G1FromSnarkjsJson(std::vector<std::string>{"5", "7", "0"})->IsInfinity());
}

TEST(G2, EncodingsRoundTripAndRefuseBadPoints) {
  auto rng = testing::SeededRng();
  std::vector<G2Affine> points = {G2Affine::Infinity(), G2Generator(), -G2Generator()};
  for (int i = 0; i < 8; ++i)
    points.push_back((G2(G2Generator()) * testing::RandomFr(rng)).ToAffine());
  auto uncompressed = [](std::span<const uint8_t, 128> b) { return DecodeG2Uncompressed(b); };
  auto compressed = [](std::span<const uint8_t, 64> b) { return DecodeG2Compressed(b); };
  auto snarkjs = [](std::span<const uint8_t, 128> b) { return DecodeG2Snarkjs(b); };
  for (const G2Affine& p : points) {
    ExpectRoundTrip(p, EncodeG2Uncompressed, uncompressed);
    ExpectRoundTrip(p, EncodeG2Compressed, compressed);
    ExpectRoundTrip(p, EncodeG2Snarkjs, snarkjs);
    const auto json = G2ToSnarkjsJson(p);
    EXPECT_EQ(*G2FromSnarkjsJson(json), p);
  }
  // EIP-197 order: x.c1 is the first 32 bytes of the big-endian forms.
  const auto gen = EncodeG2Uncompressed(G2Generator());
  EXPECT_EQ(*Fq::FromBytesBE(std::span<const uint8_t, 32>(gen.data(), 32)), G2Generator().x().c1);
  EXPECT_EQ(G2ToSnarkjsJson(G2Affine::Infinity())[1][0], "1");

  // On the twist but outside G2: refused by every decoder unless the check is skipped.
  const G2Affine outside = RandomTwistPoint(rng);
  EXPECT_TRUE(DecodeG2Uncompressed(EncodeG2Uncompressed(outside)).status().IsInvalidArgument());
  EXPECT_TRUE(DecodeG2Compressed(EncodeG2Compressed(outside)).status().IsInvalidArgument());
  EXPECT_TRUE(DecodeG2Snarkjs(EncodeG2Snarkjs(outside)).status().IsInvalidArgument());
  EXPECT_TRUE(G2FromSnarkjsJson(G2ToSnarkjsJson(outside)).status().IsInvalidArgument());
  EXPECT_EQ(*DecodeG2Snarkjs(EncodeG2Snarkjs(outside), SubgroupCheck::kSkip), outside);
  EXPECT_EQ(*DecodeG2Compressed(EncodeG2Compressed(outside), SubgroupCheck::kSkip), outside);

  // Off the curve.
  auto off = EncodeG2Uncompressed(G2Generator());
  off[127] ^= 1;
  EXPECT_TRUE(DecodeG2Uncompressed(off, SubgroupCheck::kSkip).status().IsInvalidArgument());
  auto snark = EncodeG2Snarkjs(G2Generator());
  snark[100] ^= 1;
  EXPECT_TRUE(DecodeG2Snarkjs(snark, SubgroupCheck::kSkip).status().IsInvalidArgument());
  auto comp = EncodeG2Compressed(G2Affine::Infinity());
  comp[63] = 1;
  EXPECT_TRUE(DecodeG2Compressed(comp).status().IsInvalidArgument());
}

}  // namespace
}  // namespace rustorium::proof
