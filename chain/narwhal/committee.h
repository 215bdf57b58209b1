// The committee: n validators with stake, each named by its ed25519 public key. Immutable
// after construction; any thread may read it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "chain/narwhal/crypto.h"

namespace rustorium::chain {

struct Authority {
  PublicKey name{};
  uint64_t stake = 1;
  // Where its primary and each of its workers listen ("host:port"); empty in simulations.
  std::string primary_address;
  std::vector<std::string> worker_addresses;
  // Number of workers; worker ids run 0..workers-1.
  uint32_t workers = 1;
};

class Committee {
 public:
  // InvalidArgument when empty, a name repeats, a stake is 0 or the total overflows.
  static Result<Committee> Create(std::vector<Authority> authorities);

  // Authorities sorted by public key: the order every deterministic choice uses.
  const std::vector<Authority>& authorities() const { return authorities_; }
  size_t size() const { return authorities_.size(); }
  uint64_t total_stake() const { return total_stake_; }
  // Stake of `name`; 0 when it is not a member.
  uint64_t Stake(const PublicKey& name) const;
  bool Contains(const PublicKey& name) const { return Index(name).has_value(); }
  std::optional<size_t> Index(const PublicKey& name) const;
  const Authority* Find(const PublicKey& name) const;
  // 2f + 1 by stake: more than two thirds of the total.
  uint64_t QuorumThreshold() const { return 2 * total_stake_ / 3 + 1; }
  // f + 1 by stake: enough that at least one honest validator is among them.
  uint64_t ValidityThreshold() const { return (total_stake_ + 2) / 3; }
  // The anchor's author of an even round: round robin over the sorted authorities,
  // authorities()[(round / 2) % n]. Only meaningful for even rounds.
  const PublicKey& Leader(uint64_t round) const;

 private:
  std::vector<Authority> authorities_;
  uint64_t total_stake_ = 0;
};

}  // namespace rustorium::chain
