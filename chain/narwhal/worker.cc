#include "chain/narwhal/worker.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace rustorium::chain {

Worker::Worker(const Committee& committee, const PublicKey& name, uint32_t id,
               const NarwhalParameters& params, Env* env, Transport* transport, DagStore* store,
               Callbacks callbacks)
    : committee_(committee),
      name_(name),
      id_(id),
      params_(params),
      env_(env),
      transport_(transport),
      store_(store),
      callbacks_(std::move(callbacks)) {
  tick_timer_ = env_->StartTimer(params_.retry_delay_ms, [this] { Tick(); });
}

Worker::~Worker() {
  env_->CancelTimer(tick_timer_);
  if (seal_timer_armed_) env_->CancelTimer(seal_timer_);
}

Status Worker::SubmitTransaction(std::string transaction) {
  if (transaction.empty()) return Status::InvalidArgument("empty transaction");
  if (transaction.size() > kMaxTransactionSize) {
    return Status::InvalidArgument("transaction of " + std::to_string(transaction.size()) +
                                   " bytes is over the limit of " +
                                   std::to_string(kMaxTransactionSize));
  }
  if (spreading_.size() >= params_.max_pending_batches) {
    ++stats_.refused_busy;
    return Status::Busy("worker " + std::to_string(id_) +
                        " is overloaded: " + std::to_string(spreading_.size()) +
                        " batches wait for acknowledgements from a quorum");
  }
  ++stats_.transactions;
  current_bytes_ += transaction.size();
  current_.transactions.push_back(std::move(transaction));
  if (current_bytes_ >= params_.batch_size ||
      current_.transactions.size() >= kMaxBatchTransactions) {
    Seal();
  } else if (!seal_timer_armed_) {
    seal_timer_armed_ = true;
    seal_timer_ = env_->StartTimer(params_.max_batch_delay_ms, [this] {
      seal_timer_armed_ = false;
      Seal();
    });
  }
  return Status::OK();
}

void Worker::Seal() {
  if (seal_timer_armed_) {
    env_->CancelTimer(seal_timer_);
    seal_timer_armed_ = false;
  }
  if (current_.transactions.empty()) return;
  Batch batch = std::move(current_);
  current_ = Batch{};
  current_bytes_ = 0;
  const Digest digest = batch.ComputeDigest();
  if (Status s = store_->PutBatch(digest, batch); !s.ok()) {
    // Without the batch stored we cannot vouch for it; its transactions are lost like those
    // of a crashed worker, and clients resubmit.
    spdlog::error("worker {}: cannot store batch {}: {}", id_, ShortHex(digest), s.ToString());
    return;
  }
  ++stats_.batches_sealed;
  Spreading& spreading = spreading_[digest];
  spreading.acks.insert(name_);
  spreading.stake = committee_.Stake(name_);
  const BatchMessage message{name_, id_, batch};
  spreading.batch = std::move(batch);
  const std::string bytes = EncodeMessage(message);
  for (const Authority& a : committee_.authorities()) {
    if (a.name != name_) transport_->SendToWorker(a.name, id_, bytes);
  }
  if (spreading.stake >= committee_.QuorumThreshold()) {  // a committee of one
    spreading_.erase(digest);
    ++stats_.batches_reported;
    callbacks_.on_batch_ready(PayloadEntry{digest, id_});
  }
}

void Worker::OnMessage(std::string_view bytes, const MessageSource& from) {
  auto message = DecodeMessage(bytes);
  if (!message.ok()) {
    ++stats_.dropped_messages;
    return;
  }
  std::visit(
      [this, &from](auto&& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, BatchMessage>) {
          OnBatch(std::move(m), from);
        } else if constexpr (std::is_same_v<T, BatchAck>) {
          OnAck(m, from);
        } else if constexpr (std::is_same_v<T, BatchesRequest>) {
          OnRequest(m, from);
        } else if constexpr (std::is_same_v<T, TransactionMessage>) {
          if (!SubmitTransaction(std::move(m.transaction)).ok()) ++stats_.dropped_messages;
        } else {
          ++stats_.dropped_messages;  // a primary's message sent to a worker
        }
      },
      std::move(message).value());
}

void Worker::OnBatch(BatchMessage message, const MessageSource& from) {
  if (message.worker_id != id_ || !committee_.Contains(message.origin)) {
    ++stats_.dropped_messages;
    return;
  }
  if (!from.answer && from.member.has_value() && *from.member != message.origin) {
    ++stats_.refused_identity;  // a member speaking for another
    return;
  }
  const Digest digest = message.batch.ComputeDigest();
  // An answer is a batch we asked for by digest (who sent it does not matter, its content
  // does): anything else on the way back is dropped.
  if (from.answer && !fetching_.count(digest)) {
    ++stats_.dropped_messages;
    return;
  }
  if (!store_->HasBatch(digest)) {
    // A header we saw asked for it (fetching), or none names it yet: then it goes after
    // orphan_batch_age_ms unless a certificate names it, and counts against its origin's
    // quota of unnamed bytes until then.
    const bool unnamed = !fetching_.count(digest);
    const size_t bytes = ChargedBytes(message.batch);
    if (unnamed) {
      const size_t held = unnamed_bytes_[message.origin];
      if (held + bytes > params_.max_unnamed_batch_bytes) {
        ++stats_.refused_unnamed_quota;  // no acknowledgement: an honest author resends later
        return;
      }
    }
    if (Status s = store_->PutBatch(digest, message.batch); !s.ok()) {
      spdlog::error("worker {}: cannot store batch {}: {}", id_, ShortHex(digest), s.ToString());
      return;  // no acknowledgement: the author will resend
    }
    if (unnamed) AddUnnamed(digest, message.origin, bytes);
  }
  if (!from.answer && message.origin != name_) SendTo(message.origin, BatchAck{digest, name_});
  fetching_.erase(digest);
  callbacks_.on_batch_stored(digest);
}

size_t Worker::ChargedBytes(const Batch& batch) {
  size_t bytes = kBatchOverhead;
  for (const std::string& tx : batch.transactions) bytes += tx.size() + kTransactionOverhead;
  return bytes;
}

size_t Worker::MaxChargedBytes(size_t batch_size) {
  return kBatchOverhead + batch_size + kMaxTransactionSize +
         kTransactionOverhead * std::min(std::max<size_t>(batch_size, 1), kMaxBatchTransactions);
}

void Worker::AddUnnamed(const Digest& digest, std::optional<PublicKey> origin, size_t bytes) {
  auto [it, added] = unnamed_.try_emplace(digest);
  if (!added) return;
  it->second.by_age = by_age_.emplace(env_->NowMs(), digest);
  it->second.bytes = bytes;
  if (origin) unnamed_bytes_[*origin] += bytes;
  it->second.origin = std::move(origin);
}

void Worker::RestoreUnnamed(const std::vector<Digest>& digests) {
  for (const Digest& digest : digests) AddUnnamed(digest, std::nullopt, 0);
}

void Worker::OnBatchesNamed(const std::vector<Digest>& digests, bool certified) {
  const uint64_t now = env_->NowMs();
  for (const Digest& digest : digests) {
    auto it = unnamed_.find(digest);
    if (it == unnamed_.end()) continue;
    if (certified) {
      ForgetUnnamed(it);
    } else {
      by_age_.erase(it->second.by_age);
      it->second.by_age = by_age_.emplace(now, digest);
    }
  }
}

void Worker::ForgetUnnamed(std::map<Digest, Unnamed>::iterator it) {
  if (it->second.origin) {
    auto held = unnamed_bytes_.find(*it->second.origin);
    if (held != unnamed_bytes_.end()) {
      held->second -= std::min(held->second, it->second.bytes);
      if (held->second == 0) unnamed_bytes_.erase(held);
    }
  }
  by_age_.erase(it->second.by_age);
  unnamed_.erase(it);
}

void Worker::CollectOrphans() {
  const uint64_t now = env_->NowMs();
  std::vector<Digest> old;
  for (auto it = by_age_.begin();
       it != by_age_.end() && now - it->first >= params_.orphan_batch_age_ms; ++it) {
    old.push_back(it->second);
  }
  if (old.empty()) return;
  if (Status s = store_->DeleteBatches(old); !s.ok()) {
    spdlog::warn("worker {}: cannot delete {} orphan batches (retried): {}", id_, old.size(),
                 s.ToString());
    return;
  }
  for (const Digest& digest : old) ForgetUnnamed(unnamed_.find(digest));
  stats_.orphan_batches_collected += old.size();
}

void Worker::OnAck(const BatchAck& ack, const MessageSource& from) {
  if (from.answer) {
    ++stats_.dropped_messages;  // nobody asked for it
    return;
  }
  if (from.member.has_value() && *from.member != ack.author) {
    ++stats_.refused_identity;  // an acknowledgement in another member's name
    return;
  }
  auto it = spreading_.find(ack.batch);
  if (it == spreading_.end()) return;  // already reported, or not ours
  const uint64_t stake = committee_.Stake(ack.author);
  if (stake == 0) {
    ++stats_.dropped_messages;
    return;
  }
  if (!it->second.acks.insert(ack.author).second) return;  // duplicate
  it->second.stake += stake;
  if (it->second.stake >= committee_.QuorumThreshold()) {
    const PayloadEntry entry{ack.batch, id_};
    spreading_.erase(it);
    ++stats_.batches_reported;
    callbacks_.on_batch_ready(entry);
  }
}

void Worker::OnRequest(const BatchesRequest& request, const MessageSource& from) {
  if (request.worker_id != id_ || !committee_.Contains(request.requester) || from.answer ||
      !from.reply) {
    ++stats_.dropped_messages;  // no way back to the requester: never to the named one
    return;
  }
  if (from.member.has_value() && *from.member != request.requester) {
    ++stats_.refused_identity;
    return;
  }
  for (const Digest& digest : request.digests) {
    auto batch = store_->GetBatch(digest);
    // The author field says who sealed it; a fetched copy answers for ourselves.
    if (batch.ok()) from.reply(EncodeMessage(BatchMessage{name_, id_, std::move(batch).value()}));
  }
}

void Worker::Synchronize(const std::vector<Digest>& digests, const PublicKey& author) {
  BatchesRequest request{name_, id_, {}};
  for (const Digest& digest : digests) {
    if (fetching_.count(digest) || store_->HasBatch(digest)) continue;
    fetching_[digest] = Fetch{env_->NowMs()};
    request.digests.push_back(digest);
  }
  if (!request.digests.empty() && author != name_) {
    transport_->RequestFromWorker(author, id_, EncodeMessage(request));
  }
}

void Worker::CancelSynchronize(const std::vector<Digest>& digests) {
  for (const Digest& digest : digests) fetching_.erase(digest);
}

void Worker::Tick() {
  tick_timer_ = env_->StartTimer(params_.retry_delay_ms, [this] { Tick(); });
  CollectOrphans();
  // Batches not yet held by a quorum go again to those that have not acknowledged them.
  for (const auto& [digest, spreading] : spreading_) {
    const std::string bytes = EncodeMessage(BatchMessage{name_, id_, spreading.batch});
    for (const Authority& a : committee_.authorities()) {
      if (!spreading.acks.count(a.name)) transport_->SendToWorker(a.name, id_, bytes);
    }
  }
  // Fetches the author has not answered go to everybody else.
  BatchesRequest request{name_, id_, {}};
  const uint64_t now = env_->NowMs();
  for (const auto& [digest, fetch] : fetching_) {
    if (now - fetch.since_ms >= params_.retry_delay_ms) request.digests.push_back(digest);
    if (request.digests.size() == kMaxListLength) break;
  }
  if (request.digests.empty()) return;
  const std::string bytes = EncodeMessage(request);
  for (const Authority& a : committee_.authorities()) {
    if (a.name != name_) transport_->RequestFromWorker(a.name, id_, bytes);
  }
}

void Worker::SendTo(const PublicKey& to, const Message& message) {
  transport_->SendToWorker(to, id_, EncodeMessage(message));
}

}  // namespace rustorium::chain
