// A Narwhal worker: seals client transactions into batches, spreads them to the workers with
// the same id at every other validator, and reports a batch to its primary once validators
// holding 2f + 1 stake (itself included) have stored it. It also serves and fetches batches
// for the primary's synchronizer.
//
// Single-threaded: the Env's thread calls everything, timers included.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "chain/narwhal/committee.h"
#include "chain/narwhal/dag_store.h"
#include "chain/narwhal/env.h"
#include "chain/narwhal/messages.h"
#include "chain/narwhal/parameters.h"

namespace rustorium::chain {

struct WorkerStats {
  uint64_t transactions = 0;  // accepted from clients
  uint64_t batches_sealed = 0;
  uint64_t batches_reported = 0;  // reached 2f + 1 acknowledgements
  uint64_t dropped_messages = 0;  // malformed, unknown senders, wrong worker id
  uint64_t refused_busy = 0;      // transactions refused while batches could not spread
  // Batches, acknowledgements and sync requests whose claimed sender (origin, author,
  // requester) is not the committee member the connection is authenticated as.
  uint64_t refused_identity = 0;
  uint64_t orphan_batches_collected = 0;  // stored, named by no header, deleted after the age
  // Peers' batches not stored because their origin's unnamed batches would pass
  // max_unnamed_batch_bytes.
  uint64_t refused_unnamed_quota = 0;
};

class Worker {
 public:
  struct Callbacks {
    // One of this worker's batches is held by 2f + 1 stake: it may go into a header.
    std::function<void(const PayloadEntry&)> on_batch_ready;
    // A batch (any author's) is now in the store.
    std::function<void(const Digest&)> on_batch_stored;
  };

  // `env`, `transport` and `store` must outlive the worker.
  Worker(const Committee& committee, const PublicKey& name, uint32_t id,
         const NarwhalParameters& params, Env* env, Transport* transport, DagStore* store,
         Callbacks callbacks);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Queues a client's transaction. InvalidArgument (nothing queued) when it is empty or over
  // kMaxTransactionSize; Busy when max_pending_batches batches still wait for a quorum.
  Status SubmitTransaction(std::string transaction);
  // A message from another validator's worker or from a client; malformed ones are counted
  // and dropped. A batch or acknowledgement must come from the member `from` is authenticated
  // as (when it is); a sync request is answered through from.reply only; an answer
  // (from.answer) is taken only when it is a batch we are fetching.
  void OnMessage(std::string_view bytes, const MessageSource& from);
  // A verified header names these batches of this worker. In a certificate (`certified`):
  // they are no orphans (the DAG's garbage collection deletes them). In a header alone: their
  // age starts again from now, so the batches of a header that never certifies go too.
  void OnBatchesNamed(const std::vector<Digest>& digests, bool certified);
  // Fetches batches the primary misses: first from `author`'s worker with this id, then,
  // after the retry delay, from every other validator's.
  void Synchronize(const std::vector<Digest>& digests, const PublicKey& author);
  // Stops fetching batches nobody needs any more (their headers fell below the GC bound).
  void CancelSynchronize(const std::vector<Digest>& digests);
  // At start-up: batches stored before a restart that no stored certificate above the GC
  // bound names. Like a peer's batch just stored, each goes orphan_batch_age_ms from now
  // unless a certificate names it (OnBatchesNamed) meanwhile. The store does not record who
  // sent a batch, so these count against no origin's max_unnamed_batch_bytes: after a
  // restart a peer's earlier batches stay at most one more age beside its full quota.
  // Digests already held are left as they are.
  void RestoreUnnamed(const std::vector<Digest>& digests);

  // What a batch counts against max_unnamed_batch_bytes: its transactions' bytes plus
  // kTransactionOverhead each and kBatchOverhead (so that a flood of empty or tiny batches
  // is bounded too).
  static constexpr size_t kBatchOverhead = 64;
  static constexpr size_t kTransactionOverhead = 8;
  static size_t ChargedBytes(const Batch& batch);
  // The most a batch sealed by a worker with this batch_size can be charged (its last
  // transaction may be kMaxTransactionSize, and transactions are never empty).
  static size_t MaxChargedBytes(size_t batch_size);

  uint32_t id() const { return id_; }
  const WorkerStats& stats() const { return stats_; }

 private:
  struct Spreading {
    Batch batch;
    std::set<PublicKey> acks;
    uint64_t stake = 0;
  };
  struct Fetch {
    uint64_t since_ms = 0;
  };
  // Unnamed batches by since_ms (equal times in insertion order), so that a tick looks only
  // at the expired ones.
  using AgeIndex = std::multimap<uint64_t, Digest>;
  // A stored batch no certificate names yet (see unnamed_).
  struct Unnamed {
    AgeIndex::iterator by_age;  // its entry in by_age_, whose key is its since_ms
    // Who sent it; unknown for a batch restored at start-up (charged to nobody).
    std::optional<PublicKey> origin;
    size_t bytes = 0;  // ChargedBytes, 0 when restored
  };

  void Seal();
  void OnBatch(BatchMessage message, const MessageSource& from);
  void OnAck(const BatchAck& ack, const MessageSource& from);
  void OnRequest(const BatchesRequest& request, const MessageSource& from);
  void CollectOrphans();
  void AddUnnamed(const Digest& digest, std::optional<PublicKey> origin, size_t bytes);
  void ForgetUnnamed(std::map<Digest, Unnamed>::iterator it);
  void Tick();
  void SendTo(const PublicKey& to, const Message& message);

  const Committee& committee_;
  PublicKey name_;
  uint32_t id_;
  NarwhalParameters params_;
  Env* env_;
  Transport* transport_;
  DagStore* store_;
  Callbacks callbacks_;

  Batch current_;
  size_t current_bytes_ = 0;
  TimerId seal_timer_ = 0;
  bool seal_timer_armed_ = false;
  TimerId tick_timer_ = 0;
  std::map<Digest, Spreading> spreading_;
  std::map<Digest, Fetch> fetching_;
  // Batches stored and not (yet) named by a certificate: peers' batches, and at start-up
  // every stored batch no stored certificate names. By digest: when each was stored, or last
  // named by a header (its by_age_ key, ms), who sent it and its charged bytes.
  std::map<Digest, Unnamed> unnamed_;
  AgeIndex by_age_;  // the same batches by age: one entry per unnamed_ entry
  std::map<PublicKey, size_t> unnamed_bytes_;  // per origin, over unnamed_
  WorkerStats stats_;
};

}  // namespace rustorium::chain
