// WitnessTree: an in-memory iden3 sparse Merkle tree (the layout of proof/smt: leaf =
// P(k, v, 1), middle = P(l, r), empty = 0, path bit i = bit i of k, leaves as shallow as
// their paths allow) that applies updates one by one and records, for each, what the batch
// circuit needs to prove it: the siblings on the key's path and the neighbouring nodes.
//
// A prover's helper, not an index: proof/smt's SparseMerkleTree is the stored tree. Not
// thread-safe.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "base/status.h"
#include "proof/field/fr.h"

namespace rustorium::proof::zk {

enum class UpdateOp : int { kNoop = 0, kInsert = 1, kUpdate = 2, kDelete = 3 };

// One update as the circuit sees it. "The tree with the key" is the new tree of an insert,
// the old tree of a delete, and both trees of an update; "the other tree" is the tree
// without the key (insert, delete) or with the old value (update).
struct UpdateWitness {
  UpdateOp op = UpdateOp::kNoop;
  Fr key, old_value, new_value;  // values are 0 where the key is absent; all 0 for a no-op
  // Depth of the key's leaf in the tree with the key, and the siblings on its path from the
  // root (levels - 1 entries, zero below the leaf).
  int leaf_depth = 0;
  std::vector<Fr> siblings;
  // Insert and delete: the sibling at leaf_depth is a leaf (aux_key, aux_value) that sits at
  // other_depth in the tree without the key ("collapse"), or an internal node with children
  // (open_left, open_right), the key's place then being empty in the tree without it.
  bool collapse = false;
  int other_depth = 0;
  Fr aux_key, aux_value;
  Fr open_left, open_right;
  Fr old_root, new_root;
};

class WitnessTree {
 public:
  // An empty tree whose leaves sit at depth <= levels - 1 (iden3's maxLevels), 2..241.
  explicit WitnessTree(int levels);
  ~WitnessTree();
  WitnessTree(WitnessTree&&) noexcept;
  WitnessTree& operator=(WitnessTree&&) noexcept;

  int levels() const { return levels_; }
  const Fr& root() const;

  // Sets key to value (insert or update) and returns the update's witness.
  // InvalidArgument when the key would need a leaf deeper than levels - 1.
  Result<UpdateWitness> Put(const Fr& key, const Fr& value);
  // Removes key and returns the delete's witness. NotFound when the key is absent (the tree
  // is then unchanged): a delete of an absent key is no update, and never enters a batch as
  // a no-op, which would make a padding no-op and "delete K" look alike (docs/proofs.md).
  Result<UpdateWitness> Delete(const Fr& key);
  // The witness of a no-op (padding) at the current root.
  UpdateWitness Noop() const;

  // The value of `key`, or nullopt when it is absent.
  std::optional<Fr> Get(const Fr& key) const;
  // Applies the update that `u`'s op, key and values describe (its other fields are not
  // read), after checking that it fits the tree: an insert's key absent and its old value
  // 0, an update's and a delete's key present with value old_value, a delete's new value 0, a
  // no-op all zeros. FailedPrecondition saying what does not fit (the tree then unchanged);
  // InvalidArgument as Put for a key too deep. Whoever checks a claimed list of updates
  // replays it with this.
  Status Replay(const UpdateWitness& u);

 private:
  struct Node;
  int levels_;
  std::unique_ptr<Node> root_;
};

}  // namespace rustorium::proof::zk
