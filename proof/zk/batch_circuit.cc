#include "proof/zk/batch_circuit.h"

#include <algorithm>
#include <array>
#include <string>

#include "proof/poseidon/poseidon.h"
#include "proof/zk/gadgets.h"

namespace rustorium::proof::zk {
namespace {

LC One() { return LC::Constant(Fr::One()); }
LC Input(ConstraintSystem& cs, const Fr& value) { return LC::Of(cs.Allocate(value)); }

// A one-hot vector of `n` bits with bit `index` set: n booleanity constraints and Σ = 1.
std::vector<LC> OneHot(ConstraintSystem& cs, int n, int index) {
  std::vector<LC> bits;
  LC sum;
  for (int i = 0; i < n; ++i) {
    bits.push_back(AllocateBit(cs, i == index));
    sum += bits.back();
  }
  EnforceEqual(cs, sum, One());
  return bits;
}

// above[i] = [i < depth] = Σ_{j > i} onehot[j]: linear, no constraints.
std::vector<LC> Above(const std::vector<LC>& onehot) {
  std::vector<LC> above(onehot.size());
  for (int i = static_cast<int>(onehot.size()) - 2; i >= 0; --i) {
    above[i] = above[i + 1] + onehot[i + 1];
  }
  return above;
}

// The root of a path: `start` at the depth selected by `onehot`, hashed up along the key's
// bits with `siblings` (siblings[i] beside the path at depth i + 1).
LC PathRoot(ConstraintSystem& cs, const std::vector<LC>& onehot, const std::vector<LC>& above,
            const LC& start, const std::vector<LC>& bits, const std::vector<LC>& siblings) {
  const int levels = static_cast<int>(onehot.size());
  LC node = cs.Multiply(onehot[levels - 1], start);
  for (int i = levels - 2; i >= 0; --i) {
    auto [left, right] = Switch(cs, bits[i], node, siblings[i]);
    const std::array<LC, 2> children = {left, right};
    const LC hash = PoseidonHash(cs, children);
    node = cs.Multiply(above[i], hash) + cs.Multiply(onehot[i], start);
  }
  return node;
}

struct UpdateOutputs {
  LC new_root;
  LC key, old_value, new_value, op;
};

Variable VariableOf(const LC& single) { return single.terms()[0].variable; }

UpdateOutputs UpdateGadget(ConstraintSystem& cs, int levels, const UpdateWitness& w,
                           const LC& old_root, SlotWires& wires) {
  const int s = levels - 1;  // siblings
  const LC is_insert = AllocateBit(cs, w.op == UpdateOp::kInsert);
  const LC is_update = AllocateBit(cs, w.op == UpdateOp::kUpdate);
  const LC is_delete = AllocateBit(cs, w.op == UpdateOp::kDelete);
  const LC changes = is_insert + is_update + is_delete;  // at most one operation
  cs.Enforce(changes, changes - Fr::One(), LC());
  const LC is_noop = One() - changes;
  const LC collapse = AllocateBit(cs, w.collapse);

  const LC key = Input(cs, w.key);
  const LC old_value = Input(cs, w.old_value);
  const LC new_value = Input(cs, w.new_value);
  const LC aux_key = Input(cs, w.aux_key);
  const LC aux_value = Input(cs, w.aux_value);
  const LC open_left = Input(cs, w.open_left);
  const LC open_right = Input(cs, w.open_right);
  std::vector<LC> siblings;
  for (int i = 0; i < s; ++i) siblings.push_back(Input(cs, w.siblings[i]));
  const std::vector<LC> leaf_at = OneHot(cs, levels, w.leaf_depth);
  const std::vector<LC> other_at = OneHot(cs, levels, w.other_depth);
  const std::vector<LC> leaf_above = Above(leaf_at);
  const std::vector<LC> other_above = Above(other_at);
  wires.is_insert = VariableOf(is_insert);
  wires.is_update = VariableOf(is_update);
  wires.is_delete = VariableOf(is_delete);
  wires.collapse = VariableOf(collapse);
  wires.key = VariableOf(key);
  wires.old_value = VariableOf(old_value);
  wires.new_value = VariableOf(new_value);
  wires.aux_key = VariableOf(aux_key);
  wires.aux_value = VariableOf(aux_value);
  wires.open_left = VariableOf(open_left);
  wires.open_right = VariableOf(open_right);
  for (const LC& x : siblings) wires.siblings.push_back(VariableOf(x));
  for (const LC& x : leaf_at) wires.leaf_at.push_back(VariableOf(x));
  for (const LC& x : other_at) wires.other_at.push_back(VariableOf(x));
  const std::vector<LC> key_bits = ToBitsStrict(cs, key);
  const std::vector<LC> aux_bits = ToBitsStrict(cs, aux_key);

  // The operation's values: an insert has no old value, a delete no new one, a no-op is
  // all zeros; only inserts and deletes collapse.
  EnforceZeroWhen(cs, is_insert, old_value);
  EnforceZeroWhen(cs, is_delete, new_value);
  EnforceZeroWhen(cs, is_noop, key);
  EnforceZeroWhen(cs, is_noop, old_value);
  EnforceZeroWhen(cs, is_noop, new_value);
  EnforceZeroWhen(cs, collapse, One() - is_insert - is_delete);

  // The tree with the key.
  const LC with_value = Select(cs, is_delete, old_value, new_value);
  const std::array<LC, 3> leaf_inputs = {key, with_value, One()};
  const LC leaf = PoseidonHash(cs, leaf_inputs);
  const LC with_root = PathRoot(cs, leaf_at, leaf_above, leaf, key_bits, siblings);

  // The other tree: the old leaf (update), the neighbour moved up (collapse) or empty.
  const LC other_key = Select(cs, is_update, key, aux_key);
  const LC other_value = Select(cs, is_update, old_value, aux_value);
  const std::array<LC, 3> other_inputs = {other_key, other_value, One()};
  const LC other_leaf = PoseidonHash(cs, other_inputs);
  const LC other_start = cs.Multiply(is_update + collapse, other_leaf);
  const LC other_root = PathRoot(cs, other_at, other_above, other_start, key_bits, siblings);

  // Both trees have the key's path down to the same depth unless the neighbour collapses.
  for (int i = 0; i < levels; ++i) {
    EnforceZeroWhen(cs, One() - collapse, other_at[i] - leaf_at[i]);
  }
  // The sibling at the key's leaf: a leaf (the neighbour) when collapsing, else an internal
  // node (opened), for inserts and deletes below the root.
  EnforceZeroWhen(cs, collapse, leaf_at[0]);
  LC sibling_at_leaf;
  for (int i = 0; i < s; ++i) sibling_at_leaf += cs.Multiply(leaf_at[i + 1], siblings[i]);
  EnforceZeroWhen(cs, collapse, sibling_at_leaf - other_leaf);
  const LC must_open = cs.Multiply(is_insert + is_delete - collapse, One() - leaf_at[0]);
  const std::array<LC, 2> opened = {open_left, open_right};
  EnforceZeroWhen(cs, must_open, sibling_at_leaf - PoseidonHash(cs, opened));

  // Collapse: the neighbour's key shares the key's path above the leaf's parent level and
  // parts from it there; it moves up to other_depth <= leaf_depth - 1, past zero siblings
  // only, and stops below a nonzero one.
  std::vector<LC> collapse_above(levels);  // collapse · [i < leaf_depth]
  for (int i = 0; i < levels; ++i) collapse_above[i] = cs.Multiply(collapse, leaf_above[i]);
  for (int i = 0; i < s; ++i) {
    const LC collapse_other_above = cs.Multiply(collapse, other_above[i]);  // i < other_depth
    EnforceZeroWhen(cs, collapse_other_above, One() - leaf_above[i + 1]);
    EnforceZeroWhen(cs, collapse_above[i + 1] - collapse_other_above, siblings[i]);
    EnforceNonzeroWhen(cs, cs.Multiply(collapse, other_at[i + 1]), siblings[i]);
    EnforceZeroWhen(cs, collapse_above[i + 1], aux_bits[i] - key_bits[i]);
    const LC both = cs.Multiply(aux_bits[i], key_bits[i]);
    const LC differ = aux_bits[i] + key_bits[i] - both * Fr::FromUint64(2);
    EnforceZeroWhen(cs, collapse_above[i] - collapse_above[i + 1], differ - Fr::One());
  }

  // old root → new root.
  EnforceZeroWhen(cs, is_insert + is_update, other_root - old_root);
  EnforceZeroWhen(cs, is_delete, with_root - old_root);
  UpdateOutputs out;
  out.new_root = old_root + cs.Multiply(is_insert + is_update, with_root - old_root) +
                 cs.Multiply(is_delete, other_root - old_root);
  out.key = key;
  out.old_value = old_value;
  out.new_value = new_value;
  out.op = is_insert + is_update * Fr::FromUint64(2) + is_delete * Fr::FromUint64(3);
  wires.op = out.op;
  return out;
}

}  // namespace

Status CheckShape(const BatchShape& shape) {
  if (shape.levels < 2 || shape.levels > 241) {
    return Status::InvalidArgument("levels must be in 2..241, not " + std::to_string(shape.levels));
  }
  if (shape.batch < 1) {
    return Status::InvalidArgument("batch must be at least 1, not " + std::to_string(shape.batch));
  }
  return Status::OK();
}

Fr BatchCommitment(std::span<const UpdateWitness> updates, int batch) {
  Fr c;
  const UpdateWitness noop;
  for (int j = 0; j < std::max<int>(batch, static_cast<int>(updates.size())); ++j) {
    const UpdateWitness& u = j < static_cast<int>(updates.size()) ? updates[j] : noop;
    const std::array<Fr, 5> in = {c, u.key, u.old_value, u.new_value,
                                  Fr::FromUint64(static_cast<uint64_t>(u.op))};
    c = *Poseidon(in);
  }
  return c;
}

Status SynthesizeBatch(const BatchShape& shape, const Fr& old_root,
                       std::span<const UpdateWitness> updates, ConstraintSystem& cs,
                       std::vector<SlotWires>* slots) {
  RETURN_IF_ERROR(CheckShape(shape));
  if (cs.num_variables() != 1) return Status::InvalidArgument("constraint system not empty");
  if (updates.size() > static_cast<std::size_t>(shape.batch)) {
    return Status::InvalidArgument("batch of " + std::to_string(updates.size()) +
                                   " updates, more than the circuit's " +
                                   std::to_string(shape.batch));
  }
  for (const UpdateWitness& u : updates) {
    if (u.siblings.size() != static_cast<std::size_t>(shape.levels - 1) || u.leaf_depth < 0 ||
        u.leaf_depth >= shape.levels || u.other_depth < 0 || u.other_depth >= shape.levels) {
      return Status::InvalidArgument("update witness does not fit " + std::to_string(shape.levels) +
                                     " levels");
    }
  }
  UpdateWitness noop;
  noop.siblings.assign(shape.levels - 1, Fr::Zero());

  const LC r0 = LC::Of(cs.AllocatePublic(old_root));
  LC root = r0;
  LC commitment;
  for (int j = 0; j < shape.batch; ++j) {
    const UpdateWitness& u = j < static_cast<int>(updates.size()) ? updates[j] : noop;
    SlotWires wires;
    UpdateOutputs out = UpdateGadget(cs, shape.levels, u, root, wires);
    if (slots != nullptr) slots->push_back(std::move(wires));
    const std::array<LC, 5> entry = {commitment, out.key, out.old_value, out.new_value, out.op};
    commitment = PoseidonHash(cs, entry);
    root = out.new_root;
  }
  const LC rk = LC::Of(cs.AllocatePublic(cs.Evaluate(root)));
  EnforceEqual(cs, rk, root);
  const LC c = LC::Of(cs.AllocatePublic(cs.Evaluate(commitment)));
  EnforceEqual(cs, c, commitment);
  return Status::OK();
}

Result<R1cs> BatchCircuit(const BatchShape& shape) {
  ConstraintSystem cs;
  RETURN_IF_ERROR(SynthesizeBatch(shape, Fr::Zero(), {}, cs));
  return cs.ToR1cs();
}

}  // namespace rustorium::proof::zk
