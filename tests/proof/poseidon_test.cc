#include "proof/poseidon/poseidon.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace rustorium::proof {
namespace {

Fr F(const char* text) {
  auto f = Fr::Parse(text);
  EXPECT_TRUE(f.ok()) << text;
  return *f;
}

std::string Hash(std::vector<Fr> in) {
  auto h = Poseidon(in);
  EXPECT_TRUE(h.ok()) << h.status().ToString();
  return h.ok() ? h->ToDecimal() : "";
}

// Known answers of circomlib's Poseidon (shared/ANCHORS.md, from circomlibjs).
TEST(Poseidon, KnownAnswers) {
  EXPECT_EQ(Hash({F("1")}),
            "18586133768512220936620570745912940619677854269274689475585506675881198879027");
  EXPECT_EQ(Hash({F("1"), F("2")}),
            "7853200120776062878684798364095072458815029376092732009249414926327459813530");
  EXPECT_EQ(Hash({F("3"), F("4")}),
            "14763215145315200506921711489642608356394854266165572616578112107564877678998");
  EXPECT_EQ(Hash({F("1"), F("2"), F("3"), F("4")}),
            "18821383157269793795438455681495246036402687001665670618754263018637548127333");
  std::vector<Fr> sixteen;
  for (uint64_t i = 1; i <= 16; ++i) sixteen.push_back(Fr::FromUint64(i));
  EXPECT_EQ(Hash(sixteen),
            "9989051620750914585850546081941653841776809718687451684622678807385399211877");
}

TEST(Poseidon, RefusesWrongInputCounts) {
  std::vector<Fr> none;
  EXPECT_TRUE(Poseidon(none).status().IsInvalidArgument());
  std::vector<Fr> seventeen(17);
  EXPECT_TRUE(Poseidon(seventeen).status().IsInvalidArgument());
}

// The fast form (sparse partial rounds, folded constants, the squaring kernel)
// against the textbook permutation for every width: random inputs and the edges 0, 1, r - 1.
// The test runs a second time with $RUSTORIUM_FIELD_PORTABLE set (tests/proof/CMakeLists.txt),
// so both field kernels go through it.
TEST(Poseidon, FastFormEqualsReferenceForEveryWidth) {
  std::mt19937_64 rng(5);
  const Fr edges[] = {Fr::Zero(), Fr::One(), -Fr::One()};
  for (int n = 1; n <= kPoseidonMaxInputs; ++n) {
    for (int trial = 0; trial < 40; ++trial) {
      std::vector<Fr> in;
      for (int i = 0; i < n; ++i) {
        Fr f = Fr::FromLimbsReduced({rng(), rng(), rng(), rng()});
        if (trial < 3) f = edges[trial];                                  // all 0, all 1, all r - 1
        if (trial >= 3 && trial < 6 && i == n - 1) f = edges[trial - 3];  // one edge
        in.push_back(f);
      }
      auto fast = Poseidon(in);
      auto ref = PoseidonReference(in);
      ASSERT_TRUE(fast.ok() && ref.ok());
      EXPECT_EQ(*fast, *ref) << "width " << n + 1 << ", trial " << trial;
    }
  }
}

TEST(Poseidon, ParametersHaveCircomlibShape) {
  const int partial[] = {56, 57, 56, 60, 60, 63, 64, 63, 60, 66, 60, 65, 70, 60, 64, 68};
  for (int t = 2; t <= 17; ++t) {
    const PoseidonParams& p = PoseidonParamsFor(t);
    EXPECT_EQ(p.t, t);
    EXPECT_EQ(p.rounds_full, 8);
    EXPECT_EQ(p.rounds_partial, partial[t - 2]);
    EXPECT_EQ(p.round_constants.size(), static_cast<std::size_t>((8 + partial[t - 2]) * t));
    EXPECT_EQ(p.mds.size(), static_cast<std::size_t>(t * t));
  }
}

}  // namespace
}  // namespace rustorium::proof
