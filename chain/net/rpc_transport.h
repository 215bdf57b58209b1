// Transport over region/rpc: one channel per peer address, one-way messages "chain.primary"
// and "chain.worker" (the worker id in the envelope's group_id), the canonical message bytes
// as payload. Sync requests are REQUESTs, "chain.primary.sync" and "chain.worker.sync", whose
// answer carries every answering message (EncodeSyncAnswer), so they travel back on the
// requester's own connection and never to an address a request names.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "chain/narwhal/committee.h"
#include "chain/narwhal/env.h"
#include "region/rpc/channel.h"
#include "region/rpc/event_loop.h"
#include "region/rpc/server.h"

namespace rustorium::chain {

inline constexpr char kPrimaryMethod[] = "chain.primary";
inline constexpr char kWorkerMethod[] = "chain.worker";
inline constexpr char kPrimarySyncMethod[] = "chain.primary.sync";
inline constexpr char kWorkerSyncMethod[] = "chain.worker.sync";

// An answer to a sync request holds at most this many bytes of messages (below the RPC frame
// limit); what does not fit is left out, and the requester asks again on its next retry.
inline constexpr size_t kMaxSyncAnswerBytes = 8 << 20;
// How long a sync request waits for its answer.
inline constexpr uint64_t kSyncTimeoutMs = 5'000;

// The messages of a sync answer: each as a 4-byte big-endian length and the bytes. Messages
// past kMaxSyncAnswerBytes are left out.
class SyncAnswer {
 public:
  void Add(std::string message);
  const std::string& bytes() const { return bytes_; }
  size_t left_out() const { return left_out_; }

 private:
  std::string bytes_;
  size_t left_out_ = 0;
};
// The messages of an answer; Corruption when it does not split into whole messages.
Result<std::vector<std::string_view>> DecodeSyncAnswer(std::string_view bytes);

class RpcTransport : public Transport {
 public:
  // Where the answers to our sync requests go (to this validator's primary, or its worker
  // `worker_id`), on the loop thread, with MessageSource::answer set.
  using AnswerSink = std::function<void(bool to_worker, uint32_t worker_id, std::string_view bytes,
                                        const MessageSource& from)>;
  // Sends to the addresses in `committee`; `channel_options` carries TLS between
  // validators. `committee` and `loop` must outlive this. Loop thread only.
  RpcTransport(rpc::EventLoop& loop, const Committee& committee,
               rpc::ChannelOptions channel_options, AnswerSink sink);
  ~RpcTransport() override;
  void SendToPrimary(const PublicKey& to, std::string bytes) override;
  void SendToWorker(const PublicKey& to, uint32_t worker_id, std::string bytes) override;
  void RequestFromPrimary(const PublicKey& to, std::string bytes) override;
  void RequestFromWorker(const PublicKey& to, uint32_t worker_id, std::string bytes) override;

 private:
  rpc::RpcChannel* ChannelTo(const std::string& address);
  void Request(const std::string& address, bool to_worker, uint32_t worker_id, std::string bytes);

  rpc::EventLoop& loop_;
  const Committee& committee_;
  rpc::ChannelOptions options_;
  AnswerSink sink_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  std::map<std::string, std::unique_ptr<rpc::RpcChannel>> channels_;
};

class Validator;

// Registers the validator-to-validator methods on `server` (a validator's primary server, or
// its worker `worker_id`'s), for the validator `validator()` returns (null while starting:
// messages are dropped). Under TLS only validator certificates reach them, and each message
// carries the sender's certificate identity (MessageSource::member); on plain TCP nobody is
// authenticated. Sync requests are answered in their call's answer (SyncAnswer). Call
// before server.Start().
void ServeValidator(rpc::RpcServer& server, uint32_t worker_id,
                    std::function<Validator*()> validator);
// The AnswerSink that hands sync answers to `validator()`.
RpcTransport::AnswerSink AnswersTo(std::function<Validator*()> validator);

}  // namespace rustorium::chain
