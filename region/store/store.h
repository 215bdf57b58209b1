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

  // Registers the kv.* handlers and store.Stats (under TLS for client and admin certificates
  // only); before server.Start().
  void RegisterHandlers(rpc::RpcServer& server);

  // Hosts `region` (loop thread): opens its state machine and starts its Raft group, as one of
  // the first members (bootstrapping with its peers) when the store has no state for it yet.
  Status AddRegion(const meta::Region& region);
  std::vector<meta::Region> Regions() const;  // loop thread

 private:
  struct Hosted {
    meta::Region meta;
    RegionFsm* fsm;  // owned by the Raft group
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
  // Answers a request whose Raft step (ReadIndex or Propose) failed with `s`; false, answering
  // nothing, when `s` is OK. The one place where Raft's refusals become region errors: not
  // the leader (FailedPrecondition), and a read that lost leadership (Aborted), are NotLeader,
  // which the client follows; a write that lost leadership in flight (Aborted) has an unknown
  // outcome and is answered with the Status itself, as is any other error.
  template <typename Response>
  bool AnswerRaftFailure(const Status& s, uint64_t region_id, bool write,
                         const rpc::RpcServer::Responder& respond) const;
  // The signed statement of `root` at version `applied_index` (reusing h.last_signed when it is
  // the same statement).
  kv::SignedRoot Sign(Hosted& h, uint64_t applied_index, const proof::Fr& root);

  void Get(const rpc::Envelope& request, rpc::RpcServer::Responder respond);
  void Stats(const rpc::Envelope& request, rpc::RpcServer::Responder respond);
  void Write(const rpc::Envelope& request, rpc::RpcServer::Responder respond);
  void Scan(const rpc::Envelope& request, rpc::RpcServer::Responder respond);

  engine::Engine* engine_;
  raft::MultiRaft& raft_;
  const StoreKey& key_;
  StoreServiceOptions options_;
  proof::NodeCache index_cache_;
  std::map<uint64_t, Hosted> regions_;  // loop thread
  std::size_t pending_writes_ = 0;      // loop thread
  uint64_t roots_signed_ = 0;           // loop thread (Sign)
  uint64_t roots_reused_ = 0;           // loop thread (Sign)
};

}  // namespace rustorium::store
