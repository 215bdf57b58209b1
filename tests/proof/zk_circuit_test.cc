// The R1CS builder, the gadgets and the batch circuit: counts against circomlib's, values
// against the native code, every batch against the stored tree of proof/smt, and tampering.
#include <gtest/gtest.h>

#include <array>
#include <map>
#include <random>

#include "proof/poseidon/poseidon.h"
#include "proof/smt/sparse_merkle_tree.h"
#include "proof/zk/batch_circuit.h"
#include "proof/zk/gadgets.h"
#include "tests/engine_util.h"
#include "tests/test_util.h"

namespace rustorium::proof::zk {
namespace {

Fr F(uint64_t v) { return Fr::FromUint64(v); }

Fr RandomFr(std::mt19937_64& rng) {
  return Fr::FromLimbsReduced({rng(), rng(), rng(), rng() >> 2});
}

TEST(ZkGadgets, PoseidonMatchesNativeWithCircomlibCounts) {
  for (int n : {1, 2, 3, 4, 5, 16}) {
    ConstraintSystem cs;
    std::vector<LC> in;
    std::vector<Fr> values;
    for (int i = 0; i < n; ++i) {
      values.push_back(F(1000 + i));
      in.push_back(LC::Of(cs.Allocate(values.back())));
    }
    const LC out = PoseidonHash(cs, in);
    EXPECT_EQ(cs.Evaluate(out), *Poseidon(values)) << n;
    const R1cs r1cs = cs.ToR1cs();
    EXPECT_TRUE(r1cs.CheckSatisfied(cs.Witness()).ok()) << n;
    const auto& p = PoseidonParamsFor(n + 1);
    // Three constraints per S-box; the first round's S-box of the capacity is a constant.
    const std::size_t expected = 3 * (p.rounds_full * p.t + p.rounds_partial) - 3;
    EXPECT_EQ(cs.num_constraints(), expected) << n;
  }
  // circomlib's published counts.
  ConstraintSystem two;
  std::array<LC, 2> in2 = {LC::Of(two.Allocate(F(1))), LC::Of(two.Allocate(F(2)))};
  EXPECT_EQ(two.Evaluate(PoseidonHash(two, in2)), Poseidon2(F(1), F(2)));
  EXPECT_EQ(two.num_constraints(), 240u);
  ConstraintSystem three;
  std::array<LC, 3> in3 = {LC::Of(three.Allocate(F(1))), LC::Of(three.Allocate(F(2))),
                           LC::Of(three.Allocate(F(3)))};
  PoseidonHash(three, in3);
  EXPECT_EQ(three.num_constraints(), 261u);
}

TEST(ZkGadgets, StrictBitsRefuseTheAliasAboveR) {
  // x = 5; its 254-bit alias x + r is below 2^254 and satisfies the sum, not the range check.
  ConstraintSystem cs;
  const Variable x = cs.Allocate(F(5));
  const std::vector<LC> bits = ToBitsStrict(cs, LC::Of(x));
  ASSERT_EQ(bits.size(), 254u);
  const R1cs r1cs = cs.ToR1cs();
  std::vector<Fr> w = cs.Witness();
  ASSERT_TRUE(r1cs.CheckSatisfied(w).ok());
  const Limbs alias = field_detail::Add(Fr::kModulus, Limbs{5, 0, 0, 0});
  for (int i = 0; i < 254; ++i) {
    w[bits[i].terms()[0].variable] = ((alias[i / 64] >> (i % 64)) & 1) ? Fr::One() : Fr::Zero();
  }
  EXPECT_FALSE(r1cs.CheckSatisfied(w).ok());
  // r - 1 itself is accepted.
  ConstraintSystem top;
  const Variable y = top.Allocate(-Fr::One());
  ToBitsStrict(top, LC::Of(y));
  EXPECT_TRUE(top.ToR1cs().CheckSatisfied(top.Witness()).ok());
}

TEST(ZkGadgets, ConstantProductsAddNoConstraint) {
  ConstraintSystem cs;
  const LC x = LC::Of(cs.Allocate(F(3)));
  const LC y = cs.Multiply(x, LC::Constant(F(7)));
  EXPECT_EQ(cs.num_constraints(), 0u);
  EXPECT_EQ(cs.Evaluate(y), F(21));
  const LC z = cs.Multiply(x, y);
  EXPECT_EQ(cs.num_constraints(), 1u);
  EXPECT_EQ(cs.Evaluate(z), F(63));
}

// A batch of updates applied to both the witness tree and proof/smt's stored tree.
class ZkBatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    engine_ = rustorium::testing::OpenScratchEngine(dir_.Sub("db"));
    ASSERT_TRUE(engine_);
  }
  SparseMerkleTree Stored(int levels) {
    auto t = SparseMerkleTree::Open(engine_.get(), next_id_++, SmtOptions{levels, 8});
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return std::move(*t);
  }
  Fr ApplyStored(SparseMerkleTree& t, const SmtUpdate& u) {
    engine::WriteBatch batch;
    auto root = t.Apply(std::span<const SmtUpdate>(&u, 1), ++version_, batch);
    EXPECT_TRUE(root.ok()) << root.status().ToString();
    EXPECT_TRUE(engine_->Write(batch).ok());
    return root.ok() ? *root : Fr();
  }

  rustorium::testing::TempDir dir_;
  std::unique_ptr<engine::Engine> engine_;
  uint64_t next_id_ = 1;
  uint64_t version_ = 0;
};

// Random puts and deletes over keys that share long prefixes of their paths (low bits).
TEST_F(ZkBatchTest, CircuitRootsEqualTheStoredTree) {
  std::mt19937_64 rng(20261122);
  const int levels = 14;
  const BatchShape shape{levels, 4};
  for (int round = 0; round < 3; ++round) {
    SparseMerkleTree stored = Stored(levels);
    WitnessTree tree(levels);
    std::vector<Fr> keys;
    // Keys agreeing on their low 6 or 7 bits (leaves down to depth 13), and two unrelated
    // ones (which the limit on depth leaves near the top).
    const uint64_t base = rng() & 0x3f;
    for (int i = 0; i < 10; ++i) keys.push_back(F(base | ((rng() % 32) << (6 + rng() % 2))));
    keys.push_back(RandomFr(rng));
    keys.push_back(RandomFr(rng));
    for (int batch = 0; batch < 3; ++batch) {
      const Fr old_root = tree.root();
      std::vector<UpdateWitness> updates;
      for (int j = 0; j < shape.batch - (batch % 2); ++j) {
        const Fr key = keys[rng() % keys.size()];
        const bool del = rng() % 3 == 0;
        SmtUpdate su{key, del ? std::nullopt : std::optional<Fr>(F(rng() % 5))};
        auto w = del ? tree.Delete(key) : tree.Put(key, *su.value);
        if (del && w.status().IsNotFound()) {
          // Absent: no update, and the stored tree does not change either.
          EXPECT_EQ(ApplyStored(stored, su), tree.root()) << "round " << round;
          continue;
        }
        ASSERT_TRUE(w.ok()) << w.status().ToString();
        updates.push_back(*w);
        EXPECT_EQ(ApplyStored(stored, su), tree.root()) << "round " << round;
      }
      ConstraintSystem cs;
      ASSERT_TRUE(SynthesizeBatch(shape, old_root, updates, cs).ok());
      const R1cs r1cs = cs.ToR1cs();
      ASSERT_TRUE(r1cs.CheckSatisfied(cs.Witness()).ok())
          << r1cs.CheckSatisfied(cs.Witness()).ToString() << " round " << round;
      const std::vector<Fr> pub = cs.PublicInputs();
      ASSERT_EQ(pub.size(), 3u);
      EXPECT_EQ(pub[0], old_root);
      EXPECT_EQ(pub[1], tree.root());
      EXPECT_EQ(pub[2], BatchCommitment(updates, shape.batch));
    }
  }
}

// Keys whose paths agree on their low 44 bits: leaves pushed down to depth 45 and back up.
TEST_F(ZkBatchTest, LongSharedPrefixes) {
  const int levels = 48;
  SparseMerkleTree stored = Stored(levels);
  WitnessTree tree(levels);
  const uint64_t prefix = 0xabcdef12345ULL;  // 44 bits
  const Fr a = F(prefix), b = F(prefix | (uint64_t{1} << 44)), c = F(prefix | (uint64_t{3} << 44));
  ASSERT_TRUE(tree.Put(a, F(1)).ok());
  EXPECT_EQ(ApplyStored(stored, {a, F(1)}), tree.root());
  const Fr r0 = tree.root();
  std::vector<UpdateWitness> updates = {*tree.Put(b, F(2)), *tree.Put(c, F(3)), *tree.Delete(a)};
  EXPECT_EQ(updates[0].leaf_depth, 45);
  EXPECT_EQ(ApplyStored(stored, {b, F(2)}), updates[0].new_root);
  EXPECT_EQ(ApplyStored(stored, {c, F(3)}), updates[1].new_root);
  EXPECT_EQ(ApplyStored(stored, {a, std::nullopt}), tree.root());
  ConstraintSystem cs;
  ASSERT_TRUE(SynthesizeBatch({levels, 3}, r0, updates, cs).ok());
  EXPECT_TRUE(cs.ToR1cs().CheckSatisfied(cs.Witness()).ok());
  EXPECT_EQ(cs.PublicInputs()[1], tree.root());
}

TEST_F(ZkBatchTest, EveryKindOfUpdateIsProven) {
  const int levels = 8;
  WitnessTree tree(levels);
  std::vector<UpdateWitness> updates;
  auto add = [&](Result<UpdateWitness> w) {
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    updates.push_back(*w);
  };
  add(tree.Put(F(0b0001), F(10)));  // insert into the empty tree
  add(tree.Put(F(0b1001), F(11)));  // insert beside a leaf: pushed down to depth 4
  add(tree.Put(F(0b0001), F(12)));  // update
  add(tree.Put(F(0b0010), F(13)));  // insert into an empty slot
  add(tree.Delete(F(0b1001)));      // delete: the neighbour moves up
  add(tree.Delete(F(0b0010)));      // delete beside a leaf at depth 1
  add(tree.Delete(F(0b0001)));      // the tree is empty again
  ASSERT_EQ(updates[1].leaf_depth, 4);
  ASSERT_TRUE(updates[1].collapse);
  EXPECT_TRUE(tree.root().IsZero());
  ConstraintSystem cs;
  ASSERT_TRUE(SynthesizeBatch({levels, 8}, Fr::Zero(), updates, cs).ok());
  EXPECT_TRUE(cs.ToR1cs().CheckSatisfied(cs.Witness()).ok());
  EXPECT_TRUE(cs.PublicInputs()[1].IsZero());
}

// The audit's finding: a delete of an absent key used to be recorded as the all-zero no-op,
// so "delete K" (K absent) and a padding no-op were one entry, and a prover could drop a real
// delete of K for a no-op with a commitment the reader of the batch could not tell apart. A
// delete of an absent key is now no update at all; every delete's entry names its key.
TEST_F(ZkBatchTest, DeleteOfAnAbsentKeyIsNoUpdate) {
  const int levels = 6;
  WitnessTree tree(levels);
  ASSERT_TRUE(tree.Put(F(5), F(50)).ok());
  const Fr before = tree.root();
  auto absent = tree.Delete(F(9));
  EXPECT_TRUE(absent.status().IsNotFound()) << absent.status().ToString();
  EXPECT_EQ(tree.root(), before);
  auto present = tree.Delete(F(5));
  ASSERT_TRUE(present.ok());
  EXPECT_EQ(present->op, UpdateOp::kDelete);
  EXPECT_EQ(present->key, F(5));
  EXPECT_EQ(present->old_value, F(50));
  // The delete's commitment differs from the no-op's: a proof of the no-op in its place has
  // another C.
  EXPECT_NE(BatchCommitment(std::span(&*present, 1), 1), BatchCommitment({}, 1));
}

// The same finding at the circuit: a batch holding `delete K` for a present K cannot be
// proven as a no-op (K left in the final tree) under the delete's public inputs, because C
// commits to each slot's (key, old value, new value, op).
TEST_F(ZkBatchTest, NoopCannotStandForAPresentDelete) {
  const BatchShape shape{4, 2};
  WitnessTree tree(shape.levels);
  for (uint64_t k : {1, 3, 6}) ASSERT_TRUE(tree.Put(F(k), F(10 * k)).ok());
  const Fr r0 = tree.root();
  auto del = tree.Delete(F(3));
  ASSERT_TRUE(del.ok());
  ConstraintSystem honest;
  ASSERT_TRUE(SynthesizeBatch(shape, r0, std::span(&*del, 1), honest).ok());
  const std::vector<Fr> pub = honest.PublicInputs();  // R0, RK, C
  ASSERT_TRUE(honest.ToR1cs().CheckSatisfied(honest.Witness()).ok());
  EXPECT_EQ(pub[2], BatchCommitment(std::span(&*del, 1), shape.batch));

  // The honest no-op batch keeps K and has another C.
  ConstraintSystem noop;
  ASSERT_TRUE(SynthesizeBatch(shape, r0, {}, noop).ok());
  const R1cs r1cs = noop.ToR1cs();
  EXPECT_EQ(noop.PublicInputs()[1], r0);
  EXPECT_NE(noop.PublicInputs()[2], pub[2]);
  // Its witness claiming the delete's C, with RK = R0 (K kept) or the delete's RK: refused.
  for (const Fr& rk : {r0, pub[1]}) {
    std::vector<Fr> w = noop.Witness();
    w[2] = rk;
    w[3] = pub[2];
    EXPECT_FALSE(r1cs.CheckSatisfied(w).ok());
  }
  // The delete's own slot relabelled as a no-op, its key and values kept or zeroed: no
  // satisfying witness carries the delete's C.
  UpdateWitness relabelled = *del;
  relabelled.op = UpdateOp::kNoop;
  UpdateWitness zeroed = relabelled;
  zeroed.key = zeroed.old_value = zeroed.new_value = Fr::Zero();
  for (const UpdateWitness& u : {relabelled, zeroed}) {
    ConstraintSystem cs;
    ASSERT_TRUE(SynthesizeBatch(shape, r0, std::span(&u, 1), cs).ok());
    if (cs.ToR1cs().CheckSatisfied(cs.Witness()).ok()) {
      EXPECT_NE(cs.PublicInputs()[2], pub[2]);
    }
  }
}

TEST_F(ZkBatchTest, TamperedWitnessOrPublicInputFails) {
  std::mt19937_64 rng(7);
  const int levels = 6;
  WitnessTree tree(levels);
  ASSERT_TRUE(tree.Put(F(3), F(30)).ok());
  ASSERT_TRUE(tree.Put(F(7), F(70)).ok());
  const Fr old_root = tree.root();
  std::vector<UpdateWitness> updates;
  updates.push_back(*tree.Put(F(11), F(110)));
  updates.push_back(*tree.Delete(F(7)));
  ConstraintSystem cs;
  ASSERT_TRUE(SynthesizeBatch({levels, 3}, old_root, updates, cs).ok());
  const R1cs r1cs = cs.ToR1cs();
  const std::vector<Fr> honest = cs.Witness();
  ASSERT_TRUE(r1cs.CheckSatisfied(honest).ok());
  // Every public input, then a sample of the other wires.
  std::vector<uint32_t> wires = {1, 2, 3};
  for (int i = 0; i < 120; ++i) wires.push_back(4 + rng() % (r1cs.num_wires - 4));
  for (uint32_t wire : wires) {
    std::vector<Fr> w = honest;
    w[wire] += F(1 + rng() % 3);
    EXPECT_FALSE(r1cs.CheckSatisfied(w).ok()) << "wire " << wire;
  }
}

TEST_F(ZkBatchTest, ClaimingTheWrongStructureFails) {
  const int levels = 6;
  WitnessTree tree(levels);
  ASSERT_TRUE(tree.Put(F(1), F(10)).ok());
  ASSERT_TRUE(tree.Put(F(5), F(50)).ok());  // 1 and 5 part at bit 2
  const Fr old_root = tree.root();
  auto w = tree.Delete(F(5));
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(w->collapse);
  // A delete that leaves the neighbour where it was (a non-canonical tree) cannot be proven
  // as an "empty slot" delete: the sibling would have to open as an internal node.
  UpdateWitness lie = *w;
  lie.collapse = false;
  lie.other_depth = lie.leaf_depth;
  ConstraintSystem cs;
  ASSERT_TRUE(SynthesizeBatch({levels, 1}, old_root, std::span(&lie, 1), cs).ok());
  EXPECT_FALSE(cs.ToR1cs().CheckSatisfied(cs.Witness()).ok());
  // Nor can the neighbour stop short of the top.
  UpdateWitness deep = *w;
  deep.other_depth = w->other_depth + 1;
  ConstraintSystem cs2;
  ASSERT_TRUE(SynthesizeBatch({levels, 1}, old_root, std::span(&deep, 1), cs2).ok());
  EXPECT_FALSE(cs2.ToR1cs().CheckSatisfied(cs2.Witness()).ok());
}

TEST_F(ZkBatchTest, KeysTooDeepAndBadShapesAreRefused) {
  WitnessTree tree(4);  // leaves at depth <= 3
  ASSERT_TRUE(tree.Put(F(0), F(1)).ok());
  EXPECT_TRUE(tree.Put(F(16), F(1)).status().IsInvalidArgument());  // parts at bit 4
  EXPECT_TRUE(tree.Put(F(4), F(1)).ok());                           // parts at bit 2
  ConstraintSystem cs;
  EXPECT_TRUE(SynthesizeBatch({1, 1}, Fr::Zero(), {}, cs).IsInvalidArgument());
  std::vector<UpdateWitness> two(2, tree.Noop());
  EXPECT_TRUE(SynthesizeBatch({4, 1}, Fr::Zero(), two, cs).IsInvalidArgument());
}

TEST(ZkBatch, ConstraintsPerUpdateGrowLinearlyInLevels) {
  auto c8 = BatchCircuit({8, 1});
  auto c16 = BatchCircuit({16, 1});
  ASSERT_TRUE(c8.ok() && c16.ok());
  const std::size_t per_level = (c16->num_constraints() - c8->num_constraints()) / 8;
  // Two Poseidon(2) per level and a few selections: circomlib's processor spends ≈ 499.
  EXPECT_GT(per_level, 480u);
  EXPECT_LT(per_level, 540u);
  EXPECT_EQ(c8->num_public, 3u);
}

}  // namespace
}  // namespace rustorium::proof::zk
