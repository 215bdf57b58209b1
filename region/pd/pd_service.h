// PdService: the placement driver's RPC service over its replicated state (PdFsm in Raft group
// `group` of a MultiRaft). Changes go through the log; reads wait for a linearizable read
// point. Heartbeat times and reported leaders are the serving leader's memory (as in TiKV's
// PD, they are rebuilt from heartbeats after a PD leader change).
//
// Identity: under TLS a store registers and heartbeats only as the store its certificate
// names; a store that comes back fresh (no data) under a known id is refused, as is a
// registration that would change a known store's public key or take another's address.
//
// Bootstrap: once `replicas` stores have registered, the first store heartbeat after that
// creates region 1 over the whole key space with those stores as peers.
//
// Timestamp oracle: 46-bit physical milliseconds and an 18-bit logical counter. The serving
// leader hands out timestamps below a high-water mark saved through the log (and synced), 3 s
// ahead of the clock; after a restart or a leader change it starts above the saved mark, so
// timestamps never go back.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <vector>

#include "region/pd/pd.pb.h"
#include "region/pd/pd_fsm.h"
#include "region/raft/multi_raft.h"
#include "region/rpc/server.h"

namespace rustorium::pd {

struct PdServiceOptions {
  raft::GroupId group = 1;  // PD's Raft group id in its MultiRaft
  int replicas = 3;         // replicas of the first region (and stores needed to bootstrap it)
  // A store without a heartbeat for this long shows as disconnected (stores heartbeat every
  // second by default: a stopped or paused store is seen within a few heartbeats)...
  std::chrono::milliseconds store_disconnected_after{5000};
  // ...and for this long as down, the threshold after which its replicas are to be repaired.
  // Greater than store_disconnected_after.
  std::chrono::milliseconds store_down_after{30000};
  // PD's members and their addresses (PdNodeOptions::members), for GetStores.
  std::vector<raft::Member> members;
  std::chrono::milliseconds tso_save_window{3000};
  // Bounds on what the serving leader holds for callers. Over a bound the request is answered
  // Busy at once (the caller retries later), never queued: a flood of callers cannot grow PD's
  // memory, and a stalled Raft group cannot collect callbacks forever.
  // Timestamp requests waiting while the oracle saves its high-water mark or starts a term.
  std::size_t max_waiting_tso = 10000;
  // Callers' proposals (register, ids, region records) not yet applied. PD's own proposals
  // (the first region, the timestamp mark) are counted but never refused.
  std::size_t max_pending_proposals = 1024;
  // Reads waiting for their linearizable read point.
  std::size_t max_pending_reads = 4096;
};

class PdService {
 public:
  // `raft` is borrowed; the service runs on its loop.
  PdService(raft::MultiRaft& raft, PdServiceOptions options);
  // Registers the pd.* handlers; before server.Start(). Who may call what (under TLS):
  //   reads (GetRegion, GetStoreRegions, GetStores, GetRegions, Tso): every role;
  //   RegisterStore, StoreHeartbeat, RegionHeartbeat(s): stores, each only as itself (the store
  //     id in the request must be the one in its certificate);
  //   AllocId (an operator method): stores and admins.
  // Anyone else is answered PermissionDenied (counted by the server).
  void RegisterHandlers(rpc::RpcServer& server);

  // Requests answered Busy over each bound since construction (any thread may read them).
  uint64_t busy_proposals() const { return busy_proposals_.load(); }
  uint64_t busy_reads() const { return busy_reads_.load(); }
  uint64_t busy_tso() const { return busy_tso_.load(); }
  // Region records the region heartbeats carried since construction (any thread may read it):
  // with batched heartbeats, what changed plus each region once a minute.
  uint64_t region_records_heard() const { return region_records_heard_.load(); }

 private:
  using Respond = rpc::RpcServer::Responder;
  PdFsm* fsm() const;
  // Proposes `command`; `done` gets its result or the error (FailedPrecondition off the leader,
  // Busy when a caller's proposal finds max_pending_proposals pending; `internal` proposals,
  // PD's own, are never refused).
  void Propose(const PdCommand& command, std::function<void(Result<PdResult>)> done,
               bool internal = false);
  // Runs `fn` at a linearizable read point, or answers the error (Busy over max_pending_reads).
  void AtReadPoint(const Respond& respond, std::function<void()> fn);

  void RegisterStore(const rpc::Envelope& e, const rpc::PeerIdentity& peer, Respond respond);
  void AllocId(const rpc::Envelope& e, Respond respond);
  void GetRegion(const rpc::Envelope& e, Respond respond);
  void GetStoreRegions(const rpc::Envelope& e, Respond respond);
  void GetStores(const rpc::Envelope& e, Respond respond);
  void GetRegions(const rpc::Envelope& e, Respond respond);
  void StoreHeartbeat(const rpc::Envelope& e, const rpc::PeerIdentity& peer, Respond respond);
  void RegionHeartbeat(const rpc::Envelope& e, const rpc::PeerIdentity& peer, Respond respond);
  void RegionHeartbeats(const rpc::Envelope& e, const rpc::PeerIdentity& peer, Respond respond);
  // Whether a heartbeat's region can be recorded with `leader` as its leader.
  Status CheckBeat(const meta::Region& region, uint64_t leader) const;
  // Notes the leader of a region PD holds, and proposes the region's record when it is newer
  // than PD's (one proposal per region at a time); `done` gets the proposal's outcome.
  void Beat(const meta::Region& region, uint64_t leader, std::function<void(Status)> done);
  void Tso(const rpc::Envelope& e, Respond respond);
  // Starts the stores' heartbeat ages again when this member leads a new term.
  void NoteTerm();
  void ServeTso();

  raft::MultiRaft& raft_;
  PdServiceOptions options_;
  // Loop-thread state of the serving leader.
  std::map<uint64_t, uint64_t> store_seen_ms_;
  // When this member started leading (term_): the age of a store not heard from since.
  uint64_t started_ms_ = 0;
  uint64_t term_ = 0;
  std::map<uint64_t, uint64_t> region_leader_;  // only regions PD's state holds
  std::size_t pending_proposals_ = 0;
  std::size_t pending_reads_ = 0;
  // Regions whose record a heartbeat is proposing now: at most one proposal per region.
  std::set<uint64_t> region_proposing_;
  bool bootstrapping_ = false;
  uint64_t tso_physical_ = 0;
  uint64_t tso_logical_ = 0;
  uint64_t tso_term_ = 0;  // the Raft term the oracle's state belongs to
  bool tso_saving_ = false;
  std::deque<std::pair<uint32_t, Respond>> tso_waiting_;
  std::atomic<uint64_t> busy_proposals_{0}, busy_reads_{0}, busy_tso_{0};
  std::atomic<uint64_t> region_records_heard_{0};
};

}  // namespace rustorium::pd
