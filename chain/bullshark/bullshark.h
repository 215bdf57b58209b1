// Bullshark (partially synchronous): orders the certified DAG.
//
// An anchor sits at every even round from 2 on; its author is Committee::Leader(round). An
// anchor at round r is committed once certificates of round r + 1 holding f + 1 stake
// (ValidityThreshold) reference it; the earlier anchors it reaches through the DAG and that
// were not committed yet are committed with it, oldest first. Each committed anchor's causal
// history, minus what was committed before and what lies at or below the garbage-collection
// bound, is ordered depth-first from the anchor (parents visited in digest order) and then
// stably sorted by round: a sub-DAG. Every choice depends only on the certificates, never on
// arrival order, hash-table layout or time: any causal delivery order of one DAG gives the
// same sequence of sub-DAGs. That needs every certificate to have parents of 2f + 1 stake
// (Narwhal checks it): then an anchor's f + 1 supporters and the 2f + 1 parents of any later
// certificate share one, so a directly committed anchor is reached by every later anchor.
//
// The rules in detail:
// - Trigger: only a certificate of round r + 1 can commit the anchor of round r, and only
//   when r is even and above last_committed_round. Earlier anchors are committed only
//   through a later committed anchor that reaches them.
// - Missing anchor: when the leader has no certificate of round r in the DAG, round r
//   commits nothing; a later committed anchor skips it while walking back (it is not a
//   break in the chain) and commits the earlier anchors it reaches. If the anchor arrives
//   after a later anchor was committed, it is only ever ordered as part of a later anchor's
//   history, like any other certificate.
// - Already committed: a certificate whose author has a committed certificate of the same or
//   a later round (ConsensusState::last_committed) is skipped, and so are its ancestors
//   unless another path reaches them. A certificate that is skipped this way without having
//   been output is never output: the compact ConsensusState cannot say more.
// - GC bound: gc_round() = last_committed_round - gc_depth (0 when that is negative). An
//   anchor's sub-DAG leaves out rounds at or below the bound in force just before that
//   anchor commits (for anchors committed together, the bound moves between them as if they
//   were committed one by one). Round 0 (genesis) is always at or below it, so genesis is
//   never output. After the commits of one call, DAG rounds at or below the new bound are
//   dropped.
//
// Single-threaded: one owner calls everything.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "chain/narwhal/committee.h"
#include "chain/narwhal/consensus_state.h"
#include "chain/narwhal/messages.h"

namespace rustorium::chain {

class Bullshark {
 public:
  // `gc_depth` rounds of history behind the last committed round are kept. `state` is what
  // a restarted validator persisted after its last handled commit (empty for a new one).
  Bullshark(const Committee& committee, uint64_t gc_depth, ConsensusState state = {});

  // Adds a certificate to the DAG and returns the sub-DAGs it lets commit, in order (often
  // none). Certificates must come in causal order: every parent already given, a genesis
  // certificate or below the GC bound. A certificate already known, at or below the GC
  // bound, or of a round already committed for its author is ignored; so is one from outside
  // the committee, and a second certificate for an (author, round) already held (Narwhal's
  // quorums make that impossible; the first one stays). A parent that is absent is taken as
  // ordered or collected. After a restart, feed every certificate above gc_round() again,
  // in causal order (by round will do): the ones already committed are ignored and nothing
  // is output twice. state() covers every sub-DAG returned so far, so persist it in the same
  // atomic write as the sub-DAGs of a call, before handing them on.
  std::vector<CommittedSubDag> ProcessCertificate(const Certificate& certificate);

  const ConsensusState& state() const { return state_; }
  // Rounds at or below this are forgotten and never committed.
  uint64_t gc_round() const;
  // Certificates held in the DAG (memory in use is proportional to it).
  size_t dag_size() const { return dag_size_; }

 private:
  struct Node {
    Digest digest{};
    Certificate certificate;
  };
  // One round of the DAG: at most one certificate per author, and an index by digest.
  struct Round {
    std::map<PublicKey, Node> by_author;
    std::map<Digest, PublicKey> by_digest;
  };

  const Node* Find(uint64_t round, const Digest& digest) const;
  // The anchor of even `round`, or null when its leader has no certificate there.
  const Node* Anchor(uint64_t round) const;
  // Stake of the round + 1 certificates that reference `anchor`.
  uint64_t Support(const Node& anchor) const;
  // True when `to`, of an earlier round, is in the causal history of `from`.
  bool Linked(const Node& from, const Node& to) const;
  // `anchor` and the uncommitted earlier anchors it reaches, oldest first.
  std::vector<const Node*> AnchorsToCommit(const Node& anchor) const;
  // The certificates `anchor` commits, ordered; the anchor last.
  std::vector<Certificate> OrderSubDag(const Node& anchor) const;
  void CollectGarbage();

  Committee committee_;
  uint64_t gc_depth_;
  ConsensusState state_;
  std::map<uint64_t, Round> dag_;
  size_t dag_size_ = 0;
};

}  // namespace rustorium::chain
