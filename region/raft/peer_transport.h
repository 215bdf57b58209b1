// PeerTransport: the multi-raft backend's messages to and from peer stores.
//
// Every group's messages to one peer store share one RpcChannel. The messages queued during a
// loop turn go out at its end (Flush) as RaftBatch frames of bounded size, sent as the one-way
// "raft.Batch" message: best effort, as Raft expects of its transport (it retries). Incoming
// batches are decoded and each message handed to a deliver callback. What cannot be used
// (a malformed batch, a message for another server id, one the callback refuses, one for a
// peer address that does not parse) is dropped and counted. Under TLS a batch is taken only
// from a certificate of `peer_role` whose id is the batch's from_id; any other is refused
// whole (counted in messages_refused): a client certificate, or a node claiming another's id.
//
// Not thread-safe: every method runs on the loop thread, except construction and destruction.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "region/raft/multi_raft_stats.h"
#include "region/raft/raft.pb.h"
#include "region/rpc/channel_options.h"
#include "region/rpc/identity.h"

namespace rustorium::rpc {
class EventLoop;
class RpcChannel;
class RpcServer;
}  // namespace rustorium::rpc

namespace rustorium::raft {

struct PeerTransportOptions {
  uint64_t store_id = 0;  // our Raft server id: the sender of every batch, the addressee of
                          // every message we take
  std::string address;    // our Raft address, as peers dial it
  rpc::ChannelOptions channel;
  // A peer's messages of one turn go in batches of at most this many bytes (a larger message
  // goes alone in its batch).
  std::size_t max_batch_bytes = 4 << 20;
  rpc::PeerRole peer_role = rpc::PeerRole::kStore;  // the role of every sender's certificate
};

class PeerTransport {
 public:
  // Takes one received message (on the loop thread); false when it was dropped (counted in
  // messages_dropped). `from_address` lives only for the call.
  using DeliverFn = std::function<bool(const RaftMessage& message, uint64_t from_id,
                                       const std::string& from_address)>;

  // `loop` and `stats` are not owned and must outlive this. Counts messages_sent,
  // batches_sent, messages_received and messages_dropped. Construct off the loop thread or on
  // it.
  PeerTransport(rpc::EventLoop& loop, PeerTransportOptions options, MultiRaftStats* stats);
  // Closes every channel (failing their calls in flight with Aborted); off the loop thread, as
  // RpcChannel requires.
  ~PeerTransport();
  PeerTransport(const PeerTransport&) = delete;
  PeerTransport& operator=(const PeerTransport&) = delete;

  // Registers the "raft.Batch" handler on `server` (before it starts; the server must be
  // destroyed before this). Each message addressed to our store id goes to `deliver`.
  void RegisterHandler(rpc::RpcServer& server, DeliverFn deliver);

  // Queues `message` for the peer at `address` ("host:port"); it goes out at the next Flush. An
  // AppendEntries over max_batch_bytes is queued as consecutive valid parts
  // (SplitAppendEntries).
  void Queue(const std::string& address, RaftMessage message);
  // Sends what was queued since the last Flush: per peer, as few frames as max_batch_bytes
  // allows. Call at the end of the loop turn.
  void Flush();
  // The channel to `address`, made on first use and kept for the life of this (also for the
  // snapshot chunks); nullptr when the address does not parse. Owned by this.
  rpc::RpcChannel* ChannelTo(const std::string& address);

 private:
  void OnBatch(const std::string& payload, const rpc::PeerIdentity& peer);

  rpc::EventLoop& loop_;
  PeerTransportOptions options_;
  MultiRaftStats* stats_;
  DeliverFn deliver_;
  // Per peer address, this turn's messages in batches, and the bytes of the last batch.
  struct Outgoing {
    std::vector<RaftBatch> batches;
    std::size_t last_bytes = 0;
  };
  std::map<std::string, Outgoing> outgoing_;
  std::map<std::string, std::unique_ptr<rpc::RpcChannel>> channels_;
};

}  // namespace rustorium::raft
