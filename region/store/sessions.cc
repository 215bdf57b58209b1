#include "region/store/sessions.h"

#include "base/codec.h"
#include "region/keys.h"

namespace rustorium::store {

namespace {

using engine::ColumnFamily;

ApplyResult Refusal(uint64_t index, std::string why, bool session_refused = false) {
  ApplyResult r;
  r.set_applied_index(index);
  r.set_error(std::move(why));
  r.set_session_refused(session_refused);
  return r;
}

}  // namespace

Result<SessionTable> SessionTable::Load(engine::Engine* engine, uint64_t region_id) {
  SessionTable table(engine, region_id);
  engine::IteratorOptions io;
  io.lower_bound = keys::RegionSessionsBegin(region_id);
  io.upper_bound = keys::RegionSessionsEnd(region_id);
  const std::size_t prefix = keys::RegionMetaPrefix(region_id).size();
  auto it = engine->NewIterator(ColumnFamily::kMeta, io);
  const auto malformed = [region_id] {
    return Status::Corruption("region " + std::to_string(region_id) + " session record malformed");
  };
  // Sessions sort before results, so each result finds its session loaded.
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    // Stored results are not parsed here: only a replay reads one.
    const std::string_view suffix = it->key().substr(prefix);
    if (suffix.empty() || suffix.size() != RecordKeySize(suffix[0])) return malformed();
    const uint64_t client = GetFixed64BE(suffix.substr(1));
    if (suffix[0] == keys::kRegionSessionTag) {
      ClientSession s;
      if (!s.ParseFromArray(it->value().data(), static_cast<int>(it->value().size())) ||
          s.floor() == 0)
        return malformed();
      table.sessions_[client] = Session{s.floor(), s.stamp_ms(), {}};
      continue;
    }
    auto found = table.sessions_.find(client);
    if (found == table.sessions_.end())
      return Status::Corruption("region " + std::to_string(region_id) +
                                " holds a write result without its session");
    found->second.seqs.insert(GetFixed64BE(suffix.substr(9)));
  }
  RETURN_IF_ERROR(it->status());
  for (const auto& [client, s] : table.sessions_) table.by_stamp_.insert({s.stamp_ms, client});
  return table;
}

std::size_t SessionTable::RecordKeySize(char tag) {
  if (tag == keys::kRegionSessionTag) return 1 + 8;            // tag, client id
  if (tag == keys::kRegionSessionResultTag) return 1 + 8 + 8;  // tag, client id, seq
  return 0;
}

bool SessionTable::ValidRecord(std::string_view suffix, std::string_view value) {
  if (suffix.empty() || suffix.size() != RecordKeySize(suffix[0])) return false;
  if (suffix[0] == keys::kRegionSessionTag) {
    ClientSession s;
    return s.ParseFromArray(value.data(), static_cast<int>(value.size())) && s.floor() > 0;
  }
  ApplyResult r;
  return r.ParseFromArray(value.data(), static_cast<int>(value.size()));
}

Result<SessionTable::Verdict> SessionTable::Admit(uint64_t index, const WriteSession& session,
                                                  engine::WriteBatch& batch) {
  Verdict v;
  if (session.client_id() == 0 || session.floor() == 0 || session.floor() > session.seq()) {
    v.kind = Verdict::kRefuse;
    v.result = Refusal(index, "malformed write session (client id 0, or floor not in 1..seq)");
    return v;
  }
  // Idle sessions expire by the leader's stamp in this command.
  while (!by_stamp_.empty() && by_stamp_.begin()->first + kSessionTtlMs < session.stamp_ms())
    Forget(by_stamp_.begin()->second, batch);
  auto it = sessions_.find(session.client_id());
  if (it == sessions_.end()) {
    if (session.retry()) {
      v.kind = Verdict::kRefuse;
      v.result = Refusal(index,
                         "write session expired: whether the earlier attempt of write " +
                             std::to_string(session.seq()) + " was applied is unknown",
                         true);
    }
    return v;
  }
  const Session& s = it->second;
  if (session.seq() < s.floor) {
    v.kind = Verdict::kRefuse;
    v.result = Refusal(index, "duplicate of write " + std::to_string(session.seq()) +
                                  ", already answered (the client's floor is " +
                                  std::to_string(s.floor) + ")");
    return v;
  }
  if (s.seqs.count(session.seq()) != 0) {
    ASSIGN_OR_RETURN(
        std::optional<std::string> stored,
        engine_->Get(ColumnFamily::kMeta,
                     keys::RegionSessionResultKey(region_id_, session.client_id(), session.seq())));
    if (!stored.has_value() || !v.result.ParseFromString(*stored))
      return Status::Corruption("region " + std::to_string(region_id_) +
                                " lost the stored result of a write");
    v.kind = Verdict::kReplay;
    v.result.set_replayed(true);
    return v;
  }
  // Results the command's floor releases do not count against the bound.
  const auto kept_from = s.seqs.lower_bound(std::max(s.floor, session.floor()));
  if (static_cast<std::size_t>(std::distance(kept_from, s.seqs.end())) >= kMaxUnansweredPerClient) {
    v.kind = Verdict::kRefuse;
    v.result = Refusal(index, "too many unanswered writes of this client (max " +
                                  std::to_string(kMaxUnansweredPerClient) + ")");
  }
  return v;
}

void SessionTable::Record(const WriteSession& session, const ApplyResult* result,
                          engine::WriteBatch& batch) {
  auto it = sessions_.find(session.client_id());
  if (it == sessions_.end()) {
    if (sessions_.size() >= kMaxSessions) Forget(by_stamp_.begin()->second, batch);
    it = sessions_.emplace(session.client_id(), Session{session.floor(), 0, {}}).first;
  } else {
    by_stamp_.erase({it->second.stamp_ms, it->first});
  }
  Session& s = it->second;
  s.stamp_ms = std::max(s.stamp_ms, session.stamp_ms());
  s.floor = std::max(s.floor, session.floor());
  while (!s.seqs.empty() && *s.seqs.begin() < s.floor) {
    batch.Delete(ColumnFamily::kMeta,
                 keys::RegionSessionResultKey(region_id_, it->first, *s.seqs.begin()));
    s.seqs.erase(s.seqs.begin());
  }
  if (result != nullptr) {
    s.seqs.insert(session.seq());
    batch.Put(ColumnFamily::kMeta,
              keys::RegionSessionResultKey(region_id_, it->first, session.seq()),
              result->SerializeAsString());
  }
  by_stamp_.insert({s.stamp_ms, it->first});
  StageSession(it->first, s, batch);
}

void SessionTable::UpdateStoredResult(const WriteSession& session, const ApplyResult& result,
                                      engine::WriteBatch& batch) const {
  auto it = sessions_.find(session.client_id());
  if (it == sessions_.end() || it->second.seqs.count(session.seq()) == 0) return;
  batch.Put(ColumnFamily::kMeta,
            keys::RegionSessionResultKey(region_id_, session.client_id(), session.seq()),
            result.SerializeAsString());
}

Status SessionTable::TakeOver(const SessionTable& source, engine::WriteBatch& batch) {
  for (const auto& [client, theirs] : source.sessions_) {
    auto [it, fresh] = sessions_.try_emplace(client, Session{theirs.floor, theirs.stamp_ms, {}});
    Session& s = it->second;
    if (!fresh) by_stamp_.erase({s.stamp_ms, client});
    s.floor = std::max(s.floor, theirs.floor);
    s.stamp_ms = std::max(s.stamp_ms, theirs.stamp_ms);
    for (uint64_t seq : theirs.seqs) {
      ASSIGN_OR_RETURN(
          std::optional<std::string> stored,
          source.engine_->Get(ColumnFamily::kMeta,
                              keys::RegionSessionResultKey(source.region_id_, client, seq)));
      if (!stored.has_value())
        return Status::Corruption("region " + std::to_string(source.region_id_) +
                                  " lost the stored result of a write");
      s.seqs.insert(seq);
      batch.Put(ColumnFamily::kMeta, keys::RegionSessionResultKey(region_id_, client, seq),
                *stored);
    }
    while (!s.seqs.empty() && *s.seqs.begin() < s.floor) {
      batch.Delete(ColumnFamily::kMeta,
                   keys::RegionSessionResultKey(region_id_, client, *s.seqs.begin()));
      s.seqs.erase(s.seqs.begin());
    }
    by_stamp_.insert({s.stamp_ms, client});
    StageSession(client, s, batch);
  }
  while (sessions_.size() > kMaxSessions) Forget(by_stamp_.begin()->second, batch);
  return Status::OK();
}

std::optional<std::set<uint64_t>> SessionTable::Remembered(uint64_t client_id) const {
  auto it = sessions_.find(client_id);
  if (it == sessions_.end()) return std::nullopt;
  return it->second.seqs;
}

void SessionTable::Forget(uint64_t client_id, engine::WriteBatch& batch) {
  auto it = sessions_.find(client_id);
  if (it == sessions_.end()) return;
  by_stamp_.erase({it->second.stamp_ms, client_id});
  batch.Delete(ColumnFamily::kMeta, keys::RegionSessionKey(region_id_, client_id));
  for (uint64_t seq : it->second.seqs)
    batch.Delete(ColumnFamily::kMeta, keys::RegionSessionResultKey(region_id_, client_id, seq));
  sessions_.erase(it);
}

void SessionTable::StageSession(uint64_t client_id, const Session& s,
                                engine::WriteBatch& batch) const {
  ClientSession record;
  record.set_floor(s.floor);
  record.set_stamp_ms(s.stamp_ms);
  batch.Put(ColumnFamily::kMeta, keys::RegionSessionKey(region_id_, client_id),
            record.SerializeAsString());
}

}  // namespace rustorium::store
