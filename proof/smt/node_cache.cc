#include "proof/smt/node_cache.h"

namespace rustorium::proof {

std::size_t NodeCache::Charge(std::size_t key_bytes, std::size_t node_bytes) {
  // Two strings' heap blocks, a list node and a hash-map node with its bucket.
  constexpr std::size_t kOverhead = 2 * sizeof(std::string) + 4 * sizeof(void*) + 48;
  return key_bytes + node_bytes + kOverhead;
}

std::optional<std::string> NodeCache::Get(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = index_.find(key);
  if (it == index_.end()) {
    misses_++;
    return std::nullopt;
  }
  hits_++;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->node;
}

void NodeCache::Put(const std::string& key, std::string_view node) {
  const std::size_t charge = Charge(key.size(), node.size());
  if (charge > capacity_) return;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = index_.find(key);
  if (it != index_.end()) {
    // Same key, same node (immutable): only its place in the order changes.
    lru_.splice(lru_.begin(), lru_, it->second);
    return;
  }
  lru_.push_front(Entry{key, std::string(node)});
  index_.emplace(lru_.front().key, lru_.begin());
  bytes_ += charge;
  EvictToCapacity();
}

void NodeCache::ErasePrefix(std::string_view prefix) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = lru_.begin(); it != lru_.end();) {
    if (std::string_view(it->key).starts_with(prefix)) {
      bytes_ -= Charge(it->key.size(), it->node.size());
      index_.erase(it->key);
      it = lru_.erase(it);
    } else {
      ++it;
    }
  }
}

void NodeCache::EvictToCapacity() {
  while (bytes_ > capacity_ && !lru_.empty()) {
    const Entry& last = lru_.back();
    bytes_ -= Charge(last.key.size(), last.node.size());
    index_.erase(last.key);
    lru_.pop_back();
  }
}

std::size_t NodeCache::bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return bytes_;
}

std::size_t NodeCache::entries() const {
  std::lock_guard<std::mutex> lock(mu_);
  return lru_.size();
}

}  // namespace rustorium::proof
