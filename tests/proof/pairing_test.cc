// The optimal ate pairing: the BN parameter, the final exponentiation against plain
// exponentiation, bilinearity, non-degeneracy, the order of the values, multi-pairings, and
// one known answer from ffjavascript (the random-point comparison is in tests/interop).
#include "proof/curve/pairing.h"

#include <gmpxx.h>
#include <gtest/gtest.h>

#include <vector>

#include "tests/proof/curve_test_util.h"

namespace rustorium::proof {
namespace {

using testing::kQ;
using testing::kR;
using testing::MpzToLimbs;

const mpz_class kX(std::to_string(kBnX));

G1Affine RandomG1(std::mt19937_64& rng) {
  return (G1(G1Generator()) * testing::RandomFr(rng)).ToAffine();
}
G2Affine RandomG2(std::mt19937_64& rng) {
  return (G2(G2Generator()) * testing::RandomFr(rng)).ToAffine();
}

mpz_class FrToMpz(const Fr& f) { return testing::ToMpz(f); }

Fq12 PowMpz(const Fq12& f, const mpz_class& e) { return f.Pow(MpzToLimbs(e)); }

TEST(Pairing, BnParameterGivesTheModuli) {
  const mpz_class x = kX;
  EXPECT_EQ(36 * x * x * x * x + 36 * x * x * x + 24 * x * x + 6 * x + 1, kQ);
  EXPECT_EQ(36 * x * x * x * x + 36 * x * x * x + 18 * x * x + 6 * x + 1, kR);
}

TEST(Pairing, HardPartExponentIsAMultipleOfTheTextbookOne) {
  const mpz_class x = kX, q = kQ;
  const mpz_class phi12 = q * q * q * q - q * q + 1;
  ASSERT_EQ(mpz_class(phi12 % kR), 0);
  const mpz_class h = phi12 / kR;
  const mpz_class e = (12 * x * x * x + 6 * x * x + 4 * x - 1) * q * q * q +
                      (12 * x * x * x + 6 * x * x + 6 * x) * q * q +
                      (12 * x * x * x + 6 * x * x + 4 * x) * q +
                      (12 * x * x * x + 12 * x * x + 6 * x + 1);
  const mpz_class m = 2 * x * (6 * x * x + 3 * x + 1);
  EXPECT_EQ(e, m * h);
  mpz_class g;
  mpz_gcd(g.get_mpz_t(), m.get_mpz_t(), kR.get_mpz_t());
  EXPECT_EQ(g, 1);  // so the pairing stays non-degenerate
}

TEST(Pairing, FinalExponentiationIsThePowerItClaims) {
  auto rng = testing::SeededRng();
  const mpz_class q = kQ;
  const mpz_class q2 = q * q, q6 = q2 * q2 * q2;
  const mpz_class m = 2 * kX * (6 * kX * kX + 3 * kX + 1);
  const mpz_class exponent = (q6 - 1) * (q2 + 1) * ((q2 * q2 - q2 + 1) / kR) * m;
  for (int i = 0; i < 2; ++i) {
    const Fq12 f = testing::RandomFq12(rng);
    const Fq12 ours = FinalExponentiation(f);
    EXPECT_EQ(ours, PowMpz(f, exponent));
    EXPECT_TRUE(PowMpz(ours, kR).IsOne());
  }
}

TEST(Pairing, IsBilinearAndNonDegenerate) {
  auto rng = testing::SeededRng();
  const G1Affine g1 = G1Generator();
  const G2Affine& g2 = G2Generator();
  const Fq12 base = Pairing(g1, g2);
  EXPECT_FALSE(base.IsOne());
  EXPECT_TRUE(PowMpz(base, kR).IsOne());
  for (int i = 0; i < 4; ++i) {
    const Fr a = testing::RandomFr(rng), b = testing::RandomFr(rng);
    const G1Affine pa = (G1(g1) * a).ToAffine();
    const G2Affine qb = (G2(g2) * b).ToAffine();
    EXPECT_EQ(Pairing(pa, qb), PowMpz(base, FrToMpz(a * b)));
    EXPECT_EQ(Pairing(pa, g2), Pairing(g1, (G2(g2) * a).ToAffine()));
  }
  for (int i = 0; i < 3; ++i) {
    const G1Affine p1 = RandomG1(rng), p2 = RandomG1(rng);
    const G2Affine q1 = RandomG2(rng), q2 = RandomG2(rng);
    EXPECT_EQ(Pairing((G1(p1) + p2).ToAffine(), q1), Pairing(p1, q1) * Pairing(p2, q1));
    EXPECT_EQ(Pairing(p1, (G2(q1) + q2).ToAffine()), Pairing(p1, q1) * Pairing(p1, q2));
    EXPECT_EQ(Pairing(-p1, q1), Pairing(p1, q1).Conjugate());  // e(-P, Q) = e(P, Q)^-1
  }
  EXPECT_TRUE(Pairing(G1Affine::Infinity(), g2).IsOne());
  EXPECT_TRUE(Pairing(g1, G2Affine::Infinity()).IsOne());
}

TEST(Pairing, MultiPairingIsTheProductOfPairings) {
  auto rng = testing::SeededRng();
  std::vector<PairingInput> pairs;
  Fq12 product = Fq12::One();
  for (int i = 0; i < 5; ++i) {
    PairingInput pair{RandomG1(rng), RandomG2(rng)};
    if (i == 2) pair.first = G1Affine::Infinity();
    if (i == 3) pair.second = G2Affine::Infinity();
    pairs.push_back(pair);
    product = product * Pairing(pair.first, pair.second);
  }
  EXPECT_EQ(MultiPairing(pairs), product);
  EXPECT_TRUE(MultiPairing({}).IsOne());
  // e(aP, Q)·e(-P, aQ) = 1, as a verifier checks it; and a wrong scalar fails.
  const Fr a = testing::RandomFr(rng);
  const G1Affine p = RandomG1(rng);
  const G2Affine q = RandomG2(rng);
  const std::vector<PairingInput> check = {{(G1(p) * a).ToAffine(), q},
                                           {-p, (G2(q) * a).ToAffine()}};
  EXPECT_TRUE(PairingProductIsOne(check));
  const std::vector<PairingInput> wrong = {{(G1(p) * a).ToAffine(), q},
                                           {-p, (G2(q) * (a + Fr::One())).ToAffine()}};
  EXPECT_FALSE(PairingProductIsOne(wrong));
}

TEST(Pairing, GeneratorsMatchFfjavascript) {
  // ffjavascript 0.2.63: (await buildBn128(true)).pairing(G1.g, G2.g), printed with
  // F12.toObject (coefficients in tower order, as testing::Fq12Decimals lists them).
  const std::vector<std::string> expected = {
      "17264119758069723980713015158403419364912226240334615592005620718956030922389",
      "1300711225518851207585954685848229181392358478699795190245709208408267917898",
      "8894217292938489450175280157304813535227569267786222825147475294561798790624",
      "1829859855596098509359522796979920150769875799037311140071969971193843357227",
      "4968700049505451466697923764727215585075098085662966862137174841375779106779",
      "12814315002058128940449527172080950701976819591738376253772993495204862218736",
      "4233474252585134102088637248223601499779641130562251948384759786370563844606",
      "9420544134055737381096389798327244442442230840902787283326002357297404128074",
      "13457906610892676317612909831857663099224588803620954529514857102808143524905",
      "5122435115068592725432309312491733755581898052459744089947319066829791570839",
      "8891987925005301465158626530377582234132838601606565363865129986128301774627",
      "440796048150724096437130979851431985500142692666486515369083499585648077975"};
  EXPECT_EQ(testing::Fq12Decimals(Pairing(G1Generator(), G2Generator())), expected);
}

}  // namespace
}  // namespace rustorium::proof
