// snarkjs file forms: round trips, and refusals of damaged input.
#include <gtest/gtest.h>

#include <random>

#include "proof/zk/batch_circuit.h"
#include "proof/zk/gadgets.h"
#include "proof/zk/snarkjs_binary.h"
#include "proof/zk/snarkjs_json.h"
#include "proof/zk/update_list.h"
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
  // A header claiming 2^32 - 1 wires: refused, since the label map holds the real count (the
  // fuzz target once re-encoded such a file into 32 GiB).
  std::string many_wires = r1cs;
  const std::size_t wires_at = 12 + 12 + 4 + 32;  // file header, section header, n8, modulus
  for (std::size_t i = 0; i < 4; ++i) many_wires[wires_at + i] = '\xff';
  EXPECT_TRUE(DecodeR1cs(many_wires).status().IsCorruption());
  EXPECT_NE(DecodeR1cs(many_wires).status().ToString().find("label map"), std::string::npos)
      << DecodeR1cs(many_wires).status().ToString();
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

// The update list: a round trip, K entries at the limit, and refusals.
TEST(ZkUpdateList, RoundTripsAndRefusesMalformedLists) {
  WitnessTree tree(5);
  ASSERT_TRUE(tree.Put(F(3), F(30)).ok());
  std::vector<UpdateWitness> updates = {*tree.Put(F(1), F(10)), *tree.Put(F(3), F(31)),
                                        *tree.Delete(F(1))};
  const BatchShape shape{5, 3};
  auto list = UpdateListFromJson(UpdateListToJson(shape, updates));
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  EXPECT_EQ(list->shape.levels, 5);
  EXPECT_EQ(list->shape.batch, 3);
  ASSERT_EQ(list->updates.size(), 3u);
  EXPECT_EQ(BatchCommitment(list->updates, 3), BatchCommitment(updates, 3));
  // K - 1, K entries: fine; K + 1: refused.
  EXPECT_TRUE(UpdateListFromJson(UpdateListToJson({5, 4}, updates)).ok());
  EXPECT_TRUE(UpdateListFromJson(UpdateListToJson({5, 3}, updates)).ok());
  EXPECT_TRUE(UpdateListFromJson(UpdateListToJson({5, 2}, updates)).status().IsCorruption());
  // Replayed on the start tree, the list ends at the tree's root.
  WitnessTree replay(5);
  ASSERT_TRUE(replay.Put(F(3), F(30)).ok());
  for (const UpdateWitness& u : list->updates) ASSERT_TRUE(replay.Replay(u).ok());
  EXPECT_EQ(replay.root(), tree.root());
  const auto entry = [](const char* op, const char* k, const char* o, const char* n) {
    return std::string(R"({"levels": 5, "batch": 2, "updates": [{"op": ")") + op +
           R"(", "key": ")" + k + R"(", "old_value": ")" + o + R"(", "new_value": ")" + n +
           R"("}]})";
  };
  EXPECT_TRUE(UpdateListFromJson(entry("insert", "1", "0", "2")).ok());
  EXPECT_TRUE(UpdateListFromJson(entry("update", "1", "4", "0x2")).ok());
  for (const std::string& bad :
       {entry("noop", "0", "0", "0"), entry("insert", "1", "1", "2"),
        entry("delete", "1", "2", "1"), entry("upsert", "1", "0", "2"),
        entry("update", "1", "x", "2"),
        entry("update",
              "21888242871839275222246405745257275088548364400416034343698204186575808495617", "0",
              "1"),
        std::string("{"), std::string(R"({"levels": 1, "batch": 2, "updates": []})"),
        std::string(R"({"levels": 5, "batch": 0, "updates": []})"),
        std::string(R"({"levels": 5, "batch": 2, "updates": {}})")}) {
    EXPECT_TRUE(UpdateListFromJson(bad).status().IsCorruption()) << bad;
  }
}

TEST(ZkUpdateList, ReplayRefusesUpdatesThatDoNotFitTheTree) {
  WitnessTree tree(5);
  ASSERT_TRUE(tree.Put(F(3), F(30)).ok());
  const Fr root = tree.root();
  auto u = [](UpdateOp op, uint64_t k, uint64_t o, uint64_t n) {
    UpdateWitness w;
    w.op = op;
    w.key = F(k);
    w.old_value = F(o);
    w.new_value = F(n);
    return w;
  };
  for (const UpdateWitness& bad : {u(UpdateOp::kInsert, 3, 0, 1), u(UpdateOp::kUpdate, 4, 0, 1),
                                   u(UpdateOp::kUpdate, 3, 31, 1), u(UpdateOp::kDelete, 4, 0, 0),
                                   u(UpdateOp::kDelete, 3, 29, 0), u(UpdateOp::kDelete, 3, 30, 1),
                                   u(UpdateOp::kNoop, 0, 0, 1), u(UpdateOp::kInsert, 5, 1, 1)}) {
    EXPECT_TRUE(tree.Replay(bad).IsFailedPrecondition())
        << static_cast<int>(bad.op) << " " << bad.key.ToDecimal();
    EXPECT_EQ(tree.root(), root);
  }
  EXPECT_TRUE(tree.Replay(u(UpdateOp::kNoop, 0, 0, 0)).ok());
  EXPECT_TRUE(tree.Replay(u(UpdateOp::kUpdate, 3, 30, 7)).ok());
  EXPECT_EQ(tree.Get(F(3)), F(7));
  EXPECT_TRUE(tree.Replay(u(UpdateOp::kDelete, 3, 7, 0)).ok());
  EXPECT_TRUE(tree.root().IsZero());
}

}  // namespace
}  // namespace rustorium::proof::zk
