#include "proof/zk/witness_tree.h"

#include <string>
#include <utility>

#include "proof/poseidon/poseidon.h"

namespace rustorium::proof::zk {
namespace {

bool PathBit(const Limbs& path, int i) { return (path[i / 64] >> (i % 64)) & 1; }

}  // namespace

struct WitnessTree::Node {
  bool leaf = false;
  Fr hash, key, value;
  std::unique_ptr<Node> child[2];

  static std::unique_ptr<Node> Leaf(const Fr& key, const Fr& value) {
    auto n = std::make_unique<Node>();
    n->leaf = true;
    n->key = key;
    n->value = value;
    n->Rehash();
    return n;
  }
  static std::unique_ptr<Node> Middle(std::unique_ptr<Node> left, std::unique_ptr<Node> right) {
    auto n = std::make_unique<Node>();
    n->child[0] = std::move(left);
    n->child[1] = std::move(right);
    n->Rehash();
    return n;
  }
  static Fr HashOf(const std::unique_ptr<Node>& n) { return n ? n->hash : Fr::Zero(); }
  void Rehash() {
    hash = leaf ? Poseidon3(key, value, Fr::One()) : Poseidon2(HashOf(child[0]), HashOf(child[1]));
  }
};

namespace {

// The walk from the root along a key's path to the first empty slot or leaf.
template <typename Node>
struct Walk {
  std::vector<std::unique_ptr<Node>*> slots;  // slots[d]: the slot at depth d (back(): the end)
  std::vector<Fr> siblings;  // siblings[d]: the hash beside the path at depth d + 1
};

template <typename Node>
Walk<Node> WalkPath(std::unique_ptr<Node>& root, const Limbs& path) {
  Walk<Node> walk;
  walk.slots.push_back(&root);
  while (*walk.slots.back() && !(*walk.slots.back())->leaf) {
    Node& middle = **walk.slots.back();
    const int bit = PathBit(path, static_cast<int>(walk.slots.size()) - 1);
    walk.siblings.push_back(Node::HashOf(middle.child[1 - bit]));
    walk.slots.push_back(&middle.child[bit]);
  }
  return walk;
}

}  // namespace

WitnessTree::WitnessTree(int levels) : levels_(levels) {}
WitnessTree::~WitnessTree() = default;
WitnessTree::WitnessTree(WitnessTree&&) noexcept = default;
WitnessTree& WitnessTree::operator=(WitnessTree&&) noexcept = default;

const Fr& WitnessTree::root() const {
  static const Fr kZero;
  return root_ ? root_->hash : kZero;
}

UpdateWitness WitnessTree::Noop() const {
  UpdateWitness w;
  w.siblings.assign(levels_ - 1, Fr::Zero());
  w.old_root = w.new_root = root();
  return w;
}

Result<UpdateWitness> WitnessTree::Put(const Fr& key, const Fr& value) {
  const Limbs path = key.ToCanonical();
  Walk<Node> walk = WalkPath(root_, path);
  const int depth = static_cast<int>(walk.slots.size()) - 1;
  std::unique_ptr<Node>& slot = *walk.slots.back();

  UpdateWitness w;
  w.key = key;
  w.new_value = value;
  w.old_root = root();
  w.siblings = walk.siblings;
  if (slot && slot->key == key) {
    w.op = UpdateOp::kUpdate;
    w.old_value = slot->value;
    w.leaf_depth = w.other_depth = depth;
    slot->value = value;
    slot->Rehash();
  } else if (!slot) {
    w.op = UpdateOp::kInsert;
    w.leaf_depth = w.other_depth = depth;
    if (depth > 0) {
      const Node& parent = **walk.slots[depth - 1];
      const Node& sibling = *parent.child[1 - PathBit(path, depth - 1)];
      if (sibling.leaf) return Status::Internal("witness tree: a leaf beside an empty slot");
      w.open_left = Node::HashOf(sibling.child[0]);
      w.open_right = Node::HashOf(sibling.child[1]);
    }
    slot = Node::Leaf(key, value);
  } else {
    // Push the leaf found here down to where the two paths part.
    const Limbs other = slot->key.ToCanonical();
    int split = depth;
    while (split < 256 && PathBit(path, split) == PathBit(other, split)) ++split;
    if (split + 1 > levels_ - 1) {
      return Status::InvalidArgument("key " + key.ToDecimal() + " would need a leaf at depth " +
                                     std::to_string(split + 1) + ", deeper than the limit " +
                                     std::to_string(levels_ - 1));
    }
    w.op = UpdateOp::kInsert;
    w.collapse = true;
    w.other_depth = depth;
    w.leaf_depth = split + 1;
    w.aux_key = slot->key;
    w.aux_value = slot->value;
    w.siblings.resize(split, Fr::Zero());
    w.siblings.push_back(slot->hash);
    std::unique_ptr<Node> old_leaf = std::move(slot);
    std::unique_ptr<Node> new_leaf = Node::Leaf(key, value);
    const bool right = PathBit(path, split);
    std::unique_ptr<Node> sub = right ? Node::Middle(std::move(old_leaf), std::move(new_leaf))
                                      : Node::Middle(std::move(new_leaf), std::move(old_leaf));
    for (int d = split - 1; d >= depth; --d) {
      sub = PathBit(path, d) ? Node::Middle(nullptr, std::move(sub))
                             : Node::Middle(std::move(sub), nullptr);
    }
    slot = std::move(sub);
  }
  for (int d = depth - 1; d >= 0; --d) (*walk.slots[d])->Rehash();
  w.siblings.resize(levels_ - 1, Fr::Zero());
  w.new_root = root();
  return w;
}

Result<UpdateWitness> WitnessTree::Delete(const Fr& key) {
  const Limbs path = key.ToCanonical();
  Walk<Node> walk = WalkPath(root_, path);
  const int depth = static_cast<int>(walk.slots.size()) - 1;
  std::unique_ptr<Node>& slot = *walk.slots.back();
  if (!slot || slot->key != key) {
    return Status::NotFound("key " + key.ToDecimal() + " is absent: its delete is no update");
  }

  UpdateWitness w;
  w.op = UpdateOp::kDelete;
  w.key = key;
  w.old_value = slot->value;
  w.old_root = root();
  w.siblings = walk.siblings;
  w.leaf_depth = w.other_depth = depth;
  int rehash_from = depth - 1;
  if (depth == 0) {
    slot.reset();
  } else {
    Node& parent = **walk.slots[depth - 1];
    std::unique_ptr<Node>& sibling = parent.child[1 - PathBit(path, depth - 1)];
    if (sibling->leaf) {
      // The neighbouring leaf moves up to just below the deepest nonzero sibling above it.
      int up = 0;
      for (int i = depth - 2; i >= 0; --i) {
        if (!walk.siblings[i].IsZero()) {
          up = i + 1;
          break;
        }
      }
      w.collapse = true;
      w.other_depth = up;
      w.aux_key = sibling->key;
      w.aux_value = sibling->value;
      std::unique_ptr<Node> moved = std::move(sibling);
      *walk.slots[up] = std::move(moved);  // frees the chain that held both leaves
      rehash_from = up - 1;
    } else {
      w.open_left = Node::HashOf(sibling->child[0]);
      w.open_right = Node::HashOf(sibling->child[1]);
      slot.reset();
    }
  }
  for (int d = rehash_from; d >= 0; --d) (*walk.slots[d])->Rehash();
  w.siblings.resize(levels_ - 1, Fr::Zero());
  w.new_root = root();
  return w;
}

std::optional<Fr> WitnessTree::Get(const Fr& key) const {
  const Limbs path = key.ToCanonical();
  const Node* node = root_.get();
  for (int d = 0; node != nullptr && !node->leaf; ++d) node = node->child[PathBit(path, d)].get();
  if (node == nullptr || node->key != key) return std::nullopt;
  return node->value;
}

Status WitnessTree::Replay(const UpdateWitness& u) {
  const std::optional<Fr> current = Get(u.key);
  const std::string key = "key " + u.key.ToDecimal();
  switch (u.op) {
    case UpdateOp::kNoop:
      if (!u.key.IsZero() || !u.old_value.IsZero() || !u.new_value.IsZero()) {
        return Status::FailedPrecondition("a no-op with a nonzero key or value");
      }
      return Status::OK();
    case UpdateOp::kInsert:
      if (current.has_value()) return Status::FailedPrecondition("insert of " + key + ", present");
      if (!u.old_value.IsZero()) {
        return Status::FailedPrecondition("insert of " + key + " with a nonzero old value");
      }
      return Put(u.key, u.new_value).status();
    case UpdateOp::kUpdate:
    case UpdateOp::kDelete: {
      const char* what = u.op == UpdateOp::kUpdate ? "update of " : "delete of ";
      if (!current.has_value()) return Status::FailedPrecondition(what + key + ", absent");
      if (*current != u.old_value) {
        return Status::FailedPrecondition(what + key + ": its value is " + current->ToDecimal() +
                                          ", not " + u.old_value.ToDecimal());
      }
      if (u.op == UpdateOp::kUpdate) return Put(u.key, u.new_value).status();
      if (!u.new_value.IsZero()) {
        return Status::FailedPrecondition("delete of " + key + " with a nonzero new value");
      }
      return Delete(u.key).status();
    }
  }
  return Status::FailedPrecondition("unknown operation " + std::to_string(static_cast<int>(u.op)));
}

}  // namespace rustorium::proof::zk
