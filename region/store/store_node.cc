#include "region/store/store_node.h"

#include <spdlog/spdlog.h>

#include <cstdlib>
#include <filesystem>
#include <set>

#include "base/codec.h"
#include "base/quote.h"
#include "region/keys.h"
#include "region/store/engine_limits.h"

namespace rustorium::store {

Result<std::unique_ptr<StoreNode>> StoreNode::Start(StoreNodeOptions options) {
  ASSIGN_OR_RETURN(rpc::HostPort hostport, rpc::ParseAddress(options.address));
  std::unique_ptr<StoreNode> node(new StoreNode(std::move(options)));
  StoreNodeOptions& o = node->options_;
  std::error_code ec;
  std::filesystem::create_directories(o.data_dir, ec);
  if (ec) return Status::IOError("cannot create " + o.data_dir + ": " + ec.message());
  ASSIGN_OR_RETURN(node->key_, StoreKey::LoadOrCreate(o.data_dir + "/store.key"));
  RETURN_IF_ERROR(o.service.limits.Validate());
  engine::StorageOptions so;
  so.path = o.data_dir + "/db";
  so.sync_mode = engine::SyncMode::kNone;  // Raft syncs what it needs
  so = EngineOptionsFor(so);               // room for the largest command
  ASSIGN_OR_RETURN(node->engine_, engine::Engine::Open(so));

  // Register with PD: the same address (or the id this store had) keeps its id.
  node->pd_loop_ = std::make_unique<rpc::EventLoop>();
  pd::PdClientOptions pd_options;
  pd_options.members = o.pd;
  pd_options.channel = o.channel;
  ASSIGN_OR_RETURN(node->pd_, pd::PdClient::Create(*node->pd_loop_, std::move(pd_options)));
  ASSIGN_OR_RETURN(std::optional<std::string> known,
                   node->engine_->Get(engine::ColumnFamily::kMeta, keys::StoreIdKey()));
  if (!known.has_value()) {
    // Written before the meta family had one key convention; moved below.
    ASSIGN_OR_RETURN(known,
                     node->engine_->Get(engine::ColumnFamily::kMeta, keys::kLegacyStoreIdKey));
  }
  pd::RegisterStoreRequest reg;
  reg.mutable_store()->set_address(o.address);
  reg.mutable_store()->set_public_key(node->key_.public_key_bytes());
  const bool has_id = known.has_value() && known->size() == 8;
  if (has_id && o.store_id != 0 && GetFixed64BE(*known) != o.store_id) {
    return Status::FailedPrecondition(
        o.data_dir + " holds store " + std::to_string(GetFixed64BE(*known)) +
        "'s data, and this store's certificate says it is store " + std::to_string(o.store_id));
  }
  // No id record: a store without state (first start, or a wiped data directory). PD refuses
  // a fresh store under an id it knows (it could vote twice in a term). The record is written
  // only once PD took the registration, so a refused attempt leaves the store fresh; a crash
  // between PD's answer and the record costs a new id, never a second vote.
  reg.set_fresh(!has_id);
  if (has_id) reg.mutable_store()->set_id(GetFixed64BE(*known));
  if (o.store_id != 0) reg.mutable_store()->set_id(o.store_id);
  for (const auto& [k, v] : o.labels) (*reg.mutable_store()->mutable_labels())[k] = v;
  const auto deadline = std::chrono::steady_clock::now() + o.register_timeout;
  Result<pd::RegisterStoreResponse> registered = Status::TimedOut("PD did not answer");
  auto stop_requested = [&o] { return o.stop_requested != nullptr && o.stop_requested->load(); };
  while (std::chrono::steady_clock::now() < deadline) {
    registered = node->pd_->RegisterStore(reg);
    if (registered.ok() || !pd::PdRetryable(registered.status())) break;
    for (int i = 0; i < 4 && !stop_requested(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (stop_requested()) {
      return Status::Aborted("stopped while registering with PD at " + o.pd.front() + " (" +
                             registered.status().ToString() + ")");
    }
  }
  if (!registered.ok())
    return registered.status().WithContext("registering with PD at " + o.pd.front());
  if (registered->store_id() == 0 || (o.store_id != 0 && registered->store_id() != o.store_id)) {
    return Status::Corruption("PD's registration answer names store " +
                              std::to_string(registered->store_id()));
  }
  node->store_id_ = registered->store_id();
  std::string id_bytes;
  PutFixed64BE(id_bytes, node->store_id_);
  engine::WriteBatch id_record;
  id_record.Put(engine::ColumnFamily::kMeta, keys::StoreIdKey(), id_bytes);
  id_record.Delete(engine::ColumnFamily::kMeta, keys::kLegacyStoreIdKey);
  RETURN_IF_ERROR(node->engine_->WriteSync(id_record));

  node->loop_ = std::make_unique<rpc::EventLoop>();
  rpc::ServerOptions srv = o.server;
  srv.host = hostport.host;
  srv.port = hostport.port;
  srv.tls = o.server_tls;
  node->server_ = std::make_unique<rpc::RpcServer>(*node->loop_, srv);
  o.raft.store_id = node->store_id_;
  o.raft.address = o.address;
  o.raft.channel = o.channel;
  node->raft_ = std::make_unique<raft::MultiRaft>(*node->loop_, node->engine_.get(), o.raft);
  node->raft_->RegisterHandlers(*node->server_);
  o.service.store_id = node->store_id_;
  node->store_ = std::make_unique<Store>(node->engine_.get(), *node->raft_, node->key_, o.service);
  node->store_->RegisterHandlers(*node->server_);
  node->store_->set_regions_changed([n = node.get()] {
    {
      std::lock_guard<std::mutex> lock(n->mu_);
      n->beat_now_ = true;
    }
    n->cv_.notify_all();
  });
  // The regions this store recorded start first (their ranges as its splits left them), then
  // those PD placed here that it has no record of.
  Status opened;
  node->loop_->RunSync([&] { opened = node->store_->OpenRecordedRegions(); });
  RETURN_IF_ERROR(opened);
  RETURN_IF_ERROR(node->server_->Start());
  node->Heartbeat();
  node->heartbeat_ = std::thread([n = node.get()] { n->HeartbeatLoop(); });
  return node;
}

StoreNode::~StoreNode() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (heartbeat_.joinable()) heartbeat_.join();
  if (raft_) raft_->ShutdownAndWait();
  if (loop_) {
    // What the state machines posted runs with the Store whole; its timers go before it.
    loop_->RunSync([this] {
      if (store_) store_->Stop();
    });
  }
  server_.reset();
  store_.reset();
  raft_.reset();
  loop_.reset();
  pd_.reset();
  pd_loop_.reset();
  engine_.reset();
}

std::vector<meta::Region> StoreNode::Regions() {
  std::vector<meta::Region> out;
  loop_->RunSync([&] { out = store_->Regions(); });
  return out;
}

std::optional<raft::GroupInfo> StoreNode::RegionInfo(uint64_t region) {
  std::optional<raft::GroupInfo> out;
  loop_->RunSync([&] { out = raft_->Info(region); });
  return out;
}

void StoreNode::Heartbeat() {
  pd::StoreHeartbeatRequest hb;
  hb.set_store_id(store_id_);
  Result<pd::StoreHeartbeatResponse> beat = pd_->StoreHeartbeat(hb);
  if (!beat.ok()) return;
  if (beat->pd_term() != pd_term_) {
    pd_term_ = beat->pd_term();
    reported_.clear();  // a new PD leader knows no region's leader: every region again
  }
  pd::GetStoreRegionsRequest mine;
  mine.set_store_id(store_id_);
  Result<pd::GetStoreRegionsResponse> placed = pd_->GetStoreRegions(mine);
  if (!placed.ok()) return;
  std::vector<meta::Region> led;
  loop_->RunSync([&] {
    std::set<uint64_t> hosted;
    for (const meta::Region& h : store_->Regions()) hosted.insert(h.id());
    for (const meta::Region& region : placed->regions()) {
      if (hosted.count(region.id()) == 0) {
        Status s = store_->AddRegion(region);
        if (s.code() == StatusCode::kBusy) {
          spdlog::debug("store {}: not yet hosting region {}: {}", store_id_, region.id(),
                        s.ToString());
        } else if (!s.ok()) {
          spdlog::error("store {}: hosting region {}: {}", store_id_, region.id(), s.ToString());
        }
      }
    }
    for (const meta::Region& h : store_->Regions()) {
      auto info = raft_->Info(h.id());
      if (info && info->role == raft::Role::kLeader) led.push_back(h);
      if (info) {
        spdlog::debug("store {} region {} state {} term {} leader {} commit {} applied {} last {}",
                      store_id_, h.id(), static_cast<int>(info->role), info->term, info->leader_id,
                      info->commit_index, info->last_applied, info->last_index);
      }
    }
  });
  // One message for the regions PD has not heard of as they are now (or not for a while).
  const auto now = std::chrono::steady_clock::now();
  std::map<uint64_t, Reported> still_led;
  pd::RegionHeartbeatsRequest batch;
  batch.set_leader_store_id(store_id_);
  std::vector<std::pair<uint64_t, std::string>> in_batch;
  auto send = [&] {
    if (batch.regions_size() == 0) return;
    if (pd_->RegionHeartbeats(batch).ok()) {  // else the next beat sends them again
      for (auto& [id, record] : in_batch) still_led[id] = Reported{std::move(record), now};
    }
    batch.clear_regions();
    in_batch.clear();
  };
  for (const meta::Region& region : led) {
    std::string record = region.SerializeAsString();
    auto it = reported_.find(region.id());
    if (it != reported_.end() && it->second.record == record &&
        now - it->second.at < options_.region_heartbeat) {
      still_led[region.id()] = std::move(it->second);
      continue;
    }
    *batch.add_regions() = region;
    in_batch.emplace_back(region.id(), std::move(record));
    if (batch.regions_size() == pd::kMaxRegionsPerHeartbeat) send();
  }
  send();
  // A region led elsewhere since is forgotten: led here again, PD hears of it at once.
  reported_ = std::move(still_led);
}

void StoreNode::SplitCheck() {
  std::vector<meta::Region> led;
  std::map<uint64_t, bool> settled;  // region id → unchanged for split_merge_interval
  loop_->RunSync([&] {
    store_->ResumeMerges();  // those a leader change or a restart interrupted
    led = store_->Led();
    for (const meta::Region& r : led)
      settled[r.id()] = store_->UnchangedFor(r.id()) >= options_.split_merge_interval;
  });
  std::map<std::string, std::pair<meta::Region, RegionFsm::SizeCheck>> small;  // by start key
  for (const meta::Region& region : led) {
    Result<RegionFsm::SizeCheck> size = Status::NotFound("region gone");
    store_
        ->WithRegion(region.id(),
                     [&](RegionFsm* fsm) {
                       if (fsm != nullptr)
                         size = fsm->CheckSize(options_.region_split_keys,
                                               options_.region_split_bytes);
                       return Status::OK();
                     })
        .IgnoreError();
    if (size.status().IsNotFound()) continue;  // merged meanwhile
    if (!size.ok()) {
      spdlog::warn("store {}: split check of region {}: {}", store_id_, region.id(),
                   size.status().ToString());
      continue;
    }
    if (size->middle_key.empty()) {
      if (options_.region_merge_bytes > 0 && options_.region_merge_keys > 0 &&
          size->bytes <= options_.region_merge_bytes && size->keys <= options_.region_merge_keys &&
          settled[region.id()])
        small[region.start_key()] = {region, *size};
      continue;
    }
    pd::AllocIdRequest alloc;
    alloc.set_count(1);
    Result<pd::AllocIdResponse> id = pd_->AllocId(alloc);
    if (!id.ok()) continue;  // the next check tries again
    spdlog::info("store {}: region {} holds {} keys, {} bytes: splitting it at {} (new region {})",
                 store_id_, region.id(), size->keys, size->bytes, QuoteInput(size->middle_key),
                 id->first_id());
    const uint64_t region_id = region.id();
    const uint64_t store = store_id_;
    loop_->RunSync([&] {
      store_->ProposeSplit(region_id, size->middle_key, id->first_id(), region.epoch().version(),
                           [store, region_id](Result<ApplyResult> r) {
                             if (!r.ok() || !r->error().empty()) {
                               spdlog::info("store {}: split of region {} not applied: {}", store,
                                            region_id, r.ok() ? r->error() : r.status().ToString());
                             }
                           });
    });
  }
  // One size merge per check: a small region takes in its small right neighbour.
  for (const auto& [start, left] : small) {
    const meta::Region& target = left.first;
    if (target.end_key().empty()) continue;
    auto right = small.find(target.end_key());
    if (right == small.end() ||
        left.second.keys + right->second.second.keys >= options_.region_split_keys ||
        left.second.bytes + right->second.second.bytes >= options_.region_split_bytes)
      continue;
    const uint64_t target_id = target.id(), source_id = right->second.first.id();
    spdlog::info("store {}: regions {} and {} hold {} and {} keys: merging {} into {}", store_id_,
                 target_id, source_id, left.second.keys, right->second.second.keys, source_id,
                 target_id);
    const uint64_t store = store_id_;
    loop_->RunSync([&] {
      store_->Merge(target_id, source_id, [store, source_id](Result<meta::Region> r) {
        if (!r.ok()) {
          spdlog::info("store {}: merge of region {} not done: {}", store, source_id,
                       r.status().ToString());
        }
      });
    });
    break;
  }
}

void StoreNode::HeartbeatLoop() {
  auto next_split_check = std::chrono::steady_clock::now() + options_.split_check_interval;
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, options_.heartbeat, [this] { return stopping_ || beat_now_; });
    if (stopping_) break;
    beat_now_ = false;
    lock.unlock();
    Heartbeat();
    if (options_.split_check_interval.count() > 0 &&
        std::chrono::steady_clock::now() >= next_split_check) {
      SplitCheck();
      next_split_check = std::chrono::steady_clock::now() + options_.split_check_interval;
    }
    lock.lock();
  }
}

}  // namespace rustorium::store
