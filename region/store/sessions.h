// SessionTable: a region's memory of its clients' writes, so that a write retried after an
// unknown outcome is applied once (the client sessions of Raft's dissertation, §6.3).
//
// Each write that carries a WriteSession (region/store/command.proto) names its client, its
// sequence number and the client's floor (its lowest unanswered number). Applying it:
//   - a number the region remembers is answered with the stored result (`replayed`) and not
//     applied again;
//   - a number below the client's floor is a duplicate of a write the client has its answer
//     for: refused;
//   - a retry from a client the region does not know is refused with `session_refused` (the
//     region forgot the client, so it cannot tell whether an earlier attempt was applied);
//   - otherwise it is applied and its result stored; results below the floor are forgotten.
// Sessions expire when no command of the client was stamped within kSessionTtlMs of the current
// command's leader stamp; when the table is full, the least recently stamped session goes.
// Every limit is a constant and every clock a stamp in the log, so all replicas agree.
//
// The table lives in the engine's meta family (region/keys.h: RegionSessionKey,
// RegionSessionResultKey), staged into the same write batch as the command it follows, and
// travels in the region's snapshots. Memory holds the sessions and their numbers, not results.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "base/status.h"
#include "engine/engine.h"
#include "region/store/command.pb.h"

namespace rustorium::store {

inline constexpr std::size_t kMaxSessions = 65536;            // clients remembered per region
inline constexpr std::size_t kMaxUnansweredPerClient = 1024;  // stored results per client
inline constexpr uint64_t kSessionTtlMs = 10 * 60 * 1000;     // idle time before a session expires

class SessionTable {
 public:
  // Loads the sessions of region `region_id` from `engine` (not owned; must outlive this).
  static Result<SessionTable> Load(engine::Engine* engine, uint64_t region_id);

  // What applying a command with `session` must do.
  struct Verdict {
    enum Kind { kApply, kReplay, kRefuse } kind = kApply;
    ApplyResult result;  // kReplay: the stored result; kRefuse: the refusal (error set)
  };
  // Expires idle sessions (staged into `batch`) and judges the command. The caller applies a
  // kApply command and then calls Record, answers a kReplay's result, or a kRefuse's.
  Result<Verdict> Admit(uint64_t index, const WriteSession& session, engine::WriteBatch& batch);
  // Stores `result` for an admitted command (kApply) or raises the floor of a replayed one;
  // staged into `batch`.
  void Record(const WriteSession& session, const ApplyResult* result, engine::WriteBatch& batch);
  // Restages the stored result of an admitted command whose result was completed after Record
  // (a batch's root); nothing when the table no longer holds it (evicted in the same batch).
  void UpdateStoredResult(const WriteSession& session, const ApplyResult& result,
                          engine::WriteBatch& batch) const;

  // A merge: this table (the target region's) takes `source`'s sessions and stored results,
  // staged into `batch` under this region's keys (the source's records are the caller's to
  // delete). A client both know keeps the higher floor and stamp and both sets of results; past
  // kMaxSessions the least recently stamped sessions go.
  Status TakeOver(const SessionTable& source, engine::WriteBatch& batch);

  std::size_t size() const { return sessions_.size(); }
  // The sequence numbers remembered for `client_id` (tests and figures).
  std::optional<std::set<uint64_t>> Remembered(uint64_t client_id) const;

  // The length of a session record's key past RegionMetaPrefix, by its first byte (the tag):
  // 9 for a session, 17 for a stored result, 0 for anything else.
  static std::size_t RecordKeySize(char tag);
  // Whether `suffix` (a session record's key past RegionMetaPrefix) and `value` form a record
  // this table could load: a snapshot's session record is checked with it before staging.
  static bool ValidRecord(std::string_view suffix, std::string_view value);

 private:
  struct Session {
    uint64_t floor = 0;
    uint64_t stamp_ms = 0;
    std::set<uint64_t> seqs;  // stored results
  };
  SessionTable(engine::Engine* engine, uint64_t region_id)
      : engine_(engine), region_id_(region_id) {}
  void Forget(uint64_t client_id, engine::WriteBatch& batch);
  void StageSession(uint64_t client_id, const Session& s, engine::WriteBatch& batch) const;

  engine::Engine* engine_;
  uint64_t region_id_;
  std::map<uint64_t, Session> sessions_;
  std::set<std::pair<uint64_t, uint64_t>> by_stamp_;  // (stamp_ms, client id)
};

}  // namespace rustorium::store
