#include "region/client.h"

#include <spdlog/spdlog.h>

#include <cstdlib>
#include <random>
#include <thread>
#include <type_traits>

#include "base/codec.h"
#include "base/quote.h"
#include "region/store/command_limits.h"
#include "region/store/root_statement.h"

namespace rustorium::client {

namespace {

bool InRegion(const meta::Region& r, const std::string& key) {
  return key >= r.start_key() && (r.end_key().empty() || key < r.end_key());
}

// Whether a transport error is worth another attempt (the server may simply be away).
bool Retryable(const Status& s) { return pd::PdRetryable(s); }

// A random nonzero write-session id: two clients drawing the same one would take each other's
// writes for retries.
uint64_t NewClientId() {
  std::random_device rd;
  for (;;) {
    const uint64_t id = (static_cast<uint64_t>(rd()) << 32) | rd();
    if (id != 0) return id;
  }
}

}  // namespace

Client::Client(ClientOptions options) : options_(std::move(options)), client_id_(NewClientId()) {}

uint64_t Client::BeginWrite(store::Command& command) {
  if (!options_.write_sessions) return 0;
  std::lock_guard<std::mutex> lock(session_mu_);
  const uint64_t seq = next_seq_++;
  unanswered_.insert(seq);
  store::WriteSession* s = command.mutable_session();
  s->set_client_id(client_id_);
  s->set_seq(seq);
  s->set_floor(*unanswered_.begin());
  return seq;
}

void Client::EndWrite(uint64_t seq) {
  if (seq == 0) return;
  std::lock_guard<std::mutex> lock(session_mu_);
  unanswered_.erase(seq);
}

Client::~Client() {
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    stopping_ = true;
  }
  queue_cv_.notify_all();
  for (std::thread& t : workers_) t.join();  // queued calls run to the end first
  std::lock_guard<std::mutex> lock(mu_);
  channels_.clear();  // off the loop thread, before the loop goes
}

void Client::Enqueue(std::function<void()> task) {
  std::lock_guard<std::mutex> lock(queue_mu_);
  if (workers_.empty()) {
    for (int i = 0; i < std::max(1, options_.async_threads); ++i) {
      workers_.emplace_back([this] {
        for (;;) {
          std::function<void()> next;
          {
            std::unique_lock<std::mutex> lock(queue_mu_);
            queue_cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (queue_.empty()) return;
            next = std::move(queue_.front());
            queue_.pop_front();
          }
          next();
        }
      });
    }
  }
  queue_.push_back(std::move(task));
  queue_cv_.notify_one();
}

void Client::GetAsync(std::string key, std::function<void(Result<ReadResult>)> done) {
  Enqueue([this, key = std::move(key), done = std::move(done)] { done(Get(key)); });
}

void Client::PutAsync(std::string key, std::string value,
                      std::function<void(Result<WriteResult>)> done) {
  Enqueue([this, key = std::move(key), value = std::move(value), done = std::move(done)] {
    done(Put(key, value));
  });
}

void Client::DeleteAsync(std::string key, std::function<void(Result<WriteResult>)> done) {
  Enqueue([this, key = std::move(key), done = std::move(done)] { done(Delete(key)); });
}

Result<pd::GetRegionsResponse> Client::Regions() { return pd_->GetRegions(); }

Result<kv::StoreStatsResponse> Client::StoreStats(const std::string& address) {
  ASSIGN_OR_RETURN(std::string bytes,
                   CallStore(address, "store.Stats", kv::StoreStatsRequest().SerializeAsString()));
  kv::StoreStatsResponse out;
  if (!out.ParseFromString(bytes)) return Status::Corruption("malformed store.Stats answer");
  return out;
}

Result<std::vector<meta::Region>> Client::SplitRegion(const std::string& key) {
  if (std::string why = store::CheckKey(key, store::kHardCommandLimits); !why.empty())
    return Status::InvalidArgument("split key: " + why);
  pd::AllocIdRequest alloc;
  alloc.set_count(1);
  ASSIGN_OR_RETURN(pd::AllocIdResponse id, pd_->AllocId(alloc));
  kv::SplitRequest req;
  req.set_split_key(key);
  req.set_new_region_id(id.first_id());
  // Sent again after an unknown outcome, a split that was applied meets a newer epoch, and
  // then the key starts its region: done. So it is retried as a read is.
  ASSIGN_OR_RETURN(auto got, RegionCall<kv::SplitResponse>(key, "store.Split", true, req));
  auto& [resp, region] = got;
  Forget(region.id());
  if (!resp.error().empty()) return Status::InvalidArgument(resp.error());
  if (resp.regions_size() == 0) return Status::Corruption("store.Split answered no region");
  return std::vector<meta::Region>(resp.regions().begin(), resp.regions().end());
}

Result<Client::RegionOrigin> Client::VerifyOrigin(const meta::Region& region) {
  if (region.origin_statement().empty()) {
    return Status::NotFound("region " + std::to_string(region.id()) +
                            " was made by no split or merge");
  }
  RegionOrigin origin;
  if (Result<store::SplitFacts> split = store::ParseSplitStatement(region.origin_statement());
      split.ok()) {
    origin.split = *split;
  } else {
    ASSIGN_OR_RETURN(origin.merge, store::ParseMergeStatement(region.origin_statement()));
  }
  ASSIGN_OR_RETURN(std::string key, PublicKey(region.origin_signer()));
  if (!store::VerifySignature(key, region.origin_statement(), region.origin_signature())) {
    return Status::Corruption("the origin statement of region " + std::to_string(region.id()) +
                              " does not verify with store " +
                              std::to_string(region.origin_signer()) + "'s key");
  }
  const bool names =
      origin.split ? region.id() == origin.split->left_id || region.id() == origin.split->right_id
                   : region.id() == origin.merge->target_id;
  if (!names) {
    return Status::Corruption("the origin statement of region " + std::to_string(region.id()) +
                              " names other regions");
  }
  return origin;
}

namespace {

// The address of `store_id`'s replica of `region` (empty when it has none).
std::string PeerAddress(const meta::Region& region, uint64_t store_id) {
  for (const meta::Peer& p : region.peers()) {
    if (p.store_id() == store_id) return p.address();
  }
  return "";
}

}  // namespace

Result<meta::Region> Client::MergeRegions(uint64_t region_id) {
  std::optional<meta::Region> source;  // as first found: its range tells a merge that is done
  Status last = Status::Busy("no attempt");
  for (int attempt = 0; attempt < 40; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(250));
    ASSIGN_OR_RETURN(pd::GetRegionsResponse regions, pd_->GetRegions());
    const meta::Region* target = nullptr;
    const meta::Region* right = nullptr;
    uint64_t target_leader = 0, right_leader = 0;
    for (int i = 0; i < regions.regions_size(); ++i) {
      if (regions.regions(i).id() == region_id) {
        target = &regions.regions(i);
        if (i < regions.leader_store_ids_size()) target_leader = regions.leader_store_ids(i);
      }
    }
    if (target == nullptr) return Status::NotFound("no region " + std::to_string(region_id));
    const bool covers_source =
        source && target->start_key() <= source->start_key() &&
        (target->end_key().empty() ||
         (!source->end_key().empty() && target->end_key() >= source->end_key()));
    if (covers_source) return *target;  // it covers its neighbour's range: merged
    for (int i = 0; i < regions.regions_size(); ++i) {
      if (!target->end_key().empty() && regions.regions(i).start_key() == target->end_key()) {
        right = &regions.regions(i);
        if (i < regions.leader_store_ids_size()) right_leader = regions.leader_store_ids(i);
      }
    }
    if (right == nullptr) {
      if (target->end_key().empty())
        return Status::InvalidArgument("region " + std::to_string(region_id) +
                                       " is the last: it has no right neighbour");
      last = Status::Busy("PD knows no region after region " + std::to_string(region_id));
      continue;
    }
    if (!source || source->id() != right->id()) source = *right;
    if (target_leader == 0 || right_leader == 0) {
      last = Status::Busy("PD knows no leader of the regions yet");
      continue;
    }
    if (target_leader != right_leader) {
      // One store must lead both: the target's leadership goes to the neighbour's leader.
      kv::TransferLeaderRequest move;
      move.set_region_id(target->id());
      *move.mutable_epoch() = target->epoch();
      move.set_to_store_id(right_leader);
      Result<std::string> got = CallStore(PeerAddress(*target, target_leader),
                                          "store.TransferLeader", move.SerializeAsString());
      kv::TransferLeaderResponse moved;
      if (!got.ok() || !moved.ParseFromString(*got)) {
        last =
            got.ok() ? Status::Corruption("malformed store.TransferLeader answer") : got.status();
        continue;
      }
      if (!moved.error().empty()) return Status::FailedPrecondition(moved.error());
      if (moved.leader_store_id() != right_leader) {
        last = Status::Busy("the leadership of region " + std::to_string(region_id) +
                            " did not move yet");
        continue;
      }
    }
    kv::MergeRequest req;
    req.set_region_id(target->id());
    *req.mutable_epoch() = target->epoch();
    req.set_source_region_id(right->id());
    Result<std::string> got =
        CallStore(PeerAddress(*right, right_leader), "store.Merge", req.SerializeAsString());
    if (!got.ok()) {
      last = got.status();  // sent again, the store resumes the prepared merge
      continue;
    }
    kv::MergeResponse resp;
    if (!resp.ParseFromString(*got)) return Status::Corruption("malformed store.Merge answer");
    if (resp.has_region_error()) {
      last = Status::Busy(resp.region_error().message());
      continue;  // PD's view catches up (leaders, epochs)
    }
    if (!resp.error().empty()) return Status::FailedPrecondition(resp.error());
    Forget(target->id());
    Forget(right->id());
    return resp.region();
  }
  return last;
}

Result<std::unique_ptr<Client>> Client::Connect(ClientOptions options) {
  std::unique_ptr<Client> client(new Client(std::move(options)));
  pd::PdClientOptions pd;
  pd.members = client->options_.pd;
  pd.channel = client->options_.channel;
  pd.timeout = client->options_.timeout;
  ASSIGN_OR_RETURN(client->pd_, pd::PdClient::Create(client->loop_, std::move(pd)));
  return client;
}

Result<rpc::RpcChannel*> Client::Channel(const std::string& address) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& c = channels_[address];
  if (!c) {
    ASSIGN_OR_RETURN(rpc::HostPort hp, rpc::ParseAddress(address));
    c = std::make_unique<rpc::RpcChannel>(loop_, hp.host, hp.port, options_.channel);
  }
  return c.get();
}

Result<std::string> Client::CallStore(const std::string& address, const std::string& method,
                                      const std::string& payload) {
  ASSIGN_OR_RETURN(rpc::RpcChannel * channel, Channel(address));
  return channel->CallSync(method, payload, options_.timeout);
}

Result<Client::CachedRegion> Client::Locate(const std::string& key) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [id, c] : regions_) {
      if (InRegion(c.region, key)) return c;
    }
  }
  pd::GetRegionRequest req;
  req.set_key(key);
  // One pass over the PD members; the operation's retry loop (RegionCall) decides about more.
  ASSIGN_OR_RETURN(pd::GetRegionResponse resp, pd_->GetRegion(req));
  if (!resp.found())
    return Status::Busy("the cluster is not bootstrapped yet (fewer stores than replicas?)");
  CachedRegion c{resp.region(), resp.leader_store_id()};
  std::lock_guard<std::mutex> lock(mu_);
  regions_[c.region.id()] = c;
  return c;
}

void Client::Forget(uint64_t region_id) {
  std::lock_guard<std::mutex> lock(mu_);
  regions_.erase(region_id);
}

Result<pd::GetStoresResponse> Client::Stores() {
  ASSIGN_OR_RETURN(pd::GetStoresResponse resp, pd_->GetStores());
  std::lock_guard<std::mutex> lock(mu_);
  for (const pd::StoreInfo& s : resp.stores()) stores_[s.id()] = s;
  return resp;
}

Result<std::string> Client::PublicKey(uint64_t store_id) {
  for (int pass = 0; pass < 2; ++pass) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = stores_.find(store_id);
      if (it != stores_.end()) return it->second.public_key();
    }
    if (pass == 0) RETURN_IF_ERROR(Stores().status());
  }
  return Status::Corruption("store " + std::to_string(store_id) +
                            " is unknown to PD: its signature cannot be trusted");
}

Result<VerifiedRoot> Client::CheckRoot(const kv::SignedRoot& root, const meta::Region& region,
                                       bool write) {
  VerifiedRoot out;
  out.region_id = root.region_id();
  out.applied_index = root.applied_index();
  out.store_id = root.store_id();
  ASSIGN_OR_RETURN(out.root, store::RootFromBytes(root.root()));
  if (!options_.verify) return out;
  if (root.region_id() != region.id())
    return Status::Corruption("the signed root names another region");
  ASSIGN_OR_RETURN(std::string key, PublicKey(root.store_id()));
  const std::string statement =
      store::RootStatement(root.region_id(), root.epoch().conf_ver(), root.epoch().version(),
                           root.applied_index(), out.root);
  std::string seen = key;
  PutFixed64BE(seen, statement.size());
  seen += statement;
  seen += root.signature();
  bool known;
  {
    std::lock_guard<std::mutex> lock(mu_);
    known = verified_roots_.count(seen) != 0;
  }
  if (!known) {
    signatures_verified_++;
    if (!store::VerifySignature(key, statement, root.signature())) {
      return Status::Corruption("the root's signature does not verify with store " +
                                std::to_string(root.store_id()) + "'s key");
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (verified_roots_.insert(seen).second) {
      verified_order_.push_back(seen);
      if (verified_order_.size() > kVerifiedRoots) {
        verified_roots_.erase(verified_order_.front());
        verified_order_.pop_front();
      }
    }
  }
  RETURN_IF_ERROR(CheckSignerHeldReplica(root, region, write));
  out.verified = true;
  return out;
}

Status Client::CheckSignerHeldReplica(const kv::SignedRoot& root, const meta::Region& asked,
                                      bool write) {
  auto holds = [&root](const meta::Region& r) {
    for (const meta::Peer& p : r.peers()) {
      if (p.store_id() == root.store_id()) return true;
    }
    return false;
  };
  auto same_epoch = [&root](const meta::Region& r) {
    return r.epoch().conf_ver() == root.epoch().conf_ver() &&
           r.epoch().version() == root.epoch().version();
  };
  // The replicas change only with conf_ver: a write's root signed after a split (a newer
  // version, the same conf_ver) has the replicas the request named.
  const bool newer_version = write && asked.epoch().conf_ver() == root.epoch().conf_ver() &&
                             asked.epoch().version() < root.epoch().version();
  const meta::Region* at = same_epoch(asked) || newer_version ? &asked : nullptr;
  pd::GetRegionResponse current;
  if (at == nullptr) {
    // Answered at another epoch than asked: learn that epoch's replicas from PD.
    pd::GetRegionRequest req;
    req.set_key(asked.start_key());
    Result<pd::GetRegionResponse> r = pd_->GetRegion(req);
    if (r.ok() && r->found() && r->region().id() == asked.id() && same_epoch(r->region())) {
      current = std::move(*r);
      at = &current.region();
    }
  }
  const std::string epoch =
      std::to_string(root.epoch().conf_ver()) + "." + std::to_string(root.epoch().version());
  if (at == nullptr) {
    return Status::Corruption("store " + std::to_string(root.store_id()) + " signed region " +
                              std::to_string(root.region_id()) + " at epoch " + epoch +
                              ", which neither the request nor PD knows");
  }
  if (!holds(*at)) {
    return Status::Corruption("store " + std::to_string(root.store_id()) +
                              " signed a root of region " + std::to_string(root.region_id()) +
                              " without holding a replica of it at epoch " + epoch);
  }
  return Status::OK();
}

namespace {

Status CheckProof(const proof::Fr& root, const std::string& key,
                  const std::optional<std::string>& value, const std::string& proof_bytes) {
  Result<proof::SmtProof> decoded = proof::SmtProof::DecodeBinary(proof_bytes);
  if (!decoded.ok())
    return Status::Corruption("the proof of " + QuoteInput(key) +
                              " does not decode: " + decoded.status().message());
  const proof::SmtProof& p = *decoded;
  std::optional<proof::Fr> v;
  if (value) v = store::TreeValue(*value);
  Status s = proof::VerifyProof(root, store::TreeKey(key), v, p);
  if (!s.ok())
    return Status::Corruption("the proof of " + QuoteInput(key) +
                              " does not verify: " + s.message());
  return Status::OK();
}

}  // namespace

template <typename Response, typename Request>
Result<std::pair<Response, meta::Region>> Client::RegionCall(const std::string& key,
                                                             const std::string& method,
                                                             bool idempotent, Request& request) {
  Status last = Status::TimedOut("no attempt");
  bool outcome_unknown = false;  // an attempt of a write may have been applied
  auto backoff = options_.backoff_initial;
  std::size_t peer_turn = 0;
  const auto give_up = std::chrono::steady_clock::now() + options_.deadline;
  for (int attempt = 0;
       attempt < options_.max_attempts && std::chrono::steady_clock::now() < give_up; ++attempt) {
    if (attempt > 0) {
      std::this_thread::sleep_for(backoff);
      backoff = std::min(backoff * 2, options_.backoff_max);
    }
    Result<CachedRegion> c = Locate(key);
    if (!c.ok()) {
      last = c.status();
      if (!Retryable(last)) return last;
      continue;
    }
    // The leader when known, else the peers in turn.
    uint64_t target = c->leader;
    if (target == 0 && c->region.peers_size() > 0) {
      target = c->region
                   .peers(static_cast<int>(peer_turn++ %
                                           static_cast<std::size_t>(c->region.peers_size())))
                   .store_id();
    }
    std::string address;
    for (const meta::Peer& p : c->region.peers()) {
      if (p.store_id() == target) address = p.address();
    }
    if (address.empty()) {
      Forget(c->region.id());
      last =
          Status::NotFound("region " + std::to_string(c->region.id()) + " has no reachable peer");
      continue;
    }
    request.set_region_id(c->region.id());
    *request.mutable_epoch() = c->region.epoch();
    Result<std::string> bytes = CallStore(address, method, request.SerializeAsString());
    if (!bytes.ok()) {
      last = bytes.status();
      // A write that reached the store and got no answer may have been applied (or may be
      // applied later). With a write session it is sent again as a retry, which the region
      // applies at most once; without, sending it again could apply it twice, so the caller
      // hears that its outcome is unknown. A refused connection ("not sent") or a region error
      // is a sure no.
      const bool maybe_applied = last.code() == StatusCode::kTimedOut ||
                                 last.code() == StatusCode::kIOError ||
                                 last.code() == StatusCode::kAborted;
      if (!idempotent && maybe_applied) {
        bool retry_safe = false;
        if constexpr (std::is_same_v<Request, kv::WriteRequest>) {
          retry_safe = request.command().has_session();
          if (retry_safe) request.mutable_command()->mutable_session()->set_retry(true);
        }
        if (!retry_safe) {
          return Status::TimedOut(method + " for key " + QuoteInput(key) +
                                  ": outcome unknown: " + last.message());
        }
        outcome_unknown = true;
      } else if (!Retryable(last)) {
        return outcome_unknown ? Status::TimedOut(method + " for key " + QuoteInput(key) +
                                                  ": outcome unknown: " + last.message())
                               : last;
      }
      std::lock_guard<std::mutex> lock(mu_);
      auto it = regions_.find(c->region.id());
      if (it != regions_.end()) it->second.leader = 0;  // try the others
      continue;
    }
    Response resp;
    if (!resp.ParseFromString(*bytes)) return Status::Corruption(method + " answer does not parse");
    if (!resp.has_region_error()) return std::make_pair(std::move(resp), c->region);
    const meta::RegionError& e = resp.region_error();
    last = Status::Busy(e.message());
    spdlog::debug("{} region {} at store {} ({}): {} (hint {})", method, c->region.id(), target,
                  address, e.message(), e.has_not_leader() ? e.not_leader().leader_store_id() : 0);
    if (e.has_not_leader()) {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = regions_.find(c->region.id());
      if (it != regions_.end()) it->second.leader = e.not_leader().leader_store_id();
      if (e.not_leader().leader_store_id() != 0)
        backoff = options_.backoff_initial;  // a hint: go at once
    } else if (e.has_server_busy()) {
      // back off and retry
    } else {
      // EpochNotMatch, KeyNotInRegion, RegionNotFound: the cache is stale. PD is asked again
      // (not the store's list of its regions: a store is not trusted to say who holds a range),
      // and hears of a split from the leader's next heartbeat.
      Forget(c->region.id());
    }
  }
  if (outcome_unknown) {
    return Status::TimedOut(method + " for key " + QuoteInput(key) +
                            ": outcome unknown, retries gave up: " + last.message());
  }
  // Every attempt surely failed; for a write, TimedOut would wrongly say "maybe applied".
  StatusCode code = last.code() == StatusCode::kOk ? StatusCode::kTimedOut : last.code();
  if (!idempotent && code == StatusCode::kTimedOut) code = StatusCode::kBusy;
  return Status(code, method + " for key " + QuoteInput(key) + " gave up: " + last.message());
}

Result<ReadResult> Client::Get(const std::string& key) {
  // A key no write can hold is not looked for either.
  if (std::string why = store::CheckKey(key, store::kHardCommandLimits); !why.empty()) {
    return Status::InvalidArgument(why);
  }
  kv::GetRequest req;
  req.set_key(key);
  req.set_skip_proofs(!options_.verify);  // nobody would check them
  ASSIGN_OR_RETURN(auto got, RegionCall<kv::GetResponse>(key, "kv.Get", true, req));
  auto& [resp, region] = got;
  ReadResult out;
  ASSIGN_OR_RETURN(out.root, CheckRoot(resp.root(), region));
  if (resp.kv().key() != key) return Status::Corruption("the store answered for another key");
  if (resp.kv().found()) out.value = resp.kv().value();
  out.proof = resp.kv().proof();
  if (options_.verify) RETURN_IF_ERROR(CheckProof(out.root.root, key, out.value, out.proof));
  return out;
}

Result<WriteResult> Client::Write(const std::string& key, store::Command command) {
  // What no store accepts is refused here, before anything is sent (the store checks its own,
  // possibly lower, limits again).
  if (std::string why =
          store::CheckCommand(command, command.ByteSizeLong(), store::kHardCommandLimits);
      !why.empty()) {
    return Status::InvalidArgument(why);
  }
  kv::WriteRequest req;
  *req.mutable_command() = std::move(command);
  req.set_skip_proofs(!options_.verify);
  const uint64_t seq = BeginWrite(*req.mutable_command());
  Result<std::pair<kv::WriteResponse, meta::Region>> got =
      RegionCall<kv::WriteResponse>(key, "kv.Write", false, req);
  EndWrite(seq);
  if (!got.ok()) return got.status();
  auto& [resp, region] = *got;
  WriteResult out;
  out.result = resp.result();
  if (out.result.session_refused()) {
    return Status::TimedOut("kv.Write for key " + QuoteInput(key) +
                            ": outcome unknown: " + out.result.error());
  }
  if (!out.result.error().empty()) return Status::InvalidArgument(out.result.error());
  ASSIGN_OR_RETURN(out.root, CheckRoot(resp.root(), region, /*write=*/true));
  // A replayed answer is the stored result of the write's first application, signed at that
  // application's root; it carries no proofs (that tree version may be pruned).
  if (out.result.replayed()) {
    if (resp.proofs_size() != 0) return Status::Corruption("a replayed write came with proofs");
    return out;
  }
  // What each key must now hold, from the command itself.
  std::map<std::string, std::optional<std::string>> expect;
  const store::Command& c = req.command();
  if (c.has_write()) {
    for (const store::Mutation& m : c.write().mutations()) {
      expect[m.key()] = m.op() == store::Mutation::PUT ? std::optional(m.value()) : std::nullopt;
    }
  } else if (out.result.cas_succeeded()) {
    const store::Mutation& m = c.cas().set();
    expect[m.key()] = m.op() == store::Mutation::PUT ? std::optional(m.value()) : std::nullopt;
  } else {
    // A failed swap changed nothing: the key holds what it held.
    expect[c.cas().key()] =
        out.result.cas_found() ? std::optional(out.result.cas_previous()) : std::nullopt;
  }
  for (const kv::KvProof& kv : resp.proofs()) {
    auto it = expect.find(kv.key());
    if (it == expect.end())
      return Status::Corruption("the store proved a key that was not written");
    if (options_.verify)
      RETURN_IF_ERROR(CheckProof(out.root.root, kv.key(), it->second, kv.proof()));
    kv::KvProof p = kv;
    p.set_found(it->second.has_value());
    if (it->second) p.set_value(*it->second);
    out.proofs.push_back(std::move(p));
  }
  if (options_.verify && out.proofs.size() != expect.size())
    return Status::Corruption("a written key came without its proof");
  return out;
}

namespace {

// Sets `m` to put `value` at `key`, or to delete `key` when `value` is nullopt.
void SetMutation(store::Mutation* m, const std::string& key,
                 const std::optional<std::string>& value) {
  m->set_key(key);
  m->set_op(value ? store::Mutation::PUT : store::Mutation::DELETE);
  if (value) m->set_value(*value);
}

}  // namespace

Result<WriteResult> Client::Put(const std::string& key, const std::string& value) {
  store::Command c;
  SetMutation(c.mutable_write()->add_mutations(), key, value);
  return Write(key, std::move(c));
}

Result<WriteResult> Client::Delete(const std::string& key) {
  store::Command c;
  SetMutation(c.mutable_write()->add_mutations(), key, std::nullopt);
  return Write(key, std::move(c));
}

Result<WriteResult> Client::CompareAndSwap(const std::string& key,
                                           const std::optional<std::string>& expected,
                                           const std::optional<std::string>& next) {
  store::Command c;
  store::CompareAndSwap* cas = c.mutable_cas();
  cas->set_key(key);
  cas->set_expect_exists(expected.has_value());
  if (expected) cas->set_expected(*expected);
  SetMutation(cas->mutable_set(), key, next);
  return Write(key, std::move(c));
}

Result<ScanResult> Client::Scan(const std::string& start, const std::string& end, uint32_t limit) {
  if (limit == 0) return Status::InvalidArgument("a scan's limit must be at least 1");
  ScanResult out;
  // One key more than asked shows whether more remain; it is not returned.
  const std::size_t wanted = static_cast<std::size_t>(limit) + 1;
  std::string from = start;
  while (out.items.size() < wanted) {
    kv::ScanRequest req;
    req.set_start_key(from);
    req.set_end_key(end);
    req.set_limit(static_cast<uint32_t>(std::min<std::size_t>(wanted - out.items.size(), 10000)));
    ASSIGN_OR_RETURN(auto got, RegionCall<kv::ScanResponse>(from, "kv.Scan", true, req));
    auto& [resp, region] = got;
    ASSIGN_OR_RETURN(VerifiedRoot root, CheckRoot(resp.root(), region));
    const std::size_t root_index = out.roots.size();
    out.roots.push_back(root);
    for (const kv::KvProof& kv : resp.kvs()) {
      if (kv.key() < from || (!end.empty() && kv.key() >= end) || !InRegion(region, kv.key()) ||
          (!out.items.empty() && kv.key() <= out.items.back().key)) {
        return Status::Corruption("the scan answered a key outside what was asked");
      }
      if (options_.verify) RETURN_IF_ERROR(CheckProof(root.root, kv.key(), kv.value(), kv.proof()));
      out.items.push_back({kv.key(), kv.value(), kv.proof(), root_index});
    }
    if (resp.kvs_size() == 0) out.roots.pop_back();  // nothing is proven at it
    if (resp.more()) {
      if (resp.next_key() <= from) return Status::Corruption("a scan page did not advance");
      from = resp.next_key();
      continue;
    }
    // This region is done: go on in the next one, unless the range ends here.
    if (region.end_key().empty() || (!end.empty() && region.end_key() >= end)) break;
    from = region.end_key();
  }
  if (out.items.size() > limit) {
    out.items.resize(limit);
    out.more = true;
    out.next_key = out.items.back().key + '\0';
    // Drop a root that only the extra key used.
    if (!out.roots.empty() && out.items.back().root + 1 < out.roots.size()) out.roots.pop_back();
  }
  return out;
}

}  // namespace rustorium::client
