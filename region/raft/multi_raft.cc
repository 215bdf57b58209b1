#include "region/raft/multi_raft.h"

#include <spdlog/spdlog.h>

#include <future>

#include "region/raft/group_commit.h"
#include "region/raft/message_codec.h"
#include "region/raft/multi_raft_internal.h"
#include "region/raft/peer_transport.h"
#include "region/raft/snapshot_transfers.h"
#include "region/rpc/server.h"
#include "region/rpc/uv_loop.h"

namespace rustorium::raft {

struct MultiRaft::Ticker {
  uv_timer_t handle;  // first: the close callback frees the Ticker through it
  MultiRaft* owner = nullptr;
};

MultiRaft::MultiRaft(rpc::EventLoop& loop, engine::Engine* engine, MultiRaftOptions options)
    : loop_(loop), options_(std::move(options)), log_store_(engine) {
  transport_ = std::make_unique<PeerTransport>(
      loop_,
      PeerTransportOptions{options_.store_id, options_.address, options_.channel,
                           options_.max_message_bytes, options_.peer_role},
      &stats_);
  commit_ = std::make_unique<GroupCommit>(loop_, &log_store_, &stats_);
  if (options_.log_write_gate) commit_->set_write_gate(options_.log_write_gate);
  SnapshotTransferOptions so;
  so.store_id = options_.store_id;
  so.bytes_per_second = options_.snapshot_bytes_per_second;
  so.chunk_bytes = options_.snapshot_chunk_bytes;
  so.max_incoming = options_.max_incoming_snapshots;
  so.max_outgoing = options_.max_outgoing_snapshots;
  so.incoming_timeout = options_.install_snapshot_timeout;
  so.peer_role = options_.peer_role;
  SnapshotTransfers::Hooks hooks;
  hooks.machine = [this](GroupId group) -> StateMachine* {
    Group* g = Find(group);
    return g == nullptr || g->closing ? nullptr : g->sm.get();
  };
  hooks.send_install = [this](const std::string& address, RaftMessage install) {
    QueueMessage(address, std::move(install));
  };
  hooks.accept_from = [this](GroupId group, uint64_t from_id) -> Status {
    Group* g = Find(group);
    if (g == nullptr || g->closing) return Status::OK();  // answered NotFound after this
    return RaftIoGlue::SnapshotSenderAllowed(*g, from_id);
  };
  snapshots_ =
      std::make_unique<SnapshotTransfers>(loop_, so, &stats_, transport_.get(), std::move(hooks));
  loop_.RunSync([this] {
    ticker_ = new Ticker;
    ticker_->owner = this;
    uv_timer_init(rpc::UvLoop(loop_), &ticker_->handle);
    ticker_->handle.data = ticker_;
    const auto tick =
        static_cast<uint64_t>(options_.tick.count() > 0 ? options_.tick.count() : 100);
    uv_timer_start(
        &ticker_->handle, [](uv_timer_t* t) { static_cast<Ticker*>(t->data)->owner->Tick(); }, tick,
        tick);
  });
}

MultiRaft::~MultiRaft() {
  loop_.RunSync([this] {
    auto* handle = reinterpret_cast<uv_handle_t*>(&ticker_->handle);
    if (!uv_is_closing(handle)) {
      uv_close(handle, [](uv_handle_t* h) { delete reinterpret_cast<Ticker*>(h); });
    }
  });
  snapshots_.reset();    // ends every transfer
  loop_.RunSync([] {});  // close callbacks have run
  transport_.reset();    // off the loop thread, as RpcChannel requires
}

void MultiRaft::RegisterHandlers(rpc::RpcServer& server) {
  transport_->RegisterHandler(
      server, [this](const RaftMessage& m, uint64_t from_id, const std::string& from_address) {
        if (options_.receive_filter && !options_.receive_filter(m, from_id))
          return true;  // taken by the test
        return RaftIoGlue::Deliver(*this, m, from_id, from_address);
      });
  snapshots_->RegisterHandler(server);
}

MultiRaft::Group* MultiRaft::Find(GroupId group) const {
  auto it = groups_.find(group);
  return it == groups_.end() ? nullptr : it->second.get();
}

Status MultiRaft::CreateGroup(GroupId group, std::unique_ptr<StateMachine> sm,
                              const std::vector<Member>& bootstrap_members, bool campaign) {
  if (shutting_down_) return Status::FailedPrecondition("multi-raft is shutting down");
  if (groups_.count(group) != 0)
    return Status::FailedPrecondition("group " + std::to_string(group) + " exists");
  if (options_.store_id == 0) return Status::InvalidArgument("store id must be > 0");
  auto owned = std::make_unique<Group>();
  Group& g = *owned;
  g.owner = this;
  g.id = group;
  g.sm = std::move(sm);
  RaftIoGlue::Wire(g);

  int rv = raft_init(&g.r, &g.io, &g.fsm, options_.store_id, options_.address.c_str());
  if (rv != 0) return FromRaftError(rv, g.r.errmsg);
  groups_.emplace(group, std::move(owned));
  g.campaigning = campaign;
  const auto tick = static_cast<unsigned>(options_.tick.count());
  raft_set_election_timeout(&g.r,
                            campaign ? 3 * tick : static_cast<unsigned>(options_.election.count()));
  raft_set_heartbeat_timeout(&g.r,
                             campaign ? tick : static_cast<unsigned>(options_.heartbeat.count()));
  raft_set_install_snapshot_timeout(
      &g.r, static_cast<unsigned>(options_.install_snapshot_timeout.count()));
  raft_set_snapshot_threshold(&g.r, options_.snapshot_threshold);
  raft_set_snapshot_trailing(&g.r, options_.snapshot_trailing);
  raft_set_pre_vote(&g.r, options_.pre_vote);

  Status status;
  if (!bootstrap_members.empty()) {
    raft_configuration conf;
    raft_configuration_init(&conf);
    for (const Member& m : bootstrap_members) {
      rv = raft_configuration_add(&conf, m.id, m.address.c_str(), RAFT_VOTER);
      if (rv != 0) break;
    }
    if (rv == 0) rv = raft_bootstrap(&g.r, &conf);
    raft_configuration_close(&conf);
    if (rv != 0 && rv != RAFT_CANTBOOTSTRAP) status = FromRaftError(rv, raft_errmsg(&g.r));
  }
  if (status.ok()) {
    rv = raft_start(&g.r);
    if (rv != 0) status = FromRaftError(rv, raft_errmsg(&g.r));
  }
  if (!status.ok()) CloseGroup(group, false, [] {});
  return status;
}

bool MultiRaft::InjectMessage(const RaftMessage& message, uint64_t from_id,
                              const std::string& from_address) {
  return RaftIoGlue::Deliver(*this, message, from_id, from_address);
}

void MultiRaft::SetElectionTimeout(GroupId group, std::chrono::milliseconds election) {
  Group* g = Find(group);
  if (g != nullptr) raft_set_election_timeout(&g->r, static_cast<unsigned>(election.count()));
}

void MultiRaft::Tick() {
  for (auto& [id, g] : groups_) {
    if (g->apply_blocked && !g->closing) {  // a state machine that waited tries again
      g->apply_blocked = false;
      RaftIoGlue::ApplyQueued(*g);
    }
    if (g->tick_cb == nullptr || g->closing || g->installing_snapshot) continue;
    if (!RaftIoGlue::MayTick(*g)) {
      stats_.guard_ticks_skipped++;
      continue;
    }
    g->tick_cb(&g->io);
    RaftIoGlue::AfterStep(*g);
    if (g->campaigning &&
        (g->r.state == RAFT_LEADER ||
         (g->r.state == RAFT_FOLLOWER && g->r.follower_state.current_leader.id != 0))) {
      g->campaigning = false;
      raft_set_election_timeout(&g->r, static_cast<unsigned>(options_.election.count()));
      raft_set_heartbeat_timeout(&g->r, static_cast<unsigned>(options_.heartbeat.count()));
    }
  }
  // Incoming snapshot transfers whose sender went quiet are abandoned.
  snapshots_->Sweep();
}

// ---- the end of a loop turn ----

void MultiRaft::ScheduleFlush() {
  if (flush_scheduled_) return;
  flush_scheduled_ = true;
  loop_.AtEndOfTurn([this] { Flush(); });
}

void MultiRaft::Flush() {
  flush_scheduled_ = false;
  transport_->Flush();
  commit_->Flush();
  std::vector<Pending> done;
  done.swap(deferred_);
  for (Pending& p : done) {
    p.fn(0);
    IoDone(*p.group);
  }
}

void MultiRaft::QueueMessage(const std::string& address, RaftMessage message) {
  transport_->Queue(address, std::move(message));
  ScheduleFlush();
}

void MultiRaft::IoDone(Group& g) {
  --g.pending_io;
  ResolveReads(g);  // a completion may have committed and applied entries
  MaybeFinishClose(g);
}

// ---- client requests ----

namespace {

Status NotLeader(struct ::raft* r) {
  raft_id id = 0;
  const char* address = nullptr;
  raft_leader(r, &id, &address);
  return Status::FailedPrecondition("not leader; leader " + std::to_string(id) + " at " +
                                    (address != nullptr ? address : "unknown"));
}

// The error for a libraft call `rv` refused synchronously.
Status Refused(struct ::raft* r, int rv) {
  return rv == RAFT_NOTLEADER ? NotLeader(r) : FromRaftError(rv, raft_errmsg(r));
}

Status NoGroup(GroupId group) {
  return Status::NotFound("no raft group " + std::to_string(group) + " on this store");
}

struct ApplyRequest {
  struct raft_apply req;
  struct ::raft* r;
  std::function<void(Result<ProposeResult>)> done;
};

struct ChangeRequest {
  raft_change req;
  struct ::raft* r;
  uint64_t id;
  bool then_standby;  // AddLearner: after raft_add (SPARE), assign STANDBY
  MultiRaft::StatusCallback done;
};

struct TransferRequest {
  struct raft_transfer req;
  MultiRaft::StatusCallback done;
};

}  // namespace

MultiRaft::Group* MultiRaft::Open(GroupId group, Status* why) const {
  Group* g = Find(group);
  if (g == nullptr || g->closing) {
    *why = NoGroup(group);
    return nullptr;
  }
  return g;
}

MultiRaft::Group* MultiRaft::Leading(GroupId group, Status* why) const {
  Group* g = Open(group, why);
  if (g == nullptr) return nullptr;
  if (raft_state(&g->r) != RAFT_LEADER) {
    *why = NotLeader(&g->r);
    return nullptr;
  }
  return g;
}

void MultiRaft::Propose(GroupId group, std::string command,
                        std::function<void(Result<ProposeResult>)> done) {
  Status why;
  Group* g = Leading(group, &why);
  if (g == nullptr) {
    done(why);
    return;
  }
  raft_buffer buf{RaftCopy(command), command.size()};
  if (buf.base == nullptr) {
    done(Status::Internal("out of memory"));
    return;
  }
  auto* a = new ApplyRequest{{}, &g->r, std::move(done)};
  a->req.data = a;
  const int rv =
      raft_apply(&g->r, &a->req, &buf, 1, [](struct raft_apply* req, int status, void* result) {
        std::unique_ptr<ApplyRequest> a(static_cast<ApplyRequest*>(req->data));
        if (status != 0) {
          a->done(FromRaftError(status, nullptr));
          return;
        }
        // libraft applied the entry; its command goes through the state machine with the
        // rest of the turn's (RaftIoGlue::ApplyQueued).
        (void)result;
        Group& g = *static_cast<Group*>(a->r->data);
        RaftIoGlue::WhenApplied(
            g, req->index,
            [index = req->index, done = std::move(a->done)](const std::string* result) {
              ProposeResult out;
              out.index = index;
              if (result != nullptr) out.result = *result;
              done(std::move(out));
            });
      });
  if (rv != 0) {
    raft_free(buf.base);
    auto done_cb = std::move(a->done);
    delete a;
    done_cb(Refused(&g->r, rv));
  }
}

namespace {

void ChangeDone(raft_change* req, int status) {
  auto* c = static_cast<ChangeRequest*>(req->data);
  if (status == 0 && c->then_standby) {
    c->then_standby = false;
    const int rv = raft_assign(c->r, &c->req, c->id, RAFT_STANDBY, &ChangeDone);
    if (rv == 0) return;
    status = rv;
  }
  std::unique_ptr<ChangeRequest> owned(c);
  owned->done(FromRaftError(status, nullptr));
}

// Starts a membership change on `r` through `start`; `done` gets its outcome.
void StartChange(struct ::raft* r, uint64_t id, bool then_standby, MultiRaft::StatusCallback done,
                 const std::function<int(raft_change*)>& start) {
  auto* c = new ChangeRequest{{}, r, id, then_standby, std::move(done)};
  c->req.data = c;
  const int rv = start(&c->req);
  if (rv != 0) {
    std::unique_ptr<ChangeRequest> owned(c);
    owned->done(Refused(r, rv));
  }
}

}  // namespace

void MultiRaft::AddLearner(GroupId group, const Member& member, StatusCallback done) {
  Status why;
  Group* g = Open(group, &why);
  if (g == nullptr) return done(why);
  StartChange(&g->r, member.id, true, std::move(done), [&](raft_change* req) {
    return raft_add(&g->r, req, member.id, member.address.c_str(), &ChangeDone);
  });
}

void MultiRaft::Promote(GroupId group, uint64_t member_id, StatusCallback done) {
  Status why;
  Group* g = Open(group, &why);
  if (g == nullptr) return done(why);
  StartChange(&g->r, member_id, false, std::move(done), [&](raft_change* req) {
    return raft_assign(&g->r, req, member_id, RAFT_VOTER, &ChangeDone);
  });
}

void MultiRaft::RemoveMember(GroupId group, uint64_t member_id, StatusCallback done) {
  Status why;
  Group* g = Open(group, &why);
  if (g == nullptr) return done(why);
  StartChange(&g->r, member_id, false, std::move(done),
              [&](raft_change* req) { return raft_remove(&g->r, req, member_id, &ChangeDone); });
}

void MultiRaft::TransferLeader(GroupId group, uint64_t member_id, StatusCallback done) {
  Status why;
  Group* g = Open(group, &why);
  if (g == nullptr) return done(why);
  auto* t = new TransferRequest{{}, std::move(done)};
  t->req.data = t;
  const int rv = raft_transfer(&g->r, &t->req, member_id, [](struct raft_transfer* req) {
    std::unique_ptr<TransferRequest> t(static_cast<TransferRequest*>(req->data));
    t->done(Status::OK());
  });
  if (rv != 0) {
    std::unique_ptr<TransferRequest> owned(t);
    owned->done(Refused(&g->r, rv));
  }
}

// ---- closing ----

void MultiRaft::CloseGroup(GroupId group, bool destroy, std::function<void()> done) {
  Group* g = Find(group);
  if (g == nullptr) {
    done();
    return;
  }
  g->close_done.push_back(std::move(done));
  g->destroy = g->destroy || destroy;
  if (g->closing) return;
  g->closing = true;
  RaftIoGlue::DrainApplies(*g);  // what libraft applied reaches the state machine and its waiters
  FailReads(*g, Status::Aborted("raft group closed"));
  snapshots_->CancelGroup(group);
  raft_close(&g->r, [](struct ::raft* r) {
    auto* g = static_cast<Group*>(r->data);
    MultiRaft* self = g->owner;
    const GroupId id = g->id;
    // libraft is done with the instance once this callback returns.
    self->loop_.AtEndOfTurn([self, id] {
      auto it = self->groups_.find(id);
      if (it == self->groups_.end()) return;
      std::unique_ptr<Group> owned = std::move(it->second);
      self->groups_.erase(it);
      if (owned->destroy) {
        engine::WriteBatch batch;
        self->log_store_.StageDeleteGroup(batch, id);
        Status s = self->log_store_.Commit(batch);
        if (!s.ok())
          spdlog::error("raft group delete failed: group={} status=\"{}\"", id, s.ToString());
      }
      for (auto& fn : owned->close_done) fn();
      owned.reset();
      self->MaybeFinishShutdown();
    });
  });
}

void MultiRaft::MaybeFinishClose(Group& g) {
  if (g.io_close_cb == nullptr || g.pending_io > 0) return;
  raft_io_close_cb cb = g.io_close_cb;
  g.io_close_cb = nullptr;
  raft_io* io = &g.io;
  loop_.AtEndOfTurn([cb, io] { cb(io); });
}

void MultiRaft::Shutdown(std::function<void()> done) {
  shutting_down_ = true;
  uv_timer_stop(&ticker_->handle);
  shutdown_done_ = std::move(done);
  std::vector<GroupId> ids;
  for (const auto& [id, g] : groups_) ids.push_back(id);
  for (GroupId id : ids) CloseGroup(id, false, [] {});
  MaybeFinishShutdown();
}

void MultiRaft::ShutdownAndWait() {
  std::promise<void> closed;
  loop_.RunSync([&] { Shutdown([&] { closed.set_value(); }); });
  closed.get_future().wait();
}

void MultiRaft::MaybeFinishShutdown() {
  // Done once every group has closed and the group commit has nothing in flight (a truncation
  // staged without an append is still written).
  if (!shutting_down_ || !groups_.empty() || !shutdown_done_ || apply_works_ > 0) return;
  auto fn = std::move(shutdown_done_);
  shutdown_done_ = nullptr;
  commit_->Drain(std::move(fn));
}

// ---- inspection ----

namespace {

Role ToRole(int state) {
  switch (state) {
    case RAFT_FOLLOWER:
      return Role::kFollower;
    case RAFT_CANDIDATE:
      return Role::kCandidate;
    case RAFT_LEADER:
      return Role::kLeader;
    default:
      return Role::kUnavailable;
  }
}

Suffrage ToSuffrage(int role) {
  switch (role) {
    case RAFT_VOTER:
      return Suffrage::kVoter;
    case RAFT_STANDBY:
      return Suffrage::kStandby;
    default:
      return Suffrage::kSpare;
  }
}

}  // namespace

std::optional<GroupInfo> MultiRaft::Info(GroupId group) const {
  Group* g = Find(group);
  if (g == nullptr) return std::nullopt;
  GroupInfo info;
  info.role = ToRole(raft_state(&g->r));
  const char* address = nullptr;
  raft_id leader = 0;
  raft_leader(&g->r, &leader, &address);
  info.leader_id = leader;
  if (address != nullptr) info.leader_address = address;
  info.term = g->r.current_term;
  info.voted_for = g->r.voted_for;
  info.commit_index = g->r.commit_index;
  info.last_applied = raft_last_applied(&g->r);
  info.last_index = raft_last_index(&g->r);
  info.last_stored = g->r.last_stored;
  for (unsigned i = 0; i < g->r.configuration.n; ++i) {
    const raft_server& s = g->r.configuration.servers[i];
    info.servers.push_back({s.id, ToSuffrage(s.role)});
    if (info.role == Role::kLeader && g->r.leader_state.progress != nullptr) {
      info.match_indexes.emplace_back(
          s.id, s.id == g->r.id ? g->r.last_stored : g->r.leader_state.progress[i].match_index);
    }
  }
  return info;
}

std::vector<GroupId> MultiRaft::Groups() const {
  std::vector<GroupId> out;
  for (const auto& [id, g] : groups_) out.push_back(id);
  return out;
}

StateMachine* MultiRaft::state_machine(GroupId group) const {
  Group* g = Find(group);
  return g == nullptr ? nullptr : g->sm.get();
}

}  // namespace rustorium::raft
