#include "chain/bullshark/bullshark.h"

#include <algorithm>
#include <cstring>
#include <set>
#include <utility>

#include "base/codec.h"

namespace rustorium::chain {
Bullshark::Bullshark(const Committee& committee, uint64_t gc_depth, ConsensusState state)
    : committee_(committee), gc_depth_(gc_depth), state_(std::move(state)) {}

uint64_t Bullshark::gc_round() const {
  return state_.last_committed_round > gc_depth_ ? state_.last_committed_round - gc_depth_ : 0;
}

std::vector<CommittedSubDag> Bullshark::ProcessCertificate(const Certificate& certificate) {
  const uint64_t round = certificate.round();
  const PublicKey& author = certificate.origin();
  if (round <= gc_round() || !committee_.Contains(author)) return {};
  if (auto it = state_.last_committed.find(author);
      it != state_.last_committed.end() && round <= it->second) {
    return {};
  }
  Round& slot = dag_[round];
  if (slot.by_author.contains(author)) return {};
  Node node{certificate.ComputeDigest(), certificate};
  slot.by_digest.emplace(node.digest, author);
  slot.by_author.emplace(author, std::move(node));
  ++dag_size_;

  // Only a certificate of round r + 1 adds support to the anchor of round r.
  const uint64_t anchor_round = round - 1;
  if (anchor_round % 2 != 0 || anchor_round <= state_.last_committed_round) return {};
  const Node* anchor = Anchor(anchor_round);
  if (anchor == nullptr || Support(*anchor) < committee_.ValidityThreshold()) return {};

  std::vector<CommittedSubDag> committed;
  for (const Node* next : AnchorsToCommit(*anchor)) {
    CommittedSubDag sub_dag;
    sub_dag.index = ++state_.last_index;
    sub_dag.anchor = next->certificate;
    sub_dag.certificates = OrderSubDag(*next);
    for (const Certificate& c : sub_dag.certificates) {
      uint64_t& last = state_.last_committed[c.origin()];
      last = std::max(last, c.round());
    }
    state_.last_committed_round = next->certificate.round();
    committed.push_back(std::move(sub_dag));
  }
  CollectGarbage();
  return committed;
}

const Bullshark::Node* Bullshark::Find(uint64_t round, const Digest& digest) const {
  auto r = dag_.find(round);
  if (r == dag_.end()) return nullptr;
  auto d = r->second.by_digest.find(digest);
  if (d == r->second.by_digest.end()) return nullptr;
  return &r->second.by_author.at(d->second);
}

const Bullshark::Node* Bullshark::Anchor(uint64_t round) const {
  auto r = dag_.find(round);
  if (r == dag_.end()) return nullptr;
  auto a = r->second.by_author.find(committee_.Leader(round));
  return a == r->second.by_author.end() ? nullptr : &a->second;
}

uint64_t Bullshark::Support(const Node& anchor) const {
  auto r = dag_.find(anchor.certificate.round() + 1);
  if (r == dag_.end()) return 0;
  uint64_t stake = 0;
  for (const auto& [author, node] : r->second.by_author) {
    const std::vector<Digest>& parents = node.certificate.header.parents;
    if (std::find(parents.begin(), parents.end(), anchor.digest) != parents.end()) {
      stake += committee_.Stake(author);
    }
  }
  return stake;
}

bool Bullshark::Linked(const Node& from, const Node& to) const {
  const uint64_t target = to.certificate.round();
  std::set<Digest> frontier = {from.digest};
  for (uint64_t round = from.certificate.round(); round > target && !frontier.empty(); --round) {
    std::set<Digest> parents;
    for (const Digest& digest : frontier) {
      const Node* node = Find(round, digest);
      if (node == nullptr) continue;
      for (const Digest& parent : node->certificate.header.parents) {
        if (Find(round - 1, parent) != nullptr) parents.insert(parent);
      }
    }
    frontier = std::move(parents);
  }
  return frontier.contains(to.digest);
}

std::vector<const Bullshark::Node*> Bullshark::AnchorsToCommit(const Node& anchor) const {
  std::vector<const Node*> chain = {&anchor};
  // Anchor rounds are even and last_committed_round is even (or 0), so this walks exactly
  // the uncommitted anchor rounds below `anchor`.
  for (uint64_t round = anchor.certificate.round() - 2; round > state_.last_committed_round;
       round -= 2) {
    const Node* earlier = Anchor(round);
    if (earlier != nullptr && Linked(*chain.back(), *earlier)) chain.push_back(earlier);
  }
  std::reverse(chain.begin(), chain.end());
  return chain;
}

std::vector<Certificate> Bullshark::OrderSubDag(const Node& anchor) const {
  const uint64_t bound = gc_round();
  auto skip = [&](const Node& node) {
    const uint64_t round = node.certificate.round();
    if (round <= bound) return true;
    auto it = state_.last_committed.find(node.certificate.origin());
    return it != state_.last_committed.end() && round <= it->second;
  };
  // Depth-first, pre-order: a node is output when first popped, then its parents are pushed
  // in reverse digest order so that they are explored in digest order.
  std::vector<Certificate> ordered;
  std::set<Digest> visited;
  std::vector<const Node*> stack = {&anchor};
  while (!stack.empty()) {
    const Node* node = stack.back();
    stack.pop_back();
    if (!visited.insert(node->digest).second) continue;
    ordered.push_back(node->certificate);
    std::vector<Digest> parents = node->certificate.header.parents;
    std::sort(parents.begin(), parents.end());
    for (auto it = parents.rbegin(); it != parents.rend(); ++it) {
      const Node* parent = Find(node->certificate.round() - 1, *it);
      if (parent != nullptr && !visited.contains(parent->digest) && !skip(*parent)) {
        stack.push_back(parent);
      }
    }
  }
  std::stable_sort(ordered.begin(), ordered.end(), [](const Certificate& a, const Certificate& b) {
    return a.round() < b.round();
  });
  return ordered;
}

void Bullshark::CollectGarbage() {
  const uint64_t bound = gc_round();
  while (!dag_.empty() && dag_.begin()->first <= bound) {
    dag_size_ -= dag_.begin()->second.by_author.size();
    dag_.erase(dag_.begin());
  }
}

}  // namespace rustorium::chain
