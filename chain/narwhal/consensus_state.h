// What consensus produces and what a validator persists of it: the committed sub-DAGs and the
// compact state a restarted validator reloads to go on without committing anything twice.
// Stored state sits below the code that produces it (Bullshark, chain/bullshark/) and the code
// that stores it (DagStore), so neither depends on the other.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "chain/narwhal/messages.h"

namespace rustorium::chain {

// One committed anchor and the certificates it orders, the anchor last.
struct CommittedSubDag {
  uint64_t index = 0;  // consensus index: 1, 2, 3... over the validator's whole life
  Certificate anchor;
  std::vector<Certificate> certificates;
};

// What a restarted validator reloads to go on without committing anything twice.
struct ConsensusState {
  uint64_t last_committed_round = 0;             // round of the last committed anchor
  std::map<PublicKey, uint64_t> last_committed;  // per author, the highest committed round
  uint64_t last_index = 0;                       // consensus index of the last sub-DAG

  bool operator==(const ConsensusState&) const = default;
};

// Canonical bytes: version 1, last_committed_round, last_index, then the per-author rounds
// in key order; integers big-endian. Decoding refuses, with Corruption, anything Encode
// cannot produce: another version, a truncated or trailing byte, more than kMaxListLength
// authors, authors out of order or repeated, an author's round above last_committed_round.
std::string EncodeConsensusState(const ConsensusState& state);
Result<ConsensusState> DecodeConsensusState(std::string_view bytes);

}  // namespace rustorium::chain
