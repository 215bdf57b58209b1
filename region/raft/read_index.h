// ReadRounds: the leader's side of one group's read-index protocol (MultiRaft::ReadIndex), as
// bookkeeping without libraft or I/O, so that it can be tested and fuzzed on its own.
//
// A read goes through three stages, all within one leader term:
//   queued:    it arrived; it waits for the end of the loop turn, and for the first entry of
//              the leader's term to commit (before, the leader's commit index may lag entries
//              an earlier leader committed);
//   probing:   the queued reads of a turn share one round: the leader records its commit index
//              as the round's read index and sends ReadProbe{term, seq} to every voter. The
//              round is confirmed once a quorum of voters, the leader included, answered ok for
//              the same term and seq: at that moment no other leader could have committed
//              anything. A confirmed round confirms every earlier round of the term too (its
//              probes went out after their reads arrived);
//   confirmed: it waits until the state machine has applied through its read index.
// The owner fails everything (TakeAll) when the leader loses its term, and bounds the wait of
// queued and probing reads (TakeExpired). Not thread-safe; MultiRaft's loop thread.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "base/status.h"
#include "region/raft/raft.pb.h"

namespace rustorium::raft {

class ReadRounds {
 public:
  using Done = std::function<void(Result<uint64_t>)>;
  // A read whose read index is applied: run done(index).
  struct Ready {
    Done done;
    uint64_t index;
  };

  // The leader term of the reads held (0 when none was ever queued).
  uint64_t term() const { return term_; }
  bool empty() const { return queued_.empty() && probing_.empty() && confirmed_.empty(); }
  bool has_queued() const { return !queued_.empty(); }
  // Rounds started so far (every term).
  uint64_t rounds_started() const { return next_seq_ - 1; }

  // Queues a read that arrived at `now_ms` while this replica leads in `term`. Reads of another
  // term are failed first (TakeAll) by the caller.
  void Queue(uint64_t term, Done done, uint64_t now_ms);
  // Starts a round for every queued read (there must be some) at `read_index`. Returns the
  // probe to send to every voter but the leader, or nullopt when the leader (`self_id`) alone
  // is a quorum of `voters`: the round is then confirmed at once.
  std::optional<ReadProbe> StartRound(uint64_t read_index, uint64_t now_ms,
                                      const std::vector<uint64_t>& voters, uint64_t self_id);
  // Counts `answer` from server `from_id`: only an ok answer for the held term from a voter
  // (in `voters`, the group's voters now) other than `self_id` counts, once per round. True
  // when it confirmed a round.
  bool Answer(const ReadProbeResult& answer, uint64_t from_id, const std::vector<uint64_t>& voters,
              uint64_t self_id);
  // Confirms round `seq` and every earlier one without answers (only the test switch
  // MultiRaftOptions::unsafe_reads_without_quorum does this).
  void Confirm(uint64_t seq);
  // Removes and returns the confirmed reads whose read index is at most `applied`.
  std::vector<Ready> TakeApplied(uint64_t applied);
  // Removes and returns the queued and probing reads that have waited `timeout_ms` or more.
  std::vector<Done> TakeExpired(uint64_t now_ms, uint64_t timeout_ms);
  // Removes and returns every read.
  std::vector<Done> TakeAll();

 private:
  struct Queued {
    Done done;
    uint64_t since_ms;
  };
  struct Round {
    uint64_t seq = 0;
    uint64_t read_index = 0;
    uint64_t started_ms = 0;
    std::set<uint64_t> acks;  // voters that answered ok, the leader not included
    std::vector<Done> reads;
  };
  static bool Quorum(const Round& round, const std::vector<uint64_t>& voters, uint64_t self_id);
  void ConfirmThrough(std::size_t position);  // probing_[0..position] are confirmed

  uint64_t term_ = 0;
  uint64_t next_seq_ = 1;  // never reused, across terms too
  std::vector<Queued> queued_;
  std::deque<Round> probing_;     // in seq order
  std::vector<Ready> confirmed_;  // done with its read index
};

}  // namespace rustorium::raft
