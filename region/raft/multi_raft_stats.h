// The multi-raft backend's counters, shared by its parts (GroupCommit, PeerTransport,
// SnapshotTransfers each count into the fields named for them).
#pragma once

#include <atomic>
#include <cstdint>

namespace rustorium::raft {

// Counters since construction; written on the loop thread, readable from any thread.
struct MultiRaftStats {
  std::atomic<uint64_t> entries_appended{0};   // log entries written for libraft
  std::atomic<uint64_t> append_requests{0};    // libraft append calls
  std::atomic<uint64_t> log_writes{0};         // synced group-commit writes (fsyncs)
  std::atomic<uint64_t> hard_state_writes{0};  // synced term / vote writes
  std::atomic<uint64_t> messages_sent{0};
  std::atomic<uint64_t> batches_sent{0};  // RaftBatch frames (one per peer per turn)
  std::atomic<uint64_t> messages_received{0};
  std::atomic<uint64_t> messages_dropped{0};  // malformed, for unknown groups, or unusable
  // Of those dropped: messages whose sender the connection's certificate does not back (not
  // a node of our kind with the batch's sender id), from a non-member of the group, or an
  // InstallSnapshot not from the group's current leader and term or without its transfer.
  std::atomic<uint64_t> messages_refused{0};
  // Snapshot chunks answered PermissionDenied (the same rules, chunk by chunk).
  std::atomic<uint64_t> snapshot_chunks_refused{0};
  std::atomic<uint64_t> snapshots_sent{0};
  // Snapshots not started because max_outgoing_snapshots were being sent (libraft retries).
  std::atomic<uint64_t> snapshots_deferred{0};
  std::atomic<uint64_t> snapshots_installed{0};
  std::atomic<uint64_t> snapshot_bytes_sent{0};
  // Commands through the state machine, and the batches they went in (one per group and turn).
  std::atomic<uint64_t> commands_applied{0};
  std::atomic<uint64_t> apply_batches{0};
  std::atomic<uint64_t> apply_waits{0};  // batches a state machine applied only a prefix of
  // Linearizable reads: probe rounds sent to the voters (one per group per loop turn with
  // reads; no log entry), and the times reads were failed because no quorum confirmed the
  // leader (or the term's first entry did not commit) within an election timeout.
  std::atomic<uint64_t> read_probes{0};
  std::atomic<uint64_t> read_probe_timeouts{0};
  // libraft 0.15 guards (RaftGuards): TimeoutNow messages dropped, ticks skipped while appends
  // were in flight, barriers proposed by new leaders, AppendEntries results held back, ...
  std::atomic<uint64_t> guard_timeout_now_dropped{0};
  std::atomic<uint64_t> guard_ticks_skipped{0};
  std::atomic<uint64_t> guard_election_barriers{0};
  std::atomic<uint64_t> guard_acks_held{0};
  std::atomic<uint64_t> guard_answers_clamped{0};  // AppendEntries answers cut to what was checked
  std::atomic<uint64_t> guard_answers_dropped{0};  // answers of appends from an earlier term
  std::atomic<uint64_t> guard_snapshots_postponed{0};    // while a configuration was uncommitted
  std::atomic<uint64_t> guard_install_buffers_freed{0};  // of installs libraft discarded
};

}  // namespace rustorium::raft
