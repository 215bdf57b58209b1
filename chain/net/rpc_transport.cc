#include "chain/net/rpc_transport.h"

#include <spdlog/spdlog.h>

namespace rustorium::chain {

RpcTransport::RpcTransport(rpc::EventLoop& loop, const Committee& committee,
                           rpc::ChannelOptions channel_options)
    : loop_(loop), committee_(committee), options_(std::move(channel_options)) {}

rpc::RpcChannel* RpcTransport::ChannelTo(const std::string& address) {
  auto it = channels_.find(address);
  if (it != channels_.end()) return it->second.get();
  auto hp = rpc::ParseAddress(address);
  if (!hp.ok()) {
    spdlog::warn("chain transport: bad peer address {}: {}", address, hp.status().ToString());
    return nullptr;
  }
  auto channel = std::make_unique<rpc::RpcChannel>(loop_, hp->host, hp->port, options_);
  return channels_.emplace(address, std::move(channel)).first->second.get();
}

void RpcTransport::SendToPrimary(const PublicKey& to, std::string bytes) {
  const Authority* a = committee_.Find(to);
  if (a == nullptr || a->primary_address.empty()) return;
  if (rpc::RpcChannel* c = ChannelTo(a->primary_address)) c->Send(kPrimaryMethod, std::move(bytes));
}

void RpcTransport::SendToWorker(const PublicKey& to, uint32_t worker_id, std::string bytes) {
  const Authority* a = committee_.Find(to);
  if (a == nullptr || worker_id >= a->worker_addresses.size()) return;
  if (rpc::RpcChannel* c = ChannelTo(a->worker_addresses[worker_id]))
    c->Send(kWorkerMethod, std::move(bytes), worker_id);
}

}  // namespace rustorium::chain
