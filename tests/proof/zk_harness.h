// The malicious-witness harness: a mutant batch witness (witness fields changed, and chosen
// input wires overridden, the rest synthesized honestly) either fails the constraints, or
// describes updates that a native tree accepts and that end at the root the mutant claims.
// Shared by tests/proof/zk_malicious_test.cc and tests/fuzz/zk_witness_fuzz.cc.
#pragma once

#include <map>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "proof/zk/batch_circuit.h"
#include "proof/zk/witness_tree.h"

namespace rustorium::proof::zk::testing {

struct MutantOutcome {
  bool satisfied = false;  // the constraints hold
  std::string violation;   // empty unless a satisfying mutant is not what it claims
};

// The tree of `pairs` (keys distinct, fitting `levels`).
inline WitnessTree TreeOf(int levels, std::span<const std::pair<Fr, Fr>> pairs) {
  WitnessTree tree(levels);
  for (const auto& [k, v] : pairs) (void)tree.Put(k, v);
  return tree;
}

// Synthesizes `updates` from the root of the tree of `start` with `overrides` (allocation
// number → value); when the constraints hold, reads each slot's committed entry, replays
// the entries on that tree and compares R0, RK and C with the public inputs. `skipped_rows`
// weakens the circuit (the harness's self-test): those constraints are not checked.
inline MutantOutcome CheckMutant(const BatchShape& shape, std::span<const std::pair<Fr, Fr>> start,
                                 std::span<const UpdateWitness> updates,
                                 const std::map<Variable, Fr>& overrides = {},
                                 std::span<const std::size_t> skipped_rows = {}) {
  MutantOutcome out;
  WitnessTree tree = TreeOf(shape.levels, start);
  ConstraintSystem cs;
  for (const auto& [v, value] : overrides) cs.OverrideForTesting(v, value);
  for (std::size_t row : skipped_rows) cs.SkipConstraintForTesting(row);
  std::vector<SlotWires> slots;
  if (!SynthesizeBatch(shape, tree.root(), updates, cs, &slots).ok()) return out;
  if (!cs.CheckSatisfied().ok()) return out;
  out.satisfied = true;
  const std::vector<Fr> pub = cs.PublicInputs();
  if (pub[0] != tree.root()) {
    out.violation = "R0 is not the start tree's root";
    return out;
  }
  std::vector<UpdateWitness> entries;
  for (std::size_t j = 0; j < slots.size(); ++j) {
    const SlotWires& w = slots[j];
    const Fr op = cs.Evaluate(w.op);
    UpdateWitness e;
    bool known = false;
    for (int k = 0; k < 4; ++k) {
      if (op == Fr::FromUint64(k)) {
        e.op = static_cast<UpdateOp>(k);
        known = true;
      }
    }
    if (!known) {
      out.violation = "slot " + std::to_string(j) + ": op " + op.ToDecimal();
      return out;
    }
    e.key = cs.value(w.key);
    e.old_value = cs.value(w.old_value);
    e.new_value = cs.value(w.new_value);
    if (Status s = tree.Replay(e); !s.ok()) {
      out.violation = "slot " + std::to_string(j) + ": " + s.ToString();
      return out;
    }
    entries.push_back(e);
  }
  if (tree.root() != pub[1]) {
    out.violation =
        "RK " + pub[1].ToDecimal() + " is not the replayed root " + tree.root().ToDecimal();
  } else if (BatchCommitment(entries, shape.batch) != pub[2]) {
    out.violation = "C is not the commitment of the slots' entries";
  }
  return out;
}

// The input wires of slot j that hold bits (selectors and depth one-hots).
inline std::vector<Variable> BitWires(const SlotWires& w) {
  std::vector<Variable> out = {w.is_insert, w.is_update, w.is_delete, w.collapse};
  out.insert(out.end(), w.leaf_at.begin(), w.leaf_at.end());
  out.insert(out.end(), w.other_at.begin(), w.other_at.end());
  return out;
}

// Every input wire of a slot.
inline std::vector<Variable> InputWires(const SlotWires& w) {
  std::vector<Variable> out = BitWires(w);
  for (Variable v :
       {w.key, w.old_value, w.new_value, w.aux_key, w.aux_value, w.open_left, w.open_right}) {
    out.push_back(v);
  }
  out.insert(out.end(), w.siblings.begin(), w.siblings.end());
  return out;
}

// The slot wires of a shape (the same for every witness).
inline std::vector<SlotWires> WiresOf(const BatchShape& shape) {
  ConstraintSystem cs;
  std::vector<SlotWires> slots;
  (void)SynthesizeBatch(shape, Fr::Zero(), {}, cs, &slots);
  return slots;
}

}  // namespace rustorium::proof::zk::testing
