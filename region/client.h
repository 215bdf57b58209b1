// The region client: what applications (and the chain, SQL and rebalancer layers) use to read
// and write the store. It finds each key's region and leader through PD (with a cache), sends
// the request to the leader, follows NotLeader / EpochNotMatch / KeyNotInRegion / ServerBusy
// and connection failures with bounded retries and backoff, and by default checks every
// answer: the store's ed25519 signature of the root (keys from PD), that the signer holds a
// replica of the region at the signed epoch, and the proof of each key against that root. A reply
// that fails a check is an error (Corruption), never a value.
//
// Thread-safe. The plain calls block the calling thread; the *Async calls return at once and
// call back on the client's worker threads.
//
// Writes carry a write session (the client's random id and a sequence number per write,
// region/store/sessions.h), so a write whose attempt reached a store and got no answer is sent
// again, marked as a retry: the region applies it at most once and answers a retry of an
// applied write with the stored result and signed root (`replayed`, without proofs). A write
// that fails with TimedOut still has an unknown outcome: every attempt within the deadline went
// unanswered, or the region had forgotten the client's session by the time a retry came, so it
// may have been applied, or may be applied later. Corruption means the answer failed its checks
// (whatever happened, that store is not to be trusted). Any other error means the write was not
// applied. Reads are retried freely.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "base/status.h"
#include "proof/smt/proof.h"
#include "region/kv.pb.h"
#include "region/pd/pd_client.h"
#include "region/rpc/channel.h"
#include "region/rpc/event_loop.h"
#include "region/store/root_statement.h"

namespace rustorium::client {

struct ClientOptions {
  std::vector<std::string> pd;                // PD member addresses, "host:port"
  rpc::ChannelOptions channel;                // TLS (server-authenticated or mutual) and limits
  std::chrono::milliseconds timeout{5000};    // per RPC
  int max_attempts = 12;                      // per operation
  std::chrono::milliseconds deadline{20000};  // per operation, retries included
  std::chrono::milliseconds backoff_initial{20};
  std::chrono::milliseconds backoff_max{1000};
  bool verify = true;     // check signatures and proofs (turn off only to measure their cost)
  int async_threads = 2;  // workers running the asynchronous calls
  // Writes carry a write session and are retried after an unknown outcome. Off: a write is
  // sent again only when it surely was not applied (an unknown outcome ends it with TimedOut).
  bool write_sessions = true;
};

// The root a store vouched for.
struct VerifiedRoot {
  uint64_t region_id = 0;
  uint64_t applied_index = 0;
  proof::Fr root;
  uint64_t store_id = 0;
  bool verified = false;  // signature and proofs checked
};

struct ReadResult {
  std::optional<std::string> value;  // nullopt: absent (with a non-inclusion proof)
  VerifiedRoot root;
  std::string proof;  // the key's proof, binary form (proof/smt/proof.h)
};

struct WriteResult {
  // The signed root after the write. For a replayed answer (result.replayed: a retry of a
  // write the region had applied), the root and index of that first application.
  VerifiedRoot root;
  store::ApplyResult result;        // cas_succeeded / cas_previous for a compare-and-swap
  std::vector<kv::KvProof> proofs;  // one per key written, at `root` (none when replayed)
};

struct ScanItem {
  std::string key;
  std::string value;
  std::string proof;
  std::size_t root = 0;  // the index in ScanResult::roots of the root the proof is at
};

struct ScanResult {
  std::vector<ScanItem> items;  // in key order
  // The signed roots the items' proofs are at, in the order first used (one per region answer;
  // a region answered in several pages may appear with several applied indexes).
  std::vector<VerifiedRoot> roots;
  // True when [start, end) holds keys after the last item; then next_key is where the next
  // page starts: the last key followed by one zero byte, so no key is returned twice.
  bool more = false;
  std::string next_key;
};

class Client {
 public:
  static Result<std::unique_ptr<Client>> Connect(ClientOptions options);
  ~Client();

  Result<ReadResult> Get(const std::string& key);
  Result<WriteResult> Put(const std::string& key, const std::string& value);
  Result<WriteResult> Delete(const std::string& key);
  // Sets `key` to `next` (nullopt: deletes it) when its value is `expected` (nullopt: absent).
  Result<WriteResult> CompareAndSwap(const std::string& key,
                                     const std::optional<std::string>& expected,
                                     const std::optional<std::string>& next);
  // Keys in [start, end) (end empty: to the end of the key space), at most `limit` (> 0), across
  // regions, each with its proof (checked) at its region's signed root, and whether more remain.
  Result<ScanResult> Scan(const std::string& start, const std::string& end, uint32_t limit);

  // This client's write-session id (random, nonzero).
  uint64_t client_id() const { return client_id_; }

  // PD's view of the stores and regions (for `status check`).
  Result<pd::GetStoresResponse> Stores();
  Result<pd::GetRegionsResponse> Regions();
  // A store's memory and signing figures (store.Stats), asked of the store at `address`.
  Result<kv::StoreStatsResponse> StoreStats(const std::string& address);
  // Splits the region holding `key` at `key` (store.Split at its leader; under TLS an admin
  // certificate): it keeps the keys below, and a new region (its id allocated by PD) takes
  // `key` and above, on the same stores. Returns the region, then the new one; a key that
  // starts a region already is split already, and its region alone is returned.
  Result<std::vector<meta::Region>> SplitRegion(const std::string& key);
  // Merges the right neighbour of region `region_id` into it (store.Merge; under TLS an admin
  // certificate): first hands the region's leadership to the store that leads the neighbour
  // (store.TransferLeader), so that one store leads both. Returns the merged region; a merge
  // done already (sent again after an unknown outcome) returns the region as it is.
  // InvalidArgument when the region has no right neighbour; FailedPrecondition when a store
  // refused (the regions are on different stores, one changed, a merge was rolled back).
  Result<meta::Region> MergeRegions(uint64_t region_id);
  // What made a region: the split or the merge its origin statement records (one is set).
  struct RegionOrigin {
    std::optional<store::SplitFacts> split;
    std::optional<store::MergeFacts> merge;
  };
  // Checks the statement of the split or merge that made `region` (Region.origin_statement):
  // its signature by the store that reported it, with the key PD published, and that it names
  // `region` (a split's half, a merge's target). Returns what it states; NotFound for a region
  // no split or merge made, Corruption when it does not check.
  Result<RegionOrigin> VerifyOrigin(const meta::Region& region);

  // The asynchronous API: each call returns at once and `done` runs later on one of the
  // client's worker threads (ClientOptions::async_threads) with what the blocking call returns.
  void GetAsync(std::string key, std::function<void(Result<ReadResult>)> done);
  void PutAsync(std::string key, std::string value, std::function<void(Result<WriteResult>)> done);
  void DeleteAsync(std::string key, std::function<void(Result<WriteResult>)> done);

  // Signatures this client has checked. A root statement checked once is remembered (the last
  // kVerifiedRoots, with the signature and the key that verified it), so answers at the same
  // root cost one check.
  uint64_t signatures_verified() const { return signatures_verified_.load(); }
  static constexpr std::size_t kVerifiedRoots = 256;

 private:
  struct CachedRegion {
    meta::Region region;
    uint64_t leader = 0;  // store id; 0 unknown
  };
  explicit Client(ClientOptions options);
  Result<std::string> CallStore(const std::string& address, const std::string& method,
                                const std::string& payload);
  Result<rpc::RpcChannel*> Channel(const std::string& address);
  Result<CachedRegion> Locate(const std::string& key);
  void Forget(uint64_t region_id);
  Result<std::string> PublicKey(uint64_t store_id);
  // Checks the signature of `root` and returns the root element. With `write`, a root signed
  // at a newer version than asked (a split applied before the write) is taken as the asked
  // region's, whose replicas it has; a read's root must be at the asked epoch, since a newer
  // version may have a narrower range (where a moved key would look absent).
  Result<VerifiedRoot> CheckRoot(const kv::SignedRoot& root, const meta::Region& region,
                                 bool write = false);
  // OK when the store that signed `root` holds a replica of the region at the root's epoch:
  // `asked` (the region as the request named it) when the epochs are the same (or, with
  // `write`, the conf_ver is and the version newer), else the region as PD reports it at that
  // epoch. Corruption otherwise.
  Status CheckSignerHeldReplica(const kv::SignedRoot& root, const meta::Region& asked, bool write);
  // Sends `request` (a kv request; its region id and epoch are filled in for each attempt) for
  // `key` to the leader of the key's region, following region errors; returns the leader's
  // reply and the region it went to. A call that is not `idempotent` is sent again only when
  // it surely was not applied.
  template <typename Response, typename Request>
  Result<std::pair<Response, meta::Region>> RegionCall(const std::string& key,
                                                       const std::string& method, bool idempotent,
                                                       Request& request);
  Result<WriteResult> Write(const std::string& key, store::Command command);

  void Enqueue(std::function<void()> task);
  // Gives `command` this client's session and the next sequence number (write_sessions on);
  // EndWrite(seq) once the write has its outcome.
  uint64_t BeginWrite(store::Command& command);
  void EndWrite(uint64_t seq);

  ClientOptions options_;
  const uint64_t client_id_;
  std::mutex session_mu_;
  uint64_t next_seq_ = 1;          // guarded by session_mu_
  std::set<uint64_t> unanswered_;  // guarded by session_mu_
  rpc::EventLoop loop_;
  std::unique_ptr<pd::PdClient> pd_;  // on loop_
  // The asynchronous calls' workers and queue.
  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<std::function<void()>> queue_;  // guarded by queue_mu_
  bool stopping_ = false;                    // guarded by queue_mu_
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<rpc::RpcChannel>> channels_;  // guarded by mu_
  std::map<uint64_t, CachedRegion> regions_;                          // guarded by mu_
  std::map<uint64_t, pd::StoreInfo> stores_;                          // guarded by mu_
  // Verified statements (public key, statement, signature), oldest first.
  std::set<std::string> verified_roots_;    // guarded by mu_
  std::deque<std::string> verified_order_;  // guarded by mu_
  std::atomic<uint64_t> signatures_verified_{0};
};

}  // namespace rustorium::client
