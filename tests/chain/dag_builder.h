// A committee with keys from fixed seeds and a DAG of genuine certificates (signed headers,
// votes of 2f + 1 stake) built round by round, for tests of the ordering layer. Authorities
// are named by their index in committee().authorities(), the order Committee::Leader uses.
#pragma once

#include <cstdint>
#include <map>
#include <random>
#include <vector>

#include "chain/narwhal/committee.h"
#include "chain/narwhal/crypto.h"
#include "chain/narwhal/messages.h"

namespace rustorium::chain::testing {

class DagBuilder {
 public:
  // One authority per stake; their keys come from fixed seeds, so every DagBuilder with the
  // same stakes makes the same committee and, given the same calls, the same certificates.
  explicit DagBuilder(const std::vector<uint64_t>& stakes = {1, 1, 1, 1});

  const Committee& committee() const { return committee_; }
  size_t size() const { return keys_.size(); }
  const PublicKey& Name(size_t author) const { return keys_[author].public_key(); }
  // The index of Committee::Leader(round).
  size_t LeaderIndex(uint64_t round) const { return (round / 2) % size(); }
  std::vector<size_t> Everyone() const;
  // Everyone but `author`.
  std::vector<size_t> AllBut(size_t author) const;

  // Who votes from now on (all by default): each certificate carries the votes of its author
  // and of the next voters in index order until they hold quorum stake.
  void SetVoters(std::vector<size_t> voters) { voters_ = std::move(voters); }

  // Adds `author`'s certificate of `round` referencing the certificates of round - 1 by
  // `parents` (the genesis certificates for round 1). Aborts the test binary when a parent is
  // missing or the slot is taken: a mistake in the test.
  const Certificate& Add(size_t author, uint64_t round, const std::vector<size_t>& parents);
  // Adds a certificate of `round` for each of `authors`, each referencing every certificate
  // of round - 1.
  void AddRound(uint64_t round, const std::vector<size_t>& authors);
  // AddRound for each round of [first, last].
  void AddRounds(uint64_t first, uint64_t last, const std::vector<size_t>& authors);
  // Adds rounds [first, last] drawn from `rng`: each authority is absent from a round with
  // probability absent_percent / 100 (but the round always holds quorum stake), and each
  // certificate references a random set of the previous round's certificates holding at
  // least quorum stake. Only raw engine outputs are used, so a seed gives the same DAG
  // everywhere.
  void AddRandomRounds(uint64_t first, uint64_t last, std::mt19937_64& rng, int absent_percent);

  // The certificate of (round, author), or null.
  const Certificate* Get(uint64_t round, size_t author) const;
  Digest DigestOf(uint64_t round, size_t author) const;
  // Every certificate, by round and then by author: one causal order.
  std::vector<Certificate> InRoundOrder() const;
  // A causal order drawn from `rng`: each step delivers a uniformly chosen certificate whose
  // parents are all delivered.
  std::vector<Certificate> RandomCausalOrder(std::mt19937_64& rng) const;

  // True when the header signature and every vote verify, the voters are distinct members
  // and they hold quorum stake.
  bool IsGenuine(const Certificate& certificate) const;

 private:
  std::vector<KeyPair> keys_;  // in committee order
  Committee committee_;
  std::vector<size_t> voters_;
  std::map<uint64_t, std::map<size_t, Certificate>> rounds_;
};

// A uniform draw from [0, n) out of the engine's raw output (no std:: distribution, whose
// results differ between standard libraries). The tiny modulo bias does not matter here.
inline size_t Draw(std::mt19937_64& rng, size_t n) { return static_cast<size_t>(rng() % n); }

}  // namespace rustorium::chain::testing
