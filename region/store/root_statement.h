// What a store vouches for, and how anyone checks it. The store signs (region id, epoch,
// applied index, root) with its ed25519 key; a client that knows the store's public key (from
// PD) checks the signature, then each key's proof against the root, without trusting the
// connection. This header is the one piece of region/store/ that the region client shares: it
// depends on proof/ and libsodium only.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"
#include "proof/field/fr.h"

namespace rustorium::store {

// The tree key and value of a user key and value in a region's authenticated index: the byte
// sponge of each (proof/poseidon/byte_hash.h).
proof::Fr TreeKey(std::string_view key);
proof::Fr TreeValue(std::string_view value);

// A root on the wire and in apply results: 32 bytes, big-endian.
std::string RootToBytes(const proof::Fr& root);
// Corruption unless `bytes` is 32 bytes holding a field element.
Result<proof::Fr> RootFromBytes(std::string_view bytes);

// The bytes signed: "rustorium.root.v1", region id, conf_ver, version, applied index (each
// 8 bytes big-endian) and the root (32 bytes big-endian).
std::string RootStatement(uint64_t region_id, uint64_t conf_ver, uint64_t version,
                          uint64_t applied_index, const proof::Fr& root);

// What a split changed (issue 20), as every replica applied it: the region before the split
// (its id, epoch, and its root at the applied index just before), the key it was cut at, and
// each half after with its first root (the left half's at the split's index, the right half's
// at store::kSplitInitIndex). A verifier crosses a split with it: the old region's roots end at
// `parent_root`, the halves' start at `left_root` and `right_root` (docs/proofs.md).
struct SplitFacts {
  uint64_t split_index = 0;  // the Split command's index in the old region's log
  uint64_t parent_id = 0;
  uint64_t parent_conf_ver = 0;
  uint64_t parent_version = 0;
  uint64_t parent_applied_index = 0;
  proof::Fr parent_root;
  std::string split_key;
  uint64_t left_id = 0;
  uint64_t left_version = 0;
  proof::Fr left_root;
  uint64_t right_id = 0;
  uint64_t right_version = 0;
  proof::Fr right_root;
  friend bool operator==(const SplitFacts&, const SplitFacts&) = default;
};

// The bytes a store signs for a split, kept as they are in both halves' metadata
// (meta.proto's Region.origin_statement): "rustorium.split.v1", then the integers of
// SplitFacts in its order (8 bytes big-endian each), each root as 32 bytes big-endian and the
// split key as its length (4 bytes) and its bytes.
std::string SplitStatement(const SplitFacts& facts);
// The facts of a statement; Corruption when the bytes are not one (another tag, a length
// past the end, a root that is not a field element, trailing bytes).
Result<SplitFacts> ParseSplitStatement(std::string_view statement);

// What a merge changed (issue 20), as every replica of the merged region applied it: the
// target before (its id, epoch, and its root just before the merge), the source as prepared
// (its id, epoch, the prepare's index and its root there), and the merged region (the target's
// id, its new version, its root at the merge's index). A verifier crosses a merge with it: the
// target's and the source's roots end at `target_root` and `source_root`, the merged region's
// start at `merged_root` (docs/proofs.md).
struct MergeFacts {
  uint64_t merge_index = 0;  // the CommitMerge command's index in the target's log
  uint64_t target_id = 0;
  uint64_t target_conf_ver = 0;
  uint64_t target_version = 0;
  uint64_t target_applied_index = 0;
  proof::Fr target_root;
  uint64_t source_id = 0;
  uint64_t source_conf_ver = 0;
  uint64_t source_version = 0;
  uint64_t source_prepare_index = 0;
  proof::Fr source_root;
  uint64_t merged_version = 0;
  proof::Fr merged_root;
  friend bool operator==(const MergeFacts&, const MergeFacts&) = default;
};

// The bytes a store signs for a merge, kept in the merged region's metadata
// (Region.origin_statement): "rustorium.merge.v1", then MergeFacts's integers and roots in its
// order (integers 8 bytes big-endian, roots 32 bytes big-endian).
std::string MergeStatement(const MergeFacts& facts);
// The facts of a statement; Corruption when the bytes are not one.
Result<MergeFacts> ParseMergeStatement(std::string_view statement);

// True when `signature` is `public_key`'s ed25519 signature of `message`. Thread-safe.
bool VerifySignature(std::string_view public_key, std::string_view message,
                     std::string_view signature);

// libsodium is initialised (once per process); false when it cannot be.
bool SodiumReady();

}  // namespace rustorium::store
