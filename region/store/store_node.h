// StoreNode: a running store: its engine, key, event loop, RPC server (kv service and Raft
// transport on one port), MultiRaft and kv Store, registered with PD. A background thread
// heartbeats PD, starts the regions PD places on this store and reports the regions it leads.
// `rustorium server` runs one.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/engine.h"
#include "region/pd/pd_client.h"
#include "region/raft/multi_raft.h"
#include "region/rpc/channel.h"
#include "region/rpc/server.h"
#include "region/store/store.h"

namespace rustorium::store {

struct StoreNodeOptions {
  std::string data_dir;  // engine in data_dir/db, key in data_dir/store.key
  // This store's id: the one in its certificate (rpc::CertificateIdentity). 0: PD assigns one
  // at the first registration (plain TCP only; under TLS PD refuses a registration whose id
  // is not the certificate's). A data directory that belongs to another id is refused.
  uint64_t store_id = 0;
  std::string address = "127.0.0.1:20161";  // listens here; peers and clients dial it
  std::vector<std::string> pd = {"127.0.0.1:2479"};
  std::map<std::string, std::string> labels;  // "region", "zone", "host"
  raft::MultiRaftOptions raft;                // timings; store id and address are filled in
  std::chrono::milliseconds heartbeat{1000};
  // The regions this store leads are told to PD in one message per heartbeat (TiKV's batched
  // region heartbeats): those that changed or got a new leader since, at once, and every region
  // at least every `region_heartbeat` (TiKV's pd-heartbeat-tick-interval).
  std::chrono::milliseconds region_heartbeat{60000};
  // Size and keys splits (TiKV's region-split-size and region-split-keys): every
  // `split_check_interval` the store walks each region it leads, and splits one that holds
  // more than `region_split_bytes` bytes of keys and values or more than `region_split_keys`
  // keys at its middle. A zero interval turns it off.
  uint64_t region_split_bytes = 96ull << 20;
  uint64_t region_split_keys = 960000;
  std::chrono::milliseconds split_check_interval{10000};
  // Size merges (TiKV's max-merge-region-size and -keys, split-merge-interval): at each split
  // check, a region this store leads that holds at most `region_merge_bytes` bytes and
  // `region_merge_keys` keys takes in its right neighbour (Store::Merge) when this store leads
  // that too, it is as small, the two together are under the split limits, and neither changed
  // (a split, a merge) for `split_merge_interval`. Zero bytes or keys turns them off: off by
  // default until more long fault runs with merges have passed (docs/reliability.md, "Merges
  // under faults"; TiKV's defaults are 20 MiB and 200,000 keys).
  uint64_t region_merge_bytes = 0;
  uint64_t region_merge_keys = 0;
  std::chrono::milliseconds split_merge_interval{3600 * 1000};
  std::shared_ptr<rpc::TlsContext> server_tls;
  // The RPC server's limits (connections, timeouts, frame and queue sizes); host, port and tls
  // are set from `address` and `server_tls`.
  rpc::ServerOptions server;
  rpc::ChannelOptions channel;  // to PD and to peer stores (client TLS)
  // The kv service's limits ([store] max_key_size, max_value_size, max_mutations,
  // max_command_bytes, max_scan_bytes in store.toml); its store id is filled in.
  StoreServiceOptions service;
  // How long Start waits for PD to answer the registration.
  std::chrono::milliseconds register_timeout{30000};
  // When set and true, Start gives up between registration attempts with Aborted: a store
  // asked to stop (SIGTERM) while PD is gone stops at once instead of after register_timeout.
  // Borrowed: must outlive Start; nullptr: never.
  const std::atomic<bool>* stop_requested = nullptr;
};

class StoreNode {
 public:
  // Opens the engine, registers with PD (retrying until register_timeout) and starts serving.
  // Aborted when options.stop_requested turned true during the registration.
  static Result<std::unique_ptr<StoreNode>> Start(StoreNodeOptions options);
  ~StoreNode();  // stops cleanly
  uint64_t store_id() const { return store_id_; }
  const std::string& address() const { return options_.address; }
  const StoreKey& key() const { return key_; }
  // Regions hosted now (thread-safe).
  std::vector<meta::Region> Regions();
  // The RPC server (its refusal counters) and the Raft backend (its stats), for tests and
  // status pages; valid while this lives.
  const rpc::RpcServer& server() const { return *server_; }
  const raft::MultiRaft& raft() const { return *raft_; }
  // The Raft state of `region` here (thread-safe); nullopt when it is not hosted.
  std::optional<raft::GroupInfo> RegionInfo(uint64_t region);

 private:
  explicit StoreNode(StoreNodeOptions options) : options_(std::move(options)) {}
  void Heartbeat();
  void HeartbeatLoop();
  // The size and keys split check of the regions this store leads (heartbeat thread).
  void SplitCheck();

  StoreNodeOptions options_;
  StoreKey key_;
  uint64_t store_id_ = 0;
  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<rpc::EventLoop> loop_;
  std::unique_ptr<rpc::RpcServer> server_;
  std::unique_ptr<raft::MultiRaft> raft_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<rpc::EventLoop> pd_loop_;  // the PD channels' loop (calls block this thread)
  std::unique_ptr<pd::PdClient> pd_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
  bool beat_now_ = false;  // guarded by mu_: a region changed, PD hears of it at once
  // Heartbeat thread: what PD last heard of each region this store leads, and when.
  struct Reported {
    std::string record;  // the region's record as sent
    std::chrono::steady_clock::time_point at;
  };
  std::map<uint64_t, Reported> reported_;
  uint64_t pd_term_ = 0;  // the PD leader's term reported_ was told to
  std::thread heartbeat_;
};

}  // namespace rustorium::store
