// The malicious-witness harness (tests/proof/zk_harness.h) on the batch circuit: raw
// overrides of selector and depth bits, lying witnesses (an insert of a present key, an
// update of an absent key, a no-op with nonzero fields, an empty-slot insert deeper than the
// canonical tree, a collapse at the wrong depth) and every update of every tree over a few
// keys. Each mutant must fail the constraints or replay on a native tree to the root it
// claims.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>

#include "proof/zk/batch_circuit.h"
#include "tests/proof/zk_harness.h"
#include "tests/proof/zk_test_util.h"

namespace rustorium::proof::zk {
namespace {

using testing::CheckMutant;
using testing::F;
using testing::MutantOutcome;
using Pairs = std::vector<std::pair<Fr, Fr>>;

// A batch of honest updates from the tree of `start`.
struct Batch {
  BatchShape shape;
  Pairs start;
  std::vector<UpdateWitness> updates;
};

// Applies `ops` ("+k v": put, "-k": delete) to the tree of `start`.
Batch MakeBatch(int levels, int k, const Pairs& start,
                const std::vector<std::pair<uint64_t, std::optional<uint64_t>>>& ops) {
  Batch b{{levels, k}, start, {}};
  WitnessTree tree = testing::TreeOf(levels, start);
  for (const auto& [key, value] : ops) {
    auto w = value.has_value() ? tree.Put(F(key), F(*value)) : tree.Delete(F(key));
    EXPECT_TRUE(w.ok()) << w.status().ToString();
    if (w.ok()) b.updates.push_back(*w);
  }
  return b;
}

// Counts of the mutants tried and of those the constraints accepted.
struct Tally {
  int tried = 0, satisfied = 0;
};

void Expect(const Batch& b, std::span<const UpdateWitness> updates,
            const std::map<Variable, Fr>& overrides, Tally& tally, const std::string& what) {
  const MutantOutcome m = CheckMutant(b.shape, b.start, updates, overrides);
  ++tally.tried;
  tally.satisfied += m.satisfied;
  EXPECT_TRUE(m.violation.empty()) << what << ": " << m.violation;
}

// Witness-level lies about slot `j`'s structure, with the witness's own keys, values,
// siblings and openings: every operation, collapse or not, and pair of depths (`all`), or
// (each synthesis costs milliseconds) every operation and collapse at the slot's own depths
// and every pair of depths under its own operation.
void TryStructures(const Batch& b, std::size_t j, Tally& tally, bool all = true) {
  const int levels = b.shape.levels;
  const UpdateWitness& honest = b.updates[j];
  for (int op = 0; op < 4; ++op) {
    for (int collapse = 0; collapse < 2; ++collapse) {
      for (int ld = 0; ld < levels; ++ld) {
        for (int od = 0; od < levels; ++od) {
          const bool own_structure =
              op == static_cast<int>(honest.op) && collapse == static_cast<int>(honest.collapse);
          const bool own_depths = ld == honest.leaf_depth && od == honest.other_depth;
          if (!all && !own_structure && !own_depths) continue;
          std::vector<UpdateWitness> u = b.updates;
          u[j].op = static_cast<UpdateOp>(op);
          u[j].collapse = collapse;
          u[j].leaf_depth = ld;
          u[j].other_depth = od;
          Expect(b, u, {}, tally,
                 "slot " + std::to_string(j) + " op " + std::to_string(op) + " collapse " +
                     std::to_string(collapse) + " depths " + std::to_string(ld) + "," +
                     std::to_string(od));
        }
      }
    }
  }
}

// Batches covering every kind of slot: inserts into an empty slot and beside a leaf, an
// update, deletes with and without a collapse, and padding.
std::vector<Batch> KindsOfSlots() {
  const Pairs start = {{F(1), F(10)}, {F(3), F(30)}, {F(6), F(60)}};
  return {
      MakeBatch(4, 2, start, {{2, 20}, {3, 31}}),            // beside leaf 6; update
      MakeBatch(4, 1, start, {{1, {}}}),                     // delete with collapse
      MakeBatch(4, 2, start, {{6, {}}}),                     // delete, no collapse; padding
      MakeBatch(4, 2, {{F(5), F(50)}}, {{5, {}}, {9, 90}}),  // delete at the root; empty slot
  };
}

TEST(ZkMalicious, RawSelectorAndBitOverrides) {
  Tally tally;
  const Fr values[] = {Fr::Zero(), Fr::One(), F(2), -Fr::One()};
  for (const Batch& b : KindsOfSlots()) {
    const std::vector<SlotWires> slots = testing::WiresOf(b.shape);
    ConstraintSystem honest;
    ASSERT_TRUE(
        SynthesizeBatch(b.shape, testing::TreeOf(b.shape.levels, b.start).root(), b.updates, honest)
            .ok());
    for (const SlotWires& w : slots) {
      for (Variable v : testing::BitWires(w)) {
        for (const Fr& x : values) {
          if (x == honest.value(v)) continue;
          Expect(b, b.updates, {{v, x}}, tally, "wire " + std::to_string(v));
        }
      }
      // A one-hot bit moved: another depth for the key's leaf, the other tree, or both.
      const int levels = b.shape.levels;
      auto set_of = [&](const std::vector<Variable>& hot) {
        for (std::size_t i = 0; i < hot.size(); ++i) {
          if (!honest.value(hot[i]).IsZero()) return i;
        }
        return hot.size();
      };
      const std::size_t ld = set_of(w.leaf_at), od = set_of(w.other_at);
      for (int d = 0; d < levels; ++d) {
        for (int e = 0; e < levels; ++e) {
          std::map<Variable, Fr> o = {{w.leaf_at[ld], Fr::Zero()}, {w.other_at[od], Fr::Zero()}};
          o[w.leaf_at[d]] = Fr::One();
          o[w.other_at[e]] = Fr::One();
          Expect(b, b.updates, o, tally, "depths " + std::to_string(d) + "," + std::to_string(e));
        }
      }
      // Selectors swapped: each operation claimed for the slot's witness.
      for (int op = 0; op < 4; ++op) {
        std::map<Variable, Fr> o = {
            {w.is_insert, F(op == 1)}, {w.is_update, F(op == 2)}, {w.is_delete, F(op == 3)}};
        for (int c = 0; c < 2; ++c) {
          o[w.collapse] = F(c);
          Expect(b, b.updates, o, tally, "op " + std::to_string(op));
        }
      }
    }
  }
  EXPECT_GT(tally.tried, 400);
  // The honest assignments are among them (a moved bit set back where it was).
  EXPECT_GT(tally.satisfied, 0);
}

// The harness's self-test: in a circuit weakened by one missing constraint, a lie that the
// constraint stopped gets through the constraints, and the harness must report it. The last two
// rows bind the public RK and C to the root and commitment the slots computed; without one, a
// claimed RK (or C) off by one satisfies the rest, and the replay shows it is not the batch's.
// With every row kept, the same lies fail the constraints.
TEST(ZkMalicious, TheHarnessCatchesAWeakenedCircuit) {
  const Batch b = KindsOfSlots()[0];
  ConstraintSystem honest;
  ASSERT_TRUE(
      SynthesizeBatch(b.shape, testing::TreeOf(b.shape.levels, b.start).root(), b.updates, honest)
          .ok());
  const std::size_t rows = honest.num_constraints();
  // RK and C are the last two variables allocated (SynthesizeBatch), bound by the last rows.
  const Variable rk = static_cast<Variable>(honest.num_variables() - 2);
  const Variable c = static_cast<Variable>(honest.num_variables() - 1);
  struct Lie {
    Variable wire;
    std::string expected;  // the start of the harness's report
  };
  for (const Lie& lie : {Lie{rk, "RK "}, Lie{c, "C is not"}}) {
    const std::map<Variable, Fr> o = {{lie.wire, honest.value(lie.wire) + Fr::One()}};
    EXPECT_FALSE(CheckMutant(b.shape, b.start, b.updates, o).satisfied) << "the full circuit";
    // The row that binds the wire: the lie satisfies the circuit without it.
    bool found = false;
    for (std::size_t back = 1; back <= 4 && !found; ++back) {
      const std::size_t skip[] = {rows - back};
      const MutantOutcome m = CheckMutant(b.shape, b.start, b.updates, o, skip);
      if (!m.satisfied) continue;
      found = true;
      EXPECT_EQ(m.violation.rfind(lie.expected, 0), 0u) << m.violation;
    }
    EXPECT_TRUE(found) << "no row near the end binds " << lie.expected;
  }
}

TEST(ZkMalicious, InsertOfAPresentKeyIsRefused) {
  const Pairs start = {{F(3), F(30)}, {F(7), F(70)}};
  const Batch b = MakeBatch(5, 1, start, {{3, 31}});  // an update of 3
  ASSERT_EQ(b.updates[0].op, UpdateOp::kUpdate);
  Tally tally;
  for (const Fr& old : {Fr::Zero(), F(30)}) {
    Batch lie = b;
    lie.updates[0].op = UpdateOp::kInsert;
    lie.updates[0].old_value = old;
    EXPECT_FALSE(CheckMutant(lie.shape, lie.start, lie.updates).satisfied);
    if (old.IsZero()) TryStructures(lie, 0, tally);
  }
  // And as an insert beside a leaf holding the same key (aux = the key itself).
  Batch beside = MakeBatch(5, 1, start, {{11, 110}});  // beside 3, which it collapses on
  ASSERT_TRUE(beside.updates[0].collapse);
  beside.updates[0].key = F(3);
  beside.updates[0].new_value = F(31);
  EXPECT_FALSE(CheckMutant(beside.shape, beside.start, beside.updates).satisfied);
  TryStructures(beside, 0, tally);
}

TEST(ZkMalicious, UpdateOfAnAbsentKeyIsRefused) {
  const Pairs start = {{F(3), F(30)}, {F(7), F(70)}};
  const Batch b = MakeBatch(5, 1, start, {{5, 50}});  // an insert of 5 into an empty slot
  ASSERT_EQ(b.updates[0].op, UpdateOp::kInsert);
  Tally tally;
  for (const Fr& old : {Fr::Zero(), F(1), F(50)}) {
    Batch lie = b;
    lie.updates[0].op = UpdateOp::kUpdate;
    lie.updates[0].old_value = old;
    EXPECT_FALSE(CheckMutant(lie.shape, lie.start, lie.updates).satisfied);
    if (old.IsZero()) TryStructures(lie, 0, tally);
  }
}

TEST(ZkMalicious, NoopWithNonzeroFieldsIsRefused) {
  const Pairs start = {{F(3), F(30)}, {F(7), F(70)}};
  Batch b = MakeBatch(5, 1, start, {});
  WitnessTree tree = testing::TreeOf(5, start);
  b.updates.push_back(tree.Noop());
  Tally tally;
  for (int field = 0; field < 3; ++field) {
    Batch lie = b;
    (field == 0   ? lie.updates[0].key
     : field == 1 ? lie.updates[0].old_value
                  : lie.updates[0].new_value) = F(3);
    EXPECT_FALSE(CheckMutant(lie.shape, lie.start, lie.updates).satisfied) << field;
    TryStructures(lie, 0, tally, /*all=*/field == 0);
  }
  // A real delete with its selectors cleared: a no-op carrying the delete's key.
  const Batch del = MakeBatch(5, 1, start, {{7, {}}});
  const SlotWires w = testing::WiresOf(del.shape)[0];
  EXPECT_FALSE(
      CheckMutant(del.shape, del.start, del.updates, {{w.is_delete, Fr::Zero()}}).satisfied);
}

TEST(ZkMalicious, EmptySlotInsertDeeperThanCanonicalIsRefused) {
  // 1 and 3 share bit 0 (right); 2's slot at depth 1 (left) is empty.
  const Pairs start = {{F(1), F(10)}, {F(3), F(30)}};
  const Batch b = MakeBatch(6, 1, start, {{2, 20}});
  ASSERT_EQ(b.updates[0].leaf_depth, 1);
  ASSERT_FALSE(b.updates[0].collapse);
  for (int d = 2; d < 6; ++d) {
    for (const auto& [l, r] : {std::pair{Fr::Zero(), Fr::Zero()},
                               std::pair{b.updates[0].open_left, b.updates[0].open_right}}) {
      Batch lie = b;
      lie.updates[0].leaf_depth = lie.updates[0].other_depth = d;
      lie.updates[0].open_left = l;
      lie.updates[0].open_right = r;
      EXPECT_FALSE(CheckMutant(lie.shape, lie.start, lie.updates).satisfied) << d;
    }
  }
  Tally tally;
  TryStructures(b, 0, tally);
}

TEST(ZkMalicious, CollapseAtTheWrongDepthIsRefused) {
  // 1 = 0b00001 and 17 = 0b10001 part at bit 4: an insert pushes both to depth 5, a delete
  // moves 1 back up to depth 1, beside 2's leaf.
  const Pairs start = {{F(1), F(10)}, {F(2), F(20)}};
  for (const Batch& b :
       {MakeBatch(6, 1, start, {{17, 170}}),
        MakeBatch(6, 1, {{F(1), F(10)}, {F(2), F(20)}, {F(17), F(170)}}, {{17, {}}})}) {
    ASSERT_TRUE(b.updates[0].collapse);
    ASSERT_EQ(b.updates[0].leaf_depth, 5);
    const int honest = b.updates[0].other_depth;
    for (int od = 0; od < 6; ++od) {
      if (od == honest) continue;
      Batch lie = b;
      lie.updates[0].other_depth = od;
      EXPECT_FALSE(CheckMutant(lie.shape, lie.start, lie.updates).satisfied) << od;
    }
    Tally tally;
    TryStructures(b, 0, tally);
    EXPECT_GE(tally.satisfied, 1);  // the honest structure
  }
}

// Every tree over keys 0..3 at 3 levels (leaves at depth <= 2), every put and delete on it,
// and for each, the structures TryStructures tries without `all`, every key of 0..7 and
// three old values claimed.
TEST(ZkMalicious, ExhaustiveTinyTrees) {
  const int levels = 3;
  Tally tally;
  int honest = 0;
  for (int set = 0; set < 16; ++set) {
    Pairs start;
    for (uint64_t k = 0; k < 4; ++k) {
      if (set & (1 << k)) start.push_back({F(k), F(10 + k)});
    }
    std::vector<std::pair<uint64_t, std::optional<uint64_t>>> ops;
    for (uint64_t k = 0; k < 4; ++k) {
      ops.push_back({k, 20 + k});
      if (set & (1 << k)) ops.push_back({k, std::nullopt});
    }
    for (const auto& op : ops) {
      const Batch b = MakeBatch(levels, 1, start, {op});
      ASSERT_EQ(b.updates.size(), 1u);
      const MutantOutcome h = CheckMutant(b.shape, b.start, b.updates);
      ASSERT_TRUE(h.satisfied && h.violation.empty()) << set << " " << op.first;
      ++honest;
      TryStructures(b, 0, tally, /*all=*/false);
      for (uint64_t k = 0; k < 8; ++k) {
        Batch lie = b;
        lie.updates[0].key = F(k);
        Expect(lie, lie.updates, {}, tally, "key " + std::to_string(k));
      }
      for (const Fr& old : {Fr::Zero(), F(10 + op.first), F(20 + op.first)}) {
        Batch lie = b;
        lie.updates[0].old_value = old;
        Expect(lie, lie.updates, {}, tally, "old value");
      }
    }
  }
  EXPECT_EQ(honest, 16 * 4 + 32);
  EXPECT_GE(tally.satisfied, honest);
}

}  // namespace
}  // namespace rustorium::proof::zk
