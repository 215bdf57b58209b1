// PdNode: a running placement driver member: its engine, event loop, RPC server, Raft group
// (group 1 of its own MultiRaft) with PdFsm, and the PD service. `rustorium pd` runs one.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "region/pd/pd_service.h"
#include "region/raft/multi_raft.h"
#include "region/rpc/server.h"
#include "region/rpc/tls.h"

namespace rustorium::pd {

struct PdNodeOptions {
  std::string data_dir;                    // the engine lives in data_dir/db
  std::string address = "127.0.0.1:2479";  // listens here; also its Raft address
  uint64_t member_id = 1;
  std::vector<raft::Member> members;  // every member, this one included; empty: a single member
  PdServiceOptions service;
  raft::MultiRaftOptions raft;  // timings; store_id, address and peer_role are filled in
  std::shared_ptr<rpc::TlsContext> server_tls;  // clients and stores connect with TLS when set
  // The RPC server's limits (max_connections, ConnectionLimits' handshake and idle timeouts,
  // frame and queue sizes); host, port and tls are set from `address` and `server_tls`.
  rpc::ServerOptions server;
};

class PdNode {
 public:
  static Result<std::unique_ptr<PdNode>> Start(PdNodeOptions options);
  ~PdNode();  // stops cleanly
  const std::string& address() const { return options_.address; }
  // The RPC server (its refusal counters); valid while this lives.
  const rpc::RpcServer& server() const { return *server_; }
  // The service (its counters); valid while this lives.
  const PdService& service() const { return *service_; }

 private:
  explicit PdNode(PdNodeOptions options) : options_(std::move(options)) {}
  PdNodeOptions options_;
  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<rpc::EventLoop> loop_;
  std::unique_ptr<rpc::RpcServer> server_;
  std::unique_ptr<raft::MultiRaft> raft_;
  std::unique_ptr<PdService> service_;
};

}  // namespace rustorium::pd
