// The authenticated index: an iden3-layout sparse Merkle tree over Poseidon, persisted in the
// engine's `index` column family, versioned, with inclusion and non-inclusion proofs.
//
// Layout (compatible with iden3's go-merkletree and js-merkletree): leaf = P(k, v, 1),
// middle = P(left, right), empty = 0; the path of key k is its bits from the least
// significant (1 = right); every leaf sits at the shallowest depth where its path is alone,
// so the root depends only on the set of (k, v), not on the order of updates.
//
// Persistence (Jellyfish-Merkle-style): a node is stored under (tree id, depth, path,
// version that wrote it) and never changed; a parent names each child by hash and version.
// Apply() stages the nodes of one new version, that version's root record, stale-node
// records and the pruning of versions no longer kept into the caller's WriteBatch. Nothing
// is visible until the caller writes the batch, so a crash before that leaves the previous
// root intact.
//
// Threads: any number of readers (Root, Get, Prove) may run alongside one writer (Apply);
// each read works on one engine snapshot.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "proof/field/fr.h"
#include "proof/smt/node_cache.h"
#include "proof/smt/proof.h"

namespace rustorium::proof {

// The prefix of every key of tree `tree_id` in the `index` column family: 'T' then the id
// (8 bytes, big-endian). Stores give each region's tree the region's id (region/keys.h).
std::string TreeKeyPrefix(uint64_t tree_id);

struct SmtOptions {
  // iden3's maxLevels: a leaf sits at depth <= max_levels - 1, so two keys whose paths share
  // their first max_levels - 1 bits cannot both be stored (ResourceExhausted-like
  // InvalidArgument). 2..241; proofs then carry at most 240 siblings.
  int max_levels = 64;
  // Versions whose roots stay provable: the newest `keep_versions` applied versions.
  int keep_versions = 64;
  // The store's node cache (not owned; must outlive the tree), or none.
  NodeCache* cache = nullptr;
  // Threads an Apply may hash on (1..64): a batch's subtrees of a few hundred keys or more
  // are hashed side by side, the caller's thread taking one half. Default: the CPU's cores.
  int hash_threads = DefaultHashThreads();

  static int DefaultHashThreads();
};

// One change: set `key` to `value`, or delete `key` when value is nullopt (deleting an
// absent key changes nothing).
struct SmtUpdate {
  Fr key;
  std::optional<Fr> value;
};

class SparseMerkleTree {
 public:
  // A tree stored in `engine` (not owned; must outlive the tree) under `tree_id`; many trees
  // share one engine. InvalidArgument for options out of range.
  static Result<SparseMerkleTree> Open(engine::Engine* engine, uint64_t tree_id,
                                       SmtOptions options = {});

  // The newest applied version, or nullopt for a tree never written.
  Result<std::optional<uint64_t>> LatestVersion() const;

  // The root at `version` (the newest when nullopt); zero for a tree never written.
  // NotFound when the version was never applied or is no longer kept.
  Result<Fr> Root(std::optional<uint64_t> version = std::nullopt) const;

  // Stages `updates` as `version` into `batch` and returns the new root. `version` must be
  // above every applied version, and the previous version's batch must have been written.
  // Each touched node is hashed once, however many updates pass through it. When several
  // updates name one key, the last wins. Errors leave `batch` as it was:
  //   InvalidArgument  version not increasing, or two keys collide past max_levels
  //   Corruption       a stored node is missing or malformed
  //
  // The tree remembers its newest version, the versions it keeps and (in options.cache) the nodes
  // it wrote as if the batch were written: a caller that drops a batch after a successful Apply
  // (a failed engine write) must call Reset before the next Apply.
  Result<Fr> Apply(std::span<const SmtUpdate> updates, uint64_t version, engine::WriteBatch& batch);

  // Forgets what this object remembers of the tree (newest version, kept versions, and the tree's
  // entries in options.cache): after a dropped batch, or after the tree was dropped (StageDrop)
  // and the drop written.
  void Reset();

  // The kept version that answers for `index` when versions are the last indexes of batches
  // (a region's apply runs): `index` itself when it is a version, else the lowest version above
  // it, provided a kept version below it (or the tree's start, while nothing was pruned) shows
  // where that batch began. NotFound when `index` is above the newest version or its batch is
  // no longer known to be kept.
  Result<uint64_t> VersionCovering(uint64_t index) const;

  // The value of `key` at `version` (newest when nullopt), or nullopt when absent.
  Result<std::optional<Fr>> Get(const Fr& key,
                                std::optional<uint64_t> version = std::nullopt) const;

  // An inclusion proof when `key` is present at `version`, else a non-inclusion proof.
  Result<SmtProof> Prove(const Fr& key, std::optional<uint64_t> version = std::nullopt) const;

  // Stages the removal of every node, root and record of tree `tree_id` (a region's tree
  // before it is rebuilt from a snapshot's data).
  static void StageDrop(engine::WriteBatch& batch, uint64_t tree_id);

  const SmtOptions& options() const { return options_; }
  uint64_t tree_id() const { return tree_id_; }
  // Halves of splits this object's Applies hashed on threads of their own (hash_threads).
  uint64_t parallel_splits() const { return parallel_splits_; }

 private:
  SparseMerkleTree(engine::Engine* engine, uint64_t tree_id, SmtOptions options)
      : engine_(engine), tree_id_(tree_id), options_(options) {}

  // Reads the newest version and the kept versions from the engine (first Apply after Reset).
  Status LoadVersions();

  engine::Engine* engine_;
  uint64_t tree_id_;
  SmtOptions options_;
  // The applied versions still kept, oldest first, and the newest one's root: root hash and the
  // version of the root node. Loaded on the first Apply; every Apply updates them.
  bool versions_loaded_ = false;
  std::deque<uint64_t> kept_;
  Fr latest_hash_;
  uint64_t latest_node_version_ = 0;
  // The oldest kept version after this object's last Apply: pruning scans start there, not
  // at the front of the key range, where the tombstones of earlier prunes pile up until
  // compaction. Only a hint: unset after Open (one full scan), and a batch the caller drops
  // can only make pruning skip records, never touch kept ones.
  std::optional<uint64_t> pruned_through_;
  uint64_t parallel_splits_ = 0;
};

}  // namespace rustorium::proof
