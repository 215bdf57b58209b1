#include "region/pd/pd_node.h"

#include <filesystem>

#include "region/rpc/channel.h"

namespace rustorium::pd {

Result<std::unique_ptr<PdNode>> PdNode::Start(PdNodeOptions options) {
  ASSIGN_OR_RETURN(rpc::HostPort hostport, rpc::ParseAddress(options.address));
  if (options.members.empty()) options.members.push_back({options.member_id, options.address});
  std::unique_ptr<PdNode> node(new PdNode(std::move(options)));
  PdNodeOptions& o = node->options_;
  std::error_code ec;
  std::filesystem::create_directories(o.data_dir, ec);
  engine::StorageOptions so;
  so.path = o.data_dir + "/db";
  so.sync_mode = engine::SyncMode::kNone;  // Raft syncs what it needs
  ASSIGN_OR_RETURN(node->engine_, engine::Engine::Open(so));
  node->loop_ = std::make_unique<rpc::EventLoop>();
  rpc::ServerOptions srv = o.server;
  srv.host = hostport.host;
  srv.port = hostport.port;
  srv.tls = o.server_tls;
  node->server_ = std::make_unique<rpc::RpcServer>(*node->loop_, srv);
  o.raft.store_id = o.member_id;
  o.raft.address = o.address;
  o.raft.peer_role = rpc::PeerRole::kPd;  // members speak Raft with pd-N certificates
  node->raft_ = std::make_unique<raft::MultiRaft>(*node->loop_, node->engine_.get(), o.raft);
  node->raft_->RegisterHandlers(*node->server_);
  o.service.members = o.members;
  node->service_ = std::make_unique<PdService>(*node->raft_, o.service);
  node->service_->RegisterHandlers(*node->server_);
  RETURN_IF_ERROR(node->server_->Start());
  Status created;
  node->loop_->RunSync([&] {
    auto fsm = PdFsm::Open(node->engine_.get());
    if (!fsm.ok()) {
      created = fsm.status();
      return;
    }
    created = node->raft_->CreateGroup(o.service.group, std::move(*fsm), o.members);
  });
  RETURN_IF_ERROR(created);
  return node;
}

PdNode::~PdNode() {
  if (raft_) raft_->ShutdownAndWait();
  server_.reset();
  service_.reset();
  raft_.reset();
  loop_.reset();
  engine_.reset();
}

}  // namespace rustorium::pd
