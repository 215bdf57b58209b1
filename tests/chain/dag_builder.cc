#include "tests/chain/dag_builder.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <set>

namespace rustorium::chain::testing {
namespace {

[[noreturn]] void Fail(const char* what, uint64_t round, size_t author) {
  std::fprintf(stderr, "DagBuilder: %s (round %llu, author %zu)\n", what,
               static_cast<unsigned long long>(round), author);
  std::abort();
}

}  // namespace

DagBuilder::DagBuilder(const std::vector<uint64_t>& stakes) {
  std::vector<KeyPair> keys;
  std::vector<Authority> authorities;
  for (size_t i = 0; i < stakes.size(); ++i) {
    std::array<uint8_t, 32> seed{};
    seed[0] = static_cast<uint8_t>(i + 1);
    seed[31] = 0x5a;
    keys.push_back(KeyPair::FromSeed(seed));
    Authority a;
    a.name = keys.back().public_key();
    a.stake = stakes[i];
    authorities.push_back(a);
  }
  auto committee = Committee::Create(std::move(authorities));
  if (!committee.ok()) Fail("bad committee", 0, stakes.size());
  committee_ = std::move(*committee);
  for (const Authority& a : committee_.authorities()) {
    keys_.push_back(*std::find_if(keys.begin(), keys.end(),
                                  [&](const KeyPair& k) { return k.public_key() == a.name; }));
  }
  voters_ = Everyone();
}

std::vector<size_t> DagBuilder::Everyone() const {
  std::vector<size_t> all(size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = i;
  return all;
}

std::vector<size_t> DagBuilder::AllBut(size_t author) const {
  std::vector<size_t> all = Everyone();
  all.erase(std::remove(all.begin(), all.end(), author), all.end());
  return all;
}

const Certificate& DagBuilder::Add(size_t author, uint64_t round,
                                   const std::vector<size_t>& parents) {
  if (round == 0 || author >= size()) Fail("bad slot", round, author);
  if (Get(round, author) != nullptr) Fail("slot taken", round, author);
  std::vector<Digest> digests;
  for (size_t p : parents) {
    if (round == 1) {
      digests.push_back(Certificate::Genesis(Name(p)).ComputeDigest());
    } else {
      if (Get(round - 1, p) == nullptr) Fail("missing parent", round, author);
      digests.push_back(DigestOf(round - 1, p));
    }
  }
  Certificate c;
  c.header = Header::Make(keys_[author], round, {}, std::move(digests));
  // The author votes for its own header, then the other voters in index order.
  std::vector<size_t> voters = {author};
  for (size_t v : voters_) {
    if (v != author) voters.push_back(v);
  }
  uint64_t stake = 0;
  for (size_t v : voters) {
    if (stake >= committee_.QuorumThreshold()) break;
    const Vote vote = Vote::Make(keys_[v], c.header);
    c.votes.emplace_back(vote.author, vote.signature);
    stake += committee_.Stake(vote.author);
  }
  if (stake < committee_.QuorumThreshold()) Fail("voters below quorum", round, author);
  std::sort(c.votes.begin(), c.votes.end());
  return rounds_[round][author] = std::move(c);
}

void DagBuilder::AddRound(uint64_t round, const std::vector<size_t>& authors) {
  std::vector<size_t> parents;
  if (round == 1) {
    parents = Everyone();
  } else if (auto it = rounds_.find(round - 1); it != rounds_.end()) {
    for (const auto& [author, certificate] : it->second) parents.push_back(author);
  }
  for (size_t author : authors) Add(author, round, parents);
}

void DagBuilder::AddRounds(uint64_t first, uint64_t last, const std::vector<size_t>& authors) {
  for (uint64_t round = first; round <= last; ++round) AddRound(round, authors);
}

void DagBuilder::AddRandomRounds(uint64_t first, uint64_t last, std::mt19937_64& rng,
                                 int absent_percent) {
  const uint64_t quorum = committee_.QuorumThreshold();
  // Fisher-Yates with raw draws, then the shortest prefix holding quorum stake plus a coin
  // flip for each of the rest.
  auto quorum_subset = [&](std::vector<size_t> from) {
    for (size_t i = from.size(); i > 1; --i) std::swap(from[i - 1], from[Draw(rng, i)]);
    std::vector<size_t> chosen;
    uint64_t stake = 0;
    for (size_t a : from) {
      if (stake < quorum || rng() % 2 == 0) {
        chosen.push_back(a);
        stake += committee_.authorities()[a].stake;
      }
    }
    std::sort(chosen.begin(), chosen.end());
    return chosen;
  };
  for (uint64_t round = first; round <= last; ++round) {
    std::vector<size_t> present;
    uint64_t stake = 0;
    for (size_t a : Everyone()) {
      if (static_cast<int>(rng() % 100) >= absent_percent) {
        present.push_back(a);
        stake += committee_.authorities()[a].stake;
      }
    }
    if (stake < quorum) present = quorum_subset(Everyone());
    std::vector<size_t> previous;
    if (round == 1) {
      previous = Everyone();
    } else {
      for (const auto& [author, certificate] : rounds_.at(round - 1)) previous.push_back(author);
    }
    for (size_t author : present) Add(author, round, quorum_subset(previous));
  }
}

const Certificate* DagBuilder::Get(uint64_t round, size_t author) const {
  auto r = rounds_.find(round);
  if (r == rounds_.end()) return nullptr;
  auto c = r->second.find(author);
  return c == r->second.end() ? nullptr : &c->second;
}

Digest DagBuilder::DigestOf(uint64_t round, size_t author) const {
  const Certificate* c = Get(round, author);
  if (c == nullptr) Fail("no such certificate", round, author);
  return c->ComputeDigest();
}

std::vector<Certificate> DagBuilder::InRoundOrder() const {
  std::vector<Certificate> out;
  for (const auto& [round, certificates] : rounds_) {
    for (const auto& [author, certificate] : certificates) out.push_back(certificate);
  }
  return out;
}

std::vector<Certificate> DagBuilder::RandomCausalOrder(std::mt19937_64& rng) const {
  const std::vector<Certificate> all = InRoundOrder();
  std::map<Digest, size_t> index;
  for (size_t i = 0; i < all.size(); ++i) index[all[i].ComputeDigest()] = i;
  std::vector<size_t> waiting(all.size(), 0);
  std::vector<std::vector<size_t>> children(all.size());
  std::vector<size_t> ready;
  for (size_t i = 0; i < all.size(); ++i) {
    for (const Digest& parent : all[i].header.parents) {
      auto it = index.find(parent);
      if (it == index.end()) continue;  // genesis
      ++waiting[i];
      children[it->second].push_back(i);
    }
    if (waiting[i] == 0) ready.push_back(i);
  }
  std::vector<Certificate> out;
  while (!ready.empty()) {
    const size_t pick = Draw(rng, ready.size());
    const size_t next = ready[pick];
    ready[pick] = ready.back();
    ready.pop_back();
    out.push_back(all[next]);
    for (size_t child : children[next]) {
      if (--waiting[child] == 0) ready.push_back(child);
    }
  }
  if (out.size() != all.size()) Fail("the DAG has a cycle", 0, 0);
  return out;
}

bool DagBuilder::IsGenuine(const Certificate& certificate) const {
  const Header& h = certificate.header;
  if (h.id != h.ComputeId() || !VerifySignature(h.author, h.id, h.signature)) return false;
  std::set<PublicKey> voters;
  uint64_t stake = 0;
  for (const auto& [voter, signature] : certificate.votes) {
    if (!committee_.Contains(voter) || !voters.insert(voter).second) return false;
    if (!VerifySignature(voter, Vote::VoteDigest(h.id), signature)) return false;
    stake += committee_.Stake(voter);
  }
  return stake >= committee_.QuorumThreshold();
}

}  // namespace rustorium::chain::testing
