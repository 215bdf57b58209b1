// GroupCommit: the Raft log's group commit, as its own worker with a completion interface
// (after TiKV's raftstore async_io write worker).
//
// On the loop thread the log records of every group (appends, truncations, snapshot records)
// are staged into one WriteBatch. One synced write at a time runs on libuv's worker pool;
// while it is in flight the next batch is staged, and it is written as soon as the previous
// write returns. Each completion registered with OnWritten runs on the loop thread once the
// write that carries the records staged before it has finished.
//
// Not thread-safe: every method runs on the loop thread; only the write itself runs on a
// worker.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "engine/engine.h"
#include "region/raft/multi_raft_stats.h"
#include "region/raft/raft_log_store.h"

namespace rustorium::rpc {
class EventLoop;
}  // namespace rustorium::rpc

namespace rustorium::raft {

class GroupCommit {
 public:
  // Gets OK once the records are durable. A failed write stops the process (base/fatal.h)
  // before any completion runs: the stored log must never fall out of step with libraft's.
  using Completion = std::function<void(const Status& status)>;

  // `loop`, `store` and `stats` are not owned and must outlive this. Each synced write is
  // counted in stats->log_writes.
  GroupCommit(rpc::EventLoop& loop, RaftLogStore* store, MultiRaftStats* stats);
  // Requires idle() (Drain first): a write in flight refers to this object.
  ~GroupCommit();
  GroupCommit(const GroupCommit&) = delete;
  GroupCommit& operator=(const GroupCommit&) = delete;

  // Stages entry `index` of `group` (replacing any stored there).
  void StageEntry(GroupId group, uint64_t index, uint64_t term, uint16_t type,
                  std::string_view data);
  // Stages the removal of `group`'s entries at and after `from_index`. It is written even when
  // no completion follows (a truncation that no append replaces).
  void StageTruncation(GroupId group, uint64_t from_index);
  // Stages a snapshot's metadata and the removal of the entries up to `compact_through`.
  void StageSnapshot(GroupId group, const SnapshotMeta& meta, uint64_t compact_through);
  // Registers `done` for everything staged so far that is not yet being written.
  void OnWritten(Completion done);

  // Starts writing what is staged, unless a write is in flight (then it goes when that one
  // returns) or nothing is staged. Call at the end of a loop turn, so that the records of the
  // turn share one write.
  void Flush();
  // Runs `done` once nothing is staged and no write is in flight: at once when idle, otherwise
  // after writing what is staged. One Drain at a time.
  void Drain(std::function<void()> done);
  // Nothing staged and no write in flight.
  bool idle() const { return !write_in_flight_ && !HasStaged(); }
  // Test hook (a slow disk): runs on the worker thread before each write, which waits for it.
  // Set before the first write.
  void set_write_gate(std::function<void()> gate) { write_gate_ = std::move(gate); }

 private:
  bool HasStaged() const { return dirty_ || !staged_done_.empty(); }
  void StartWrite();
  void WriteDone(Status status);

  rpc::EventLoop& loop_;
  RaftLogStore* store_;
  MultiRaftStats* stats_;
  // What the next write carries.
  std::unique_ptr<engine::WriteBatch> staged_;
  std::vector<Completion> staged_done_;
  bool dirty_ = false;  // truncations staged with no completion to carry them
  // The write in flight.
  bool write_in_flight_ = false;
  std::unique_ptr<engine::WriteBatch> writing_;
  std::vector<Completion> writing_done_;
  std::function<void()> drained_;
  std::function<void()> write_gate_;
};

}  // namespace rustorium::raft
