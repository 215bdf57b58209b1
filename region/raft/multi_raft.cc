#include "region/raft/multi_raft.h"

#include <cstdio>
#include <cstring>
#include <future>
#include <random>

#include "base/codec.h"
#include "region/raft/message_codec.h"
#include "region/rpc/uv_loop.h"

namespace rustorium::raft {

namespace {

constexpr char kBatchMethod[] = "raft.Batch";
constexpr char kChunkMethod[] = "raft.SnapshotChunk";
constexpr char kSnapshotMarker[] = "rustorium.raft.snapshot.v1";
constexpr std::chrono::milliseconds kChunkTimeout{30000};

// A libraft snapshot built from stored metadata; nullptr when the metadata does not parse.
raft_snapshot* MakeSnapshot(const SnapshotMeta& meta) {
  Configuration conf;
  if (!conf.ParseFromString(meta.configuration)) return nullptr;
  auto* s = static_cast<raft_snapshot*>(raft_calloc(1, sizeof(raft_snapshot)));
  if (s == nullptr) return nullptr;
  if (!DecodeConfiguration(conf, &s->configuration).ok()) {
    raft_free(s);
    return nullptr;
  }
  s->index = meta.index;
  s->term = meta.term;
  s->configuration_index = meta.configuration_index;
  s->bufs = static_cast<raft_buffer*>(raft_malloc(sizeof(raft_buffer)));
  if (s->bufs != nullptr) s->bufs[0].base = RaftCopy(meta.data);
  if (s->bufs == nullptr || s->bufs[0].base == nullptr) {
    if (s->bufs != nullptr) raft_free(s->bufs);
    raft_configuration_close(&s->configuration);
    raft_free(s);
    return nullptr;
  }
  s->bufs[0].len = meta.data.size();
  s->n_bufs = 1;
  return s;
}

uint64_t NowMicros() { return uv_hrtime() / 1000; }

}  // namespace

// A completion owed to libraft, run later on the loop thread.
struct MultiRaft::Pending {
  Group* group;
  std::function<void(int status)> fn;
};

struct MultiRaft::Group {
  MultiRaft* owner = nullptr;
  GroupId id = 0;
  struct ::raft r {};
  raft_io io{};
  raft_fsm fsm{};
  std::unique_ptr<StateMachine> sm;
  raft_io_tick_cb tick_cb = nullptr;
  raft_io_recv_cb recv_cb = nullptr;
  bool closing = false;
  bool destroy = false;
  int pending_io = 0;  // completions owed to libraft (appends, sends, snapshot puts and gets)
  // A snapshot from a leader is being written. libraft 0.15 must not tick meanwhile: a tick
  // can make it a candidate, and its completion of the install then answers "the leader" from
  // the candidate's state (a wild pointer; the upstream fix holds elections off the same way).
  bool installing_snapshot = false;
  raft_io_close_cb io_close_cb = nullptr;
  std::vector<std::function<void()>> close_done;
  uint64_t next_index = 1;  // where the next append goes
  HardState hard;
  std::optional<SnapshotMeta> snapshot;  // the latest durable one
  std::mt19937_64 rng{std::random_device{}()};
  std::string last_result;  // the result of the command being applied, for its proposer
  std::vector<std::function<void(Result<uint64_t>)>> reads;
  bool read_scheduled = false;
};

struct MultiRaft::OutgoingTransfer {
  uint64_t id = 0;
  GroupId group = 0;
  std::string address;
  RaftMessage install;  // sent once every chunk is acknowledged
  std::unique_ptr<SnapshotReader> reader;
  uint64_t seq = 0;
  bool done_reading = false;
  uv_timer_t* timer = nullptr;
};

struct MultiRaft::IncomingTransfer {
  GroupId group = 0;
  std::unique_ptr<SnapshotWriter> writer;
  uint64_t next_seq = 0;
  bool complete = false;
  uint64_t applied_index = 0;
  uint64_t last_activity_ms = 0;
};

// libraft's C entry points, forwarding to the owning MultiRaft.
struct RaftIoGlue {
  using Group = MultiRaft::Group;
  static Group& G(raft_io* io) { return *static_cast<Group*>(io->impl); }
  static Group& G(raft_fsm* fsm) { return *static_cast<Group*>(fsm->data); }

  static int Init(raft_io*, raft_id, const char*) { return 0; }
  static void Close(raft_io* io, raft_io_close_cb cb) { G(io).owner->CloseIo(G(io), cb); }
  static int Load(raft_io* io, raft_term* term, raft_id* vote, raft_snapshot** snapshot,
                  raft_index* start_index, raft_entry** entries, size_t* n) {
    return G(io).owner->Load(G(io), term, vote, snapshot, start_index, entries, n);
  }
  static int Start(raft_io* io, unsigned, raft_io_tick_cb tick, raft_io_recv_cb recv) {
    G(io).tick_cb = tick;
    G(io).recv_cb = recv;
    return 0;
  }
  static int Bootstrap(raft_io* io, const raft_configuration* conf) {
    return G(io).owner->Bootstrap(G(io), conf);
  }
  static int Recover(raft_io* io, const raft_configuration* conf) {
    return G(io).owner->Recover(G(io), conf);
  }
  static int SetTerm(raft_io* io, raft_term term) {
    return G(io).owner->SetHardState(G(io), term, 0);
  }
  static int SetVote(raft_io* io, raft_id vote) {
    return G(io).owner->SetHardState(G(io), G(io).hard.term, vote);
  }
  static int Send(raft_io* io, raft_io_send* req, const raft_message* m, raft_io_send_cb cb) {
    return G(io).owner->Send(G(io), req, m, cb);
  }
  static int Append(raft_io* io, raft_io_append* req, const raft_entry entries[], unsigned n,
                    raft_io_append_cb cb) {
    return G(io).owner->Append(G(io), req, entries, n, cb);
  }
  static int Truncate(raft_io* io, raft_index index) { return G(io).owner->Truncate(G(io), index); }
  static int SnapshotPut(raft_io* io, unsigned trailing, raft_io_snapshot_put* req,
                         const raft_snapshot* s, raft_io_snapshot_put_cb cb) {
    return G(io).owner->SnapshotPut(G(io), trailing, req, s, cb);
  }
  static int SnapshotGet(raft_io* io, raft_io_snapshot_get* req, raft_io_snapshot_get_cb cb) {
    return G(io).owner->SnapshotGet(G(io), req, cb);
  }
  static raft_time Time(raft_io* io) { return uv_now(rpc::UvLoop(G(io).owner->loop_)); }
  static int Random(raft_io* io, int min, int max) {
    if (max <= min) return min;
    return std::uniform_int_distribution<int>(min, max - 1)(G(io).rng);
  }

  // The state machine, as libraft's FSM.
  static int Apply(raft_fsm* fsm, const raft_buffer* buf, void** result) {
    Group& g = G(fsm);
    *result = nullptr;
    // libraft applies entry last_applied + 1 and advances last_applied afterwards.
    const uint64_t index = g.r.last_applied + 1;
    if (index <= g.sm->AppliedIndex()) return 0;  // applied before a restart or a snapshot
    Result<std::string> out =
        g.sm->Apply(index, std::string_view(static_cast<const char*>(buf->base), buf->len));
    if (!out.ok()) {
      std::fprintf(stderr, "raft group %llu: apply of index %llu failed: %s\n",
                   static_cast<unsigned long long>(g.id), static_cast<unsigned long long>(index),
                   out.status().ToString().c_str());
      return RAFT_IOERR;
    }
    g.last_result = std::move(*out);
    *result = &g.last_result;
    return 0;
  }
  // The snapshot is a marker: the data is durable in the engine already.
  static int Snapshot(raft_fsm* fsm, raft_buffer* bufs[], unsigned* n) {
    Group& g = G(fsm);
    std::string marker(kSnapshotMarker);
    PutFixed64BE(marker, g.r.last_applied);
    PutFixed64BE(marker, g.sm->AppliedIndex());
    *bufs = static_cast<raft_buffer*>(raft_malloc(sizeof(raft_buffer)));
    if (*bufs == nullptr) return RAFT_NOMEM;
    (*bufs)[0].base = RaftCopy(marker);
    if ((*bufs)[0].base == nullptr) {
      raft_free(*bufs);
      return RAFT_NOMEM;
    }
    (*bufs)[0].len = marker.size();
    *n = 1;
    return 0;
  }
  // Nothing to restore from a marker: on restart the data is in the engine; a snapshot from a
  // leader was installed (SnapshotWriter::Finish) before libraft saw its message.
  static int Restore(raft_fsm*, raft_buffer* buf) {
    raft_free(buf->base);
    return 0;
  }
};

MultiRaft::MultiRaft(rpc::EventLoop& loop, engine::Engine* engine, MultiRaftOptions options)
    : loop_(loop),
      options_(std::move(options)),
      log_store_(engine),
      staged_(std::make_unique<engine::WriteBatch>()) {
  loop_.RunSync([this] {
    uv_timer_init(rpc::UvLoop(loop_), &tick_timer_);
    tick_timer_.data = this;
    const auto tick =
        static_cast<uint64_t>(options_.tick.count() > 0 ? options_.tick.count() : 100);
    uv_timer_start(
        &tick_timer_,
        [](uv_timer_t* t) {
          auto* self = static_cast<MultiRaft*>(t->data);
          for (auto& [id, g] : self->groups_) {
            if (g->tick_cb != nullptr && !g->closing && !g->installing_snapshot) g->tick_cb(&g->io);
          }
          // Incoming snapshot transfers whose sender went quiet are abandoned.
          const uint64_t now = uv_now(rpc::UvLoop(self->loop_));
          const auto limit = static_cast<uint64_t>(self->options_.install_snapshot_timeout.count());
          for (auto it = self->transfers_in_.begin(); it != self->transfers_in_.end();) {
            it = now - it->second->last_activity_ms > limit ? self->transfers_in_.erase(it)
                                                            : std::next(it);
          }
        },
        tick, tick);
  });
}

MultiRaft::~MultiRaft() {
  loop_.RunSync([this] {
    transfers_in_.clear();
    for (auto& [id, t] : transfers_out_) {
      if (t->timer != nullptr) {
        uv_close(reinterpret_cast<uv_handle_t*>(t->timer),
                 [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
      }
    }
    transfers_out_.clear();
    if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&tick_timer_))) {
      uv_close(reinterpret_cast<uv_handle_t*>(&tick_timer_), nullptr);
    }
  });
  loop_.RunSync([] {});  // close callbacks have run
  channels_.clear();     // off the loop thread, as RpcChannel requires
}

void MultiRaft::RegisterHandlers(rpc::RpcServer& server) {
  server.OnMessage(kBatchMethod, [this](const rpc::Envelope& e) { OnBatch(e); });
  server.Handle(kChunkMethod, [this](const rpc::Envelope& e, rpc::RpcServer::Responder respond) {
    OnChunk(e, std::move(respond));
  });
}

MultiRaft::Group* MultiRaft::Find(GroupId group) const {
  auto it = groups_.find(group);
  return it == groups_.end() ? nullptr : it->second.get();
}

Status MultiRaft::CreateGroup(GroupId group, std::unique_ptr<StateMachine> sm,
                              const std::vector<Peer>& bootstrap_peers) {
  if (shutting_down_) return Status::FailedPrecondition("multi-raft is shutting down");
  if (groups_.count(group) != 0)
    return Status::FailedPrecondition("group " + std::to_string(group) + " exists");
  if (options_.store_id == 0) return Status::InvalidArgument("store id must be > 0");
  auto owned = std::make_unique<Group>();
  Group& g = *owned;
  g.owner = this;
  g.id = group;
  g.sm = std::move(sm);
  g.r.data = &g;
  g.io.version = 1;
  g.io.impl = &g;
  g.io.init = &RaftIoGlue::Init;
  g.io.close = &RaftIoGlue::Close;
  g.io.load = &RaftIoGlue::Load;
  g.io.start = &RaftIoGlue::Start;
  g.io.bootstrap = &RaftIoGlue::Bootstrap;
  g.io.recover = &RaftIoGlue::Recover;
  g.io.set_term = &RaftIoGlue::SetTerm;
  g.io.set_vote = &RaftIoGlue::SetVote;
  g.io.send = &RaftIoGlue::Send;
  g.io.append = &RaftIoGlue::Append;
  g.io.truncate = &RaftIoGlue::Truncate;
  g.io.snapshot_put = &RaftIoGlue::SnapshotPut;
  g.io.snapshot_get = &RaftIoGlue::SnapshotGet;
  g.io.time = &RaftIoGlue::Time;
  g.io.random = &RaftIoGlue::Random;
  g.fsm.version = 1;
  g.fsm.data = &g;
  g.fsm.apply = &RaftIoGlue::Apply;
  g.fsm.snapshot = &RaftIoGlue::Snapshot;
  g.fsm.restore = &RaftIoGlue::Restore;

  int rv = raft_init(&g.r, &g.io, &g.fsm, options_.store_id, options_.address.c_str());
  if (rv != 0) return FromRaftError(rv, g.r.errmsg);
  groups_.emplace(group, std::move(owned));
  raft_set_election_timeout(&g.r, static_cast<unsigned>(options_.election.count()));
  raft_set_heartbeat_timeout(&g.r, static_cast<unsigned>(options_.heartbeat.count()));
  raft_set_install_snapshot_timeout(
      &g.r, static_cast<unsigned>(options_.install_snapshot_timeout.count()));
  raft_set_snapshot_threshold(&g.r, options_.snapshot_threshold);
  raft_set_snapshot_trailing(&g.r, options_.snapshot_trailing);
  raft_set_pre_vote(&g.r, options_.pre_vote);

  Status status;
  if (!bootstrap_peers.empty()) {
    raft_configuration conf;
    raft_configuration_init(&conf);
    for (const Peer& p : bootstrap_peers) {
      rv = raft_configuration_add(&conf, p.id, p.address.c_str(), RAFT_VOTER);
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

// ---- raft_io: storage ----

int MultiRaft::Load(Group& g, raft_term* term, raft_id* vote, raft_snapshot** snapshot,
                    raft_index* start_index, raft_entry** entries, size_t* n_entries) {
  Result<LoadedGroup> loaded = log_store_.Load(g.id);
  if (!loaded.ok()) {
    std::snprintf(g.io.errmsg, sizeof(g.io.errmsg), "%s", loaded.status().ToString().c_str());
    return RAFT_CORRUPT;
  }
  g.hard = loaded->hard_state;
  g.snapshot = loaded->snapshot;
  *term = g.hard.term;
  *vote = g.hard.vote;
  *snapshot = nullptr;
  *entries = nullptr;
  *n_entries = 0;
  *start_index = loaded->first_index;
  g.next_index = loaded->first_index + loaded->entries.size();
  if (g.snapshot.has_value()) {
    *snapshot = MakeSnapshot(*g.snapshot);
    if (*snapshot == nullptr) {
      std::snprintf(g.io.errmsg, sizeof(g.io.errmsg),
                    "snapshot metadata of group %llu does not parse",
                    static_cast<unsigned long long>(g.id));
      return RAFT_CORRUPT;
    }
  }
  if (!loaded->entries.empty()) {
    raft_entry* array = NewEntryBatch(loaded->entries.size(), [&](std::size_t i) {
      const LogEntry& e = loaded->entries[i];
      return EntryView{e.term, e.type, e.data};
    });
    if (array == nullptr) return RAFT_NOMEM;
    *entries = array;
    *n_entries = loaded->entries.size();
  }
  return 0;
}

int MultiRaft::Bootstrap(Group& g, const raft_configuration* conf) {
  Result<LoadedGroup> loaded = log_store_.Load(g.id);
  if (!loaded.ok()) return RAFT_CORRUPT;
  if (loaded->hard_state.term != 0 || !loaded->entries.empty() || loaded->snapshot.has_value()) {
    return RAFT_CANTBOOTSTRAP;
  }
  raft_buffer buf;
  int rv = raft_configuration_encode(conf, &buf);
  if (rv != 0) return rv;
  LogEntry first{1, RAFT_CHANGE, std::string(static_cast<const char*>(buf.base), buf.len)};
  raft_free(buf.base);
  engine::WriteBatch batch;
  log_store_.StageAppend(batch, g.id, 1, std::span<const LogEntry>(&first, 1));
  if (!log_store_.Commit(batch).ok()) return RAFT_IOERR;
  stats_.log_writes++;
  return SetHardState(g, 1, 0);
}

int MultiRaft::Recover(Group& g, const raft_configuration* conf) {
  Result<LoadedGroup> loaded = log_store_.Load(g.id);
  if (!loaded.ok()) return RAFT_CORRUPT;
  raft_buffer buf;
  int rv = raft_configuration_encode(conf, &buf);
  if (rv != 0) return rv;
  LogEntry entry{loaded->hard_state.term, RAFT_CHANGE,
                 std::string(static_cast<const char*>(buf.base), buf.len)};
  raft_free(buf.base);
  engine::WriteBatch batch;
  log_store_.StageAppend(batch, g.id, loaded->first_index + loaded->entries.size(),
                         std::span<const LogEntry>(&entry, 1));
  if (!log_store_.Commit(batch).ok()) return RAFT_IOERR;
  stats_.log_writes++;
  return 0;
}

int MultiRaft::SetHardState(Group& g, raft_term term, raft_id vote) {
  const HardState next{term, vote};
  Status s = log_store_.SetHardState(g.id, next);
  if (!s.ok()) {
    std::snprintf(g.io.errmsg, sizeof(g.io.errmsg), "%s", s.ToString().c_str());
    return RAFT_IOERR;
  }
  stats_.hard_state_writes++;
  g.hard = next;
  return 0;
}

int MultiRaft::Append(Group& g, raft_io_append* req, const raft_entry entries[], unsigned n,
                      raft_io_append_cb cb) {
  if (g.closing) return RAFT_CANCELED;
  for (unsigned i = 0; i < n; ++i) {
    log_store_.StageEntry(
        *staged_, g.id, g.next_index + i, entries[i].term, entries[i].type,
        std::string_view(static_cast<const char*>(entries[i].buf.base), entries[i].buf.len));
  }
  g.next_index += n;
  stats_.append_requests++;
  stats_.entries_appended += n;
  ++g.pending_io;
  staged_done_.push_back({&g, [req, cb](int status) {
                            if (cb != nullptr) cb(req, status);
                          }});
  ScheduleFlush();
  return 0;
}

int MultiRaft::Truncate(Group& g, raft_index index) {
  if (g.closing) return RAFT_CANCELED;
  log_store_.StageTruncateSuffix(*staged_, g.id, index);
  g.next_index = index;
  staged_dirty_ = true;
  ScheduleFlush();
  return 0;
}

int MultiRaft::SnapshotPut(Group& g, unsigned trailing, raft_io_snapshot_put* req,
                           const raft_snapshot* snapshot, raft_io_snapshot_put_cb cb) {
  if (g.closing) return RAFT_CANCELED;
  SnapshotMeta meta;
  meta.index = snapshot->index;
  meta.term = snapshot->term;
  meta.configuration_index = snapshot->configuration_index;
  Configuration conf;
  EncodeConfiguration(snapshot->configuration, &conf);
  meta.configuration = conf.SerializeAsString();
  for (unsigned i = 0; i < snapshot->n_bufs; ++i) {
    meta.data.append(static_cast<const char*>(snapshot->bufs[i].base), snapshot->bufs[i].len);
  }
  if (trailing == 0) {
    // Installed from a leader: the snapshot replaces the whole log.
    log_store_.StageTruncateSuffix(*staged_, g.id, 0);
    log_store_.StageSnapshot(*staged_, g.id, meta, 0);
    g.next_index = meta.index + 1;
    g.installing_snapshot = true;
  } else {
    log_store_.StageSnapshot(*staged_, g.id, meta,
                             meta.index > trailing ? meta.index - trailing : 0);
  }
  ++g.pending_io;
  Group* gp = &g;
  staged_done_.push_back({&g, [gp, meta = std::move(meta), req, cb](int status) mutable {
                            gp->installing_snapshot = false;
                            if (status == 0) gp->snapshot = std::move(meta);
                            if (cb != nullptr) cb(req, status);
                          }});
  ScheduleFlush();
  return 0;
}

int MultiRaft::SnapshotGet(Group& g, raft_io_snapshot_get* req, raft_io_snapshot_get_cb cb) {
  if (g.closing) return RAFT_CANCELED;
  if (!g.snapshot.has_value()) return RAFT_NOTFOUND;
  raft_snapshot* s = MakeSnapshot(*g.snapshot);
  if (s == nullptr) return RAFT_CORRUPT;
  ++g.pending_io;
  deferred_.push_back({&g, [req, cb, s](int) { cb(req, s, 0); }});
  ScheduleFlush();
  return 0;
}

// ---- group commit ----

void MultiRaft::ScheduleFlush() {
  if (flush_scheduled_) return;
  flush_scheduled_ = true;
  loop_.AtEndOfTurn([this] { Flush(); });
}

void MultiRaft::Flush() {
  flush_scheduled_ = false;
  SendBatches();
  if (!write_in_flight_ && (!staged_done_.empty() || staged_dirty_)) StartWrite();
  std::vector<Pending> done;
  done.swap(deferred_);
  for (Pending& p : done) {
    p.fn(0);
    --p.group->pending_io;
    MaybeFinishClose(*p.group);
  }
}

namespace {
struct WriteWork {
  uv_work_t req;
  MultiRaft* self;
  RaftLogStore* store;
  engine::WriteBatch* batch;
  Status status;
};
}  // namespace

void MultiRaft::StartWrite() {
  write_in_flight_ = true;
  writing_ = std::move(staged_);
  staged_ = std::make_unique<engine::WriteBatch>();
  writing_done_.swap(staged_done_);
  staged_done_.clear();
  staged_dirty_ = false;
  auto* work = new WriteWork{{}, this, &log_store_, writing_.get(), Status::OK()};
  work->req.data = work;
  const int rv = uv_queue_work(
      rpc::UvLoop(loop_), &work->req,
      [](uv_work_t* r) {
        auto* w = static_cast<WriteWork*>(r->data);
        w->status = w->store->Commit(*w->batch);
      },
      [](uv_work_t* r, int) {
        auto* w = static_cast<WriteWork*>(r->data);
        MultiRaft* self = w->self;
        Status status = std::move(w->status);
        delete w;
        self->WriteDone(std::move(status));
      });
  if (rv != 0) {
    work->status = Status::IOError(std::string("queueing the raft log write: ") + uv_strerror(rv));
    Status status = std::move(work->status);
    delete work;
    WriteDone(std::move(status));
  }
}

void MultiRaft::WriteDone(Status status) {
  write_in_flight_ = false;
  stats_.log_writes++;
  if (!status.ok()) std::fprintf(stderr, "raft log write failed: %s\n", status.ToString().c_str());
  const int code = status.ok() ? 0 : RAFT_IOERR;
  std::vector<Pending> done;
  done.swap(writing_done_);
  writing_.reset();
  for (Pending& p : done) {
    p.fn(code);
    --p.group->pending_io;
    MaybeFinishClose(*p.group);
  }
  if (!staged_done_.empty() || staged_dirty_) {
    StartWrite();
    return;
  }
  MaybeFinishShutdown();
}

// ---- transport ----

int MultiRaft::Send(Group& g, raft_io_send* req, const raft_message* message, raft_io_send_cb cb) {
  if (g.closing) return RAFT_CANCELED;
  if (message->server_address == nullptr) return RAFT_NOCONNECTION;
  if (message->type == RAFT_IO_INSTALL_SNAPSHOT) {
    StartTransfer(g, *message);
  } else {
    RaftMessage m;
    if (!EncodeMessage(g.id, *message, &m).ok()) return RAFT_MALFORMED;
    QueueMessage(message->server_address, std::move(m));
  }
  // Sent as far as libraft is concerned (the transport is best effort; Raft retries).
  ++g.pending_io;
  deferred_.push_back({&g, [req, cb](int status) {
                         if (cb != nullptr)
                           cb(req, status);  // libraft sends some messages without one
                       }});
  ScheduleFlush();
  return 0;
}

void MultiRaft::QueueMessage(const std::string& address, RaftMessage message) {
  auto [it, inserted] = outgoing_.try_emplace(address);
  if (inserted) {
    it->second.set_from_id(options_.store_id);
    it->second.set_from_address(options_.address);
  }
  it->second.add_messages()->Swap(&message);
  ScheduleFlush();
}

rpc::RpcChannel* MultiRaft::ChannelTo(const std::string& address) {
  auto it = channels_.find(address);
  if (it != channels_.end()) return it->second.get();
  Result<rpc::HostPort> hp = rpc::ParseAddress(address);
  if (!hp.ok()) return nullptr;
  auto channel = std::make_unique<rpc::RpcChannel>(loop_, hp->host, hp->port, options_.channel);
  rpc::RpcChannel* raw = channel.get();
  channels_.emplace(address, std::move(channel));
  return raw;
}

void MultiRaft::SendBatches() {
  for (auto& [address, batch] : outgoing_) {
    rpc::RpcChannel* channel = ChannelTo(address);
    const auto n = static_cast<uint64_t>(batch.messages_size());
    if (channel == nullptr) {
      stats_.messages_dropped += n;
      continue;
    }
    channel->Send(kBatchMethod, batch.SerializeAsString());
    stats_.messages_sent += n;
    stats_.batches_sent++;
  }
  outgoing_.clear();
}

void MultiRaft::OnBatch(const rpc::Envelope& envelope) {
  RaftBatch batch;
  if (!batch.ParseFromString(envelope.payload()) || batch.from_id() == 0) {
    stats_.messages_dropped++;
    return;
  }
  for (const RaftMessage& m : batch.messages()) {
    stats_.messages_received++;
    Group* g = Find(m.group_id());
    if (m.to_id() != options_.store_id || g == nullptr || g->recv_cb == nullptr || g->closing) {
      stats_.messages_dropped++;
      continue;
    }
    Deliver(*g, m, batch.from_id(), batch.from_address());
  }
}

void MultiRaft::Deliver(Group& g, const RaftMessage& m, uint64_t from_id,
                        const std::string& from_address) {
  if (m.has_install_snapshot() && m.install_snapshot().transfer_id() != 0) {
    // The data must be complete and installed before Raft hears of the snapshot: once libraft
    // stores the marker and drops its log, the data has to be there.
    auto it = transfers_in_.find({from_id, m.install_snapshot().transfer_id()});
    if (it == transfers_in_.end() || !it->second->complete || it->second->group != g.id) {
      stats_.messages_dropped++;
      return;
    }
    std::unique_ptr<IncomingTransfer> t = std::move(it->second);
    transfers_in_.erase(it);
    // Never move a state machine backwards: when it is ahead of the data, it keeps its own.
    if (t->applied_index > g.sm->AppliedIndex()) {
      Status s = t->writer->Finish(t->applied_index);
      if (!s.ok()) {
        std::fprintf(stderr, "raft group %llu: installing a snapshot failed: %s\n",
                     static_cast<unsigned long long>(g.id), s.ToString().c_str());
        stats_.messages_dropped++;
        return;
      }
      stats_.snapshots_installed++;
    }
  }
  raft_message msg;
  if (!DecodeMessage(m, from_id, from_address.c_str(), &msg).ok()) {
    stats_.messages_dropped++;
    return;
  }
  g.recv_cb(&g.io, &msg);  // libraft owns what the message allocated
}

// ---- snapshot streaming ----

void MultiRaft::StartTransfer(Group& g, const raft_message& message) {
  const std::string address = message.server_address;
  for (const auto& [id, t] : transfers_out_) {
    if (t->group == g.id && t->address == address) return;  // one at a time; libraft retries
  }
  Result<std::unique_ptr<SnapshotReader>> reader = g.sm->OpenSnapshot();
  if (!reader.ok()) {
    std::fprintf(stderr, "raft group %llu: opening a snapshot failed: %s\n",
                 static_cast<unsigned long long>(g.id), reader.status().ToString().c_str());
    return;
  }
  auto t = std::make_unique<OutgoingTransfer>();
  t->id = next_transfer_id_++;
  t->group = g.id;
  t->address = address;
  t->reader = std::move(*reader);
  if (!EncodeMessage(g.id, message, &t->install).ok()) return;
  t->install.mutable_install_snapshot()->set_transfer_id(t->id);
  t->timer = new uv_timer_t{};
  uv_timer_init(rpc::UvLoop(loop_), t->timer);
  t->timer->data = nullptr;
  const uint64_t id = t->id;
  transfers_out_.emplace(id, std::move(t));
  stats_.snapshots_sent++;
  PumpTransfer(id);
}

void MultiRaft::PumpTransfer(uint64_t transfer_id) {
  auto it = transfers_out_.find(transfer_id);
  if (it == transfers_out_.end()) return;
  OutgoingTransfer& t = *it->second;
  if (Find(t.group) == nullptr || t.done_reading) {
    EndTransfer(transfer_id);
    return;
  }
  SnapshotChunk chunk;
  chunk.set_group_id(t.group);
  chunk.set_from_id(options_.store_id);
  chunk.set_transfer_id(t.id);
  chunk.set_seq(t.seq++);
  std::string data;
  Result<bool> more = t.reader->Next(&data, options_.snapshot_chunk_bytes);
  if (!more.ok()) {
    EndTransfer(transfer_id);
    return;
  }
  if (!*more) {
    chunk.set_last(true);
    chunk.set_applied_index(t.reader->applied_index());
    t.done_reading = true;
  }
  chunk.set_data(std::move(data));
  // Store-wide pacing: each chunk books its share of the bandwidth.
  const uint64_t bytes = chunk.data().size();
  const uint64_t now = NowMicros();
  const uint64_t start = std::max(now, bandwidth_free_at_us_);
  const uint64_t rate = std::max<uint64_t>(options_.snapshot_bytes_per_second, 1);
  bandwidth_free_at_us_ = start + bytes * 1000000 / rate;
  stats_.snapshot_bytes_sent += bytes;
  auto send = [this, transfer_id, chunk = std::move(chunk)]() {
    auto it = transfers_out_.find(transfer_id);
    if (it == transfers_out_.end()) return;
    rpc::RpcChannel* channel = ChannelTo(it->second->address);
    if (channel == nullptr) {
      EndTransfer(transfer_id);
      return;
    }
    const bool last = chunk.last();
    channel->Call(kChunkMethod, chunk.SerializeAsString(), kChunkTimeout,
                  [this, transfer_id, last](Result<std::string> r) {
                    auto it = transfers_out_.find(transfer_id);
                    if (it == transfers_out_.end()) return;
                    if (!r.ok()) {
                      EndTransfer(transfer_id);
                      return;
                    }
                    if (last) {
                      QueueMessage(it->second->address, std::move(it->second->install));
                      EndTransfer(transfer_id);
                      return;
                    }
                    PumpTransfer(transfer_id);
                  });
  };
  if (start <= now) {
    send();
    return;
  }
  // Wait for our turn on the bandwidth clock.
  auto* pending = new std::function<void()>(std::move(send));
  t.timer->data = pending;
  uv_timer_start(
      t.timer,
      [](uv_timer_t* timer) {
        auto* fn = static_cast<std::function<void()>*>(timer->data);
        timer->data = nullptr;
        (*fn)();
        delete fn;
      },
      (start - now + 999) / 1000, 0);
}

void MultiRaft::EndTransfer(uint64_t transfer_id) {
  auto it = transfers_out_.find(transfer_id);
  if (it == transfers_out_.end()) return;
  uv_timer_t* timer = it->second->timer;
  transfers_out_.erase(it);
  if (timer != nullptr) {
    uv_timer_stop(timer);
    delete static_cast<std::function<void()>*>(timer->data);
    timer->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(timer),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
  }
}

void MultiRaft::OnChunk(const rpc::Envelope& request, rpc::RpcServer::Responder respond) {
  SnapshotChunk chunk;
  if (!chunk.ParseFromString(request.payload()) || chunk.from_id() == 0) {
    respond(Status::InvalidArgument("malformed snapshot chunk"));
    return;
  }
  Group* g = Find(chunk.group_id());
  if (g == nullptr || g->closing) {
    respond(
        Status::NotFound("no raft group " + std::to_string(chunk.group_id()) + " on this store"));
    return;
  }
  const std::pair<uint64_t, uint64_t> key{chunk.from_id(), chunk.transfer_id()};
  if (chunk.seq() == 0) {
    // A new transfer from this sender replaces any older one for the same group.
    for (auto it = transfers_in_.begin(); it != transfers_in_.end();) {
      it = it->first.first == chunk.from_id() && it->second->group == g->id
               ? transfers_in_.erase(it)
               : std::next(it);
    }
    if (transfers_in_.size() >= options_.max_incoming_snapshots) {
      respond(Status::Busy("too many snapshots arriving at once"));
      return;
    }
    Result<std::unique_ptr<SnapshotWriter>> writer = g->sm->BeginSnapshot();
    if (!writer.ok()) {
      respond(writer.status());
      return;
    }
    auto t = std::make_unique<IncomingTransfer>();
    t->group = g->id;
    t->writer = std::move(*writer);
    transfers_in_[key] = std::move(t);
  }
  auto it = transfers_in_.find(key);
  if (it == transfers_in_.end() || it->second->group != g->id || it->second->complete ||
      it->second->next_seq != chunk.seq()) {
    if (it != transfers_in_.end()) transfers_in_.erase(it);
    respond(Status::Aborted("snapshot chunk out of order"));
    return;
  }
  IncomingTransfer& t = *it->second;
  Status s = t.writer->Add(chunk.data());
  if (!s.ok()) {
    transfers_in_.erase(it);
    respond(s);
    return;
  }
  t.next_seq++;
  t.last_activity_ms = uv_now(rpc::UvLoop(loop_));
  if (chunk.last()) {
    t.complete = true;
    t.applied_index = chunk.applied_index();
  }
  respond(std::string());
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
  std::function<void(Result<ProposeResult>)> done;
};

struct BarrierRequest {
  struct raft_barrier req;
  struct ::raft* r;
  std::vector<std::function<void(Result<uint64_t>)>> reads;
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

MultiRaft::Group* MultiRaft::Leading(GroupId group, Status* why) const {
  Group* g = Find(group);
  if (g == nullptr || g->closing) {
    *why = NoGroup(group);
    return nullptr;
  }
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
  auto* a = new ApplyRequest{{}, std::move(done)};
  a->req.data = a;
  const int rv =
      raft_apply(&g->r, &a->req, &buf, 1, [](struct raft_apply* req, int status, void* result) {
        std::unique_ptr<ApplyRequest> a(static_cast<ApplyRequest*>(req->data));
        if (status != 0) {
          a->done(FromRaftError(status, nullptr));
          return;
        }
        ProposeResult out;
        out.index = req->index;
        if (result != nullptr) out.result = *static_cast<std::string*>(result);
        a->done(std::move(out));
      });
  if (rv != 0) {
    raft_free(buf.base);
    auto done_cb = std::move(a->done);
    delete a;
    done_cb(Refused(&g->r, rv));
  }
}

void MultiRaft::ReadIndex(GroupId group, std::function<void(Result<uint64_t>)> done) {
  Status why;
  Group* g = Leading(group, &why);
  if (g == nullptr) {
    done(why);
    return;
  }
  g->reads.push_back(std::move(done));
  if (g->read_scheduled) return;
  g->read_scheduled = true;
  loop_.AtEndOfTurn([this, group] { IssueReadBarrier(group); });
}

void MultiRaft::IssueReadBarrier(GroupId group) {
  Group* g = Find(group);
  if (g == nullptr) return;  // closed: CloseGroup failed the reads
  g->read_scheduled = false;
  auto* b = new BarrierRequest{{}, &g->r, {}};
  b->reads.swap(g->reads);
  b->req.data = b;
  stats_.read_barriers++;
  const int rv = raft_barrier(&g->r, &b->req, [](struct raft_barrier* req, int status) {
    std::unique_ptr<BarrierRequest> b(static_cast<BarrierRequest*>(req->data));
    // Applied through the barrier: everything committed before the reads arrived.
    const Result<uint64_t> at = status == 0 ? Result<uint64_t>(raft_last_applied(b->r))
                                            : Result<uint64_t>(FromRaftError(status, nullptr));
    for (auto& read : b->reads) read(at);
  });
  if (rv != 0) {
    std::unique_ptr<BarrierRequest> owned(b);
    const Status s = Refused(&g->r, rv);
    for (auto& read : owned->reads) read(s);
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

}  // namespace

void MultiRaft::Change(GroupId group, uint64_t peer_id, bool then_standby, StatusCallback done,
                       const std::function<int(struct ::raft*, raft_change*)>& start) {
  Group* g = Find(group);
  if (g == nullptr || g->closing) {
    done(NoGroup(group));
    return;
  }
  auto* c = new ChangeRequest{{}, &g->r, peer_id, then_standby, std::move(done)};
  c->req.data = c;
  const int rv = start(&g->r, &c->req);
  if (rv != 0) {
    std::unique_ptr<ChangeRequest> owned(c);
    owned->done(Refused(&g->r, rv));
  }
}

void MultiRaft::AddLearner(GroupId group, const Peer& peer, StatusCallback done) {
  Change(group, peer.id, true, std::move(done), [&](struct ::raft* r, raft_change* req) {
    return raft_add(r, req, peer.id, peer.address.c_str(), &ChangeDone);
  });
}

void MultiRaft::Promote(GroupId group, uint64_t peer_id, StatusCallback done) {
  Change(group, peer_id, false, std::move(done), [&](struct ::raft* r, raft_change* req) {
    return raft_assign(r, req, peer_id, RAFT_VOTER, &ChangeDone);
  });
}

void MultiRaft::RemovePeer(GroupId group, uint64_t peer_id, StatusCallback done) {
  Change(group, peer_id, false, std::move(done), [&](struct ::raft* r, raft_change* req) {
    return raft_remove(r, req, peer_id, &ChangeDone);
  });
}

void MultiRaft::TransferLeader(GroupId group, uint64_t peer_id, StatusCallback done) {
  Group* g = Find(group);
  if (g == nullptr || g->closing) {
    done(NoGroup(group));
    return;
  }
  auto* t = new TransferRequest{{}, std::move(done)};
  t->req.data = t;
  const int rv = raft_transfer(&g->r, &t->req, peer_id, [](struct raft_transfer* req) {
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
  std::vector<std::function<void(Result<uint64_t>)>> reads;
  reads.swap(g->reads);
  for (auto& read : reads) read(Status::Aborted("raft group closed"));
  for (auto it = transfers_in_.begin(); it != transfers_in_.end();) {
    it = it->second->group == group ? transfers_in_.erase(it) : std::next(it);
  }
  std::vector<uint64_t> out;
  for (const auto& [id, t] : transfers_out_) {
    if (t->group == group) out.push_back(id);
  }
  for (uint64_t id : out) EndTransfer(id);
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
          std::fprintf(stderr, "deleting raft group %llu: %s\n",
                       static_cast<unsigned long long>(id), s.ToString().c_str());
      }
      for (auto& fn : owned->close_done) fn();
      owned.reset();
      self->MaybeFinishShutdown();
    });
  });
}

void MultiRaft::CloseIo(Group& g, raft_io_close_cb cb) {
  g.closing = true;
  g.tick_cb = nullptr;
  g.recv_cb = nullptr;
  g.io_close_cb = cb;
  MaybeFinishClose(g);
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
  uv_timer_stop(&tick_timer_);
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
  // Done once every group has closed and no write is in flight (a truncation staged without an
  // append is still written).
  if (!shutting_down_ || !groups_.empty() || write_in_flight_ || !shutdown_done_) return;
  if (staged_dirty_ || !staged_done_.empty()) {
    StartWrite();
    return;
  }
  auto fn = std::move(shutdown_done_);
  shutdown_done_ = nullptr;
  fn();
}

// ---- inspection ----

std::optional<GroupInfo> MultiRaft::Info(GroupId group) const {
  Group* g = Find(group);
  if (g == nullptr) return std::nullopt;
  GroupInfo info;
  info.state = raft_state(&g->r);
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
  for (unsigned i = 0; i < g->r.configuration.n; ++i) {
    raft_server s = g->r.configuration.servers[i];
    s.address = nullptr;
    info.servers.push_back(s);
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
