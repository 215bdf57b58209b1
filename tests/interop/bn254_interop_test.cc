// BN254 against ffjavascript's bn128 (snarkjs's engine): scalar multiples of the generators,
// every byte form of G1 and G2 points, and pairings and pairing products on random points,
// coefficient for coefficient; and the NTT against Fr.fft / Fr.ifft.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <vector>

#include "proof/curve/g1.h"
#include "proof/curve/g2.h"
#include "proof/curve/pairing.h"
#include "proof/field/ntt.h"
#include "tests/interop/node_runner.h"
#include "tests/kill_harness.h"
#include "tests/proof/fq12_decimals.h"

namespace rustorium::proof {
namespace {

using nlohmann::json;

json G1Json(const G1Affine& p) {
  if (p.IsInfinity()) return nullptr;
  return json::array({p.x().ToDecimal(), p.y().ToDecimal()});
}

json G2Json(const G2Affine& p) {
  if (p.IsInfinity()) return nullptr;
  // json::array throughout: nested braces of two strings would read as an object.
  return json::array({json::array({p.x().c0.ToDecimal(), p.x().c1.ToDecimal()}),
                      json::array({p.y().c0.ToDecimal(), p.y().c1.ToDecimal()})});
}

template <std::size_t N>
std::string Hex(const std::array<uint8_t, N>& bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0xf]);
  }
  return out;
}

TEST(Bn254Interop, AgreesWithFfjavascript) {
  const uint64_t seed = rustorium::testing::TestSeed();
  std::printf("seed: %llu (replay with RUSTORIUM_TEST_SEED=%llu)\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed));
  RecordProperty("seed", std::to_string(seed));
  std::mt19937_64 rng(seed);
  auto random_fr = [&] { return Fr::FromLimbsReduced({rng(), rng(), rng(), rng() >> 2}); };

  std::ostringstream cmds;
  // 1. Scalar multiples, small and random.
  std::vector<Fr> scalars = {Fr::Zero(), Fr::One(), Fr::FromUint64(2), -Fr::One()};
  for (int i = 0; i < 8; ++i) scalars.push_back(random_fr());
  for (const Fr& k : scalars) {
    cmds << json{{"g1mul", k.ToDecimal()}}.dump() << "\n"
         << json{{"g2mul", k.ToDecimal()}}.dump() << "\n";
  }
  // 2. Byte forms.
  std::vector<G1Affine> g1s = {G1Affine::Infinity(), G1Generator()};
  std::vector<G2Affine> g2s = {G2Affine::Infinity(), G2Generator()};
  for (int i = 0; i < 8; ++i) {
    g1s.push_back((G1(G1Generator()) * random_fr()).ToAffine());
    g2s.push_back((G2(G2Generator()) * random_fr()).ToAffine());
  }
  for (const auto& p : g1s) cmds << json{{"g1", G1Json(p)}}.dump() << "\n";
  for (const auto& q : g2s) cmds << json{{"g2", G2Json(q)}}.dump() << "\n";
  // 3. Pairings of random points (ffjavascript's pairing gives 0, not 1, for the point at
  // infinity, so the pairs here are finite), and a product of four.
  std::vector<PairingInput> pairs;
  for (int i = 0; i < 6; ++i) {
    pairs.push_back({(G1(G1Generator()) * random_fr()).ToAffine(),
                     (G2(G2Generator()) * random_fr()).ToAffine()});
    const json pair = json::array({G1Json(pairs.back().first), G2Json(pairs.back().second)});
    cmds << json{{"pairing", json::array({pair})}}.dump() << "\n";
  }
  json product = json::array();
  for (int i = 0; i < 4; ++i)
    product.push_back(json::array({G1Json(pairs[i].first), G2Json(pairs[i].second)}));
  cmds << json{{"pairing", product}}.dump() << "\n";
  // 4. A product that is 1, e(aP, Q)·e(-P, aQ), through ffjavascript's pairingEq.
  const Fr a = random_fr();
  const std::vector<PairingInput> balanced = {
      {(G1(pairs[0].first) * a).ToAffine(), pairs[0].second},
      {-pairs[0].first, (G2(pairs[0].second) * a).ToAffine()}};
  json eq = json::array();
  for (const auto& [p, q] : balanced) eq.push_back(json::array({G1Json(p), G2Json(q)}));
  cmds << json{{"pairingEq", eq}}.dump() << "\n";

  // 5. NTTs of random vectors, 1 to 2^10 elements.
  std::vector<std::vector<Fr>> vectors;
  for (int log_n : {0, 1, 3, 10}) {
    std::vector<Fr> v;
    for (int i = 0; i < (1 << log_n); ++i) v.push_back(random_fr());
    json values = json::array();
    for (const Fr& f : v) values.push_back(f.ToDecimal());
    cmds << json{{"fft", values}}.dump() << "\n" << json{{"ifft", values}}.dump() << "\n";
    vectors.push_back(std::move(v));
  }

  auto out = rustorium::testing::RunNodeScript("bn254_ref.mjs", cmds.str());
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  std::istringstream lines(*out);
  std::string line;
  auto next = [&]() {
    EXPECT_TRUE(std::getline(lines, line));
    json j = json::parse(line);
    EXPECT_FALSE(j.contains("error")) << line;
    return j;
  };

  for (const Fr& k : scalars) {
    EXPECT_EQ(next()["point"], G1Json((G1(G1Generator()) * k).ToAffine())) << k.ToDecimal();
    EXPECT_EQ(next()["point"], G2Json((G2(G2Generator()) * k).ToAffine())) << k.ToDecimal();
  }
  for (const auto& p : g1s) {
    const json theirs = next();
    EXPECT_EQ(theirs["uncompressed"], Hex(EncodeG1Uncompressed(p)));
    EXPECT_EQ(theirs["compressed"], Hex(EncodeG1Compressed(p)));
    EXPECT_EQ(theirs["lem"], Hex(EncodeG1Snarkjs(p)));
    EXPECT_EQ(theirs["fromCompressed"], G1Json(p));
  }
  for (const auto& q : g2s) {
    const json theirs = next();
    EXPECT_EQ(theirs["uncompressed"], Hex(EncodeG2Uncompressed(q)));
    EXPECT_EQ(theirs["compressed"], Hex(EncodeG2Compressed(q)));
    EXPECT_EQ(theirs["lem"], Hex(EncodeG2Snarkjs(q)));
    EXPECT_EQ(theirs["fromCompressed"], G2Json(q));
  }
  for (const auto& [p, q] : pairs) {
    EXPECT_EQ(next()["f12"].get<std::vector<std::string>>(), testing::Fq12Decimals(Pairing(p, q)));
  }
  EXPECT_EQ(next()["f12"].get<std::vector<std::string>>(),
            testing::Fq12Decimals(MultiPairing(std::span<const PairingInput>(pairs.data(), 4))));
  EXPECT_EQ(next()["one"], true);
  EXPECT_TRUE(PairingProductIsOne(balanced));
  auto decimals = [](const std::vector<Fr>& v) {
    std::vector<std::string> out;
    for (const Fr& f : v) out.push_back(f.ToDecimal());
    return out;
  };
  for (const auto& v : vectors) {
    std::vector<Fr> forward = v, inverse = v;
    ASSERT_TRUE(Ntt(forward).ok());
    ASSERT_TRUE(InverseNtt(inverse).ok());
    EXPECT_EQ(next()["values"].get<std::vector<std::string>>(), decimals(forward)) << v.size();
    EXPECT_EQ(next()["values"].get<std::vector<std::string>>(), decimals(inverse)) << v.size();
  }
}

}  // namespace
}  // namespace rustorium::proof
