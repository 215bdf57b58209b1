// Store: the key-value service of one store process. It hosts regions (each a RegionFsm in a
// Raft group of the store's MultiRaft) and answers "kv.Get", "kv.Write" and "kv.Scan" with
// proofs and a signed root:
//   - a write is proposed to the region's group; once applied, the leader answers the apply
//     result, a proof per written key at the new root, and its signature of
//     (region, epoch, applied index, root);
//   - a read waits for a linearizable read point (MultiRaft::ReadIndex) and then reads value
//     and proof from one engine snapshot;
//   - a request with skip_proofs gets the same answer without the proofs (the signed root
//     stays), for a client that does not verify.
// Requests that name a stale epoch, a key outside the region, a region this store does not
// have, or reach a follower get a RegionError the client acts on.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>

#include "engine/engine.h"
#include "proof/smt/node_cache.h"
#include "region/kv.pb.h"
#include "region/raft/multi_raft.h"
#include "region/rpc/server.h"
#include "region/store/command_limits.h"
#include "region/store/region_fsm.h"
#include "region/store/root_statement.h"
#include "region/store/store_key.h"

namespace rustorium::store {

struct StoreServiceOptions {
  uint64_t store_id = 0;
  // Proposals in flight beyond which writes are refused with ServerBusy.
  std::size_t max_pending_writes = 4096;
  // Scans return at most this many keys per call.
  uint32_t max_scan_limit = 10000;
  // A scan's answer stops (with `more`) once its keys, values and proofs reach this many bytes;
  // it always holds at least one key. Must leave room in a frame (16 MiB) for one largest
  // key-value pair and its proof.
  std::size_t max_scan_bytes = 4 * 1024 * 1024;
  // Sizes of the commands kv.Write accepts; larger ones are refused with InvalidArgument before
  // anything is proposed.
  CommandLimits limits;
  // The store-wide cache of index tree nodes (proof/smt/node_cache.h), shared by its regions.
  std::size_t index_cache_bytes = std::size_t{64} << 20;
};

class Store : public MergeHooks {
 public:
  // Everything is borrowed and must outlive the Store; it runs on `raft`'s loop.
  Store(engine::Engine* engine, raft::MultiRaft& raft, const StoreKey& key,
        StoreServiceOptions options);
  // The state machines post to the loop (a split's new region): destroy a Store after its
  // MultiRaft has shut down and the loop has run what they posted, and after Stop (StoreNode's
  // destructor), or after the loop is gone.

  // Cancels the merge polls' timers (loop thread), which use this Store: before destroying it
  // while its loop still runs.
  void Stop();

  // Registers the kv.* handlers and store.Stats (under TLS for client and admin certificates
  // only), store.Split, store.Merge and store.TransferLeader (admin certificates only); before
  // server.Start().
  void RegisterHandlers(rpc::RpcServer& server);

  // Hosts `region` as PD placed it (loop thread): opens its state machine and starts its Raft
  // group. With no state here, the cluster's first region (epoch 1/1) bootstraps with its peers;
  // any other starts empty and waits for its leader's snapshot. Busy while a hosted region's
  // range overlaps it (a split or snapshot this replica has not applied yet narrows it).
  Status AddRegion(const meta::Region& region);
  // Opens every region this store recorded (RegionFsm::RecordedRegions): the ranges its splits
  // and snapshots made, before PD's placement is heard. Loop thread, at start.
  Status OpenRecordedRegions();
  std::vector<meta::Region> Regions();  // loop thread
  // The regions this replica leads and that are not merging (loop thread): for the split check,
  // which reads their state machines through WithRegion.
  std::vector<meta::Region> Led();
  // MergeHooks (any thread): a hosted region's state machine, alive while `fn` runs, and a
  // group's committed commands from its local log.
  Status WithRegion(uint64_t id, const std::function<Status(RegionFsm*)>& fn) override;
  Result<std::optional<LogCommands>> CommittedCommands(uint64_t id, uint64_t after,
                                                       uint64_t through, uint64_t term) override;
  // Merges region `source_id` into `target_id`, its left neighbour, both led here (loop thread):
  // PrepareMerge in the source (unless prepared already), a wait until every source replica has
  // the prepare in its log, CommitMerge in the target, and RollbackMerge in the source when the
  // target refused for having changed. `done` gets the merged region, or why not.
  void Merge(uint64_t target_id, uint64_t source_id,
             std::function<void(Result<meta::Region>)> done);
  // Resumes the prepared merges of regions this store leads together with their targets (loop
  // thread; a leader change or a restart interrupted them).
  void ResumeMerges();
  // How long since region `id`'s range or epoch last changed here, or since it was opened
  // (loop thread): a size merge waits for split_merge_interval after a split.
  std::chrono::steady_clock::duration UnchangedFor(uint64_t id) const;
  // Proposes a split of `region_id` at `key`, the new region to be `new_region_id`, at the
  // region's epoch version `version` (a region that changed since refuses it); `done` gets the
  // apply result (its `error` when refused) or why it was not applied. Loop thread.
  void ProposeSplit(uint64_t region_id, const std::string& key, uint64_t new_region_id,
                    uint64_t version, std::function<void(Result<ApplyResult>)> done);
  // Runs (on the loop) when a hosted region's range or epoch changed: a split or a snapshot.
  // The store node heartbeats PD at once, so that routing follows.
  void set_regions_changed(std::function<void()> fn) { regions_changed_ = std::move(fn); }

 private:
  struct Hosted {
    meta::Region meta;  // the state machine's, as of meta_changes (Current)
    RegionFsm* fsm;     // owned by the Raft group
    uint64_t meta_changes = 0;
    // The last root statement signed: the writes of one apply run and the reads between two
    // runs answer the same (version, root), signed once.
    std::optional<kv::SignedRoot> last_signed;
  };
  // Parses a request and finds its region; answers (and returns nullptr) when it cannot.
  template <typename Request, typename Response>
  Hosted* Admit(const rpc::Envelope& envelope, Request* request,
                const rpc::RpcServer::Responder& respond);
  // The region for a request, or the error to answer with.
  Hosted* Check(uint64_t region_id, const meta::RegionEpoch& epoch, meta::RegionError* error);
  meta::RegionError NotLeaderError(uint64_t region_id) const;
  // h with its metadata refreshed from its state machine (a split or a snapshot changes it).
  Hosted& Current(Hosted& h);
  // EpochNotMatch for region `region_id`, listing the regions hosted now.
  meta::RegionError EpochError(uint64_t region_id);
  // Opens `region`'s state machine and starts its group (CreateGroup's bootstrap and campaign).
  Status Host(const meta::Region& region, bool bootstrap, bool campaign);
  // On the loop, after a state machine's metadata changed: a split's new region starts here, a
  // merge's source goes, and so does a region a snapshot's wider range covers now.
  void OnRegionChanged(uint64_t region_id, const std::optional<meta::Region>& created,
                       uint64_t merged_source);
  // Stops hosting `region_id` and deletes its Raft state; with `state`, also its region state
  // (metadata, applied index, sessions, tree; its data keys belong to the region that covers
  // them now).
  void DropRegion(uint64_t region_id, bool state);
  // The merge's steps after the prepare (Merge).
  void AwaitPrepareEverywhere(uint64_t target_id, meta::Region source, int polls_left,
                              std::function<void(Result<meta::Region>)> done);
  void CommitMergeStep(uint64_t target_id, meta::Region source,
                       std::function<void(Result<meta::Region>)> done);
  // Answers a request whose Raft step (ReadIndex or Propose) failed with `s`; false, answering
  // nothing, when `s` is OK. The one place where Raft's refusals become region errors: not
  // the leader (FailedPrecondition), and a read that lost leadership (Aborted), are NotLeader,
  // which the client follows; a write that lost leadership in flight (Aborted) has an unknown
  // outcome and is answered with the Status itself, as is any other error.
  template <typename Response>
  bool AnswerRaftFailure(const Status& s, uint64_t region_id, bool write,
                         const rpc::RpcServer::Responder& respond) const;
  // The signed statement of `root` at version `applied_index` under `epoch` (reusing
  // h.last_signed when it is the same statement).
  kv::SignedRoot Sign(Hosted& h, const meta::RegionEpoch& epoch, uint64_t applied_index,
                      const proof::Fr& root);

  void Get(const rpc::Envelope& request, rpc::RpcServer::Responder respond);
  void Stats(const rpc::Envelope& request, rpc::RpcServer::Responder respond);
  void Write(const rpc::Envelope& request, rpc::RpcServer::Responder respond);
  void Scan(const rpc::Envelope& request, rpc::RpcServer::Responder respond);
  void Split(const rpc::Envelope& request, rpc::RpcServer::Responder respond);
  void MergeRpc(const rpc::Envelope& request, rpc::RpcServer::Responder respond);
  void TransferLeaderRpc(const rpc::Envelope& request, rpc::RpcServer::Responder respond);
  // Proposes `command` to `region_id` and parses its ApplyResult.
  void ProposeAdmin(uint64_t region_id, const Command& command,
                    std::function<void(Result<ApplyResult>)> done);

  engine::Engine* engine_;
  raft::MultiRaft& raft_;
  const StoreKey& key_;
  StoreServiceOptions options_;
  proof::NodeCache index_cache_;
  std::map<uint64_t, Hosted> regions_;  // loop thread
  // The hosted state machines for other threads (WithRegion), shared with their groups (each
  // lives while either holds it; the lock is held only to copy a pointer).
  std::mutex fsms_mu_;
  std::map<uint64_t, std::shared_ptr<RegionFsm>> fsms_;
  std::set<uint64_t> merges_running_;  // source region ids (loop thread)
  std::map<uint64_t, std::chrono::steady_clock::time_point> changed_at_;  // loop thread
  std::set<uint64_t> timers_;  // RunAfter handles not yet run (loop thread)
  std::function<void()> regions_changed_;
  std::size_t pending_writes_ = 0;  // loop thread
  uint64_t roots_signed_ = 0;       // loop thread (Sign)
  uint64_t roots_reused_ = 0;       // loop thread (Sign)
};

}  // namespace rustorium::store
