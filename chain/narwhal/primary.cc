#include "chain/narwhal/primary.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace rustorium::chain {
namespace {

// Payload bytes a header counts per batch: digest and worker id.
constexpr size_t kPayloadEntryBytes = 36;
// Items parked at once; past this, new ones are dropped (their senders retry).
constexpr size_t kMaxWaiting = 100'000;

const Header& HeaderOf(const std::variant<Header, Certificate>& item) {
  return std::holds_alternative<Header>(item) ? std::get<Header>(item)
                                              : std::get<Certificate>(item).header;
}

Digest KeyOf(const std::variant<Header, Certificate>& item) {
  return std::holds_alternative<Header>(item) ? std::get<Header>(item).id
                                              : std::get<Certificate>(item).ComputeDigest();
}

}  // namespace

Primary::Primary(const Committee& committee, const KeyPair& key, const NarwhalParameters& params,
                 Env* env, Transport* transport, DagStore* store, Callbacks callbacks)
    : committee_(committee),
      key_(key),
      name_(key.public_key()),
      params_(params),
      env_(env),
      transport_(transport),
      store_(store),
      callbacks_(std::move(callbacks)) {
  for (const Authority& a : committee_.authorities()) {
    Certificate genesis = Certificate::Genesis(a.name);
    accepted_[genesis.ComputeDigest()] = {0, a.name};
    dag_[0][a.name] = std::move(genesis);
  }
}

Primary::~Primary() {
  if (!started_) return;
  env_->CancelTimer(tick_timer_);
  env_->CancelTimer(header_timer_);
}

Status Primary::Start(uint64_t gc_round) {
  gc_round_ = gc_round;
  ASSIGN_OR_RETURN(last_votes_, store_->LoadLastVotes());
  ASSIGN_OR_RETURN(std::vector<Certificate> certificates, store_->LoadCertificatesAbove(gc_round));
  if (gc_round > 0) {
    dag_.erase(0);
    for (auto it = accepted_.begin(); it != accepted_.end();) {
      it = it->second.first == 0 ? accepted_.erase(it) : std::next(it);
    }
  }
  for (Certificate& c : certificates) {
    const Digest digest = c.ComputeDigest();
    accepted_[digest] = {c.round(), c.origin()};
    stats_.highest_accepted_round = std::max(stats_.highest_accepted_round, c.round());
    auto& slot = dag_[c.round()][c.origin()];
    slot = std::move(c);
    callbacks_.on_certificate(slot);
  }
  ASSIGN_OR_RETURN(std::optional<Header> own, store_->LoadOwnHeader());
  started_ = true;
  tick_timer_ = env_->StartTimer(params_.retry_delay_ms, [this] { Tick(); });
  header_timer_ = env_->StartTimer(params_.max_header_delay_ms, [this] {
    header_delay_passed_ = true;
    TryPropose();
  });
  if (own && own->round > gc_round) {
    // Never a second header for a round: the one made before the crash goes out again.
    round_ = own->round;
    stats_.round = round_;
    own_header_ = std::move(own);
    auto it = dag_.find(round_);
    if (it != dag_.end() && it->second.count(name_)) own_certificate_ = it->second.at(name_);
    BroadcastOwnHeader(false);
    Admit(*own_header_, name_);
  } else if (own) {
    round_ = std::max(own->round, gc_round);
    stats_.round = round_;
  }
  TryPropose();
  return Status::OK();
}

size_t Primary::memory_items() const {
  return accepted_.size() + waiting_.size() + fetching_.size();
}

const Certificate* Primary::FindCertificate(const Digest& digest) const {
  auto it = accepted_.find(digest);
  if (it == accepted_.end()) return nullptr;
  return &dag_.at(it->second.first).at(it->second.second);
}

void Primary::OnMessage(std::string_view bytes, const MessageSource& from) {
  auto message = DecodeMessage(bytes);
  if (!message.ok()) {
    ++stats_.dropped_messages;
    return;
  }
  std::visit(
      [this, &from](auto&& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, Header>) {
          const PublicKey source = m.author;
          OnHeader(std::move(m), source);
        } else if constexpr (std::is_same_v<T, chain::Vote>) {
          OnVote(m);
        } else if constexpr (std::is_same_v<T, Certificate>) {
          const PublicKey source = m.origin();
          OnCertificate(std::move(m), source);
        } else if constexpr (std::is_same_v<T, CertificatesRequest>) {
          OnCertificatesRequest(m, from);
        } else {
          ++stats_.dropped_messages;  // a worker's message sent to a primary
        }
      },
      std::move(message).value());
}

std::string Primary::CheckHeader(const Header& h) const {
  const Authority* author = committee_.Find(h.author);
  if (author == nullptr) return "author outside the committee";
  if (h.round == 0) return "round 0 is genesis";
  if (h.round <= gc_round_) return "round at or below the GC bound";
  if (h.round > stats_.highest_accepted_round + params_.max_rounds_ahead)
    return "round too far ahead";
  if (h.payload.size() > params_.max_header_batches) return "too many batches";
  if (h.parents.empty() || h.parents.size() > committee_.size()) return "wrong number of parents";
  for (const PayloadEntry& p : h.payload) {
    if (p.worker_id >= author->workers) return "payload from a worker the author does not have";
  }
  if (!std::is_sorted(h.payload.begin(), h.payload.end()) ||
      std::adjacent_find(h.payload.begin(), h.payload.end()) != h.payload.end() ||
      !std::is_sorted(h.parents.begin(), h.parents.end()) ||
      std::adjacent_find(h.parents.begin(), h.parents.end()) != h.parents.end()) {
    return "payload or parents not sorted and unique";
  }
  if (h.ComputeId() != h.id) return "id does not match the contents";
  if (!VerifySignature(h.author, h.id, h.signature)) return "bad author signature";
  return {};
}

std::string Primary::CheckVotes(const Certificate& c) const {
  uint64_t stake = 0;
  const Digest signed_digest = Vote::VoteDigest(c.header.id);
  for (size_t i = 0; i < c.votes.size(); ++i) {
    const auto& [voter, signature] = c.votes[i];
    if (i > 0 && !(c.votes[i - 1].first < voter)) return "votes not sorted or a voter twice";
    const uint64_t voter_stake = committee_.Stake(voter);
    if (voter_stake == 0) return "vote from outside the committee";
    if (!VerifySignature(voter, signed_digest, signature)) return "bad vote signature";
    stake += voter_stake;
  }
  if (stake < committee_.QuorumThreshold()) return "votes below the quorum";
  return {};
}

void Primary::OnHeader(Header header, const PublicKey& source) {
  if (std::string why = CheckHeader(header); !why.empty()) {
    ++stats_.rejected_headers;
    spdlog::debug("primary {}: header {} round {} rejected: {}", ShortHex(name_),
                  ShortHex(header.id), header.round, why);
    return;
  }
  Admit(std::move(header), source);
}

void Primary::OnCertificate(Certificate certificate, const PublicKey& source) {
  const Digest digest = certificate.ComputeDigest();
  if (accepted_.count(digest) || waiting_.count(digest)) return;  // a duplicate
  std::string why = CheckHeader(certificate.header);
  if (why.empty()) why = CheckVotes(certificate);
  if (why.empty()) {
    auto round = dag_.find(certificate.round());
    if (round != dag_.end() && round->second.count(certificate.origin())) {
      why = "a second certificate for the author's round";  // needs f + 1 double voters
    }
  }
  if (!why.empty()) {
    ++stats_.rejected_certificates;
    spdlog::debug("primary {}: certificate {} round {} rejected: {}", ShortHex(name_),
                  ShortHex(digest), certificate.round(), why);
    return;
  }
  const uint64_t now = env_->NowMs();
  if (certificate.round() > stats_.highest_accepted_round + 1 && source != name_ &&
      (last_catch_up_ms_ == 0 || now - last_catch_up_ms_ >= params_.retry_delay_ms)) {
    // A gap: ask the sender for everything above what we hold.
    last_catch_up_ms_ = now;
    SendTo(source,
           CertificatesRequest{name_, {}, std::max(stats_.highest_accepted_round, gc_round_) + 1});
  }
  Admit(std::move(certificate), source);
}

void Primary::FindMissing(const Header& header, Waiting& waiting) const {
  if (header.round - 1 > gc_round_ || header.round == 1) {
    for (const Digest& parent : header.parents) {
      if (!accepted_.count(parent)) waiting.missing_certificates.insert(parent);
    }
  }
  for (const PayloadEntry& p : header.payload) {
    if (!store_->HasBatch(p.batch)) waiting.missing_batches.insert(p.batch);
  }
}

void Primary::Admit(Item item, const PublicKey& source) {
  const Digest key = KeyOf(item);
  if (waiting_.count(key)) return;
  Waiting waiting{std::move(item), source, {}, {}};
  const Header& header = HeaderOf(waiting.item);
  if (callbacks_.on_header_verified) {
    callbacks_.on_header_verified(header, std::holds_alternative<Certificate>(waiting.item));
  }
  FindMissing(header, waiting);
  if (waiting.missing_certificates.empty() && waiting.missing_batches.empty()) {
    Run(std::move(waiting.item));
    return;
  }
  if (waiting_.size() >= kMaxWaiting) return;
  // Batches: our worker with the entry's id asks the author's worker with the same id.
  std::map<uint32_t, std::vector<Digest>> batches_by_worker;
  for (const PayloadEntry& p : header.payload) {
    if (waiting.missing_batches.count(p.batch)) batches_by_worker[p.worker_id].push_back(p.batch);
  }
  for (auto& [worker_id, digests] : batches_by_worker) {
    callbacks_.fetch_batches(worker_id, digests, header.author);
  }
  CertificatesRequest request{name_, {}, 0};
  for (const Digest& parent : waiting.missing_certificates) {
    waiting_on_certificate_[parent].insert(key);
    if (!fetching_.count(parent)) {
      fetching_[parent] = Fetch{env_->NowMs(), header.round - 1};
      request.digests.push_back(parent);
    }
  }
  for (const Digest& batch : waiting.missing_batches) waiting_on_batch_[batch].insert(key);
  if (!request.digests.empty() && source != name_) SendTo(source, request);
  waiting_.emplace(key, std::move(waiting));
}

void Primary::Wake(const Digest& digest, bool is_batch) {
  auto& index = is_batch ? waiting_on_batch_ : waiting_on_certificate_;
  auto found = index.find(digest);
  if (found == index.end()) return;
  const std::set<Digest> keys = std::move(found->second);
  index.erase(found);
  for (const Digest& key : keys) {
    auto it = waiting_.find(key);
    if (it == waiting_.end()) continue;  // ran already, or collected
    (is_batch ? it->second.missing_batches : it->second.missing_certificates).erase(digest);
    if (it->second.missing_batches.empty() && it->second.missing_certificates.empty()) {
      Item item = std::move(it->second.item);
      waiting_.erase(it);
      Run(std::move(item));
    }
  }
}

bool Primary::ParentsValid(const Header& header) const {
  if (header.round - 1 <= gc_round_ && header.round > 1) return true;  // parents forgotten
  uint64_t stake = 0;
  for (const Digest& parent : header.parents) {
    auto it = accepted_.find(parent);
    if (it == accepted_.end() || it->second.first != header.round - 1) return false;
    stake += committee_.Stake(it->second.second);
  }
  return stake >= committee_.QuorumThreshold();
}

void Primary::Run(Item item) {
  const Header& header = HeaderOf(item);
  if (header.round <= gc_round_) return;
  if (!ParentsValid(header)) {
    if (std::holds_alternative<Header>(item)) {
      ++stats_.rejected_headers;
    } else {
      ++stats_.rejected_certificates;
    }
    spdlog::debug(
        "primary {}: round {} from {}: parents are not 2f + 1 certificates of the round before",
        ShortHex(name_), header.round, ShortHex(header.author));
    return;
  }
  if (std::holds_alternative<Header>(item)) {
    Vote(header);
  } else {
    const Certificate& certificate = std::get<Certificate>(item);
    if (accepted_.count(certificate.ComputeDigest())) return;
    if (auto round = dag_.find(header.round);
        round != dag_.end() && round->second.count(header.author)) {
      ++stats_.rejected_certificates;  // a second certificate for (author, round): never both
      spdlog::warn("primary {}: two certificates for {} round {}", ShortHex(name_),
                   ShortHex(header.author), header.round);
      return;
    }
    Accept(certificate);
  }
}

void Primary::Vote(const Header& header) {
  auto last = last_votes_.find(header.author);
  if (last != last_votes_.end()) {
    if (header.round < last->second.round ||
        (header.round == last->second.round && header.id != last->second.header_id)) {
      ++stats_.refused_votes;
      spdlog::debug("primary {}: no vote for header {} of {} round {}: voted {} round {}",
                    ShortHex(name_), ShortHex(header.id), ShortHex(header.author), header.round,
                    ShortHex(last->second.header_id), last->second.round);
      return;
    }
  }
  if (last == last_votes_.end() || header.round > last->second.round) {
    const LastVote vote{header.round, header.id};
    if (Status s = store_->PutLastVote(header.author, vote); !s.ok()) {
      spdlog::error("primary {}: cannot store a vote: {}", ShortHex(name_), s.ToString());
      return;  // a vote not durable is not sent
    }
    last_votes_[header.author] = vote;
  }
  const chain::Vote vote = Vote::Make(key_, header);
  ++stats_.votes_sent;
  if (header.author == name_) {
    OnVote(vote);
  } else {
    SendTo(header.author, vote);
  }
}

void Primary::OnVote(const chain::Vote& vote) {
  if (!own_header_ || vote.header_id != own_header_->id || own_certificate_) return;  // stale
  const uint64_t stake = committee_.Stake(vote.author);
  if (stake == 0 || vote.origin != name_ || own_votes_.count(vote.author)) return;
  if (!VerifySignature(vote.author, Vote::VoteDigest(vote.header_id), vote.signature)) {
    ++stats_.dropped_messages;
    return;
  }
  own_votes_[vote.author] = vote.signature;
  own_votes_stake_ += stake;
  if (own_votes_stake_ < committee_.QuorumThreshold()) return;
  Certificate certificate;
  certificate.header = *own_header_;
  certificate.votes.assign(own_votes_.begin(), own_votes_.end());
  // Stored before anybody sees it: after a crash the reloaded DAG holds it, so the header is
  // never certified a second time with other votes (two certificates for one round), and a
  // header found uncertified after a restart was certified nowhere (see Propose).
  if (Status s = store_->PutCertificate(certificate); !s.ok()) {
    spdlog::error("primary {}: cannot store our certificate of round {}: {}", ShortHex(name_),
                  certificate.round(), s.ToString());
    return;
  }
  own_certificate_ = certificate;
  ++stats_.certificates_formed;
  if (!certificate.header.payload.empty())
    uncommitted_own_[certificate.round()] = certificate.header.payload;
  Broadcast(certificate);
  if (!accepted_.count(certificate.ComputeDigest())) Accept(certificate);
}

void Primary::Accept(const Certificate& certificate) {
  const Digest digest = certificate.ComputeDigest();
  if (Status s = store_->PutCertificate(certificate); !s.ok()) {
    spdlog::error("primary {}: cannot store certificate {}: {}", ShortHex(name_), ShortHex(digest),
                  s.ToString());
    return;  // not accepted; a later copy or fetch tries again
  }
  accepted_[digest] = {certificate.round(), certificate.origin()};
  auto& slot = dag_[certificate.round()][certificate.origin()];
  slot = certificate;
  fetching_.erase(digest);
  ++stats_.certificates_accepted;
  stats_.highest_accepted_round = std::max(stats_.highest_accepted_round, certificate.round());
  const uint64_t round = certificate.round();
  callbacks_.on_certificate(slot);
  Wake(digest, false);
  if (round >= round_) TryPropose();
}

void Primary::OnOwnBatch(const PayloadEntry& entry) {
  payload_.push_back(entry);
  TryPropose();
}

void Primary::OnBatchStored(const Digest& digest) { Wake(digest, true); }

uint64_t Primary::StakeOf(const std::map<PublicKey, Certificate>& certificates) const {
  uint64_t stake = 0;
  for (const auto& [author, c] : certificates) stake += committee_.Stake(author);
  return stake;
}

void Primary::TryPropose() {
  if (!started_) return;
  // The highest round at or above ours with 2f + 1 certificates: a validator that fell
  // behind (restarted, partitioned) joins the others' round instead of walking up to it.
  auto it = dag_.end();
  for (auto r = dag_.rbegin(); r != dag_.rend() && r->first >= round_; ++r) {
    if (StakeOf(r->second) >= committee_.QuorumThreshold()) {
      it = std::prev(r.base());
      break;
    }
  }
  if (it == dag_.end()) return;
  const uint64_t r = it->first;
  bool anchor_allows = true;
  if (r > 0 && r % 2 == 0) {
    anchor_allows = it->second.count(committee_.Leader(r)) > 0;
  } else if (r > 0) {
    std::optional<Digest> anchor;
    if (auto prev = dag_.find(r - 1); prev != dag_.end()) {
      if (auto a = prev->second.find(committee_.Leader(r - 1)); a != prev->second.end()) {
        anchor = a->second.ComputeDigest();
      }
    }
    uint64_t support = 0, against = 0;
    for (const auto& [author, c] : it->second) {
      const bool refers =
          anchor && std::binary_search(c.header.parents.begin(), c.header.parents.end(), *anchor);
      (refers ? support : against) += committee_.Stake(author);
    }
    anchor_allows =
        support >= committee_.ValidityThreshold() || against >= committee_.QuorumThreshold();
  }
  const bool payload_full = payload_.size() * kPayloadEntryBytes >= params_.header_size;
  if (header_delay_passed_ || (anchor_allows && payload_full)) Propose(r);
}

void Primary::Propose(uint64_t r) {
  std::vector<Digest> parents;
  for (const auto& [author, c] : dag_.at(r)) parents.push_back(c.ComputeDigest());
  // Our header of an earlier round that was never certified (the others moved on without it)
  // can no longer be: its votes are dropped below and a certificate is stored before it is
  // sent. Its batches go first into this one, or their transactions would never commit.
  std::vector<PayloadEntry> pending;
  if (own_header_ && !own_certificate_) pending = own_header_->payload;
  pending.insert(pending.end(), payload_.begin(), payload_.end());
  const size_t take = std::min(pending.size(), params_.max_header_batches);
  std::vector<PayloadEntry> payload(pending.begin(),
                                    pending.begin() + static_cast<std::ptrdiff_t>(take));
  Header header = Header::Make(key_, r + 1, std::move(payload), std::move(parents));
  if (Status s = store_->PutOwnHeader(header); !s.ok()) {
    spdlog::error("primary {}: cannot store header of round {}: {}", ShortHex(name_), r + 1,
                  s.ToString());
    return;  // tried again at the next event
  }
  stats_.batches_carried_over += own_header_ && !own_certificate_ ? own_header_->payload.size() : 0;
  payload_.assign(pending.begin() + static_cast<std::ptrdiff_t>(take), pending.end());
  round_ = r + 1;
  stats_.round = round_;
  ++stats_.headers_proposed;
  own_header_ = std::move(header);
  own_votes_.clear();
  own_votes_stake_ = 0;
  own_certificate_.reset();
  env_->CancelTimer(header_timer_);
  header_delay_passed_ = false;
  header_timer_ = env_->StartTimer(params_.max_header_delay_ms, [this] {
    header_delay_passed_ = true;
    TryPropose();
  });
  BroadcastOwnHeader(false);
  if (callbacks_.on_proposed) callbacks_.on_proposed(*own_header_);
  Admit(*own_header_, name_);
}

void Primary::BroadcastOwnHeader(bool only_missing_votes) {
  const std::string bytes = EncodeMessage(*own_header_);
  for (const Authority& a : committee_.authorities()) {
    if (a.name == name_ || (only_missing_votes && own_votes_.count(a.name))) continue;
    transport_->SendToPrimary(a.name, bytes);
  }
}

void Primary::OnCertificatesRequest(const CertificatesRequest& request, const MessageSource& from) {
  if (!committee_.Contains(request.requester) || request.requester == name_ || from.answer ||
      !from.reply) {
    ++stats_.dropped_messages;  // no way back to the requester: never to the named one
    return;
  }
  if (from.member.has_value() && *from.member != request.requester) {
    ++stats_.refused_identity;
    return;
  }
  for (const Digest& digest : request.digests) {
    if (const Certificate* c = FindCertificate(digest); c != nullptr && c->round() > 0) {
      from.reply(EncodeMessage(*c));
    }
  }
  if (request.from_round == 0) return;
  for (auto it = dag_.lower_bound(request.from_round);
       it != dag_.end() && it->first < request.from_round + kCatchUpRounds; ++it) {
    for (const auto& [author, c] : it->second) from.reply(EncodeMessage(c));
  }
}

void Primary::Tick() {
  tick_timer_ = env_->StartTimer(params_.retry_delay_ms, [this] { Tick(); });
  if (own_header_ && !own_certificate_) {
    BroadcastOwnHeader(true);
  } else if (own_certificate_ && own_certificate_->round() == round_) {
    Broadcast(*own_certificate_);  // until the next round starts, in case copies were lost
  }
  CertificatesRequest request{name_, {}, 0};
  const uint64_t now = env_->NowMs();
  for (const auto& [digest, fetch] : fetching_) {
    if (now - fetch.since_ms >= params_.retry_delay_ms) request.digests.push_back(digest);
    if (request.digests.size() == kMaxListLength) break;
  }
  if (request.digests.empty()) return;
  const std::string bytes = EncodeMessage(request);
  for (const Authority& a : committee_.authorities()) {
    if (a.name != name_) transport_->RequestFromPrimary(a.name, bytes);
  }
}

void Primary::OnCommitted(const Certificate& certificate) {
  if (certificate.origin() == name_) uncommitted_own_.erase(certificate.round());
}

std::vector<Digest> Primary::GarbageCollect(uint64_t gc_round) {
  std::vector<Digest> batches;
  if (gc_round <= gc_round_) return batches;
  gc_round_ = gc_round;
  // Our certificates below the bound that consensus did not commit never will be (no later
  // certificate can link them now, and every validator collects the same rounds): their
  // batches go into our next header, ahead of newer ones.
  std::vector<PayloadEntry> again;
  while (!uncommitted_own_.empty() && uncommitted_own_.begin()->first <= gc_round) {
    auto& payload = uncommitted_own_.begin()->second;
    again.insert(again.end(), payload.begin(), payload.end());
    uncommitted_own_.erase(uncommitted_own_.begin());
  }
  if (!again.empty()) {
    stats_.batches_carried_over += again.size();
    payload_.insert(payload_.begin(), again.begin(), again.end());
  }
  while (!dag_.empty() && dag_.begin()->first <= gc_round) {
    for (const auto& [author, c] : dag_.begin()->second) {
      accepted_.erase(c.ComputeDigest());
      for (const PayloadEntry& p : c.header.payload) batches.push_back(p.batch);
    }
    dag_.erase(dag_.begin());
  }
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    if (HeaderOf(it->second.item).round <= gc_round) {
      for (const PayloadEntry& p : HeaderOf(it->second.item).payload) batches.push_back(p.batch);
      it = waiting_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto it = fetching_.begin(); it != fetching_.end();) {
    it = it->second.round <= gc_round ? fetching_.erase(it) : std::next(it);
  }
  auto prune = [this](std::map<Digest, std::set<Digest>>& index) {
    for (auto it = index.begin(); it != index.end();) {
      for (auto k = it->second.begin(); k != it->second.end();) {
        k = waiting_.count(*k) ? std::next(k) : it->second.erase(k);
      }
      it = it->second.empty() ? index.erase(it) : std::next(it);
    }
  };
  prune(waiting_on_certificate_);
  prune(waiting_on_batch_);
  // A batch proposed again (by us or by its author: see Propose) is referenced by a newer
  // header too: batches still to be proposed, or named by a certificate or header we still
  // hold, stay stored.
  if (batches.empty()) return batches;
  std::set<Digest> live;
  auto keep = [&live](const std::vector<PayloadEntry>& payload) {
    for (const PayloadEntry& p : payload) live.insert(p.batch);
  };
  keep(payload_);
  if (own_header_) keep(own_header_->payload);
  for (const auto& [round, certificates] : dag_) {
    for (const auto& [author, c] : certificates) keep(c.header.payload);
  }
  for (const auto& [digest, w] : waiting_) keep(HeaderOf(w.item).payload);
  std::erase_if(batches, [&](const Digest& d) { return live.count(d) > 0; });
  return batches;
}

void Primary::Broadcast(const Message& message) {
  const std::string bytes = EncodeMessage(message);
  for (const Authority& a : committee_.authorities()) {
    if (a.name != name_) transport_->SendToPrimary(a.name, bytes);
  }
}

void Primary::SendTo(const PublicKey& to, const Message& message) {
  if (std::holds_alternative<CertificatesRequest>(message)) {
    transport_->RequestFromPrimary(to, EncodeMessage(message));  // answered on its connection
  } else {
    transport_->SendToPrimary(to, EncodeMessage(message));
  }
}

}  // namespace rustorium::chain
