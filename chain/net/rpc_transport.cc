#include "chain/net/rpc_transport.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>

#include "base/codec.h"
#include "chain/validator.h"
#include "region/rpc/identity.h"

namespace rustorium::chain {
namespace {

// The sender of a message as the committee knows it: under TLS the validator whose public key
// the peer's certificate carries; on plain TCP nobody in particular (claims are believed).
// Nullopt for a TLS peer that is no validator (the methods' roles keep those out anyway).
std::optional<MessageSource> SourceOf(const rpc::PeerIdentity& peer) {
  MessageSource source;
  if (peer.trusted) return source;
  if (peer.role != rpc::PeerRole::kValidator) return std::nullopt;
  std::string raw;
  if (!DecodeHex(peer.name, raw) || raw.size() != PublicKey{}.size()) return std::nullopt;
  PublicKey key{};
  std::copy(raw.begin(), raw.end(), key.begin());
  source.member = key;
  return source;
}

}  // namespace

void ServeValidator(rpc::RpcServer& server, uint32_t worker_id,
                    std::function<Validator*()> validator) {
  const rpc::RoleSet validators = rpc::Roles(rpc::PeerRole::kValidator);
  server.OnMessage(
      kPrimaryMethod,
      [validator](const rpc::Envelope& e, const rpc::PeerIdentity& peer) {
        Validator* v = validator();
        std::optional<MessageSource> from = SourceOf(peer);
        if (v != nullptr && from) v->OnPrimaryMessage(e.payload(), *from);
      },
      validators);
  server.OnMessage(
      kWorkerMethod,
      [validator](const rpc::Envelope& e, const rpc::PeerIdentity& peer) {
        Validator* v = validator();
        std::optional<MessageSource> from = SourceOf(peer);
        if (v != nullptr && from) {
          v->OnWorkerMessage(static_cast<uint32_t>(e.group_id()), e.payload(), *from);
        }
      },
      validators);
  // Sync requests: the answers go back in this call's answer, on the requester's own
  // (authenticated) connection, never to an address the request names.
  auto sync = [validator, worker_id](bool to_worker) {
    return rpc::RpcServer::PeerHandler(
        [validator, worker_id, to_worker](const rpc::Envelope& e, const rpc::PeerIdentity& peer,
                                          rpc::RpcServer::Responder respond) {
          Validator* v = validator();
          if (v == nullptr) return respond(Status::FailedPrecondition("starting"));
          std::optional<MessageSource> from = SourceOf(peer);
          if (!from) return respond(Status::PermissionDenied("not a committee member"));
          SyncAnswer answer;
          from->reply = [&answer](std::string message) { answer.Add(std::move(message)); };
          if (to_worker) {
            v->OnWorkerMessage(worker_id, e.payload(), *from);  // it checks the request's worker id
          } else {
            v->OnPrimaryMessage(e.payload(), *from);
          }
          respond(answer.bytes());
        });
  };
  server.Handle(kPrimarySyncMethod, sync(false), validators);
  server.Handle(kWorkerSyncMethod, sync(true), validators);
}

RpcTransport::AnswerSink AnswersTo(std::function<Validator*()> validator) {
  return [validator](bool to_worker, uint32_t worker_id, std::string_view bytes,
                     const MessageSource& from) {
    Validator* v = validator();
    if (v == nullptr) return;
    if (to_worker) {
      v->OnWorkerMessage(worker_id, bytes, from);
    } else {
      v->OnPrimaryMessage(bytes, from);
    }
  };
}

void SyncAnswer::Add(std::string message) {
  if (left_out_ > 0 || bytes_.size() + 4 + message.size() > kMaxSyncAnswerBytes) {
    ++left_out_;  // the rest too: answers stay in the order they were asked for
    return;
  }
  PutFixed32BE(bytes_, static_cast<uint32_t>(message.size()));
  bytes_ += message;
}

Result<std::vector<std::string_view>> DecodeSyncAnswer(std::string_view bytes) {
  std::vector<std::string_view> out;
  while (!bytes.empty()) {
    if (bytes.size() < 4) return Status::Corruption("sync answer: a truncated length");
    const uint32_t size = GetFixed32BE(bytes.substr(0, 4));
    bytes.remove_prefix(4);
    if (size > bytes.size()) return Status::Corruption("sync answer: a truncated message");
    out.push_back(bytes.substr(0, size));
    bytes.remove_prefix(size);
  }
  return out;
}

RpcTransport::RpcTransport(rpc::EventLoop& loop, const Committee& committee,
                           rpc::ChannelOptions channel_options, AnswerSink sink)
    : loop_(loop),
      committee_(committee),
      options_(std::move(channel_options)),
      sink_(std::move(sink)) {}

RpcTransport::~RpcTransport() { *alive_ = false; }

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

void RpcTransport::RequestFromPrimary(const PublicKey& to, std::string bytes) {
  const Authority* a = committee_.Find(to);
  if (a == nullptr || a->primary_address.empty()) return;
  Request(a->primary_address, false, 0, std::move(bytes));
}

void RpcTransport::RequestFromWorker(const PublicKey& to, uint32_t worker_id, std::string bytes) {
  const Authority* a = committee_.Find(to);
  if (a == nullptr || worker_id >= a->worker_addresses.size()) return;
  Request(a->worker_addresses[worker_id], true, worker_id, std::move(bytes));
}

void RpcTransport::Request(const std::string& address, bool to_worker, uint32_t worker_id,
                           std::string bytes) {
  rpc::RpcChannel* c = ChannelTo(address);
  if (c == nullptr) return;
  // The worker id travels inside the request (BatchesRequest::worker_id); the method says
  // which side answers.
  c->Call(to_worker ? kWorkerSyncMethod : kPrimarySyncMethod, std::move(bytes),
          std::chrono::milliseconds(kSyncTimeoutMs),
          [this, alive = alive_, address, to_worker, worker_id](Result<std::string> answer) {
            if (!*alive) return;
            if (!answer.ok()) {  // the retry timers ask again
              spdlog::debug("chain transport: sync request to {}: {}", address,
                            answer.status().ToString());
              return;
            }
            auto messages = DecodeSyncAnswer(*answer);
            if (!messages.ok()) {
              spdlog::warn("chain transport: sync answer from {}: {}", address,
                           messages.status().ToString());
              return;
            }
            MessageSource source;
            source.answer = true;
            for (std::string_view m : *messages) sink_(to_worker, worker_id, m, source);
          });
}

}  // namespace rustorium::chain
