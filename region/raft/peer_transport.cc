#include "region/raft/peer_transport.h"

#include <algorithm>

#include "region/raft/message_codec.h"
#include "region/rpc/channel.h"
#include "region/rpc/server.h"

namespace rustorium::raft {

namespace {
constexpr char kBatchMethod[] = "raft.Batch";
}  // namespace

PeerTransport::PeerTransport(rpc::EventLoop& loop, PeerTransportOptions options,
                             MultiRaftStats* stats)
    : loop_(loop), options_(std::move(options)), stats_(stats) {}

PeerTransport::~PeerTransport() { channels_.clear(); }

void PeerTransport::RegisterHandler(rpc::RpcServer& server, DeliverFn deliver) {
  deliver_ = std::move(deliver);
  server.OnMessage(
      kBatchMethod,
      [this](const rpc::Envelope& e, const rpc::PeerIdentity& peer) { OnBatch(e.payload(), peer); },
      rpc::Roles(options_.peer_role));
}

void PeerTransport::Queue(const std::string& address, RaftMessage message) {
  Outgoing& out = outgoing_[address];
  // A lagging follower's AppendEntries can hold more than a frame: split, never dropped.
  for (RaftMessage& part : SplitAppendEntries(std::move(message), options_.max_batch_bytes)) {
    const std::size_t size = part.ByteSizeLong();
    if (out.batches.empty() ||
        (out.last_bytes > 0 && out.last_bytes + size > options_.max_batch_bytes)) {
      RaftBatch& batch = out.batches.emplace_back();
      batch.set_from_id(options_.store_id);
      batch.set_from_address(options_.address);
      out.last_bytes = 0;
    }
    out.last_bytes += size;
    out.batches.back().add_messages()->Swap(&part);
  }
}

rpc::RpcChannel* PeerTransport::ChannelTo(const std::string& address) {
  auto it = channels_.find(address);
  if (it != channels_.end()) return it->second.get();
  Result<rpc::HostPort> hp = rpc::ParseAddress(address);
  if (!hp.ok()) return nullptr;
  auto channel = std::make_unique<rpc::RpcChannel>(loop_, hp->host, hp->port, options_.channel);
  rpc::RpcChannel* raw = channel.get();
  channels_.emplace(address, std::move(channel));
  return raw;
}

void PeerTransport::Flush() {
  for (auto& [address, out] : outgoing_) {
    rpc::RpcChannel* channel = ChannelTo(address);
    for (const RaftBatch& batch : out.batches) {
      const auto n = static_cast<uint64_t>(batch.messages_size());
      if (channel == nullptr) {
        stats_->messages_dropped += n;
        continue;
      }
      channel->Send(kBatchMethod, batch.SerializeAsString());
      stats_->messages_sent += n;
      stats_->batches_sent++;
    }
  }
  outgoing_.clear();
}

void PeerTransport::OnBatch(const std::string& payload, const rpc::PeerIdentity& peer) {
  RaftBatch batch;
  if (!batch.ParseFromString(payload) || batch.from_id() == 0) {
    stats_->messages_dropped++;
    return;
  }
  if (!peer.Is(options_.peer_role, batch.from_id())) {
    const auto n = static_cast<uint64_t>(std::max(batch.messages_size(), 1));
    stats_->messages_received += n;
    stats_->messages_dropped += n;
    stats_->messages_refused += n;
    return;
  }
  for (const RaftMessage& m : batch.messages()) {
    stats_->messages_received++;
    if (m.to_id() != options_.store_id || !deliver_ ||
        !deliver_(m, batch.from_id(), batch.from_address())) {
      stats_->messages_dropped++;
    }
  }
}

}  // namespace rustorium::raft
