#include "region/store/store_node.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <set>

#include "base/codec.h"
#include "region/pd/pd.pb.h"

namespace rustorium::store {

Result<std::string> StoreNode::CallPd(const std::string& method, const std::string& payload) {
  Status last = Status::IOError("no PD address");
  for (auto& c : pd_channels_) {
    Result<std::string> r = c->CallSync(method, payload, std::chrono::seconds(5));
    if (r.ok()) return r;
    last = r.status();
  }
  return last;
}

Result<std::unique_ptr<StoreNode>> StoreNode::Start(StoreNodeOptions options) {
  ASSIGN_OR_RETURN(rpc::HostPort hostport, rpc::ParseAddress(options.address));
  std::unique_ptr<StoreNode> node(new StoreNode(std::move(options)));
  StoreNodeOptions& o = node->options_;
  std::error_code ec;
  std::filesystem::create_directories(o.data_dir, ec);
  if (ec) return Status::IOError("cannot create " + o.data_dir + ": " + ec.message());
  ASSIGN_OR_RETURN(node->key_, StoreKey::LoadOrCreate(o.data_dir + "/store.key"));
  engine::StorageOptions so;
  so.path = o.data_dir + "/db";
  so.sync_mode = engine::SyncMode::kNone;  // Raft syncs what it needs
  ASSIGN_OR_RETURN(node->engine_, engine::Engine::Open(so));

  // Register with PD: the same address (or the id this store had) keeps its id.
  node->pd_loop_ = std::make_unique<rpc::EventLoop>();
  for (const std::string& a : o.pd) {
    ASSIGN_OR_RETURN(rpc::HostPort pd_hp, rpc::ParseAddress(a));
    node->pd_channels_.push_back(
        std::make_unique<rpc::RpcChannel>(*node->pd_loop_, pd_hp.host, pd_hp.port, o.channel));
  }
  ASSIGN_OR_RETURN(std::optional<std::string> known,
                   node->engine_->Get(engine::ColumnFamily::kMeta, "store/id"));
  pd::RegisterStoreRequest reg;
  reg.mutable_store()->set_address(o.address);
  reg.mutable_store()->set_public_key(node->key_.public_key_bytes());
  if (known.has_value() && known->size() == 8) reg.mutable_store()->set_id(GetFixed64BE(*known));
  for (const auto& [k, v] : o.labels) (*reg.mutable_store()->mutable_labels())[k] = v;
  const auto deadline = std::chrono::steady_clock::now() + o.register_timeout;
  Result<std::string> answer = Status::TimedOut("PD did not answer");
  while (std::chrono::steady_clock::now() < deadline) {
    answer = node->CallPd("pd.RegisterStore", reg.SerializeAsString());
    if (answer.ok() || answer.status().code() == StatusCode::kInvalidArgument) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  if (!answer.ok()) return answer.status().WithContext("registering with PD at " + o.pd.front());
  pd::RegisterStoreResponse registered;
  if (!registered.ParseFromString(*answer) || registered.store_id() == 0)
    return Status::Corruption("PD's registration answer");
  node->store_id_ = registered.store_id();
  std::string id_bytes;
  PutFixed64BE(id_bytes, node->store_id_);
  RETURN_IF_ERROR(node->engine_->Put(engine::ColumnFamily::kMeta, "store/id", id_bytes));

  node->loop_ = std::make_unique<rpc::EventLoop>();
  rpc::ServerOptions srv;
  srv.host = hostport.host;
  srv.port = hostport.port;
  srv.tls = o.server_tls;
  node->server_ = std::make_unique<rpc::RpcServer>(*node->loop_, srv);
  o.raft.store_id = node->store_id_;
  o.raft.address = o.address;
  o.raft.channel = o.channel;
  node->raft_ = std::make_unique<raft::MultiRaft>(*node->loop_, node->engine_.get(), o.raft);
  node->raft_->RegisterHandlers(*node->server_);
  node->store_ = std::make_unique<Store>(node->engine_.get(), *node->raft_, node->key_,
                                         StoreServiceOptions{node->store_id_});
  node->store_->RegisterHandlers(*node->server_);
  RETURN_IF_ERROR(node->server_->Start());
  node->Heartbeat();  // the regions PD already placed here start now
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
  server_.reset();
  store_.reset();
  raft_.reset();
  loop_.reset();
  pd_channels_.clear();
  pd_loop_.reset();
  engine_.reset();
}

std::vector<Region> StoreNode::Regions() {
  std::vector<Region> out;
  loop_->RunSync([&] { out = store_->Regions(); });
  return out;
}

void StoreNode::Heartbeat() {
  pd::StoreHeartbeatRequest hb;
  hb.set_store_id(store_id_);
  if (!CallPd("pd.StoreHeartbeat", hb.SerializeAsString()).ok()) return;
  pd::GetStoreRegionsRequest mine;
  mine.set_store_id(store_id_);
  Result<std::string> r = CallPd("pd.GetStoreRegions", mine.SerializeAsString());
  pd::GetStoreRegionsResponse placed;
  if (!r.ok() || !placed.ParseFromString(*r)) return;
  std::vector<std::pair<Region, uint64_t>> led;
  loop_->RunSync([&] {
    std::set<uint64_t> hosted;
    for (const Region& h : store_->Regions()) hosted.insert(h.id());
    for (const Region& region : placed.regions()) {
      if (hosted.count(region.id()) == 0) {
        Status s = store_->AddRegion(region);
        if (!s.ok())
          std::fprintf(stderr, "store %llu: hosting region %llu: %s\n",
                       static_cast<unsigned long long>(store_id_),
                       static_cast<unsigned long long>(region.id()), s.ToString().c_str());
      }
    }
    for (const Region& h : store_->Regions()) {
      auto info = raft_->Info(h.id());
      if (info && info->role == raft::Role::kLeader) led.emplace_back(h, store_id_);
      if (info && std::getenv("RUSTORIUM_TRACE") != nullptr) {
        std::fprintf(stderr,
                     "trace: store %llu region %llu state %d term %llu leader %llu commit %llu "
                     "applied %llu last %llu\n",
                     static_cast<unsigned long long>(store_id_),
                     static_cast<unsigned long long>(h.id()), static_cast<int>(info->role),
                     static_cast<unsigned long long>(info->term),
                     static_cast<unsigned long long>(info->leader_id),
                     static_cast<unsigned long long>(info->commit_index),
                     static_cast<unsigned long long>(info->last_applied),
                     static_cast<unsigned long long>(info->last_index));
      }
    }
  });
  for (const auto& [region, leader] : led) {
    pd::RegionHeartbeatRequest rh;
    *rh.mutable_region() = region;
    rh.set_leader_store_id(leader);
    CallPd("pd.RegionHeartbeat", rh.SerializeAsString())
        .status()
        .IgnoreError();  // next beat retries
  }
}

void StoreNode::HeartbeatLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, options_.heartbeat, [this] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    Heartbeat();
    lock.lock();
  }
}

}  // namespace rustorium::store
