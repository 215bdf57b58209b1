// NodeCache: a bounded, least-recently-used cache of the index's tree nodes, shared by every
// tree of a store (one per store, so an idle region holds nothing in it once others need the
// room). Nodes are immutable under their keys (tree, depth, path, version that wrote them), so a
// cached node is never out of date; the two ways a key can be written again with other content
// (a tree dropped and rebuilt, an applied version whose batch was discarded) erase the tree's
// entries (SparseMerkleTree::Reset).
//
// Trees put the nodes they write (once the caller's batch is committed, see
// SparseMerkleTree::Apply) and the nodes they load, so hashing a batch seldom waits on the
// engine. Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace rustorium::proof {

class NodeCache {
 public:
  // Holds about `capacity_bytes` of keys, nodes and bookkeeping; 0 caches nothing.
  explicit NodeCache(std::size_t capacity_bytes) : capacity_(capacity_bytes) {}
  NodeCache(const NodeCache&) = delete;
  NodeCache& operator=(const NodeCache&) = delete;

  std::optional<std::string> Get(const std::string& key);
  void Put(const std::string& key, std::string_view node);
  // Erases every entry whose key starts with `prefix` (a tree's key prefix).
  void ErasePrefix(std::string_view prefix);

  // What the cache holds, in bytes as counted against the capacity, and its entries.
  std::size_t bytes() const;
  std::size_t entries() const;
  std::size_t capacity() const { return capacity_; }
  uint64_t hits() const { return hits_.load(); }
  uint64_t misses() const { return misses_.load(); }

  // The bytes one entry counts for: its key and node plus the list and map bookkeeping.
  static std::size_t Charge(std::size_t key_bytes, std::size_t node_bytes);

 private:
  struct Entry {
    std::string key;
    std::string node;
  };
  void EvictToCapacity();  // under mu_

  const std::size_t capacity_;
  mutable std::mutex mu_;
  std::list<Entry> lru_;  // most recently used first
  std::unordered_map<std::string_view, std::list<Entry>::iterator> index_;  // keys in lru_
  std::size_t bytes_ = 0;
  std::atomic<uint64_t> hits_{0}, misses_{0};
};

}  // namespace rustorium::proof
