// snarkjs file forms: round trips, and refusals of damaged input.
#include <gtest/gtest.h>

#include <random>

#include "proof/zk/batch_circuit.h"
#include "proof/zk/gadgets.h"
#include "proof/zk/snarkjs_binary.h"
#include "proof/zk/snarkjs_json.h"
#include "tests/proof/zk_test_util.h"

namespace rustorium::proof::zk {
namespace {

using testing::F;
using testing::Seeded;

// One circuit, key and proof for the whole suite (a setup takes seconds under ASan).
class ZkFilesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    WitnessTree tree(3);
    const Fr r0 = tree.root();
    std::vector<UpdateWitness> updates = {*tree.Put(F(1), F(5)), *tree.Put(F(2), F(6))};
    ASSERT_TRUE(SynthesizeBatch({3, 2}, r0, updates, cs_).ok());
    r1cs_ = cs_.ToR1cs();
    auto key = DevSetup(r1cs_, {0, Seeded(3)});
    ASSERT_TRUE(key.ok());
    key_ = std::move(*key);
    auto proof = Prove(key_, cs_.Witness(), {0, Seeded(4)});
    ASSERT_TRUE(proof.ok());
    proof_ = *proof;
  }
  static inline ConstraintSystem cs_;
  static inline R1cs r1cs_;
  static inline ProvingKey key_;
  static inline Groth16Proof proof_;
};

TEST_F(ZkFilesTest, R1csAndWitnessRoundTrip) {
  const std::string bytes = EncodeR1cs(r1cs_);
  EXPECT_EQ(bytes.substr(0, 4), "r1cs");
  auto back = DecodeR1cs(bytes);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->num_wires, r1cs_.num_wires);
  EXPECT_EQ(back->num_public, 3u);
  EXPECT_EQ(back->a.wires, r1cs_.a.wires);
  EXPECT_EQ(back->c.coefficients, r1cs_.c.coefficients);
  EXPECT_TRUE(back->CheckSatisfied(cs_.Witness()).ok());
  auto w = DecodeWtns(EncodeWtns(cs_.Witness()));
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(*w, cs_.Witness());
}

TEST_F(ZkFilesTest, ZkeyRoundTripProvesTheSame) {
  auto back = DecodeZkey(EncodeZkey(key_));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->a, key_.a);
  EXPECT_EQ(back->h, key_.h);
  EXPECT_EQ(back->b2, key_.b2);
  ASSERT_EQ(back->coefficients.size(), key_.coefficients.size());
  EXPECT_EQ(back->coefficients.back().value, key_.coefficients.back().value);
  auto p = Prove(*back, cs_.Witness(), {0, Seeded(4)});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p, proof_);  // same key, same witness, same r and s
}

TEST_F(ZkFilesTest, JsonRoundTrips) {
  const VerifyingKey vk = key_.verifying_key();
  auto vk2 = VerifyingKeyFromJson(VerifyingKeyToJson(vk));
  ASSERT_TRUE(vk2.ok()) << vk2.status().ToString();
  EXPECT_EQ(vk2->ic, vk.ic);
  EXPECT_EQ(vk2->delta2, vk.delta2);
  auto p = ProofFromJson(ProofToJson(proof_));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(*p, proof_);
  auto pub = PublicInputsFromJson(PublicInputsToJson(cs_.PublicInputs()));
  ASSERT_TRUE(pub.ok());
  EXPECT_TRUE(Verify(*vk2, *pub, *p).ok());
}

TEST_F(ZkFilesTest, DamagedFilesAreCorruption) {
  const std::string zkey = EncodeZkey(key_);
  const std::string r1cs = EncodeR1cs(r1cs_);
  const std::string wtns = EncodeWtns(cs_.Witness());
  for (const std::string* file : {&zkey, &r1cs, &wtns}) {
    for (std::size_t cut :
         {std::size_t{0}, std::size_t{3}, std::size_t{11}, file->size() / 2, file->size() - 1}) {
      const std::string_view part(file->data(), cut);
      EXPECT_FALSE(DecodeZkey(part).ok());
      EXPECT_FALSE(DecodeR1cs(part).ok());
      EXPECT_FALSE(DecodeWtns(part).ok());
    }
  }
  std::string bad_magic = zkey;
  bad_magic[0] = 'x';
  EXPECT_TRUE(DecodeZkey(bad_magic).status().IsCorruption());
  // A witness value not below r.
  std::string big = wtns;
  for (int i = 0; i < 32; ++i) big[big.size() - 1 - i] = '\xff';
  EXPECT_TRUE(DecodeWtns(big).status().IsCorruption());
  // A point moved off the curve (alpha1's y in the header section).
  std::string off = zkey;
  off[12 + 12 + 4 + 12 + 4 + 32 + 4 + 32 + 12 + 40] ^= 1;
  EXPECT_TRUE(DecodeZkey(off).status().IsCorruption());
  EXPECT_TRUE(ProofFromJson("{").status().IsCorruption());
  EXPECT_TRUE(ProofFromJson(R"({"pi_a": ["1", "3", "1"], "pi_b": [], "pi_c": []})")
                  .status()
                  .IsCorruption());
  EXPECT_TRUE(PublicInputsFromJson(R"(["1", 2])").status().IsCorruption());
  EXPECT_TRUE(
      PublicInputsFromJson(
          R"(["21888242871839275222246405745257275088548364400416034343698204186575808495617"])")
          .status()
          .IsCorruption());
  EXPECT_TRUE(VerifyingKeyFromJson("[]").status().IsCorruption());
}

}  // namespace
}  // namespace rustorium::proof::zk
