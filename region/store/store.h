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

#include <map>
#include <memory>
#include <optional>

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

class Store {
 public:
  // Everything is borrowed and must outlive the Store; it runs on `raft`'s loop.
  Store(engine::Engine* engine, raft::MultiRaft& raft, const StoreKey& key,
        StoreServiceOptions options);
  // The state machines post to the loop (a split's new region): destroy a Store after its
  // MultiRaft has shut down and the loop has run what they posted (StoreNode's destructor).

  // Registers the kv.* handlers and store.Stats (under TLS for client and admin certificates
  // only) and store.Split (admin certificates only); before server.Start().
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
  // The regions this replica leads, with their state machines (loop thread; the state machines
  // live while their groups do, until the MultiRaft shuts down): for the split check.
  std::vector<std::pair<meta::Region, const RegionFsm*>> Led();
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
  // On the loop, after a state machine's metadata changed: a split's new region starts here.
  void OnRegionChanged(uint64_t region_id, const std::optional<meta::Region>& created);
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

  engine::Engine* engine_;
  raft::MultiRaft& raft_;
  const StoreKey& key_;
  StoreServiceOptions options_;
  proof::NodeCache index_cache_;
  std::map<uint64_t, Hosted> regions_;  // loop thread
  std::function<void()> regions_changed_;
  std::size_t pending_writes_ = 0;  // loop thread
  uint64_t roots_signed_ = 0;       // loop thread (Sign)
  uint64_t roots_reused_ = 0;       // loop thread (Sign)
};

}  // namespace rustorium::store
