#include "region/pd/pd_service.h"

#include <algorithm>

#include "region/pd/pd_client.h"

namespace rustorium::pd {

namespace {

constexpr uint64_t kLogicalLimit = uint64_t{1} << 18;

uint64_t NowMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

uint64_t SteadyMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

template <typename Request>
bool Parse(const rpc::Envelope& e, Request* request, const rpc::RpcServer::Responder& respond) {
  if (request->ParseFromString(e.payload())) return true;
  respond(Status::InvalidArgument("malformed " + e.method() + " request"));
  return false;
}

}  // namespace

PdService::PdService(raft::MultiRaft& raft, PdServiceOptions options)
    : raft_(raft), options_(std::move(options)), started_ms_(SteadyMs()) {}

void PdService::RegisterHandlers(rpc::RpcServer& server) {
  using rpc::PeerRole;
  auto bind = [this](void (PdService::*method)(const rpc::Envelope&, Respond)) {
    return [this, method](const rpc::Envelope& e, Respond r) { (this->*method)(e, std::move(r)); };
  };
  auto bind_peer =
      [this](void (PdService::*method)(const rpc::Envelope&, const rpc::PeerIdentity&, Respond)) {
        return [this, method](const rpc::Envelope& e, const rpc::PeerIdentity& peer, Respond r) {
          (this->*method)(e, peer, std::move(r));
        };
      };
  const rpc::RoleSet readers =
      PeerRole::kStore | PeerRole::kPd | PeerRole::kClient | PeerRole::kAdmin;
  const rpc::RoleSet stores = rpc::Roles(PeerRole::kStore);
  const rpc::RoleSet operators = PeerRole::kStore | PeerRole::kAdmin;
  server.Handle("pd.RegisterStore", bind_peer(&PdService::RegisterStore), stores);
  server.Handle("pd.AllocId", bind(&PdService::AllocId), operators);
  server.Handle("pd.GetRegion", bind(&PdService::GetRegion), readers);
  server.Handle("pd.GetStoreRegions", bind(&PdService::GetStoreRegions), readers);
  server.Handle("pd.GetStores", bind(&PdService::GetStores), readers);
  server.Handle("pd.GetRegions", bind(&PdService::GetRegions), readers);
  server.Handle("pd.StoreHeartbeat", bind_peer(&PdService::StoreHeartbeat), stores);
  server.Handle("pd.RegionHeartbeat", bind_peer(&PdService::RegionHeartbeat), stores);
  server.Handle("pd.RegionHeartbeats", bind_peer(&PdService::RegionHeartbeats), stores);
  server.Handle("pd.Tso", bind(&PdService::Tso), readers);
}

PdFsm* PdService::fsm() const { return static_cast<PdFsm*>(raft_.state_machine(options_.group)); }

void PdService::Propose(const PdCommand& command, std::function<void(Result<PdResult>)> done,
                        bool internal) {
  if (!internal && pending_proposals_ >= options_.max_pending_proposals) {
    ++busy_proposals_;
    done(Status::Busy("PD has " + std::to_string(pending_proposals_) +
                      " proposals pending (max_pending_proposals); try again later"));
    return;
  }
  ++pending_proposals_;
  raft_.Propose(options_.group, command.SerializeAsString(),
                [this, done = std::move(done)](Result<raft::ProposeResult> r) {
                  --pending_proposals_;
                  if (!r.ok()) {
                    done(r.status());
                    return;
                  }
                  PdResult result;
                  if (!result.ParseFromString(r->result)) {
                    done(Status::Internal("PD result does not parse"));
                    return;
                  }
                  if (!result.error().empty()) {
                    done(Status::InvalidArgument(result.error()));
                    return;
                  }
                  done(std::move(result));
                });
}

void PdService::AtReadPoint(const Respond& respond, std::function<void()> fn) {
  if (pending_reads_ >= options_.max_pending_reads) {
    ++busy_reads_;
    respond(Status::Busy("PD has " + std::to_string(pending_reads_) +
                         " reads pending (max_pending_reads); try again later"));
    return;
  }
  ++pending_reads_;
  raft_.ReadIndex(options_.group, [this, respond, fn = std::move(fn)](Result<uint64_t> at) {
    --pending_reads_;
    if (!at.ok()) {
      respond(at.status());
      return;
    }
    fn();
  });
}

void PdService::RegisterStore(const rpc::Envelope& e, const rpc::PeerIdentity& peer,
                              Respond respond) {
  RegisterStoreRequest req;
  if (!Parse(e, &req, respond)) return;
  if (!peer.trusted && !peer.Is(rpc::PeerRole::kStore, req.store().id())) {
    respond(Status::PermissionDenied("registration of store " + std::to_string(req.store().id()) +
                                     " sent by " + peer.ToString() +
                                     ": a store registers with the id in its certificate"));
    return;
  }
  if (Status s = CheckStoreInfo(req.store()); !s.ok()) {
    respond(s);
    return;
  }
  PdCommand c;
  *c.mutable_register_store() = req.store();
  auto propose = [this, c, respond] {
    Propose(c, [this, respond](Result<PdResult> r) {
      if (!r.ok()) {
        respond(r.status());
        return;
      }
      NoteTerm();
      store_seen_ms_[r->store_id()] = SteadyMs();
      RegisterStoreResponse out;
      out.set_store_id(r->store_id());
      respond(out.SerializeAsString());
    });
  };
  if (!req.fresh()) {
    propose();
    return;
  }
  // A store without state under an id (or, on plain TCP, an address) PD knows lost its data.
  AtReadPoint(respond, [this, req, respond, propose] {
    for (const StoreInfo& s : fsm()->state().stores()) {
      const bool same =
          req.store().id() != 0 ? s.id() == req.store().id() : s.address() == req.store().address();
      if (same) {
        respond(Status::InvalidArgument(
            "store " + std::to_string(s.id()) +
            " registered before and comes back without its data (a wiped data directory): with "
            "a new term and vote it could vote twice; give it a new id (a new certificate, "
            "`rustorium certs create --store ID`)"));
        return;
      }
    }
    propose();
  });
}

void PdService::AllocId(const rpc::Envelope& e, Respond respond) {
  AllocIdRequest req;
  if (!Parse(e, &req, respond)) return;
  const uint64_t count = req.count() == 0 ? 1 : req.count();
  PdCommand c;
  c.set_alloc_ids(count);
  Propose(c, [respond, count](Result<PdResult> r) {
    if (!r.ok()) {
      respond(r.status());
      return;
    }
    AllocIdResponse out;
    out.set_first_id(r->first_id());
    out.set_count(count);
    respond(out.SerializeAsString());
  });
}

void PdService::GetRegion(const rpc::Envelope& e, Respond respond) {
  GetRegionRequest req;
  if (!Parse(e, &req, respond)) return;
  AtReadPoint(respond, [this, key = req.key(), respond] {
    GetRegionResponse out;
    if (const meta::Region* r = fsm()->RegionFor(key)) {
      *out.mutable_region() = *r;
      out.set_found(true);
      auto it = region_leader_.find(r->id());
      if (it != region_leader_.end()) out.set_leader_store_id(it->second);
    }
    respond(out.SerializeAsString());
  });
}

void PdService::GetStoreRegions(const rpc::Envelope& e, Respond respond) {
  GetStoreRegionsRequest req;
  if (!Parse(e, &req, respond)) return;
  AtReadPoint(respond, [this, store_id = req.store_id(), respond] {
    GetStoreRegionsResponse out;
    for (const meta::Region& r : fsm()->state().regions()) {
      for (const meta::Peer& p : r.peers()) {
        if (p.store_id() == store_id) *out.add_regions() = r;
      }
    }
    respond(out.SerializeAsString());
  });
}

void PdService::NoteTerm() {
  std::optional<raft::GroupInfo> info = raft_.Info(options_.group);
  if (!info || info->term == term_) return;
  // Heartbeats went to the leader of the earlier term: every age starts again from now.
  term_ = info->term;
  store_seen_ms_.clear();
  started_ms_ = SteadyMs();
}

void PdService::GetStores(const rpc::Envelope& e, Respond respond) {
  GetStoresRequest req;
  if (!Parse(e, &req, respond)) return;
  AtReadPoint(respond, [this, respond] {
    GetStoresResponse out;
    NoteTerm();
    const uint64_t now = SteadyMs();
    const auto disconnected = static_cast<uint64_t>(options_.store_disconnected_after.count());
    const auto down = static_cast<uint64_t>(options_.store_down_after.count());
    for (const StoreInfo& s : fsm()->state().stores()) {
      *out.add_stores() = s;
      auto it = store_seen_ms_.find(s.id());
      const bool seen = it != store_seen_ms_.end();  // since this member leads
      const uint64_t age = now - (seen ? it->second : started_ms_);
      const StoreState state = age > down                    ? STORE_DOWN
                               : age > disconnected || !seen ? STORE_DISCONNECTED
                                                             : STORE_UP;
      out.add_up(state == STORE_UP);
      out.add_state(state);
      out.add_heartbeat_age_ms(age);
    }
    if (std::optional<raft::GroupInfo> info = raft_.Info(options_.group)) {
      for (const raft::ConfigMember& m : info->servers) {
        PdMember* member = out.add_pd_members();
        member->set_id(m.id);
        for (const raft::Member& known : options_.members) {
          if (known.id == m.id) member->set_address(known.address);
        }
        member->set_leader(m.id == info->leader_id);
      }
    }
    respond(out.SerializeAsString());
  });
}

void PdService::GetRegions(const rpc::Envelope& e, Respond respond) {
  GetRegionsRequest req;
  if (!Parse(e, &req, respond)) return;
  AtReadPoint(respond, [this, respond] {
    GetRegionsResponse out;
    out.set_replicas(static_cast<uint32_t>(options_.replicas));
    for (const meta::Region& r : fsm()->state().regions()) {
      *out.add_regions() = r;
      auto it = region_leader_.find(r.id());
      out.add_leader_store_ids(it == region_leader_.end() ? 0 : it->second);
    }
    respond(out.SerializeAsString());
  });
}

void PdService::StoreHeartbeat(const rpc::Envelope& e, const rpc::PeerIdentity& peer,
                               Respond respond) {
  StoreHeartbeatRequest req;
  if (!Parse(e, &req, respond)) return;
  if (!peer.Is(rpc::PeerRole::kStore, req.store_id())) {
    respond(Status::PermissionDenied("heartbeat of store " + std::to_string(req.store_id()) +
                                     " sent by " + peer.ToString()));
    return;
  }
  AtReadPoint(respond, [this, req, respond] {
    const PdState& state = fsm()->state();
    bool known = false;
    for (const StoreInfo& s : state.stores()) known |= s.id() == req.store_id();
    if (!known) {
      respond(Status::NotFound("store " + std::to_string(req.store_id()) + " is not registered"));
      return;
    }
    NoteTerm();
    store_seen_ms_[req.store_id()] = SteadyMs();
    StoreHeartbeatResponse out;
    out.set_bootstrapped(state.regions_size() > 0);
    out.set_pd_term(term_);
    if (state.regions_size() == 0 && state.stores_size() >= options_.replicas && !bootstrapping_) {
      // The first region: the whole key space on the first `replicas` stores.
      std::vector<StoreInfo> stores(state.stores().begin(), state.stores().end());
      std::sort(stores.begin(), stores.end(),
                [](const StoreInfo& a, const StoreInfo& b) { return a.id() < b.id(); });
      PdCommand c;
      meta::Region* r = c.mutable_put_region();
      r->set_id(1);
      r->mutable_epoch()->set_conf_ver(1);
      r->mutable_epoch()->set_version(1);
      for (int i = 0; i < options_.replicas; ++i) {
        meta::Peer* p = r->add_peers();
        p->set_store_id(stores[static_cast<std::size_t>(i)].id());
        p->set_address(stores[static_cast<std::size_t>(i)].address());
      }
      bootstrapping_ = true;
      Propose(
          c, [this](Result<PdResult>) { bootstrapping_ = false; }, /*internal=*/true);
    }
    respond(out.SerializeAsString());
  });
}

void PdService::RegionHeartbeat(const rpc::Envelope& e, const rpc::PeerIdentity& peer,
                                Respond respond) {
  RegionHeartbeatRequest req;
  if (!Parse(e, &req, respond)) return;
  if (!peer.Is(rpc::PeerRole::kStore, req.leader_store_id())) {
    respond(Status::PermissionDenied("region heartbeat for leader store " +
                                     std::to_string(req.leader_store_id()) + " sent by " +
                                     peer.ToString()));
    return;
  }
  if (Status s = CheckBeat(req.region(), req.leader_store_id()); !s.ok()) {
    respond(s);
    return;
  }
  Beat(req.region(), req.leader_store_id(), [respond](Status s) {
    if (!s.ok()) {
      respond(s);
    } else {
      respond(RegionHeartbeatResponse().SerializeAsString());
    }
  });
}

void PdService::RegionHeartbeats(const rpc::Envelope& e, const rpc::PeerIdentity& peer,
                                 Respond respond) {
  RegionHeartbeatsRequest req;
  if (!Parse(e, &req, respond)) return;
  if (!peer.Is(rpc::PeerRole::kStore, req.leader_store_id())) {
    respond(Status::PermissionDenied("region heartbeats for leader store " +
                                     std::to_string(req.leader_store_id()) + " sent by " +
                                     peer.ToString()));
    return;
  }
  if (req.regions_size() > kMaxRegionsPerHeartbeat) {
    respond(Status::InvalidArgument("region heartbeats carry at most " +
                                    std::to_string(kMaxRegionsPerHeartbeat) + " regions, not " +
                                    std::to_string(req.regions_size())));
    return;
  }
  // Every region is checked before any is recorded: a bad one refuses the whole message.
  for (int i = 0; i < req.regions_size(); ++i) {
    if (Status s = CheckBeat(req.regions(i), req.leader_store_id()); !s.ok()) {
      respond(Status::InvalidArgument("region heartbeats: region #" + std::to_string(i) + ": " +
                                      s.message()));
      return;
    }
  }
  if (req.regions_size() == 0) {
    respond(RegionHeartbeatsResponse().SerializeAsString());
    return;
  }
  struct Pending {
    int left;
    Status first_error;
  };
  auto pending = std::make_shared<Pending>(Pending{req.regions_size(), Status::OK()});
  for (const meta::Region& region : req.regions()) {
    Beat(region, req.leader_store_id(), [pending, respond](Status s) {
      if (!s.ok() && pending->first_error.ok()) pending->first_error = s;
      if (--pending->left > 0) return;
      if (!pending->first_error.ok()) {
        respond(pending->first_error);
      } else {
        respond(RegionHeartbeatsResponse().SerializeAsString());
      }
    });
  }
}

Status PdService::CheckBeat(const meta::Region& region, uint64_t leader) const {
  if (region.id() == 0) return Status::InvalidArgument("region heartbeat without a region id");
  RETURN_IF_ERROR(CheckRegion(region));
  for (const meta::Peer& p : region.peers()) {
    if (p.store_id() == leader) return Status::OK();
  }
  return Status::InvalidArgument("a region's leader must be one of its peers");
}

void PdService::Beat(const meta::Region& region, uint64_t leader,
                     std::function<void(Status)> done) {
  region_records_heard_++;
  const uint64_t id = region.id();
  bool known = false;
  bool newer = true;
  for (const meta::Region& r : fsm()->state().regions()) {
    if (r.id() == id) {
      known = true;
      newer = region.epoch().conf_ver() > r.epoch().conf_ver() ||
              region.epoch().version() > r.epoch().version();
    }
  }
  // Leaders are remembered for regions PD holds (a record being proposed gets its leader once
  // applied), so heartbeats naming made-up regions cannot grow the map.
  if (known) region_leader_[id] = leader;
  // One proposal per region at a time: a heartbeat while one is in flight is answered at once,
  // and a newer record it carries comes again with the region's next heartbeat.
  if (!newer || region_proposing_.contains(id)) {
    done(Status::OK());
    return;
  }
  PdCommand c;
  *c.mutable_put_region() = region;
  region_proposing_.insert(id);
  Propose(c, [this, id, leader, done = std::move(done)](Result<PdResult> r) {
    region_proposing_.erase(id);
    if (!r.ok()) {
      done(r.status());
      return;
    }
    region_leader_[id] = leader;
    done(Status::OK());
  });
}

void PdService::Tso(const rpc::Envelope& e, Respond respond) {
  TsoRequest req;
  if (!Parse(e, &req, respond)) return;
  if (req.count() == 0 || req.count() >= kLogicalLimit) {
    respond(Status::InvalidArgument("tso count must be 1.." + std::to_string(kLogicalLimit - 1)));
    return;
  }
  if (tso_waiting_.size() >= options_.max_waiting_tso) {
    ++busy_tso_;
    respond(Status::Busy("PD has " + std::to_string(tso_waiting_.size()) +
                         " timestamp requests waiting (max_waiting_tso); try again later"));
    return;
  }
  tso_waiting_.emplace_back(req.count(), std::move(respond));
  ServeTso();
}

void PdService::ServeTso() {
  if (tso_saving_ || tso_waiting_.empty()) return;
  auto fail_all = [this](const Status& s) {
    std::deque<std::pair<uint32_t, Respond>> waiting;
    waiting.swap(tso_waiting_);
    for (auto& [count, respond] : waiting) respond(s);
  };
  auto info = raft_.Info(options_.group);
  if (!info || info->role != raft::Role::kLeader) {
    fail_all(Status::FailedPrecondition(
        "not the PD leader; leader at " +
        (info && !info->leader_address.empty() ? info->leader_address : "unknown")));
    return;
  }
  if (tso_term_ != info->term) {
    // A new term: start above whatever an earlier leader may have handed out.
    tso_saving_ = true;
    raft_.ReadIndex(options_.group, [this, term = info->term, fail_all](Result<uint64_t> at) {
      tso_saving_ = false;
      if (!at.ok()) {
        fail_all(at.status());
        return;
      }
      tso_term_ = term;
      tso_physical_ = std::max(NowMs(), fsm()->state().timestamp_high_water() + 1);
      tso_logical_ = 0;
      ServeTso();
    });
    return;
  }
  while (!tso_waiting_.empty()) {
    const uint32_t count = tso_waiting_.front().first;
    const uint64_t now = NowMs();
    if (now > tso_physical_) {
      tso_physical_ = now;
      tso_logical_ = 0;
    }
    if (tso_logical_ + count >= kLogicalLimit) {
      ++tso_physical_;
      tso_logical_ = 0;
    }
    if (tso_physical_ >= fsm()->state().timestamp_high_water()) {
      tso_saving_ = true;
      PdCommand c;
      c.set_save_timestamp(tso_physical_ + static_cast<uint64_t>(options_.tso_save_window.count()));
      Propose(
          c,
          [this, fail_all](Result<PdResult> r) {
            tso_saving_ = false;
            if (!r.ok()) {
              tso_term_ = 0;  // start over from the saved mark
              fail_all(r.status());
              return;
            }
            ServeTso();
          },
          /*internal=*/true);
      return;
    }
    tso_logical_ += count;
    TsoResponse out;
    out.set_physical(tso_physical_);
    out.set_logical(tso_logical_);
    Respond respond = std::move(tso_waiting_.front().second);
    tso_waiting_.pop_front();
    respond(out.SerializeAsString());
  }
}

}  // namespace rustorium::pd
