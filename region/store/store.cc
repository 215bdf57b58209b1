#include "region/store/store.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <fstream>
#include <set>

#include "base/fault_point.h"
#include "base/quote.h"
#include "region/keys.h"
#include "region/rpc/event_loop.h"

namespace rustorium::store {

namespace {

bool Overlap(const meta::Region& a, const meta::Region& b) {
  const bool a_before_b = !a.end_key().empty() && a.end_key() <= b.start_key();
  const bool b_before_a = !b.end_key().empty() && b.end_key() <= a.start_key();
  return !a_before_b && !b_before_a;
}

// A region's state machine as its Raft group holds it: shared with the Store's registry, so that
// a thread reading it (a split check, a merge's commit) keeps it alive past the group's close.
class SharedRegion : public raft::StateMachine {
 public:
  explicit SharedRegion(std::shared_ptr<RegionFsm> fsm) : fsm_(std::move(fsm)) {}
  Result<std::string> Apply(uint64_t index, std::string_view command) override {
    return fsm_->Apply(index, command);
  }
  Result<std::vector<std::string>> ApplyBatch(std::span<const Entry> entries) override {
    return fsm_->ApplyBatch(entries);
  }
  bool ApplyOffLoop() const override { return fsm_->ApplyOffLoop(); }
  uint64_t AppliedIndex() const override { return fsm_->AppliedIndex(); }
  Result<std::unique_ptr<raft::SnapshotReader>> OpenSnapshot() override {
    return fsm_->OpenSnapshot();
  }
  Result<std::unique_ptr<raft::SnapshotWriter>> BeginSnapshot() override {
    return fsm_->BeginSnapshot();
  }

 private:
  std::shared_ptr<RegionFsm> fsm_;
};

// Deletes a region's state from the engine: its metadata, applied index, sessions, tree and Raft
// state (not its data keys: they belong to whichever region covers them).
Status DeleteRegionState(engine::Engine* engine, uint64_t id) {
  engine::WriteBatch batch;
  batch.Delete(engine::ColumnFamily::kMeta, keys::RegionLocalStateKey(id));
  batch.Delete(engine::ColumnFamily::kMeta, keys::RegionApplyStateKey(id));
  batch.DeleteRange(engine::ColumnFamily::kMeta, keys::RegionSessionsBegin(id),
                    keys::RegionSessionsEnd(id));
  proof::SparseMerkleTree::StageDrop(batch, id);
  raft::MultiRaft::StageDestroyGroup(batch, id);
  return engine->WriteSync(batch);
}

}  // namespace

Store::Store(engine::Engine* engine, raft::MultiRaft& raft, const StoreKey& key,
             StoreServiceOptions options)
    : engine_(engine),
      raft_(raft),
      key_(key),
      options_(options),
      index_cache_(options.index_cache_bytes) {}

void Store::Stop() {
  for (uint64_t handle : timers_) raft_.loop().Cancel(handle);
  timers_.clear();
}

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
  server.Handle(
      "store.Merge",
      [this](const rpc::Envelope& e, rpc::RpcServer::Responder r) { MergeRpc(e, std::move(r)); },
      rpc::Roles(rpc::PeerRole::kAdmin));
  server.Handle(
      "store.TransferLeader",
      [this](const rpc::Envelope& e, rpc::RpcServer::Responder r) {
        TransferLeaderRpc(e, std::move(r));
      },
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
    // Read after its range: a split that narrowed it may not have written the new region's
    // records yet; opened now, the new region would start empty beside them.
    if (h.fsm->splitting()) {
      return Status::Busy("region " + std::to_string(id) + " is writing a split here");
    }
  }
  ASSIGN_OR_RETURN(bool recorded, RegionFsm::Recorded(*engine_, region.id()));
  const bool first = region.epoch().conf_ver() <= 1 && region.epoch().version() <= 1;
  if (!recorded && !first) {
    spdlog::info(
        "store {}: hosting region {} from PD's record (none here): it waits for a snapshot",
        options_.store_id, region.id());
  }
  return Host(region, !recorded && first, false);
}

Status Store::OpenRecordedRegions() {
  ASSIGN_OR_RETURN(std::vector<meta::Region> recorded, RegionFsm::RecordedRegions(*engine_));
  // Newest shapes first: a region that a newer one overlaps is what a snapshot of the newer
  // (a merge's target) covered before a crash let this store drop it.
  std::sort(recorded.begin(), recorded.end(), [](const meta::Region& a, const meta::Region& b) {
    return a.epoch().version() > b.epoch().version();
  });
  std::vector<const meta::Region*> kept;
  for (const meta::Region& r : recorded) {
    const auto newer = std::find_if(kept.begin(), kept.end(),
                                    [&r](const meta::Region* k) { return Overlap(*k, r); });
    if (newer != kept.end()) {
      spdlog::info("store {}: region {} is covered by region {}: dropping its state",
                   options_.store_id, r.id(), (*newer)->id());
      RETURN_IF_ERROR(DeleteRegionState(engine_, r.id()));
      continue;
    }
    kept.push_back(&r);
    if (regions_.count(r.id()) == 0) RETURN_IF_ERROR(Host(r, false, false));
  }
  return Status::OK();
}

Status Store::Host(const meta::Region& region, bool bootstrap, bool campaign) {
  proof::SmtOptions tree;
  tree.cache = &index_cache_;
  ASSIGN_OR_RETURN(std::unique_ptr<RegionFsm> opened, RegionFsm::Open(engine_, region, tree));
  std::shared_ptr<RegionFsm> fsm(std::move(opened));
  const uint64_t id = region.id();
  fsm->set_observer(
      [this, id](const meta::Region&, const meta::Region* created, uint64_t merged_source) {
        std::optional<meta::Region> made;
        if (created != nullptr) made = *created;
        raft_.loop().Post([this, id, made = std::move(made), merged_source] {
          OnRegionChanged(id, made, merged_source);
        });
      });
  fsm->set_merge_hooks(this);
  std::vector<raft::Member> members;
  if (bootstrap) {
    for (const meta::Peer& p : region.peers()) members.push_back({p.store_id(), p.address()});
  }
  Hosted hosted{meta::Region(), fsm.get(), UINT64_MAX, std::nullopt};
  Current(hosted);  // its metadata (and the signature of a split statement)
  {
    std::lock_guard<std::mutex> lock(fsms_mu_);
    fsms_[id] = fsm;
  }
  Status created = raft_.CreateGroup(id, std::make_unique<SharedRegion>(fsm), members, campaign);
  if (!created.ok()) {
    std::lock_guard<std::mutex> lock(fsms_mu_);
    fsms_.erase(id);
    return created;
  }
  regions_[id] = std::move(hosted);
  changed_at_[id] = std::chrono::steady_clock::now();
  return Status::OK();
}

std::chrono::steady_clock::duration Store::UnchangedFor(uint64_t id) const {
  auto it = changed_at_.find(id);
  return it == changed_at_.end() ? std::chrono::steady_clock::duration::zero()
                                 : std::chrono::steady_clock::now() - it->second;
}

void Store::DropRegion(uint64_t region_id, bool state) {
  regions_.erase(region_id);
  changed_at_.erase(region_id);
  {
    std::lock_guard<std::mutex> lock(fsms_mu_);
    fsms_.erase(region_id);
  }
  raft_.CloseGroup(region_id, true, [this, region_id, state] {
    if (!state) return;
    // After the close: no apply of the group can write after this.
    if (Status s = DeleteRegionState(engine_, region_id); !s.ok()) {
      spdlog::error("store {}: deleting the state of region {}: {} (dropped at the next start)",
                    options_.store_id, region_id, s.ToString());
    }
  });
}

void Store::OnRegionChanged(uint64_t region_id, const std::optional<meta::Region>& created,
                            uint64_t merged_source) {
  if (merged_source != 0 && regions_.count(merged_source) != 0) {
    spdlog::info("store {}: region {} merged into region {}", options_.store_id, merged_source,
                 region_id);
    DropRegion(merged_source, false);  // the merge's write deleted its state
  }
  auto it = regions_.find(region_id);
  if (it != regions_.end()) {
    changed_at_[region_id] = std::chrono::steady_clock::now();
    // A snapshot may have brought a wider range (a merge this replica did not apply): the
    // regions it covers now are gone.
    const meta::Region now = Current(it->second).meta;
    std::vector<uint64_t> covered;
    for (auto& [id, h] : regions_) {
      if (id != region_id && Overlap(Current(h).meta, now) &&
          h.meta.epoch().version() < now.epoch().version())
        covered.push_back(id);
    }
    for (uint64_t id : covered) {
      spdlog::info("store {}: region {} now covers region {}: dropping it", options_.store_id,
                   region_id, id);
      DropRegion(id, true);
    }
  }
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
    auto found = regions_.find(region_id);
    if (found == regions_.end() || found->second.fsm->merged()) {
      *response.mutable_region_error() = EpochError(region_id);  // merged meanwhile
      respond(response.SerializeAsString());
      return;
    }
    Hosted& h = found->second;
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
  if (h->meta.has_merging()) {
    response.mutable_region_error()->mutable_server_busy()->set_reason(
        "region " + std::to_string(h->meta.id()) + " is merging");
    response.mutable_region_error()->set_message("region merging");
    respond(response.SerializeAsString());
    return;
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
                  const ApplyResult& applied = response.result();
                  auto found = regions_.find(region_id);
                  if (applied.key_not_in_region() || found == regions_.end()) {
                    // A split moved the key after the write was admitted; nothing was applied.
                    response.Clear();
                    *response.mutable_region_error() = EpochError(region_id);
                    respond(response.SerializeAsString());
                    return;
                  }
                  Hosted& h = Current(found->second);
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
    auto found = regions_.find(region_id);
    if (found == regions_.end() || found->second.fsm->merged()) {
      *response.mutable_region_error() = EpochError(region_id);  // merged meanwhile
      respond(response.SerializeAsString());
      return;
    }
    Hosted& h = found->second;
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
  ProposeAdmin(region_id, command, std::move(done));
}

std::vector<meta::Region> Store::Led() {
  std::vector<meta::Region> out;
  for (auto& [id, h] : regions_) {
    const std::optional<raft::GroupInfo> info = raft_.Info(id);
    if (info.has_value() && info->role == raft::Role::kLeader && !Current(h).meta.has_merging())
      out.push_back(h.meta);
  }
  return out;
}

Status Store::WithRegion(uint64_t id, const std::function<Status(RegionFsm*)>& fn) {
  std::shared_ptr<RegionFsm> fsm;
  {
    std::lock_guard<std::mutex> lock(fsms_mu_);
    auto it = fsms_.find(id);
    if (it != fsms_.end()) fsm = it->second;
  }
  return fn(fsm.get());
}

Result<std::optional<MergeHooks::LogCommands>> Store::CommittedCommands(uint64_t id, uint64_t after,
                                                                        uint64_t through,
                                                                        uint64_t term) {
  return ReadCommittedCommands(engine_, id, after, through, term);
}

void Store::ProposeAdmin(uint64_t region_id, const Command& command,
                         std::function<void(Result<ApplyResult>)> done) {
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

namespace {

bool Leads(const raft::MultiRaft& raft, uint64_t region_id) {
  const std::optional<raft::GroupInfo> info = raft.Info(region_id);
  return info.has_value() && info->role == raft::Role::kLeader;
}

}  // namespace

void Store::Merge(uint64_t target_id, uint64_t source_id,
                  std::function<void(Result<meta::Region>)> done) {
  if (!merges_running_.insert(source_id).second) {
    done(Status::Busy("a merge of region " + std::to_string(source_id) + " is running here"));
    return;
  }
  auto finish = [this, source_id, done = std::move(done)](Result<meta::Region> r) {
    merges_running_.erase(source_id);
    if (!r.ok()) {
      spdlog::info("store {}: merge of region {}: {}", options_.store_id, source_id,
                   r.status().ToString());
    }
    done(std::move(r));
  };
  auto t = regions_.find(target_id), s = regions_.find(source_id);
  if (t == regions_.end() || s == regions_.end()) {
    finish(Status::NotFound("regions " + std::to_string(target_id) + " and " +
                            std::to_string(source_id) + " are not both on store " +
                            std::to_string(options_.store_id)));
    return;
  }
  if (!Leads(raft_, target_id) || !Leads(raft_, source_id)) {
    finish(Status::FailedPrecondition("store " + std::to_string(options_.store_id) +
                                      " does not lead both regions"));
    return;
  }
  const meta::Region target = Current(t->second).meta, source = Current(s->second).meta;
  if (source.has_merging()) {
    if (source.merging().target_id() != target_id) {
      finish(Status::FailedPrecondition("region " + std::to_string(source_id) +
                                        " is merging into region " +
                                        std::to_string(source.merging().target_id())));
      return;
    }
    AwaitPrepareEverywhere(target_id, source, 100, std::move(finish));  // resumed
    return;
  }
  if (target.end_key().empty() || target.end_key() != source.start_key()) {
    finish(Status::InvalidArgument("region " + std::to_string(source_id) +
                                   " is not the right neighbour of region " +
                                   std::to_string(target_id)));
    return;
  }
  if (!SameStores(target, source)) {
    finish(Status::FailedPrecondition("regions " + std::to_string(target_id) + " and " +
                                      std::to_string(source_id) + " are not on the same stores"));
    return;
  }
  if (target.has_merging()) {
    finish(
        Status::FailedPrecondition("region " + std::to_string(target_id) + " is merging itself"));
    return;
  }
  Command command;
  PrepareMerge* prepare = command.mutable_prepare_merge();
  prepare->set_target_id(target_id);
  *prepare->mutable_target_epoch() = target.epoch();
  prepare->set_version(source.epoch().version());
  prepare->set_term(raft_.Info(source_id)->term);  // the entry's own: appended in this turn
  ProposeAdmin(source_id, command,
               [this, target_id, finish = std::move(finish)](Result<ApplyResult> r) mutable {
                 if (!r.ok()) {
                   finish(r.status());
                   return;
                 }
                 if (!r->error().empty() || r->regions_size() == 0) {
                   finish(Status::FailedPrecondition(r->error()));
                   return;
                 }
                 AwaitPrepareEverywhere(target_id, r->regions(0), 100, std::move(finish));
               });
}

void Store::AwaitPrepareEverywhere(uint64_t target_id, meta::Region source, int polls_left,
                                   std::function<void(Result<meta::Region>)> done) {
  // Every replica of the source must hold the prepare in its log: a replica of the target
  // whose source lags catches it up from there (the source's other replicas may be gone).
  const std::optional<raft::GroupInfo> info = raft_.Info(source.id());
  if (!info.has_value() || info->role != raft::Role::kLeader) {
    done(Status::Aborted("store " + std::to_string(options_.store_id) + " no longer leads region " +
                         std::to_string(source.id()) +
                         "; the merge stays prepared and resumes at its leader"));
    return;
  }
  bool everywhere = info->match_indexes.size() == static_cast<std::size_t>(source.peers_size());
  for (const auto& [id, match] : info->match_indexes)
    everywhere = everywhere && match >= source.merging().prepare_index();
  if (everywhere) {
    CommitMergeStep(target_id, std::move(source), std::move(done));
    return;
  }
  if (polls_left == 0) {
    done(Status::Busy("not every replica of region " + std::to_string(source.id()) +
                      " has caught up; the merge stays prepared and resumes later"));
    return;
  }
  auto handle = std::make_shared<uint64_t>(0);
  *handle = raft_.loop().RunAfter(
      std::chrono::milliseconds(100), [this, handle, target_id, source = std::move(source),
                                       polls_left, done = std::move(done)]() mutable {
        timers_.erase(*handle);
        AwaitPrepareEverywhere(target_id, std::move(source), polls_left - 1, std::move(done));
      });
  timers_.insert(*handle);
}

void Store::CommitMergeStep(uint64_t target_id, meta::Region source,
                            std::function<void(Result<meta::Region>)> done) {
  if (!Leads(raft_, target_id)) {
    done(Status::FailedPrecondition("store " + std::to_string(options_.store_id) +
                                    " no longer leads region " + std::to_string(target_id) +
                                    "; the merge stays prepared"));
    return;
  }
  const uint64_t source_id = source.id();
  const uint64_t prepare_index = source.merging().prepare_index();
  Command command;
  *command.mutable_commit_merge()->mutable_source() = std::move(source);
  ProposeAdmin(
      target_id, command,
      [this, target_id, source_id, prepare_index,
       done = std::move(done)](Result<ApplyResult> r) mutable {
        if (!r.ok()) {
          done(r.status());
          return;
        }
        if (r->error().empty() && r->regions_size() > 0) {
          done(r->regions(0));
          return;
        }
        auto s = regions_.find(source_id);
        auto t = regions_.find(target_id);
        if (s == regions_.end() || s->second.fsm->merged()) {
          // An earlier CommitMerge took the source in (this one came again after an unknown
          // outcome): done.
          if (t == regions_.end()) {
            done(Status::NotFound("region " + std::to_string(target_id) + " is gone"));
          } else {
            done(Current(t->second).meta);
          }
          return;
        }
        if (!r->merge_target_changed()) {
          done(Status::FailedPrecondition(r->error()));
          return;
        }
        // The target changed before it could take the source in, and no CommitMerge of this
        // prepare can pass any more (its epoch only grows): the source takes writes again.
        Command rollback;
        rollback.mutable_rollback_merge()->set_prepare_index(prepare_index);
        const std::string why = r->error();
        ProposeAdmin(source_id, rollback, [why, done = std::move(done)](Result<ApplyResult> rb) {
          if (!rb.ok()) {
            done(Status::Aborted(why +
                                 "; the rollback's outcome is unknown: " + rb.status().ToString()));
          } else if (!rb->error().empty()) {
            done(Status::FailedPrecondition(why + "; " + rb->error()));
          } else {
            done(Status::FailedPrecondition(why + "; the merge was rolled back"));
          }
        });
      });
}

void Store::ResumeMerges() {
  for (auto& [id, h] : regions_) {
    const meta::Region& r = Current(h).meta;
    if (!r.has_merging() || merges_running_.count(id) != 0 || !Leads(raft_, id) ||
        !Leads(raft_, r.merging().target_id()))
      continue;
    spdlog::info("store {}: resuming the merge of region {} into region {}", options_.store_id, id,
                 r.merging().target_id());
    Merge(r.merging().target_id(), id, [](Result<meta::Region>) {});
  }
}

void Store::MergeRpc(const rpc::Envelope& request, rpc::RpcServer::Responder respond) {
  kv::MergeRequest req;
  Hosted* h = Admit<kv::MergeRequest, kv::MergeResponse>(request, &req, respond);
  if (h == nullptr) return;
  kv::MergeResponse response;
  for (uint64_t id : {req.region_id(), req.source_region_id()}) {
    if (regions_.count(id) == 0) {
      response.mutable_region_error()->mutable_region_not_found()->set_region_id(id);
      response.mutable_region_error()->set_message(
          "region " + std::to_string(id) + " is not on store " + std::to_string(options_.store_id));
      respond(response.SerializeAsString());
      return;
    }
    if (!Leads(raft_, id)) {
      *response.mutable_region_error() = NotLeaderError(id);
      respond(response.SerializeAsString());
      return;
    }
  }
  Merge(req.region_id(), req.source_region_id(), [respond](Result<meta::Region> merged) {
    kv::MergeResponse response;
    if (merged.ok()) {
      *response.mutable_region() = *merged;
    } else if (merged.status().code() == StatusCode::kFailedPrecondition ||
               merged.status().code() == StatusCode::kInvalidArgument) {
      response.set_error(std::string(merged.status().message()));
    } else {
      respond(merged.status());  // the outcome is unknown or not reached: sent again, it resumes
      return;
    }
    respond(response.SerializeAsString());
  });
}

void Store::TransferLeaderRpc(const rpc::Envelope& request, rpc::RpcServer::Responder respond) {
  kv::TransferLeaderRequest req;
  Hosted* h = Admit<kv::TransferLeaderRequest, kv::TransferLeaderResponse>(request, &req, respond);
  if (h == nullptr) return;
  kv::TransferLeaderResponse response;
  const uint64_t region_id = req.region_id();
  if (!Leads(raft_, region_id)) {
    *response.mutable_region_error() = NotLeaderError(region_id);
    respond(response.SerializeAsString());
    return;
  }
  bool peer = false;
  for (const meta::Peer& p : h->meta.peers()) peer = peer || p.store_id() == req.to_store_id();
  if (!peer) {
    response.set_error("store " + std::to_string(req.to_store_id()) +
                       " holds no replica of region " + std::to_string(region_id));
    respond(response.SerializeAsString());
    return;
  }
  if (req.to_store_id() == options_.store_id) {
    response.set_leader_store_id(options_.store_id);
    respond(response.SerializeAsString());
    return;
  }
  raft_.TransferLeader(region_id, req.to_store_id(), [this, region_id, respond](Status s) {
    kv::TransferLeaderResponse response;
    if (!s.ok()) response.set_error(s.ToString());
    if (const std::optional<raft::GroupInfo> info = raft_.Info(region_id); info.has_value())
      response.set_leader_store_id(info->leader_id);
    respond(response.SerializeAsString());
  });
}

}  // namespace rustorium::store
