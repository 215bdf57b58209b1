// The batch circuit: K sparse-Merkle-tree updates chained from root R0 to root RK.
//
// Public inputs, in wire order: R0, RK, and the batch commitment
//   C_0 = 0,  C_{j+1} = Poseidon(C_j, key_j, old_value_j, new_value_j, op_j),  C = C_K
// over the K updates in order (op: 0 no-op, 1 insert, 2 update, 3 delete; a value is 0 where
// the key is absent; a no-op is (0, 0, 0, 0)). docs/proofs.md gives the whole definition.
//
// Each update proves one step of the iden3 tree (proof/zk/witness_tree.h says which tree
// is which): the key's leaf hashed up its path in "the tree with the key", the other tree
// hashed up the same path from the other start (the old leaf of an update, the neighbouring
// leaf moved up by a collapse, or an empty slot), the sibling at the leaf opened as a leaf or
// an internal node so that the other tree is the canonical one, and the roots tied to the
// operation. The circuit has a fixed shape for (levels, K); padding updates are no-ops.
#pragma once

#include <span>
#include <vector>

#include "base/status.h"
#include "proof/field/fr.h"
#include "proof/zk/constraint_system.h"
#include "proof/zk/witness_tree.h"

namespace rustorium::proof::zk {

struct BatchShape {
  int levels = 64;  // iden3 maxLevels: leaves at depth <= levels - 1; 2..241
  int batch = 1;    // updates per proof, >= 1
};

// InvalidArgument when the shape is out of range.
Status CheckShape(const BatchShape& shape);

// The commitment C above, computed natively over `updates` padded with no-ops to `batch`
// entries (the circuit's K).
Fr BatchCommitment(std::span<const UpdateWitness> updates, int batch);

// Where one slot's witness went: its input variables (in allocation numbering, the same for
// every witness of a shape) and its commitment entry. The malicious-witness harness
// overrides these (ConstraintSystem::OverrideForTesting) and reads the entry back.
struct SlotWires {
  Variable is_insert = 0, is_update = 0, is_delete = 0, collapse = 0;
  Variable key = 0, old_value = 0, new_value = 0, aux_key = 0, aux_value = 0;
  Variable open_left = 0, open_right = 0;
  std::vector<Variable> siblings, leaf_at, other_at;  // levels - 1, levels, levels
  LinearCombination op;                               // 0..3, as committed
};

// Writes the batch circuit and its witness into `cs` (which must be empty): `updates` in
// order from `old_root`, padded with no-ops up to shape.batch; `slots`, when given, receives
// each slot's wires. InvalidArgument for a shape out of range, more updates than
// shape.batch, or a witness of the wrong size. A witness that does not describe real updates
// still synthesizes; the constraints then fail (R1cs::CheckSatisfied), which is how tests
// tamper.
Status SynthesizeBatch(const BatchShape& shape, const Fr& old_root,
                       std::span<const UpdateWitness> updates, ConstraintSystem& cs,
                       std::vector<SlotWires>* slots = nullptr);

// The circuit alone (placeholder values: an empty batch on the empty tree), for a setup.
Result<R1cs> BatchCircuit(const BatchShape& shape);

}  // namespace rustorium::proof::zk
