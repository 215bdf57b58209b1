// Transport over region/rpc: one channel per peer address, one-way messages "chain.primary"
// and "chain.worker" (the worker id in the envelope's group_id), the canonical message bytes
// as payload. Serve() registers the receiving side on a validator's RPC server.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "chain/narwhal/committee.h"
#include "chain/narwhal/env.h"
#include "region/rpc/channel.h"
#include "region/rpc/event_loop.h"
#include "region/rpc/server.h"

namespace rustorium::chain {

inline constexpr char kPrimaryMethod[] = "chain.primary";
inline constexpr char kWorkerMethod[] = "chain.worker";

class RpcTransport : public Transport {
 public:
  // Sends to the addresses in `committee`; `channel_options` carries TLS between
  // validators. `committee` and `loop` must outlive this. Loop thread only.
  RpcTransport(rpc::EventLoop& loop, const Committee& committee,
               rpc::ChannelOptions channel_options);
  void SendToPrimary(const PublicKey& to, std::string bytes) override;
  void SendToWorker(const PublicKey& to, uint32_t worker_id, std::string bytes) override;

 private:
  rpc::RpcChannel* ChannelTo(const std::string& address);

  rpc::EventLoop& loop_;
  const Committee& committee_;
  rpc::ChannelOptions options_;
  std::map<std::string, std::unique_ptr<rpc::RpcChannel>> channels_;
};

}  // namespace rustorium::chain
