// What a Raft group replicates: a state machine whose data is durable in the store's engine.
//
// The multi-raft backend applies each committed command once, in index order, and relies on
// the state machine to remember how far it got: after a restart or a snapshot it replays log
// entries, and the state machine skips every index at or below AppliedIndex(). Because the
// data is durable already, a libraft snapshot is only a small marker; when a follower has to
// be brought up by snapshot the backend streams the state machine's own data (SnapshotReader
// on the leader, SnapshotWriter on the follower) in chunks with a bandwidth limit.
//
// Commands are applied in batches: libraft applies each committed entry on the loop thread, the
// backend queues it, and at the end of the loop turn hands the turn's commands to ApplyBatch
// (on a worker thread for a state machine that allows it, ApplyOffLoop); proposers get their
// results, and reads their answer, once their index has gone through.
//
// Requirement: Apply stages its writes (data and applied index together, atomically) in the
// same engine as the Raft log, or syncs them itself. Then the synced write that compacts the
// log at a snapshot also makes every earlier apply durable, and a compacted entry can never
// be missing from the data after a crash.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace rustorium::raft {

// The sending side of a snapshot: the state at one applied index, read in pieces.
class SnapshotReader {
 public:
  virtual ~SnapshotReader() = default;
  // The applied index the data is at.
  virtual uint64_t applied_index() const = 0;
  // Appends the next piece (about `max_bytes`) to `*chunk`; false once everything was read.
  virtual Result<bool> Next(std::string* chunk, std::size_t max_bytes) = 0;
};

// The receiving side: pieces in order; Finish replaces the state machine's data with them.
// Destroying a writer without Finish discards what it received.
class SnapshotWriter {
 public:
  virtual ~SnapshotWriter() = default;
  virtual Status Add(std::string_view chunk) = 0;
  // Installs the received data as the state at `applied_index`, atomically and durably.
  virtual Status Finish(uint64_t applied_index) = 0;
};

class StateMachine {
 public:
  virtual ~StateMachine() = default;
  // Applies the committed command at `index` (> AppliedIndex()) and returns its result for the
  // proposer (a failed compare-and-swap is a result, not an error). An error stops the group:
  // it means the state machine can no longer keep up its promise (a disk failure).
  virtual Result<std::string> Apply(uint64_t index, std::string_view command) = 0;
  // One committed command, for ApplyBatch.
  struct Entry {
    uint64_t index = 0;
    std::string_view command;
  };
  // Applies consecutive committed commands (indexes increasing, each > AppliedIndex()) and
  // returns one result per command, in order. The backend hands over what libraft applied in
  // one loop turn, so a state machine can do once per batch what it would do per command (a
  // tree version, an engine write). The default applies them one by one.
  // Fewer results (those of the first commands) mean the next command waits for something
  // outside the group (a merge's source region): the backend offers it and the rest again at its
  // next tick, and takes no snapshot meanwhile.
  virtual Result<std::vector<std::string>> ApplyBatch(std::span<const Entry> entries) {
    std::vector<std::string> out;
    out.reserve(entries.size());
    for (const Entry& e : entries) {
      Result<std::string> r = Apply(e.index, e.command);
      if (!r.ok()) return r.status();
      out.push_back(std::move(*r));
    }
    return out;
  }
  // Whether ApplyBatch may run on a worker thread while the loop goes on (the apply worker:
  // hashing and engine writes off the loop that carries heartbeats and I/O). Such a state
  // machine lets AppliedIndex, OpenSnapshot and its own readers run on the loop beside one
  // ApplyBatch; the backend calls nothing else (BeginSnapshot's writer's Finish included) while
  // a batch is on the worker, and gives each group at most one batch there at a time, in order.
  virtual bool ApplyOffLoop() const { return false; }
  // The index of the last command applied, as durable as the data.
  virtual uint64_t AppliedIndex() const = 0;
  // A reader over the current state (for a follower that needs a snapshot).
  virtual Result<std::unique_ptr<SnapshotReader>> OpenSnapshot() = 0;
  // A writer for a snapshot arriving from the leader.
  virtual Result<std::unique_ptr<SnapshotWriter>> BeginSnapshot() = 0;
};

}  // namespace rustorium::raft
