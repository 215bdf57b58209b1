// Bullshark (partially synchronous): orders the certified DAG.
//
// An anchor sits at every even round; its author is Committee::Leader(round). An anchor at
// round r is committed once certificates of round r + 1 holding f + 1 stake reference it; the
// earlier anchors it reaches through the DAG and that were not committed yet are committed
// with it, oldest first. Each committed anchor's causal history, minus what was committed
// before and what lies below the garbage-collection bound, is ordered depth-first from the
// anchor (parents visited in digest order) and then stably sorted by round: a sub-DAG. Every
// choice depends only on the certificates, never on arrival order, hash-table layout or time.
//
// Single-threaded: one owner calls everything.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "chain/narwhal/committee.h"
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
  uint64_t last_committed_round = 0;            // round of the last committed anchor
  std::map<PublicKey, uint64_t> last_committed;  // per author, the highest committed round
  uint64_t last_index = 0;                       // consensus index of the last sub-DAG

  bool operator==(const ConsensusState&) const = default;
};

std::string EncodeConsensusState(const ConsensusState& state);
Result<ConsensusState> DecodeConsensusState(std::string_view bytes);

class Bullshark {
 public:
  // `gc_depth` rounds of history behind the last committed round are kept.
  Bullshark(const Committee& committee, uint64_t gc_depth, ConsensusState state = {});

  // Adds a certificate to the DAG and returns the sub-DAGs it lets commit, in order (often
  // none). Certificates must come in causal order: every parent already given, a genesis
  // certificate or below the GC bound. A certificate already known, at or below the GC
  // bound, or of a round already committed for its author is ignored.
  std::vector<CommittedSubDag> ProcessCertificate(const Certificate& certificate);

  const ConsensusState& state() const { return state_; }
  // Rounds at or below this are forgotten and never committed.
  uint64_t gc_round() const;
  // Certificates held in the DAG (memory in use is proportional to it).
  size_t dag_size() const;

 private:
  ConsensusState state_;
};

}  // namespace rustorium::chain
