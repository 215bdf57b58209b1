#include "region/store/store.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <fstream>
#include <set>

#include "base/fault_point.h"
#include "base/quote.h"
#include "region/rpc/event_loop.h"

namespace rustorium::store {

namespace {

bool Overlap(const meta::Region& a, const meta::Region& b) {
  const bool a_before_b = !a.end_key().empty() && a.end_key() <= b.start_key();
  const bool b_before_a = !b.end_key().empty() && b.end_key() <= a.start_key();
  return !a_before_b && !b_before_a;
}

}  // namespace

Store::Store(engine::Engine* engine, raft::MultiRaft& raft, const StoreKey& key,
             StoreServiceOptions options)
    : engine_(engine),
      raft_(raft),
      key_(key),
      options_(options),
      index_cache_(options.index_cache_bytes) {}

void Store::RegisterHandlers(rpc::RpcServer& server) {
  // Under TLS only client and admin certificates reach the kv service (docs/operations.md).
  const rpc::RoleSet users = rpc::PeerRole::kClient | rpc::PeerRole::kAdmin;
  server.Handle(
      "kv.Get",
      [this](const rpc::Envelope& e, rpc::RpcServer::Responder r) { Get(e, std::move(r)); }, users);
  server.Handle(
      "kv.Write",
      [this](const rpc::Envelope& e, rpc::RpcServer::Responder r) { Write(e, std::move(r)); },
      users);
  server.Handle(
      "kv.Scan",
      [this](const rpc::Envelope& e, rpc::RpcServer::Responder r) { Scan(e, std::move(r)); },
      users);
  server.Handle(
      "store.Stats",
      [this](const rpc::Envelope& e, rpc::RpcServer::Responder r) { Stats(e, std::move(r)); },
      users);
  server.Handle(
      "store.Split",
      [this](const rpc::Envelope& e, rpc::RpcServer::Responder r) { Split(e, std::move(r)); },
      rpc::Roles(rpc::PeerRole::kAdmin));
}

namespace {

// The process's resident memory, from /proc/self/statm (0 where it cannot be read).
uint64_t ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  uint64_t pages = 0, resident = 0;
  if (!(statm >> pages >> resident)) return 0;
  return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

}  // namespace

void Store::Stats(const rpc::Envelope& e, rpc::RpcServer::Responder respond) {
  kv::StoreStatsRequest req;
  if (!req.ParseFromString(e.payload())) {
    respond(Status::InvalidArgument("malformed store.Stats request"));
    return;
  }
  kv::StoreStatsResponse out;
  out.set_store_id(options_.store_id);
  out.set_regions(regions_.size());
  out.set_rss_bytes(ResidentBytes());
  if (Result<engine::EngineStats> engine = engine_->Stats(); engine.ok())
    out.set_engine_memtable_bytes(engine->memtable_bytes);
  out.set_index_cache_bytes(index_cache_.bytes());
  out.set_index_cache_capacity_bytes(index_cache_.capacity());
  out.set_index_cache_entries(index_cache_.entries());
  out.set_index_cache_hits(index_cache_.hits());
  out.set_index_cache_misses(index_cache_.misses());
  out.set_roots_signed(roots_signed_);
  out.set_roots_reused(roots_reused_);
  respond(out.SerializeAsString());
}

Status Store::AddRegion(const meta::Region& region) {
  if (regions_.count(region.id()) != 0)
    return Status::FailedPrecondition("region " + std::to_string(region.id()) +
                                      " is hosted already");
  for (auto& [id, h] : regions_) {
    if (Overlap(Current(h).meta, region)) {
      return Status::Busy("region " + std::to_string(region.id()) + " overlaps region " +
                          std::to_string(id) + " here, which has not applied its split yet");
    }
  }
  ASSIGN_OR_RETURN(bool recorded, RegionFsm::Recorded(*engine_, region.id()));
  const bool first = region.epoch().conf_ver() <= 1 && region.epoch().version() <= 1;
  return Host(region, !recorded && first, false);
}

Status Store::OpenRecordedRegions() {
  ASSIGN_OR_RETURN(std::vector<meta::Region> recorded, RegionFsm::RecordedRegions(*engine_));
  for (const meta::Region& r : recorded) {
    if (regions_.count(r.id()) == 0) RETURN_IF_ERROR(Host(r, false, false));
  }
  return Status::OK();
}

Status Store::Host(const meta::Region& region, bool bootstrap, bool campaign) {
  proof::SmtOptions tree;
  tree.cache = &index_cache_;
  ASSIGN_OR_RETURN(std::unique_ptr<RegionFsm> fsm, RegionFsm::Open(engine_, region, tree));
  RegionFsm* raw = fsm.get();
  const uint64_t id = region.id();
  raw->set_observer([this, id](const meta::Region&, const meta::Region* created) {
    std::optional<meta::Region> made;
    if (created != nullptr) made = *created;
    raft_.loop().Post([this, id, made = std::move(made)] { OnRegionChanged(id, made); });
  });
  std::vector<raft::Member> members;
  if (bootstrap) {
    for (const meta::Peer& p : region.peers()) members.push_back({p.store_id(), p.address()});
  }
  Hosted hosted{meta::Region(), raw, UINT64_MAX, std::nullopt};
  Current(hosted);  // its metadata (and the signature of a split statement)
  RETURN_IF_ERROR(raft_.CreateGroup(id, std::move(fsm), members, campaign));
  regions_[id] = std::move(hosted);
  return Status::OK();
}

void Store::OnRegionChanged(uint64_t region_id, const std::optional<meta::Region>& created) {
  auto it = regions_.find(region_id);
  if (it != regions_.end()) Current(it->second);
  if (regions_changed_) regions_changed_();
  if (!created.has_value() || regions_.count(created->id()) != 0) return;
  // The new region elects its leader at once where the split region's leader was (TiKV's
  // habit): that replica campaigns within a few ticks, the others wait as usual. (Were they all
  // to start with short timeouts, a follower that heard of the leader before its timeouts came
  // back would still time out before the leader's next heartbeat, and depose it.)
  const std::optional<raft::GroupInfo> info = raft_.Info(region_id);
  const bool led = info.has_value() && info->role == raft::Role::kLeader;
  Status s = Host(*created, false, led);
  if (!s.ok()) {
    spdlog::error("store {}: starting region {} made by splitting region {}: {}", options_.store_id,
                  created->id(), region_id, s.ToString());
  } else {
    spdlog::info("store {}: region {} split: region {} starts at {}", options_.store_id, region_id,
                 created->id(), QuoteInput(created->start_key()));
  }
}

Store::Hosted& Store::Current(Hosted& h) {
  const uint64_t changes = h.fsm->meta_changes();
  if (changes != h.meta_changes) {
    h.meta = h.fsm->region();
    h.meta_changes = changes;
    if (!h.meta.origin_statement().empty()) {
      // What a split left behind, vouched for by this store wherever the region is reported.
      h.meta.set_origin_signer(options_.store_id);
      h.meta.set_origin_signature(key_.Sign(h.meta.origin_statement()));
    }
  }
  return h;
}

meta::RegionError Store::EpochError(uint64_t region_id) {
  meta::RegionError error;
  error.set_message("epoch of region " + std::to_string(region_id) + " does not match");
  for (const meta::Region& r : Regions())
    *error.mutable_epoch_not_match()->add_current_regions() = r;
  return error;
}

std::vector<meta::Region> Store::Regions() {
  std::vector<meta::Region> out;
  for (auto& [id, h] : regions_) out.push_back(Current(h).meta);
  return out;
}

Store::Hosted* Store::Check(uint64_t region_id, const meta::RegionEpoch& epoch,
                            meta::RegionError* error) {
  auto it = regions_.find(region_id);
  if (it == regions_.end()) {
    error->set_message("region " + std::to_string(region_id) + " is not on store " +
                       std::to_string(options_.store_id));
    error->mutable_region_not_found()->set_region_id(region_id);
    return nullptr;
  }
  const meta::RegionEpoch& current = Current(it->second).meta.epoch();
  if (epoch.conf_ver() != current.conf_ver() || epoch.version() != current.version()) {
    *error = EpochError(region_id);
    return nullptr;
  }
  return &it->second;
}

meta::RegionError Store::NotLeaderError(uint64_t region_id) const {
  meta::RegionError e;
  auto info = raft_.Info(region_id);
  meta::NotLeader* nl = e.mutable_not_leader();
  nl->set_region_id(region_id);
  if (info) {
    nl->set_leader_store_id(info->leader_id);
    nl->set_leader_address(info->leader_address);
  }
  e.set_message("store " + std::to_string(options_.store_id) + " is not the leader of region " +
                std::to_string(region_id));
  return e;
}

kv::SignedRoot Store::Sign(Hosted& h, const meta::RegionEpoch& epoch, uint64_t applied_index,
                           const proof::Fr& root) {
  kv::SignedRoot s;
  s.set_region_id(h.meta.id());
  *s.mutable_epoch() = epoch;
  s.set_applied_index(applied_index);
  s.set_root(RootToBytes(root));
  s.set_store_id(options_.store_id);
  if (h.last_signed && h.last_signed->applied_index() == applied_index &&
      h.last_signed->root() == s.root() &&
      h.last_signed->epoch().conf_ver() == s.epoch().conf_ver() &&
      h.last_signed->epoch().version() == s.epoch().version()) {
    ++roots_reused_;
    return *h.last_signed;
  }
  ++roots_signed_;
  s.set_signature(key_.Sign(
      RootStatement(h.meta.id(), epoch.conf_ver(), epoch.version(), applied_index, root)));
  h.last_signed = s;
  return s;
}

template <typename Response>
bool Store::AnswerRaftFailure(const Status& s, uint64_t region_id, bool write,
                              const rpc::RpcServer::Responder& respond) const {
  if (s.ok()) return false;
  const bool not_leader =
      s.code() == StatusCode::kFailedPrecondition || (!write && s.code() == StatusCode::kAborted);
  if (!not_leader) {
    respond(s);  // a write's Aborted: leadership lost in flight, the outcome is unknown
    return true;
  }
  Response response;
  *response.mutable_region_error() = NotLeaderError(region_id);
  respond(response.SerializeAsString());
  return true;
}

namespace {

void SetKeyNotInRegion(meta::RegionError* e, const meta::Region& region, const std::string& key) {
  meta::KeyNotInRegion* k = e->mutable_key_not_in_region();
  k->set_key(key);
  k->set_region_id(region.id());
  k->set_start_key(region.start_key());
  k->set_end_key(region.end_key());
  e->set_message("key not in region " + std::to_string(region.id()));
}

}  // namespace

template <typename Request, typename Response>
Store::Hosted* Store::Admit(const rpc::Envelope& envelope, Request* request,
                            const rpc::RpcServer::Responder& respond) {
  if (!request->ParseFromString(envelope.payload())) {
    respond(Status::InvalidArgument("malformed " + envelope.method() + " request"));
    return nullptr;
  }
  Response response;
  Hosted* h = Check(request->region_id(), request->epoch(), response.mutable_region_error());
  if (h == nullptr) respond(response.SerializeAsString());
  return h;
}

void Store::Get(const rpc::Envelope& request, rpc::RpcServer::Responder respond) {
  kv::GetRequest req;
  Hosted* h = Admit<kv::GetRequest, kv::GetResponse>(request, &req, respond);
  if (h == nullptr) return;
  if (!h->fsm->range().Contains(req.key())) {
    kv::GetResponse response;
    SetKeyNotInRegion(response.mutable_region_error(), h->meta, req.key());
    respond(response.SerializeAsString());
    return;
  }
  const uint64_t region_id = req.region_id();
  const bool with_proof = !req.skip_proofs();
  raft_.ReadIndex(region_id, [this, region_id, key = req.key(), epoch = req.epoch(), with_proof,
                              respond](Result<uint64_t> at) {
    if (AnswerRaftFailure<kv::GetResponse>(at.status(), region_id, false, respond)) return;
    kv::GetResponse response;
    Hosted& h = regions_.at(region_id);
    Result<ProvenRead> r = h.fsm->Read(key, with_proof);
    if (!r.ok() && !h.fsm->range().Contains(key)) {
      *response.mutable_region_error() = EpochError(region_id);  // a split
      respond(response.SerializeAsString());
      return;
    }
    if (!r.ok()) {
      respond(r.status());
      return;
    }
    if (r->epoch.version() != epoch.version() || r->epoch.conf_ver() != epoch.conf_ver()) {
      // A split since the read was admitted: the client asked at an epoch
      // whose range may hold keys this root no longer covers.
      *response.mutable_region_error() = EpochError(region_id);
      respond(response.SerializeAsString());
      return;
    }
    kv::KvProof* kv = response.mutable_kv();
    kv->set_key(key);
    kv->set_found(r->value.has_value());
    if (r->value) kv->set_value(*r->value);
    if (with_proof) kv->set_proof(r->proof.EncodeBinary());
    *response.mutable_root() = Sign(h, r->epoch, r->applied_index, r->root);
    respond(response.SerializeAsString());
  });
}

void Store::Write(const rpc::Envelope& request, rpc::RpcServer::Responder respond) {
  kv::WriteRequest req;
  Hosted* h = Admit<kv::WriteRequest, kv::WriteResponse>(request, &req, respond);
  if (h == nullptr) return;
  kv::WriteResponse response;
  // The leader's stamp: the clock a write session expires by, the same on every replica.
  if (req.command().has_session()) {
    req.mutable_command()->mutable_session()->set_stamp_ms(
        static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count()));
  }
  // Limits first: a command the log could not hold, or apply would refuse, is never proposed.
  const std::size_t command_bytes = req.command().ByteSizeLong();
  if (std::string why = CheckCommand(req.command(), command_bytes, options_.limits); !why.empty()) {
    respond(Status::InvalidArgument("kv.Write refused: " + why));
    return;
  }
  // The keys the command writes, each checked against the region.
  std::vector<std::string> keys;
  if (req.command().has_write()) {
    for (const Mutation& m : req.command().write().mutations()) keys.push_back(m.key());
  } else {
    keys.push_back(req.command().cas().key());
  }
  for (const std::string& k : keys) {
    if (!h->fsm->range().Contains(k)) {
      SetKeyNotInRegion(response.mutable_region_error(), h->meta, k);
      respond(response.SerializeAsString());
      return;
    }
  }
  if (pending_writes_ >= options_.max_pending_writes) {
    response.mutable_region_error()->mutable_server_busy()->set_reason("too many writes in flight");
    response.mutable_region_error()->set_message("server busy");
    respond(response.SerializeAsString());
    return;
  }
  ++pending_writes_;
  const uint64_t region_id = req.region_id();
  if (req.skip_proofs()) keys.clear();  // nothing to prove
  raft_.Propose(region_id, req.command().SerializeAsString(),
                [this, region_id, keys = std::move(keys), respond](Result<raft::ProposeResult> r) {
                  --pending_writes_;
                  if (AnswerRaftFailure<kv::WriteResponse>(r.status(), region_id, true, respond))
                    return;
                  if (FaultPoint("store.write_answer")) return;  // applied, and the answer lost
                  kv::WriteResponse response;
                  if (!response.mutable_result()->ParseFromString(r->result)) {
                    respond(Status::Internal("apply result does not parse"));
                    return;
                  }
                  Hosted& h = Current(regions_.at(region_id));
                  const ApplyResult& applied = response.result();
                  if (applied.key_not_in_region()) {
                    // A split moved the key after the write was admitted; nothing was applied.
                    response.Clear();
                    *response.mutable_region_error() = EpochError(region_id);
                    respond(response.SerializeAsString());
                    return;
                  }
                  const Result<proof::Fr> root = RootFromBytes(applied.root());
                  if (!root.ok()) {
                    respond(Status::Internal("apply result without a root"));
                    return;
                  }
                  // Proofs at the version of the run this command was applied in (kept for
                  // the next keep_versions runs). A replayed answer has none: its version, that
                  // of the first application, may be pruned.
                  const uint64_t version =
                      applied.root_index() != 0 ? applied.root_index() : applied.applied_index();
                  std::set<std::string> seen;
                  for (const std::string& k : keys) {
                    if (applied.replayed()) break;
                    if (!seen.insert(k).second) continue;
                    Result<proof::SmtProof> p = h.fsm->Prove(k, version);
                    if (!p.ok()) {
                      respond(p.status());
                      return;
                    }
                    kv::KvProof* kv = response.add_proofs();
                    kv->set_key(k);
                    kv->set_found(p->existence);
                    kv->set_proof(p->EncodeBinary());
                  }
                  *response.mutable_root() = Sign(h, h.meta.epoch(), version, *root);
                  respond(response.SerializeAsString());
                });
}

void Store::Scan(const rpc::Envelope& request, rpc::RpcServer::Responder respond) {
  kv::ScanRequest req;
  Hosted* h = Admit<kv::ScanRequest, kv::ScanResponse>(request, &req, respond);
  if (h == nullptr) return;
  if (req.limit() == 0 || req.limit() > options_.max_scan_limit) {
    respond(Status::InvalidArgument("scan limit must be 1.." +
                                    std::to_string(options_.max_scan_limit)));
    return;
  }
  const uint64_t region_id = req.region_id();
  raft_.ReadIndex(region_id, [this, region_id, req, respond](Result<uint64_t> at) {
    if (AnswerRaftFailure<kv::ScanResponse>(at.status(), region_id, false, respond)) return;
    kv::ScanResponse response;
    Hosted& h = regions_.at(region_id);
    Result<RegionFsm::ScanResult> r =
        h.fsm->Scan(req.start_key(), req.end_key(), req.limit(), options_.max_scan_bytes);
    if (!r.ok()) {
      respond(r.status());
      return;
    }
    if (r->epoch.version() != req.epoch().version() ||
        r->epoch.conf_ver() != req.epoch().conf_ver()) {
      // The range changed (a split) since the scan was admitted: where the asked range ends
      // is no longer where this region ends.
      *response.mutable_region_error() = EpochError(region_id);
      respond(response.SerializeAsString());
      return;
    }
    for (std::size_t i = 0; i < r->kvs.size(); ++i) {
      kv::KvProof* kv = response.add_kvs();
      kv->set_key(std::move(r->kvs[i].first));
      kv->set_found(true);
      kv->set_value(std::move(r->kvs[i].second));
      kv->set_proof(std::move(r->proofs[i]));
    }
    response.set_more(r->more);
    if (r->more) response.set_next_key(response.kvs(response.kvs_size() - 1).key() + '\0');
    *response.mutable_root() = Sign(h, r->epoch, r->applied_index, r->root);
    respond(response.SerializeAsString());
  });
}

void Store::Split(const rpc::Envelope& request, rpc::RpcServer::Responder respond) {
  kv::SplitRequest req;
  Hosted* h = Admit<kv::SplitRequest, kv::SplitResponse>(request, &req, respond);
  if (h == nullptr) return;
  if (req.split_key().empty() || req.split_key().size() > kHardCommandLimits.max_key_size) {
    respond(Status::InvalidArgument("a split key has 1.." +
                                    std::to_string(kHardCommandLimits.max_key_size) + " bytes"));
    return;
  }
  const uint64_t region_id = req.region_id();
  ProposeSplit(
      region_id, req.split_key(), req.new_region_id(), req.epoch().version(),
      [this, region_id, respond](Result<ApplyResult> applied) {
        if (AnswerRaftFailure<kv::SplitResponse>(applied.status(), region_id, true, respond))
          return;
        kv::SplitResponse response;
        response.set_error(applied->error());
        *response.mutable_regions() = applied->regions();
        respond(response.SerializeAsString());
      });
}

void Store::ProposeSplit(uint64_t region_id, const std::string& key, uint64_t new_region_id,
                         uint64_t version, std::function<void(Result<ApplyResult>)> done) {
  Command command;
  store::Split* split = command.mutable_split();
  split->set_split_key(key);
  split->set_new_region_id(new_region_id);
  split->set_version(version);
  raft_.Propose(region_id, command.SerializeAsString(),
                [done = std::move(done)](Result<raft::ProposeResult> r) {
                  if (!r.ok()) {
                    done(r.status());
                    return;
                  }
                  ApplyResult applied;
                  if (!applied.ParseFromString(r->result)) {
                    done(Status::Internal("apply result does not parse"));
                    return;
                  }
                  done(std::move(applied));
                });
}

std::vector<std::pair<meta::Region, const RegionFsm*>> Store::Led() {
  std::vector<std::pair<meta::Region, const RegionFsm*>> out;
  for (auto& [id, h] : regions_) {
    const std::optional<raft::GroupInfo> info = raft_.Info(id);
    if (info.has_value() && info->role == raft::Role::kLeader)
      out.emplace_back(Current(h).meta, h.fsm);
  }
  return out;
}

}  // namespace rustorium::store
