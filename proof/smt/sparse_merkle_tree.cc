#include "proof/smt/sparse_merkle_tree.h"

#include <algorithm>
#include <optional>
#include <system_error>
#include <thread>

#include "base/codec.h"
#include "proof/poseidon/poseidon.h"

namespace rustorium::proof {

namespace {

using engine::ColumnFamily;

constexpr char kNodeTag = 'n';
constexpr char kRootTag = 'r';
constexpr char kStaleTag = 's';
constexpr char kLeafType = 'L';
constexpr char kMiddleType = 'M';

// A reference to a stored node: its hash and the version that wrote it. Hash zero = empty.
struct Ref {
  Fr hash;
  uint64_t version = 0;
};

void PutFr(std::string& out, const Fr& f) {
  const auto le = f.ToBytesLE();
  out.append(reinterpret_cast<const char*>(le.data()), le.size());
}

Result<Fr> GetFr(std::string_view in) {
  std::array<uint8_t, 32> le;
  std::copy(in.begin(), in.begin() + 32, le.begin());
  Result<Fr> f = Fr::FromBytesLE(le);
  if (!f.ok()) return Status::Corruption("index node holds an element out of range");
  return f;
}

// depth, then the first `depth` path bits of `path` packed LSB-first.
void PutPath(std::string& out, int depth, const Limbs& path) {
  out.push_back(static_cast<char>(depth));
  for (int byte = 0; byte < (depth + 7) / 8; ++byte) {
    uint8_t b = 0;
    for (int bit = 0; bit < 8 && byte * 8 + bit < depth; ++bit) {
      const int i = byte * 8 + bit;
      b |= static_cast<uint8_t>(PathBit(path, i) << bit);
    }
    out.push_back(static_cast<char>(b));
  }
}

struct Node {
  bool leaf = false;
  Fr key, value;    // leaf
  Ref left, right;  // middle
};

std::string EncodeLeaf(const Fr& key, const Fr& value) {
  std::string out(1, kLeafType);
  PutFr(out, key);
  PutFr(out, value);
  return out;
}

std::string EncodeMiddle(const Ref& left, const Ref& right) {
  std::string out(1, kMiddleType);
  PutFr(out, left.hash);
  PutFixed64BE(out, left.version);
  PutFr(out, right.hash);
  PutFixed64BE(out, right.version);
  return out;
}

Result<Node> DecodeNode(std::string_view v) {
  Node n;
  if (v.size() == 65 && v[0] == kLeafType) {
    n.leaf = true;
    ASSIGN_OR_RETURN(n.key, GetFr(v.substr(1)));
    ASSIGN_OR_RETURN(n.value, GetFr(v.substr(33)));
    return n;
  }
  if (v.size() == 81 && v[0] == kMiddleType) {
    ASSIGN_OR_RETURN(n.left.hash, GetFr(v.substr(1)));
    n.left.version = GetFixed64BE(v.substr(33));
    ASSIGN_OR_RETURN(n.right.hash, GetFr(v.substr(41)));
    n.right.version = GetFixed64BE(v.substr(73));
    return n;
  }
  return Status::Corruption("malformed index node");
}

}  // namespace

std::string TreeKeyPrefix(uint64_t tree_id) {
  std::string prefix(1, 'T');
  PutFixed64BE(prefix, tree_id);
  return prefix;
}

namespace {

// Key layout under the tree's prefix "T" + id:
//   'n' depth path version  -> node
//   'r' version             -> root hash (32, LE) + root node version (8)
//   's' since node-suffix   -> "" (the node stopped being current at `since`)
class Keys {
 public:
  explicit Keys(uint64_t tree_id) : prefix_(TreeKeyPrefix(tree_id)) {}
  std::string NodeSuffix(int depth, const Limbs& path, uint64_t version) const {
    std::string s;
    PutPath(s, depth, path);
    PutFixed64BE(s, version);
    return s;
  }
  std::string Node(int depth, const Limbs& path, uint64_t version) const {
    return prefix_ + kNodeTag + NodeSuffix(depth, path, version);
  }
  std::string Root(uint64_t version) const {
    std::string s = prefix_ + kRootTag;
    PutFixed64BE(s, version);
    return s;
  }
  std::string RootPrefix() const { return prefix_ + kRootTag; }
  std::string Stale(uint64_t since, const std::string& node_suffix) const {
    std::string s = prefix_ + kStaleTag;
    PutFixed64BE(s, since);
    return s + node_suffix;
  }
  std::string StalePrefix() const { return prefix_ + kStaleTag; }
  std::string NodeFromSuffix(std::string_view suffix) const {
    return prefix_ + kNodeTag + std::string(suffix);
  }

 private:
  std::string prefix_;
};

Result<std::optional<std::pair<uint64_t, Ref>>> ReadLatestRoot(const engine::Engine& e,
                                                               const Keys& keys,
                                                               const engine::Snapshot* snap) {
  engine::IteratorOptions io;
  io.prefix = keys.RootPrefix();
  io.snapshot = snap;
  auto it = e.NewIterator(ColumnFamily::kIndex, io);
  it->SeekToLast();
  if (!it->Valid()) {
    RETURN_IF_ERROR(it->status());
    return std::optional<std::pair<uint64_t, Ref>>();
  }
  std::string_view k = it->key(), v = it->value();
  if (k.size() != io.prefix.size() + 8 || v.size() != 40) {
    return Status::Corruption("malformed index root record");
  }
  Ref ref;
  ASSIGN_OR_RETURN(ref.hash, GetFr(v));
  ref.version = GetFixed64BE(v.substr(32));
  return std::optional<std::pair<uint64_t, Ref>>({GetFixed64BE(k.substr(io.prefix.size())), ref});
}

Result<Ref> ReadRoot(const engine::Engine& e, const Keys& keys, std::optional<uint64_t> version,
                     const engine::Snapshot* snap) {
  if (!version.has_value()) {
    ASSIGN_OR_RETURN(auto latest, ReadLatestRoot(e, keys, snap));
    return latest.has_value() ? latest->second : Ref{};
  }
  engine::ReadOptions ro;
  ro.snapshot = snap;
  ASSIGN_OR_RETURN(std::optional<std::string> v,
                   e.Get(ColumnFamily::kIndex, keys.Root(*version), ro));
  if (!v.has_value()) {
    return Status::NotFound("index version " + std::to_string(*version) +
                            " was never applied or is no longer kept");
  }
  if (v->size() != 40) return Status::Corruption("malformed index root record");
  Ref ref;
  ASSIGN_OR_RETURN(ref.hash, GetFr(*v));
  ref.version = GetFixed64BE(std::string_view(*v).substr(32));
  return ref;
}

// The node `ref` names at (depth, path): from `cache` when it holds it, else from the engine
// (then cached).
Result<Node> LoadNode(const engine::Engine& e, const Keys& keys, int depth, const Limbs& path,
                      const Ref& ref, const engine::Snapshot* snap, NodeCache* cache) {
  const std::string key = keys.Node(depth, path, ref.version);
  if (cache != nullptr) {
    if (std::optional<std::string> hit = cache->Get(key)) return DecodeNode(*hit);
  }
  engine::ReadOptions ro;
  ro.snapshot = snap;
  ASSIGN_OR_RETURN(std::optional<std::string> v, e.Get(ColumnFamily::kIndex, key, ro));
  if (!v.has_value()) {
    return Status::Corruption("index node at depth " + std::to_string(depth) + " version " +
                              std::to_string(ref.version) + " is missing");
  }
  ASSIGN_OR_RETURN(Node node, DecodeNode(*v));
  if (cache != nullptr) cache->Put(key, *v);
  return node;
}

// One pending change inside Apply.
struct Item {
  Limbs path;  // canonical key
  Fr key;
  std::optional<Fr> value;
};

// What a subtree became.
struct Sub {
  enum Kind { kEmpty, kLeaf, kStored } kind = kEmpty;
  Fr key, value;        // kLeaf: a leaf still to be written where its parent puts it
  Ref ref;              // kLeaf: ref.hash is its hash; kStored: the subtree's root node
  bool middle = false;  // kStored: known to be a middle node (written by this apply)
};

// Halves of a split smaller than this are hashed on the calling thread: a thread costs tens of
// microseconds, a key's path about a hundred.
constexpr std::size_t kParallelItems = 256;

class Applier {
 public:
  // `spare_threads`: how many more threads this applier may start for the halves of large
  // splits (SmtOptions::hash_threads - 1 at the top).
  Applier(const engine::Engine& e, const Keys& keys, const SmtOptions& options, uint64_t version,
          engine::WriteBatch& staged, int spare_threads)
      : e_(e),
        keys_(keys),
        options_(options),
        version_(version),
        staged_(staged),
        spare_threads_(spare_threads) {}

  // The subtree at (depth, path) that was `current` (is_leaf unknown), after `items`.
  Result<Sub> Update(int depth, const Limbs& path, const Ref& current, std::span<Item> items) {
    if (current.hash.IsZero()) return Build(depth, items);
    if (items.empty()) return Sub{Sub::kStored, {}, {}, current};
    ASSIGN_OR_RETURN(Node node, LoadNode(e_, keys_, depth, path, current, nullptr, options_.cache));
    if (node.leaf) {
      // Merge the stored leaf into the pending set; unchanged when nothing touches it.
      bool touched = false;
      bool replaced = false;
      for (const Item& it : items) {
        if (it.key == node.key) {
          replaced = true;
          if (!(it.value.has_value() && *it.value == node.value)) touched = true;
        } else if (it.value.has_value()) {
          touched = true;
        }
      }
      if (!touched) return Sub{Sub::kStored, {}, {}, current};
      MarkStale(depth, path, current.version);
      std::vector<Item> merged(items.begin(), items.end());
      if (!replaced) merged.push_back(Item{node.key.ToCanonical(), node.key, node.value});
      return Build(depth, merged);
    }
    MarkStale(depth, path, current.version);
    auto mid = std::partition(items.begin(), items.end(),
                              [depth](const Item& it) { return !PathBit(it.path, depth); });
    const Limbs left_path = path;
    Limbs right_path = path;
    right_path[depth / 64] |= uint64_t{1} << (depth % 64);
    const std::span<Item> left_items(items.begin(), mid), right_items(mid, items.end());
    Sub left, right;
    RETURN_IF_ERROR(Halves(
        left_items.size(), right_items.size(),
        [&](Applier& a) { return a.Update(depth + 1, left_path, node.left, left_items); },
        [&](Applier& a) { return a.Update(depth + 1, right_path, node.right, right_items); }, left,
        right));
    return Combine(depth, path, left, right);
  }

  // Places the top of the new tree at depth 0 and returns the root reference.
  Result<Ref> Finish(Sub top) {
    if (top.kind == Sub::kLeaf) return WriteLeaf(0, top.key, top.value, top.ref.hash);
    if (top.kind == Sub::kEmpty) return Ref{};
    return top.ref;
  }

 private:
  // A subtree holding exactly `items` (deletions among them drop out), with nothing stored.
  Result<Sub> Build(int depth, std::span<Item> items) {
    std::vector<Item> present;
    for (const Item& it : items) {
      if (it.value.has_value()) present.push_back(it);
    }
    return BuildPresent(depth, present);
  }

  Result<Sub> BuildPresent(int depth, std::span<Item> items) {
    if (items.empty()) return Sub{};
    if (items.size() == 1) {
      Sub leaf{Sub::kLeaf, items[0].key, *items[0].value, {}};
      leaf.ref.hash = Poseidon3(items[0].key, *items[0].value, Fr::One());
      return leaf;
    }
    if (depth >= options_.max_levels - 1) {
      return Status::InvalidArgument("index keys collide past max_levels " +
                                     std::to_string(options_.max_levels) + " (key " +
                                     items[0].key.ToHex() + ")");
    }
    auto mid = std::partition(items.begin(), items.end(),
                              [depth](const Item& it) { return !PathBit(it.path, depth); });
    const std::span<Item> left_items(items.begin(), mid), right_items(mid, items.end());
    Sub left, right;
    RETURN_IF_ERROR(Halves(
        left_items.size(), right_items.size(),
        [&](Applier& a) { return a.BuildPresent(depth + 1, left_items); },
        [&](Applier& a) { return a.BuildPresent(depth + 1, right_items); }, left, right));
    Limbs path = items[0].path;  // any key below shares the first `depth` bits
    return Combine(depth, path, left, right);
  }

  // The two halves of a split, each computed by `fn(applier)` staging into that applier. With a
  // thread to spare and both halves large, the left half runs on a new thread into a child
  // applier (which gets half of the threads still spare), and what the child staged (nodes,
  // stale records, nodes for the cache) joins this applier's afterwards: the halves touch
  // disjoint nodes, the engine and the cache are thread-safe, so the result is the same.
  // Templates, not std::function: every level of every Apply passes through here.
  template <typename LeftFn, typename RightFn>
  Status Halves(std::size_t left_items, std::size_t right_items, const LeftFn& left_fn,
                const RightFn& right_fn, Sub& left, Sub& right) {
    if (spare_threads_ > 0 && std::min(left_items, right_items) >= kParallelItems) {
      const int child_threads = (spare_threads_ - 1) / 2;
      engine::WriteBatch child_batch;
      Applier child(e_, keys_, options_, version_, child_batch, child_threads);
      std::optional<Result<Sub>> child_result;
      std::optional<std::thread> thread;
      try {
        thread.emplace([&] { child_result.emplace(left_fn(child)); });
      } catch (const std::system_error&) {
        // No thread to be had: both halves here.
      }
      if (thread.has_value()) {
        parallel_splits_++;
        spare_threads_ -= 1 + child_threads;
        Result<Sub> mine = right_fn(*this);
        thread->join();
        spare_threads_ += 1 + child_threads;
        parallel_splits_ += child.parallel_splits_;
        staged_.Append(child_batch);
        stale_.insert(stale_.end(), child.stale_.begin(), child.stale_.end());
        for (auto& w : child.written_) written_.push_back(std::move(w));
        RETURN_IF_ERROR(child_result->status());
        RETURN_IF_ERROR(mine.status());
        left = **child_result;
        right = *mine;
        return Status::OK();
      }
    }
    ASSIGN_OR_RETURN(left, left_fn(*this));
    ASSIGN_OR_RETURN(right, right_fn(*this));
    return Status::OK();
  }

  // The node at (depth, path) with children `left` and `right` (at depth + 1).
  Result<Sub> Combine(int depth, const Limbs& path, Sub left, Sub right) {
    // A lone leaf (with an empty sibling) moves up: it must sit where it is alone.
    if (left.kind == Sub::kEmpty && right.kind == Sub::kEmpty) return Sub{};
    for (Sub* lone : {&left, &right}) {
      Sub* other = lone == &left ? &right : &left;
      if (other->kind != Sub::kEmpty) continue;
      if (lone->kind == Sub::kLeaf) return *lone;
      if (lone->kind == Sub::kStored && !lone->middle) {
        Limbs child_path = path;
        const uint64_t bit = uint64_t{1} << (depth % 64);
        child_path[depth / 64] =
            lone == &right ? (child_path[depth / 64] | bit) : (child_path[depth / 64] & ~bit);
        ASSIGN_OR_RETURN(
            Node n, LoadNode(e_, keys_, depth + 1, child_path, lone->ref, nullptr, options_.cache));
        if (n.leaf) {
          MarkStale(depth + 1, child_path, lone->ref.version);
          Sub up{Sub::kLeaf, n.key, n.value, lone->ref};
          return up;
        }
      }
    }
    ASSIGN_OR_RETURN(Ref l, Place(depth + 1, left));
    ASSIGN_OR_RETURN(Ref r, Place(depth + 1, right));
    Ref self{Poseidon2(l.hash, r.hash), version_};
    Stage(keys_.Node(depth, path, version_), EncodeMiddle(l, r));
    return Sub{Sub::kStored, {}, {}, self, /*middle=*/true};
  }

  // Writes a pending leaf at (depth, path); other kinds are already placed.
  Result<Ref> Place(int depth, const Sub& s) {
    if (s.kind == Sub::kLeaf) return WriteLeaf(depth, s.key, s.value, s.ref.hash);
    if (s.kind == Sub::kEmpty) return Ref{};
    return s.ref;
  }

  Result<Ref> WriteLeaf(int depth, const Fr& key, const Fr& value, const Fr& hash) {
    Stage(keys_.Node(depth, key.ToCanonical(), version_), EncodeLeaf(key, value));
    return Ref{hash, version_};
  }

  void Stage(std::string key, std::string node) {
    staged_.Put(ColumnFamily::kIndex, key, node);
    if (options_.cache != nullptr) written_.emplace_back(std::move(key), std::move(node));
  }

  void MarkStale(int depth, const Limbs& path, uint64_t node_version) {
    stale_.push_back(keys_.NodeSuffix(depth, path, node_version));
  }

 public:
  std::vector<std::string> stale_;
  std::vector<std::pair<std::string, std::string>> written_;  // nodes staged, for the cache
  uint64_t parallel_splits_ = 0;  // halves hashed on a thread of their own

 private:
  const engine::Engine& e_;
  const Keys& keys_;
  const SmtOptions& options_;
  uint64_t version_;
  engine::WriteBatch& staged_;
  int spare_threads_;
};

}  // namespace

int SmtOptions::DefaultHashThreads() {
  // Asked once: hardware_concurrency reads /sys, and every SmtOptions takes this default.
  static const int threads = [] {
    const unsigned cores = std::thread::hardware_concurrency();
    return cores == 0 ? 1 : static_cast<int>(std::min(cores, 64u));
  }();
  return threads;
}

Result<SparseMerkleTree> SparseMerkleTree::Open(engine::Engine* engine, uint64_t tree_id,
                                                SmtOptions options) {
  if (engine == nullptr) return Status::InvalidArgument("index tree needs an engine");
  if (options.max_levels < 2 || options.max_levels > kMaxProofDepth + 1) {
    return Status::InvalidArgument("max_levels must be within 2..241");
  }
  if (options.keep_versions < 1) return Status::InvalidArgument("keep_versions must be >= 1");
  if (options.hash_threads < 1 || options.hash_threads > 64)
    return Status::InvalidArgument("hash_threads must be within 1..64");
  return SparseMerkleTree(engine, tree_id, options);
}

Result<std::optional<uint64_t>> SparseMerkleTree::LatestVersion() const {
  ASSIGN_OR_RETURN(auto latest, ReadLatestRoot(*engine_, Keys(tree_id_), nullptr));
  if (!latest.has_value()) return std::optional<uint64_t>();
  return std::optional<uint64_t>(latest->first);
}

Result<Fr> SparseMerkleTree::Root(std::optional<uint64_t> version) const {
  auto snap = engine_->GetSnapshot();
  ASSIGN_OR_RETURN(Ref ref, ReadRoot(*engine_, Keys(tree_id_), version, snap.get()));
  return ref.hash;
}

Result<uint64_t> SparseMerkleTree::VersionCovering(uint64_t index) const {
  const Keys keys(tree_id_);
  auto snap = engine_->GetSnapshot();
  engine::IteratorOptions io;
  io.prefix = keys.RootPrefix();
  io.snapshot = snap.get();
  auto it = engine_->NewIterator(ColumnFamily::kIndex, io);
  it->Seek(keys.Root(index));
  if (!it->Valid()) {
    RETURN_IF_ERROR(it->status());
    return Status::NotFound("index " + std::to_string(index) + " is above the newest version");
  }
  if (it->key().size() != io.prefix.size() + 8)
    return Status::Corruption("malformed index root record");
  const uint64_t version = GetFixed64BE(it->key().substr(io.prefix.size()));
  if (version == index) return version;
  it->Prev();
  if (it->Valid()) return version;
  RETURN_IF_ERROR(it->status());
  // Below the oldest kept version: its batch began at the tree's start only while no version
  // has been pruned, which pruning's count tells (it keeps exactly keep_versions).
  int kept = 0;
  for (it->SeekToFirst(); it->Valid() && kept < options_.keep_versions; it->Next()) ++kept;
  RETURN_IF_ERROR(it->status());
  if (kept < options_.keep_versions) return version;
  return Status::NotFound("the version covering index " + std::to_string(index) +
                          " is no longer known (pruned)");
}

void SparseMerkleTree::Reset() {
  versions_loaded_ = false;
  kept_.clear();
  pruned_through_.reset();
  if (options_.cache != nullptr) options_.cache->ErasePrefix(TreeKeyPrefix(tree_id_));
}

Status SparseMerkleTree::LoadVersions() {
  const Keys keys(tree_id_);
  kept_.clear();
  latest_hash_ = Fr::Zero();
  latest_node_version_ = 0;
  engine::IteratorOptions io;
  io.prefix = keys.RootPrefix();
  auto it = engine_->NewIterator(ColumnFamily::kIndex, io);
  for (it->SeekToLast();
       it->Valid() && kept_.size() < static_cast<std::size_t>(options_.keep_versions); it->Prev()) {
    if (it->key().size() != io.prefix.size() + 8) {
      return Status::Corruption("malformed index root record");
    }
    if (kept_.empty()) {  // the newest record: the root the next Apply starts from
      if (it->value().size() != 40) return Status::Corruption("malformed index root record");
      ASSIGN_OR_RETURN(latest_hash_, GetFr(it->value()));
      latest_node_version_ = GetFixed64BE(it->value().substr(32));
    }
    kept_.push_front(GetFixed64BE(it->key().substr(io.prefix.size())));
  }
  RETURN_IF_ERROR(it->status());
  versions_loaded_ = true;
  return Status::OK();
}

Result<Fr> SparseMerkleTree::Apply(std::span<const SmtUpdate> updates, uint64_t version,
                                   engine::WriteBatch& batch) {
  const Keys keys(tree_id_);
  if (!versions_loaded_) RETURN_IF_ERROR(LoadVersions());
  if (!kept_.empty() && version <= kept_.back()) {
    return Status::InvalidArgument("index version " + std::to_string(version) +
                                   " is not above the latest " + std::to_string(kept_.back()));
  }
  const Ref old_root = kept_.empty() ? Ref{} : Ref{latest_hash_, latest_node_version_};

  // The last update of each key wins.
  std::vector<std::size_t> order(updates.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::vector<Limbs> paths(updates.size());
  for (std::size_t i = 0; i < updates.size(); ++i) paths[i] = updates[i].key.ToCanonical();
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return paths[a] < paths[b]; });
  std::vector<Item> items;
  items.reserve(updates.size());
  for (std::size_t i = 0; i < order.size(); ++i) {
    if (i + 1 < order.size() && paths[order[i + 1]] == paths[order[i]]) continue;
    const SmtUpdate& u = updates[order[i]];
    items.push_back(Item{paths[order[i]], u.key, u.value});
  }

  engine::WriteBatch staged;
  Applier applier(*engine_, keys, options_, version, staged, options_.hash_threads - 1);
  ASSIGN_OR_RETURN(Sub top, applier.Update(0, Limbs{}, old_root, items));
  ASSIGN_OR_RETURN(Ref root, applier.Finish(top));

  std::string record;
  PutFr(record, root.hash);
  PutFixed64BE(record, root.version);
  staged.Put(ColumnFamily::kIndex, keys.Root(version), record);

  // Pruning: keep the newest keep_versions versions, this one included.
  std::optional<uint64_t> oldest_kept;
  const std::size_t keep = static_cast<std::size_t>(options_.keep_versions);
  if (keep == 1) {
    oldest_kept = version;
  } else if (kept_.size() + 1 >= keep) {
    oldest_kept = kept_[kept_.size() + 1 - keep];
  }
  for (const std::string& suffix : applier.stale_) {
    if (oldest_kept.has_value() && version <= *oldest_kept) {
      staged.Delete(ColumnFamily::kIndex, keys.NodeFromSuffix(suffix));
    } else {
      staged.Put(ColumnFamily::kIndex, keys.Stale(version, suffix), "");
    }
  }
  if (oldest_kept.has_value()) {
    engine::IteratorOptions roots;
    roots.prefix = keys.RootPrefix();
    if (pruned_through_.has_value()) roots.lower_bound = keys.Root(*pruned_through_);
    roots.upper_bound = keys.Root(*oldest_kept);
    auto r = engine_->NewIterator(ColumnFamily::kIndex, roots);
    for (r->SeekToFirst(); r->Valid(); r->Next()) staged.Delete(ColumnFamily::kIndex, r->key());
    RETURN_IF_ERROR(r->status());
    engine::IteratorOptions stale;
    stale.prefix = keys.StalePrefix();
    if (pruned_through_.has_value()) stale.lower_bound = keys.Stale(*pruned_through_ + 1, "");
    stale.upper_bound = keys.Stale(*oldest_kept + 1, "");
    auto s = engine_->NewIterator(ColumnFamily::kIndex, stale);
    for (s->SeekToFirst(); s->Valid(); s->Next()) {
      staged.Delete(ColumnFamily::kIndex,
                    keys.NodeFromSuffix(s->key().substr(stale.prefix.size() + 8)));
      staged.Delete(ColumnFamily::kIndex, s->key());
    }
    RETURN_IF_ERROR(s->status());
  }
  // Nothing reaches the caller's batch unless everything above succeeded.
  batch.Append(staged);
  if (oldest_kept.has_value()) pruned_through_ = oldest_kept;
  kept_.push_back(version);
  while (oldest_kept.has_value() && kept_.front() < *oldest_kept) kept_.pop_front();
  latest_hash_ = root.hash;
  latest_node_version_ = root.version;
  if (options_.cache != nullptr) {
    for (const auto& [key, node] : applier.written_) options_.cache->Put(key, node);
  }
  parallel_splits_ += applier.parallel_splits_;
  return root.hash;
}

namespace {

struct Walk {
  SmtProof proof;
  std::optional<Fr> value;  // the key's value when present
};

// Follows `key`'s path at `version` on one snapshot.
Result<Walk> WalkPath(const engine::Engine& e, uint64_t tree_id, const Fr& key,
                      std::optional<uint64_t> version, NodeCache* cache) {
  const Keys keys(tree_id);
  auto snap = e.GetSnapshot();
  ASSIGN_OR_RETURN(Ref ref, ReadRoot(e, keys, version, snap.get()));
  const Limbs path = key.ToCanonical();
  Walk w;
  for (int depth = 0; !ref.hash.IsZero(); ++depth) {
    if (depth > kMaxProofDepth) return Status::Corruption("index path deeper than 240");
    ASSIGN_OR_RETURN(Node node, LoadNode(e, keys, depth, path, ref, snap.get(), cache));
    if (node.leaf) {
      if (node.key == key) {
        w.proof.existence = true;
        w.value = node.value;
      } else {
        w.proof.node_aux = NodeAux{node.key, node.value};
      }
      break;
    }
    const bool right = PathBit(path, depth);
    w.proof.siblings.push_back(right ? node.left.hash : node.right.hash);
    ref = right ? node.right : node.left;
  }
  while (!w.proof.siblings.empty() && w.proof.siblings.back().IsZero()) {
    w.proof.siblings.pop_back();
  }
  return w;
}

}  // namespace

Result<std::optional<Fr>> SparseMerkleTree::Get(const Fr& key,
                                                std::optional<uint64_t> version) const {
  ASSIGN_OR_RETURN(Walk w, WalkPath(*engine_, tree_id_, key, version, options_.cache));
  return w.value;
}

Result<SmtProof> SparseMerkleTree::Prove(const Fr& key, std::optional<uint64_t> version) const {
  ASSIGN_OR_RETURN(Walk w, WalkPath(*engine_, tree_id_, key, version, options_.cache));
  return std::move(w.proof);
}

void SparseMerkleTree::StageDrop(engine::WriteBatch& batch, uint64_t tree_id) {
  std::string begin(1, 'T');
  PutFixed64BE(begin, tree_id);
  std::string end(1, 'T');
  if (tree_id == UINT64_MAX) {
    end = "U";
  } else {
    PutFixed64BE(end, tree_id + 1);
  }
  batch.DeleteRange(engine::ColumnFamily::kIndex, begin, end);
}

}  // namespace rustorium::proof
