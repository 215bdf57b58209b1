#include "proof/field/fr.h"

#include <gmpxx.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <random>
#include <vector>

#include "proof/curve/fq.h"

namespace rustorium::proof {
namespace {

const mpz_class kR("21888242871839275222246405745257275088548364400416034343698204186575808495617");

mpz_class ToMpz(const Fr& f) { return mpz_class(f.ToDecimal()); }

Fr FromMpz(const mpz_class& v) {
  auto f = Fr::FromDecimal(v.get_str(10));
  EXPECT_TRUE(f.ok()) << v.get_str(10);
  return *f;
}

mpz_class Random(std::mt19937_64& rng, const mpz_class& below) {
  mpz_class v = 0;
  for (int i = 0; i < 5; ++i) v = (v << 64) + mpz_class(std::to_string(rng()));
  return v % below;
}

TEST(Fr, ModulusMatchesTheKnownDecimal) {
  Limbs r = Fr::kModulus;
  mpz_class m = 0;
  for (int i = 3; i >= 0; --i) m = (m << 64) + mpz_class(std::to_string(r[i]));
  EXPECT_EQ(m, kR);
}

TEST(Fr, ArithmeticAgreesWithGmpOnRandomInputs) {
  std::mt19937_64 rng(42);
  for (int i = 0; i < 2000; ++i) {
    // Mix uniform values with edge values near 0 and r.
    mpz_class a = (i % 10 == 0) ? kR - 1 - (rng() % 3) : Random(rng, kR);
    mpz_class b = (i % 7 == 0) ? mpz_class(rng() % 3) : Random(rng, kR);
    Fr fa = FromMpz(a), fb = FromMpz(b);
    EXPECT_EQ(ToMpz(fa), a);
    EXPECT_EQ(ToMpz(fa + fb), mpz_class((a + b) % kR));
    mpz_class diff = (a - b) % kR;
    if (diff < 0) diff += kR;
    EXPECT_EQ(ToMpz(fa - fb), diff);
    EXPECT_EQ(ToMpz(fa * fb), mpz_class((a * b) % kR));
    EXPECT_EQ(ToMpz(fa.Square()), mpz_class((a * a) % kR));
    mpz_class neg = (kR - a) % kR;
    EXPECT_EQ(ToMpz(-fa), neg);
    if (a != 0) {
      mpz_class inv;
      mpz_invert(inv.get_mpz_t(), a.get_mpz_t(), kR.get_mpz_t());
      EXPECT_EQ(ToMpz(fa.Inverse()), inv);
      EXPECT_EQ(fa * fa.Inverse(), Fr::One());
    }
    uint64_t e = rng();
    mpz_class pw;
    mpz_powm_ui(pw.get_mpz_t(), a.get_mpz_t(), e, kR.get_mpz_t());
    EXPECT_EQ(ToMpz(fa.Pow(e)), pw);
  }
}

TEST(Fr, InverseOfZeroIsZero) { EXPECT_TRUE(Fr::Zero().Inverse().IsZero()); }

TEST(Fr, ParsingAndPrinting) {
  EXPECT_EQ(Fr::Parse("0")->ToDecimal(), "0");
  EXPECT_EQ(Fr::Parse("123")->ToDecimal(), "123");
  EXPECT_EQ(Fr::Parse("0x7b")->ToDecimal(), "123");
  EXPECT_EQ(Fr::Parse("0X7B")->ToDecimal(), "123");
  EXPECT_EQ(Fr::Parse("000123")->ToDecimal(), "123");
  EXPECT_EQ(Fr::FromUint64(255).ToHex(),
            "0x00000000000000000000000000000000000000000000000000000000000000ff");
  const std::string r_minus_1 =
      "21888242871839275222246405745257275088548364400416034343698204186575808495616";
  auto top = Fr::Parse(r_minus_1);
  ASSERT_TRUE(top.ok());
  EXPECT_EQ(top->ToDecimal(), r_minus_1);
  EXPECT_EQ(*top + Fr::One(), Fr::Zero());
  EXPECT_EQ(top->ToHex(), "0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000000");
  EXPECT_EQ(Fr::Parse(top->ToHex())->ToDecimal(), r_minus_1);
}

TEST(Fr, RefusesOutOfRangeAndMalformedInput) {
  const char* bad[] = {
      "21888242871839275222246405745257275088548364400416034343698204186575808495617",  // r
      "0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001",             // r
      "0x"
      "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",  // 2^256-1
      "1"
      "0000000000000000000000000000000000000000000000000000000000000000000000000000000",  // > 2^256
      "",
      "0x",
      "-1",
      "+1",
      " 1",
      "1 ",
      "12a",
      "0xg",
      "1e5",
      "0b101",
  };
  for (const char* text : bad) {
    auto f = Fr::Parse(text);
    EXPECT_FALSE(f.ok()) << "'" << text << "' was accepted";
    EXPECT_TRUE(f.status().IsInvalidArgument()) << text;
  }
}

TEST(Fr, ByteEncodingsRoundTripAndRefuseOutOfRange) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 200; ++i) {
    Fr f = FromMpz(Random(rng, kR));
    auto be = f.ToBytesBE();
    auto le = f.ToBytesLE();
    for (int j = 0; j < 32; ++j) EXPECT_EQ(be[j], le[31 - j]);
    EXPECT_EQ(*Fr::FromBytesBE(be), f);
    EXPECT_EQ(*Fr::FromBytesLE(le), f);
  }
  std::array<uint8_t, 32> all_ones;
  all_ones.fill(0xff);
  EXPECT_TRUE(Fr::FromBytesBE(all_ones).status().IsInvalidArgument());
  EXPECT_TRUE(Fr::FromBytesLE(all_ones).status().IsInvalidArgument());
  auto one = Fr::One().ToBytesBE();
  EXPECT_EQ(one[31], 1);
  EXPECT_EQ(one[0], 0);
}

TEST(Fr, ReducedConstructionTakesAny256BitValue) {
  Limbs ones = {~0ULL, ~0ULL, ~0ULL, ~0ULL};
  mpz_class v = (mpz_class(1) << 256) - 1;
  EXPECT_EQ(ToMpz(Fr::FromLimbsReduced(ones)), mpz_class(v % kR));
}

}  // namespace
}  // namespace rustorium::proof

namespace rustorium::proof {
namespace {

// The Montgomery kernels, both of them, against GMP: MontMul(x, y) = x·y·2^-256 mod p and
// MontSquare(x) = x·x·2^-256 mod p for x, y < p, on random limbs and on the edges (0, 1,
// p - 1, values with all-ones limbs), and the kernels against each other.
template <typename P>
void KernelsAgreeWithGmp(const mpz_class& p) {
  using Mont = field_detail::Montgomery<P>;
  auto to_mpz = [](const Limbs& v) {
    mpz_class out = 0;
    for (int i = 3; i >= 0; --i) out = (out << 64) + mpz_class(std::to_string(v[i]));
    return out;
  };
  auto from_mpz = [](mpz_class v) {
    Limbs out{};
    for (int i = 0; i < 4; ++i) {
      const mpz_class low = v % (mpz_class(1) << 64);
      out[i] = std::stoull(low.get_str(10));
      v >>= 64;
    }
    return out;
  };
  mpz_class r_inv;
  const mpz_class r = (mpz_class(1) << 256) % p;
  ASSERT_NE(mpz_invert(r_inv.get_mpz_t(), r.get_mpz_t(), p.get_mpz_t()), 0);

  std::vector<mpz_class> edges = {0,
                                  1,
                                  2,
                                  p - 1,
                                  p - 2,
                                  (p - 1) / 2,
                                  (mpz_class(1) << 64) - 1,
                                  (mpz_class(1) << 128) - 1,
                                  (mpz_class(1) << 192) - 1,
                                  (mpz_class(1) << 253) % p};
  std::mt19937_64 rng(20261205);
  const bool adx = __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("adx");
  for (int i = 0; i < 20000; ++i) {
    const mpz_class x = i < 100 ? edges[i % edges.size()] : Random(rng, p);
    const mpz_class y = i < 100 ? edges[(i / edges.size()) % edges.size()] : Random(rng, p);
    const mpz_class want = x * y * r_inv % p;
    const mpz_class want_square = x * x * r_inv % p;
    const Limbs a = from_mpz(x), b = from_mpz(y);
    ASSERT_EQ(to_mpz(Mont::MontMulPortable(a, b)), want) << x << " * " << y;
    ASSERT_EQ(to_mpz(Mont::MontSquarePortable(a)), want_square) << x << "^2";
    // The squaring kernels against the multiplication kernels, limb for limb.
    ASSERT_EQ(Mont::MontSquarePortable(a), Mont::MontMulPortable(a, a)) << x << "^2";
    ASSERT_EQ(Mont::MontSquare(a), Mont::MontMul(a, a)) << x << "^2";
#if RUSTORIUM_FIELD_ADX
    if (adx) {
      ASSERT_EQ(to_mpz(Mont::MontMulAdx(a, b)), want) << x << " * " << y;
      ASSERT_EQ(to_mpz(Mont::MontSquareAdx(a)), want_square) << x << "^2";
      ASSERT_EQ(Mont::MontSquareAdx(a), Mont::MontSquarePortable(a)) << x << "^2";
    }
#endif
  }
  // Lazy reduction: 512-bit products (both kernels) against GMP, and ReduceWide on sums of up
  // to kLazyProducts products, up to its bound p·2^256 - 1.
  auto wide_to_mpz = [&](const Wide& w) -> mpz_class {
    return to_mpz(Limbs{w[4], w[5], w[6], w[7]}) * (mpz_class(1) << 256) +
           to_mpz(Limbs{w[0], w[1], w[2], w[3]});
  };
  auto mpz_to_wide = [&](const mpz_class& v) {
    const Limbs lo = from_mpz(v % (mpz_class(1) << 256)), hi = from_mpz(v >> 256);
    return Wide{lo[0], lo[1], lo[2], lo[3], hi[0], hi[1], hi[2], hi[3]};
  };
  const mpz_class bound = p * (mpz_class(1) << 256);
  const std::vector<mpz_class> wide_edges = {
      0, 1, bound - 1, bound - p, p * p, p * p - 1, (mpz_class(1) << 256) - 1, mpz_class(1) << 256};
  for (const mpz_class& t : wide_edges) {
    const mpz_class want = t * r_inv % p;
    ASSERT_EQ(to_mpz(Mont::ReduceWidePortable(mpz_to_wide(t))), want) << t;
#if RUSTORIUM_FIELD_ADX
    if (adx) {
      ASSERT_EQ(to_mpz(Mont::ReduceWideAdx(mpz_to_wide(t))), want) << t;
    }
#endif
  }
  for (int i = 0; i < 5000; ++i) {
    const int n = 1 + i % Mont::kLazyProducts;
    Wide portable_sum{};
    Wide fast_sum{};
    mpz_class sum = 0;
    for (int k = 0; k < n; ++k) {
      const mpz_class x = i < 50 ? p - 1 - k : Random(rng, p);
      const mpz_class y = i < 50 ? p - 1 : Random(rng, p);
      sum += x * y;
      const Limbs a = from_mpz(x), b = from_mpz(y);
      const Wide product = Mont::MulWidePortable(a, b);
      ASSERT_EQ(wide_to_mpz(product), x * y) << x << " * " << y;
      ASSERT_EQ(wide_to_mpz(Mont::SquareWidePortable(a)), x * x) << x << "^2";
      Mont::AddWide(portable_sum, product);
#if RUSTORIUM_FIELD_ADX
      if (adx) {
        ASSERT_EQ(wide_to_mpz(Mont::MulWideAdx(a, b)), x * y) << x << " * " << y;
        ASSERT_EQ(wide_to_mpz(Mont::SquareWideAdx(a)), x * x) << x << "^2";
        Mont::AddWide(fast_sum, Mont::MulWideAdx(a, b));
      }
#endif
    }
    ASSERT_EQ(wide_to_mpz(portable_sum), sum);
    ASSERT_EQ(to_mpz(Mont::ReduceWidePortable(portable_sum)), sum * r_inv % p) << n << " products";
#if RUSTORIUM_FIELD_ADX
    if (adx) {
      ASSERT_EQ(to_mpz(Mont::ReduceWideAdx(fast_sum)), sum * r_inv % p) << n << " products";
    }
#endif
  }

  // Squarings in a chain, each kernel on its own: an error that only shows on the outputs of
  // earlier squarings (values just below p, carries into the top limb) does not stay hidden.
  mpz_class chained = (mpz_class(1) << 253) % p - 1;
  Limbs portable = from_mpz(chained);
#if RUSTORIUM_FIELD_ADX
  Limbs fast = portable;
#endif
  for (int i = 0; i < 2000; ++i) {
    chained = chained * chained * r_inv % p;
    portable = Mont::MontSquarePortable(portable);
    ASSERT_EQ(to_mpz(portable), chained) << "squaring " << i;
#if RUSTORIUM_FIELD_ADX
    if (adx) {
      fast = Mont::MontSquareAdx(fast);
      ASSERT_EQ(to_mpz(fast), chained) << "squaring " << i;
    }
#endif
  }
#if RUSTORIUM_FIELD_ADX
  // The multiplication everyone calls takes the fast kernel wherever the CPU has it, unless
  // $RUSTORIUM_FIELD_PORTABLE asks for the portable one (FieldOnPortableKernels).
  const char* asked = std::getenv("RUSTORIUM_FIELD_PORTABLE");
  EXPECT_EQ(field_detail::UseAdx(), adx && (asked == nullptr || *asked == '\0'));
#endif
}

// The lazily reduced sum of products equals the sum of the products, for every length across
// the chunks of kLazyProducts (the kernel is the one everyone calls).
TEST(Fr, SumOfProductsEqualsTheSumOfTheProducts) {
  std::mt19937_64 rng(77);
  for (int n = 0; n <= 17; ++n) {
    for (int trial = 0; trial < 50; ++trial) {
      std::vector<Fr> a, b;
      Fr want;
      for (int i = 0; i < n; ++i) {
        a.push_back(trial == 0 ? -Fr::One() : FromMpz(Random(rng, kR)));
        b.push_back(trial == 0 ? -Fr::One() : FromMpz(Random(rng, kR)));
        want += a.back() * b.back();
      }
      EXPECT_EQ(Fr::SumOfProducts(a, b), want) << n << " products, trial " << trial;
    }
  }
}

TEST(Fr, MultiplicationKernelsAgreeWithGmp) { KernelsAgreeWithGmp<FrParams>(kR); }

TEST(Fq, MultiplicationKernelsAgreeWithGmp) {
  KernelsAgreeWithGmp<FqParams>(
      mpz_class("21888242871839275222246405745257275088696311157297823662689037894645226208583"));
}

}  // namespace
}  // namespace rustorium::proof
