#include "region/raft/raft_log_store.h"

#include "base/codec.h"
#include "region/keys.h"

namespace rustorium::raft {

namespace {

using engine::ColumnFamily;

std::string EncodeEntry(uint64_t term, uint16_t type, std::string_view data) {
  std::string v;
  v.reserve(10 + data.size());
  PutFixed64BE(v, term);
  PutFixed16BE(v, type);
  v += data;
  return v;
}

}  // namespace

Result<LogEntry> DecodeEntryRecord(std::string_view v) {
  if (v.size() < 10) return Status::Corruption("raft entry record too short");
  LogEntry e;
  e.term = GetFixed64BE(v);
  e.type = GetFixed16BE(v.substr(8));
  e.data.assign(v.substr(10));
  return e;
}

Result<HardState> DecodeHardStateRecord(std::string_view v) {
  if (v.size() != 16) return Status::Corruption("raft hard state record malformed");
  return HardState{GetFixed64BE(v), GetFixed64BE(v.substr(8))};
}

Result<SnapshotMeta> DecodeSnapshotRecord(std::string_view v) {
  if (v.size() < 32) return Status::Corruption("raft snapshot record malformed");
  SnapshotMeta m;
  m.index = GetFixed64BE(v);
  m.term = GetFixed64BE(v.substr(8));
  m.configuration_index = GetFixed64BE(v.substr(16));
  const uint64_t conf_len = GetFixed64BE(v.substr(24));
  if (conf_len > v.size() - 32) return Status::Corruption("raft snapshot record malformed");
  m.configuration.assign(v.substr(32, conf_len));
  m.data.assign(v.substr(32 + conf_len));
  return m;
}

Status RaftLogStore::SetHardState(GroupId group, const HardState& state) {
  engine::WriteBatch batch;
  StageHardState(batch, group, state);
  return engine_->WriteSync(batch);
}

void RaftLogStore::StageHardState(engine::WriteBatch& batch, GroupId group,
                                  const HardState& state) const {
  std::string v;
  PutFixed64BE(v, state.term);
  PutFixed64BE(v, state.vote);
  batch.Put(ColumnFamily::kRaft, keys::RaftHardStateKey(group), v);
}

void RaftLogStore::StageAppend(engine::WriteBatch& batch, GroupId group, uint64_t first_index,
                               std::span<const LogEntry> entries) const {
  for (std::size_t i = 0; i < entries.size(); ++i) {
    StageEntry(batch, group, first_index + i, entries[i].term, entries[i].type, entries[i].data);
  }
}

void RaftLogStore::StageEntry(engine::WriteBatch& batch, GroupId group, uint64_t index,
                              uint64_t term, uint16_t type, std::string_view data) const {
  batch.Put(ColumnFamily::kRaft, keys::RaftEntryKey(group, index), EncodeEntry(term, type, data));
}

void RaftLogStore::StageTruncateSuffix(engine::WriteBatch& batch, GroupId group,
                                       uint64_t from_index) const {
  batch.DeleteRange(ColumnFamily::kRaft, keys::RaftEntryKey(group, from_index),
                    keys::RaftEntryEnd(group));
}

void RaftLogStore::StageSnapshot(engine::WriteBatch& batch, GroupId group,
                                 const SnapshotMeta& snapshot, uint64_t compact_through) const {
  std::string v;
  PutFixed64BE(v, snapshot.index);
  PutFixed64BE(v, snapshot.term);
  PutFixed64BE(v, snapshot.configuration_index);
  PutFixed64BE(v, snapshot.configuration.size());
  v += snapshot.configuration;
  v += snapshot.data;
  batch.Put(ColumnFamily::kRaft, keys::RaftSnapshotKey(group), v);
  if (compact_through > 0) {
    batch.DeleteRange(ColumnFamily::kRaft, keys::RaftEntryKey(group, 0),
                      keys::RaftEntryKey(group, compact_through + 1));
  }
}

void RaftLogStore::StageDeleteGroup(engine::WriteBatch& batch, GroupId group) const {
  batch.DeleteRange(ColumnFamily::kRaft, keys::RaftGroupPrefix(group), keys::RaftGroupEnd(group));
}

Status RaftLogStore::Commit(engine::WriteBatch& batch) { return engine_->WriteSync(batch); }

Result<LoadedGroup> RaftLogStore::Load(GroupId group) const {
  LoadedGroup g;
  auto snap = engine_->GetSnapshot();
  engine::ReadOptions ro;
  ro.snapshot = snap.get();
  ASSIGN_OR_RETURN(std::optional<std::string> hard,
                   engine_->Get(ColumnFamily::kRaft, keys::RaftHardStateKey(group), ro));
  if (hard.has_value()) {
    ASSIGN_OR_RETURN(g.hard_state, DecodeHardStateRecord(*hard));
  }
  ASSIGN_OR_RETURN(std::optional<std::string> meta,
                   engine_->Get(ColumnFamily::kRaft, keys::RaftSnapshotKey(group), ro));
  if (meta.has_value()) {
    ASSIGN_OR_RETURN(g.snapshot, DecodeSnapshotRecord(*meta));
  }
  engine::IteratorOptions io;
  io.prefix = keys::RaftEntryPrefix(group);
  io.snapshot = snap.get();
  auto it = engine_->NewIterator(ColumnFamily::kRaft, io);
  bool first = true;
  uint64_t expect = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (it->key().size() != io.prefix.size() + 8)
      return Status::Corruption("raft entry key malformed");
    const uint64_t index = GetFixed64BE(it->key().substr(io.prefix.size()));
    if (first) {
      g.first_index = index;
      first = false;
    } else if (index != expect) {
      return Status::Corruption("raft log of group " + std::to_string(group) + " has a gap at " +
                                std::to_string(expect));
    }
    ASSIGN_OR_RETURN(LogEntry e, DecodeEntryRecord(it->value()));
    g.entries.push_back(std::move(e));
    expect = index + 1;
  }
  RETURN_IF_ERROR(it->status());
  if (first && g.snapshot.has_value()) g.first_index = g.snapshot->index + 1;
  return g;
}

Result<std::optional<std::vector<LogEntry>>> RaftLogStore::ReadEntries(GroupId group, uint64_t from,
                                                                       uint64_t through) const {
  if (from > through || from == 0) {
    return Status::InvalidArgument("raft entries " + std::to_string(from) + " through " +
                                   std::to_string(through) + " is no range");
  }
  engine::IteratorOptions io;
  io.lower_bound = keys::RaftEntryKey(group, from);
  io.upper_bound =
      through == UINT64_MAX ? keys::RaftEntryEnd(group) : keys::RaftEntryKey(group, through + 1);
  auto it = engine_->NewIterator(ColumnFamily::kRaft, io);
  const std::size_t prefix = keys::RaftEntryPrefix(group).size();
  std::vector<LogEntry> out;
  uint64_t expect = from;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (it->key().size() != prefix + 8) return Status::Corruption("raft entry key malformed");
    if (GetFixed64BE(it->key().substr(prefix)) != expect)
      return std::optional<std::vector<LogEntry>>();
    ASSIGN_OR_RETURN(LogEntry e, DecodeEntryRecord(it->value()));
    out.push_back(std::move(e));
    ++expect;
  }
  RETURN_IF_ERROR(it->status());
  if (expect != through + 1) return std::optional<std::vector<LogEntry>>();
  return std::optional<std::vector<LogEntry>>(std::move(out));
}

Result<std::vector<GroupId>> RaftLogStore::Groups() const {
  std::vector<GroupId> out;
  engine::IteratorOptions io;
  io.prefix = std::string(1, keys::kRaftGroupPrefix);
  auto it = engine_->NewIterator(ColumnFamily::kRaft, io);
  for (it->SeekToFirst(); it->Valid();) {
    if (it->key().size() < 9) return Status::Corruption("raft key malformed");
    const GroupId g = GetFixed64BE(it->key().substr(1));
    out.push_back(g);
    if (g == UINT64_MAX) break;
    std::string next(1, 'g');
    PutFixed64BE(next, g + 1);
    it->Seek(next);
  }
  RETURN_IF_ERROR(it->status());
  return out;
}

}  // namespace rustorium::raft
