// RaftLogStore: the durable state of every Raft group of a store, in the engine's `raft`
// column family: each group's term and vote, its log entries and its snapshot metadata.
//
// The multi-raft backend stages the appends of all groups of one loop turn into one
// WriteBatch and commits it with one write (one fsync when the engine's sync mode is `full`):
// group commit. Term and vote changes are written and synced before SetHardState returns, as
// libraft requires of set_term / set_vote.
//
// Keys are region/keys.h's raft family ('g' group ...). Records (integers big-endian):
//   hard state  -> term, vote
//   entry       -> term, type (2 bytes), data
//   snapshot    -> index, term, configuration index, configuration length, configuration
//                  bytes, snapshot data (the state machine's marker)
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "engine/engine.h"

namespace rustorium::raft {

using GroupId = uint64_t;

// libraft's type of an entry that carries a state machine command (RAFT_COMMAND).
inline constexpr uint16_t kCommandEntry = 1;

struct LogEntry {
  uint64_t term = 0;
  uint16_t type = 0;  // libraft's entry type (command, barrier, configuration change)
  std::string data;
  friend bool operator==(const LogEntry&, const LogEntry&) = default;
};

struct HardState {
  uint64_t term = 0;
  uint64_t vote = 0;  // server id voted for in `term`, 0 for none
  friend bool operator==(const HardState&, const HardState&) = default;
};

struct SnapshotMeta {
  uint64_t index = 0;
  uint64_t term = 0;
  uint64_t configuration_index = 0;
  std::string configuration;  // the backend's encoded configuration
  std::string data;           // what the state machine's snapshot holds (a small marker)
  friend bool operator==(const SnapshotMeta&, const SnapshotMeta&) = default;
};

// What a group finds on restart.
struct LoadedGroup {
  HardState hard_state;
  std::optional<SnapshotMeta> snapshot;
  uint64_t first_index = 1;       // index of entries[0]
  std::vector<LogEntry> entries;  // contiguous
};

// The decoders of the store's records (exposed for the fuzz tests): Corruption when malformed.
Result<LogEntry> DecodeEntryRecord(std::string_view record);
Result<HardState> DecodeHardStateRecord(std::string_view record);
Result<SnapshotMeta> DecodeSnapshotRecord(std::string_view record);

class RaftLogStore {
 public:
  // `engine` is not owned and must outlive the store. Thread-compatible: the backend calls it
  // from its loop thread.
  explicit RaftLogStore(engine::Engine* engine) : engine_(engine) {}

  // Writes a group's term and vote with a synced write, whatever the engine's sync mode.
  [[nodiscard]] Status SetHardState(GroupId group, const HardState& state);
  // Stages what SetHardState writes, for a caller that syncs the batch itself.
  void StageHardState(engine::WriteBatch& batch, GroupId group, const HardState& state) const;

  // Stages entries first_index, first_index + 1, ... of `group` (replacing any stored there).
  void StageAppend(engine::WriteBatch& batch, GroupId group, uint64_t first_index,
                   std::span<const LogEntry> entries) const;
  // Stages one entry (what StageAppend does per entry, without a LogEntry to build).
  void StageEntry(engine::WriteBatch& batch, GroupId group, uint64_t index, uint64_t term,
                  uint16_t type, std::string_view data) const;
  // Stages the removal of every entry of `group` at or after `from_index`.
  void StageTruncateSuffix(engine::WriteBatch& batch, GroupId group, uint64_t from_index) const;
  // Stages a snapshot's metadata and the removal of the entries it covers up to
  // `compact_through` (inclusive; entries after it stay for slow followers).
  void StageSnapshot(engine::WriteBatch& batch, GroupId group, const SnapshotMeta& snapshot,
                     uint64_t compact_through) const;
  // Stages the removal of everything `group` has in the store.
  void StageDeleteGroup(engine::WriteBatch& batch, GroupId group) const;
  // Writes a staged batch (group commit) with a synced write.
  [[nodiscard]] Status Commit(engine::WriteBatch& batch);

  // A group's state as written. Corruption when a record does not parse or the log has a gap.
  [[nodiscard]] Result<LoadedGroup> Load(GroupId group) const;
  // Entries `from` through `through` of `group` as written (from <= through), or nullopt when
  // one of them is not there (compacted, or not appended yet); reads only those.
  [[nodiscard]] Result<std::optional<std::vector<LogEntry>>> ReadEntries(GroupId group,
                                                                         uint64_t from,
                                                                         uint64_t through) const;
  // Every group with any state in the store, ascending.
  [[nodiscard]] Result<std::vector<GroupId>> Groups() const;

 private:
  engine::Engine* engine_;
};

}  // namespace rustorium::raft
