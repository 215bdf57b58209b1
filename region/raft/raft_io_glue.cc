// libraft's raft_io and raft_fsm for MultiRaft: storage through GroupCommit and RaftLogStore,
// messages through PeerTransport and SnapshotTransfers, time from the event loop.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <span>

#include "base/codec.h"
#include "base/fatal.h"
#include "region/raft/group_commit.h"
#include "region/raft/message_codec.h"
#include "region/raft/multi_raft_internal.h"
#include "region/raft/peer_transport.h"
#include "region/raft/snapshot_transfers.h"
#include "region/rpc/uv_loop.h"

namespace rustorium::raft {

namespace {

constexpr char kSnapshotMarker[] = "rustorium.raft.snapshot.v1";

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

}  // namespace

void RaftIoGlue::Wire(Group& g) {
  g.r.data = &g;
  g.io.version = 1;
  g.io.impl = &g;
  g.io.init = &Init;
  g.io.close = &Close;
  g.io.load = &Load;
  g.io.start = &Start;
  g.io.bootstrap = &Bootstrap;
  g.io.recover = &Recover;
  g.io.set_term = &SetTerm;
  g.io.set_vote = &SetVote;
  g.io.send = &Send;
  g.io.append = &Append;
  g.io.truncate = &Truncate;
  g.io.snapshot_put = &SnapshotPut;
  g.io.snapshot_get = &SnapshotGet;
  g.io.time = &Time;
  g.io.random = &Random;
  g.fsm.version = 1;
  g.fsm.data = &g;
  g.fsm.apply = &Apply;
  g.fsm.snapshot = &Snapshot;
  g.fsm.restore = &Restore;
}

// ---- raft_io: lifecycle, time ----

int RaftIoGlue::Init(raft_io*, raft_id, const char*) { return 0; }

int RaftIoGlue::Start(raft_io* io, unsigned, raft_io_tick_cb tick, raft_io_recv_cb recv) {
  G(io).tick_cb = tick;
  G(io).recv_cb = recv;
  return 0;
}

void RaftIoGlue::Close(raft_io* io, raft_io_close_cb cb) {
  Group& g = G(io);
  g.closing = true;
  g.tick_cb = nullptr;
  g.recv_cb = nullptr;
  g.io_close_cb = cb;
  g.owner->MaybeFinishClose(g);
}

raft_time RaftIoGlue::Time(raft_io* io) { return uv_now(rpc::UvLoop(G(io).owner->loop_)); }

int RaftIoGlue::Random(raft_io* io, int min, int max) {
  if (max <= min) return min;
  return std::uniform_int_distribution<int>(min, max - 1)(G(io).rng);
}

// ---- raft_io: storage ----

int RaftIoGlue::Load(raft_io* io, raft_term* term, raft_id* vote, raft_snapshot** snapshot,
                     raft_index* start_index, raft_entry** entries, size_t* n_entries) {
  Group& g = G(io);
  Result<LoadedGroup> loaded = g.owner->log_store_.Load(g.id);
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

int RaftIoGlue::Bootstrap(raft_io* io, const raft_configuration* conf) {
  Group& g = G(io);
  MultiRaft& self = *g.owner;
  Result<LoadedGroup> loaded = self.log_store_.Load(g.id);
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
  self.log_store_.StageAppend(batch, g.id, 1, std::span<const LogEntry>(&first, 1));
  if (!self.log_store_.Commit(batch).ok()) return RAFT_IOERR;
  self.stats_.log_writes++;
  return WriteHardState(g, 1, 0);
}

int RaftIoGlue::Recover(raft_io* io, const raft_configuration* conf) {
  Group& g = G(io);
  MultiRaft& self = *g.owner;
  Result<LoadedGroup> loaded = self.log_store_.Load(g.id);
  if (!loaded.ok()) return RAFT_CORRUPT;
  raft_buffer buf;
  int rv = raft_configuration_encode(conf, &buf);
  if (rv != 0) return rv;
  LogEntry entry{loaded->hard_state.term, RAFT_CHANGE,
                 std::string(static_cast<const char*>(buf.base), buf.len)};
  raft_free(buf.base);
  engine::WriteBatch batch;
  self.log_store_.StageAppend(batch, g.id, loaded->first_index + loaded->entries.size(),
                              std::span<const LogEntry>(&entry, 1));
  if (!self.log_store_.Commit(batch).ok()) return RAFT_IOERR;
  self.stats_.log_writes++;
  return 0;
}

int RaftIoGlue::SetTerm(raft_io* io, raft_term term) { return WriteHardState(G(io), term, 0); }

int RaftIoGlue::SetVote(raft_io* io, raft_id vote) {
  return WriteHardState(G(io), G(io).hard.term, vote);
}

int RaftIoGlue::WriteHardState(Group& g, raft_term term, raft_id vote) {
  const HardState next{term, vote};
  Status s = g.owner->log_store_.SetHardState(g.id, next);
  if (!s.ok()) {
    std::snprintf(g.io.errmsg, sizeof(g.io.errmsg), "%s", s.ToString().c_str());
    return RAFT_IOERR;
  }
  g.owner->stats_.hard_state_writes++;
  g.hard = next;
  return 0;
}

int RaftIoGlue::Append(raft_io* io, raft_io_append* req, const raft_entry entries[], unsigned n,
                       raft_io_append_cb cb) {
  Group& g = G(io);
  if (g.closing) return RAFT_CANCELED;
  MultiRaft& self = *g.owner;
  for (unsigned i = 0; i < n; ++i) {
    self.commit_->StageEntry(
        g.id, g.next_index + i, entries[i].term, entries[i].type,
        std::string_view(static_cast<const char*>(entries[i].buf.base), entries[i].buf.len));
  }
  g.next_index += n;
  self.stats_.append_requests++;
  self.stats_.entries_appended += n;
  ++g.pending_io;
  ++g.appends_in_flight;
  Group* gp = &g;
  // A follower's append answers the AppendEntries being received now (leaders: none).
  const bool answering = g.answering;
  const uint64_t through = g.answering_through;
  const uint64_t term = g.r.current_term;
  self.commit_->OnWritten([gp, req, cb, answering, through, term](const Status& status) {
    --gp->appends_in_flight;
    gp->answering = answering;
    gp->answering_through = through;
    gp->answer_stale = answering && gp->r.current_term != term;
    if (cb != nullptr) cb(req, status.ok() ? 0 : RAFT_IOERR);
    gp->answering = false;
    gp->answer_stale = false;
    MaybeReleaseAcks(*gp);
    gp->owner->IoDone(*gp);
  });
  self.ScheduleFlush();
  return 0;
}

int RaftIoGlue::Truncate(raft_io* io, raft_index index) {
  Group& g = G(io);
  if (g.closing) return RAFT_CANCELED;
  g.owner->commit_->StageTruncation(g.id, index);
  g.next_index = index;
  g.owner->ScheduleFlush();
  return 0;
}

int RaftIoGlue::SnapshotPut(raft_io* io, unsigned trailing, raft_io_snapshot_put* req,
                            const raft_snapshot* snapshot, raft_io_snapshot_put_cb cb) {
  Group& g = G(io);
  if (g.closing) return RAFT_CANCELED;
  MultiRaft& self = *g.owner;
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
    self.commit_->StageTruncation(g.id, 0);
    self.commit_->StageSnapshot(g.id, meta, 0);
    g.next_index = meta.index + 1;
    g.installing_snapshot = true;
  } else {
    self.commit_->StageSnapshot(g.id, meta, meta.index > trailing ? meta.index - trailing : 0);
  }
  ++g.pending_io;
  Group* gp = &g;
  // An install's buffer array, which libraft 0.15 leaks when it discards the install.
  raft_buffer* install_bufs = trailing == 0 && self.options_.guards.free_discarded_install_buffers
                                  ? snapshot->bufs
                                  : nullptr;
  self.commit_->OnWritten(
      [gp, meta = std::move(meta), req, cb, install_bufs](const Status& status) mutable {
        gp->installing_snapshot = false;
        if (status.ok()) gp->snapshot = std::move(meta);
        // installSnapshotCb discards the install when the write failed or the group is closing,
        // freeing the data and not the array; otherwise snapshotRestore frees the array.
        const bool discarded =
            install_bufs != nullptr && (!status.ok() || raft_state(&gp->r) == RAFT_UNAVAILABLE);
        if (cb != nullptr) cb(req, status.ok() ? 0 : RAFT_IOERR);
        if (discarded) {
          raft_free(install_bufs);
          gp->owner->stats_.guard_install_buffers_freed++;
        }
        gp->owner->IoDone(*gp);
      });
  self.ScheduleFlush();
  return 0;
}

int RaftIoGlue::SnapshotGet(raft_io* io, raft_io_snapshot_get* req, raft_io_snapshot_get_cb cb) {
  Group& g = G(io);
  if (g.closing) return RAFT_CANCELED;
  if (!g.snapshot.has_value()) return RAFT_NOTFOUND;
  raft_snapshot* s = MakeSnapshot(*g.snapshot);
  if (s == nullptr) return RAFT_CORRUPT;
  ++g.pending_io;
  g.owner->deferred_.push_back({&g, [req, cb, s](int) { cb(req, s, 0); }});
  g.owner->ScheduleFlush();
  return 0;
}

// ---- raft_io: transport ----

int RaftIoGlue::Send(raft_io* io, raft_io_send* req, const raft_message* message,
                     raft_io_send_cb cb) {
  Group& g = G(io);
  if (g.closing) return RAFT_CANCELED;
  if (message->server_address == nullptr) return RAFT_NOCONNECTION;
  MultiRaft& self = *g.owner;
  if (message->type == RAFT_IO_INSTALL_SNAPSHOT) {
    // The data goes first; the message follows once every chunk arrived.
    const std::string address = message->server_address;
    // One at a time per follower, a bounded number per store; libraft retries.
    if (!self.snapshots_->Sending(g.id, address) && self.snapshots_->MayStart()) {
      Result<std::unique_ptr<SnapshotReader>> reader = g.sm->OpenSnapshot();
      RaftMessage install;
      if (!reader.ok()) {
        spdlog::error("raft snapshot open failed: group={} status=\"{}\"", g.id,
                      reader.status().ToString());
      } else if (EncodeMessage(g.id, *message, &install).ok()) {
        self.snapshots_->Send(g.id, address, std::move(*reader), std::move(install));
      }
    }
  } else {
    raft_message out = *message;
    if (out.type == RAFT_IO_APPEND_ENTRIES_RESULT && g.answering) {
      const RaftGuards& guards = self.options_.guards;
      if (guards.no_answer_after_term_change && g.answer_stale) {
        self.stats_.guard_answers_dropped++;
        return RAFT_NOCONNECTION;  // libraft frees the request; the new leader probes again
      }
      raft_append_entries_result& result = out.append_entries_result;
      if (guards.answer_only_checked_entries && result.rejected == 0 &&
          result.last_log_index > g.answering_through) {
        result.last_log_index = g.answering_through;
        self.stats_.guard_answers_clamped++;
      }
    }
    RaftMessage m;
    if (!EncodeMessage(g.id, out, &m).ok()) return RAFT_MALFORMED;
    self.QueueMessage(message->server_address, std::move(m));
  }
  // Sent as far as libraft is concerned (the transport is best effort; Raft retries).
  ++g.pending_io;
  self.deferred_.push_back({&g, [req, cb](int status) {
                              if (cb != nullptr)
                                cb(req, status);  // libraft sends some messages without one
                            }});
  self.ScheduleFlush();
  return 0;
}

bool RaftIoGlue::IsMember(const Group& g, uint64_t from_id) {
  const raft_configuration& conf = g.r.configuration;
  if (conf.n == 0) return true;
  for (unsigned i = 0; i < conf.n; ++i) {
    if (conf.servers[i].id == from_id) return true;
  }
  return false;
}

Status RaftIoGlue::SnapshotSenderAllowed(Group& g, uint64_t from_id) {
  if (!IsMember(g, from_id)) {
    return Status::PermissionDenied("store " + std::to_string(from_id) +
                                    " is not a member of group " + std::to_string(g.id));
  }
  raft_id leader = 0;
  const char* address = nullptr;
  raft_leader(&g.r, &leader, &address);
  if (leader != from_id) {
    return Status::PermissionDenied("store " + std::to_string(from_id) +
                                    " is not the known leader of group " + std::to_string(g.id) +
                                    " (leader " + std::to_string(leader) + ")");
  }
  return Status::OK();
}

namespace {

struct ElectionBarrier {
  struct raft_barrier req;
};

}  // namespace

bool RaftIoGlue::MayTick(const Group& g) {
  // A follower's tick can only start an election; with appends in flight it would campaign
  // with entries it may still lose (libraft 0.15 advertises its in-memory log).
  return !(g.owner->options_.guards.no_election_while_persisting && g.r.state == RAFT_FOLLOWER &&
           g.appends_in_flight > 0);
}

namespace {

const char* SuffrageName(int role) {
  switch (role) {
    case RAFT_VOTER:
      return "voter";
    case RAFT_STANDBY:
      return "standby";
    default:
      return "spare";
  }
}

std::string MemberList(const std::vector<std::pair<uint64_t, int>>& members) {
  std::string out;
  for (const auto& [id, role] : members) {
    if (!out.empty()) out += ",";
    out += std::to_string(id) + "(" + SuffrageName(role) + ")";
  }
  return out;
}

}  // namespace

void RaftIoGlue::LogChanges(Group& g) {
  raft_id leader = 0;
  const char* address = nullptr;
  raft_leader(&g.r, &leader, &address);
  if (leader != 0 && (leader != g.logged_leader || g.r.current_term != g.logged_term)) {
    g.logged_leader = leader;
    g.logged_term = g.r.current_term;
    spdlog::info("raft leader: group={} term={} leader={}{}", g.id, g.r.current_term, leader,
                 leader == g.owner->options_.store_id ? " (elected here)" : "");
  }
  const raft_configuration& conf = g.r.configuration;
  bool same = conf.n == g.logged_members.size();
  for (unsigned i = 0; same && i < conf.n; ++i) {
    same = g.logged_members[i].first == conf.servers[i].id &&
           g.logged_members[i].second == conf.servers[i].role;
  }
  if (same) return;
  std::vector<std::pair<uint64_t, int>> now;
  for (unsigned i = 0; i < conf.n; ++i) now.emplace_back(conf.servers[i].id, conf.servers[i].role);
  if (!g.logged_members.empty() && !now.empty()) {
    std::string changes;
    auto add = [&](const std::string& what) { changes += (changes.empty() ? "" : " ") + what; };
    for (const auto& [id, role] : now) {
      auto was = std::find_if(g.logged_members.begin(), g.logged_members.end(),
                              [id = id](const auto& m) { return m.first == id; });
      if (was == g.logged_members.end()) {
        add("added=" + std::to_string(id) + "(" + SuffrageName(role) + ")");
      } else if (was->second != role) {
        add("changed=" + std::to_string(id) + "(" + SuffrageName(was->second) + "->" +
            SuffrageName(role) + ")");
      }
    }
    for (const auto& [id, role] : g.logged_members) {
      if (std::none_of(now.begin(), now.end(), [id = id](const auto& m) { return m.first == id; }))
        add("removed=" + std::to_string(id));
    }
    spdlog::info("raft membership: group={} term={} {} members={}", g.id, g.r.current_term, changes,
                 MemberList(now));
  }
  g.logged_members = std::move(now);
}

void RaftIoGlue::AfterStep(Group& g) {
  MultiRaft& self = *g.owner;
  LogChanges(g);
  if (self.options_.guards.barrier_on_election && raft_state(&g.r) == RAFT_LEADER &&
      g.barrier_term != g.r.current_term && !g.closing) {
    // libraft 0.15 neither appends an entry of its own on election nor refuses to count
    // replicas of an older term's entry: the barrier gives the term its first entry at once.
    ProposeTermBarrier(g);
  }
  MaybeReleaseAcks(g);
  self.ResolveReads(g);
}

void RaftIoGlue::ProposeTermBarrier(Group& g) {
  g.barrier_term = g.r.current_term;
  g.barrier_index = 0;
  auto* b = new ElectionBarrier{};
  b->req.data = b;
  const int rv = raft_barrier(&g.r, &b->req, [](struct raft_barrier* req, int) {
    delete static_cast<ElectionBarrier*>(req->data);
  });
  if (rv != 0) {
    delete b;
    spdlog::warn("raft election barrier refused: group={} term={} rv={}", g.id, g.r.current_term,
                 rv);
  } else {
    g.barrier_index = raft_last_index(&g.r);
    g.owner->stats_.guard_election_barriers++;
  }
}

void RaftIoGlue::MaybeReleaseAcks(Group& g) {
  if (g.held_acks.empty()) return;
  const bool still_unsafe = raft_state(&g.r) == RAFT_LEADER && g.barrier_term == g.r.current_term &&
                            g.r.last_stored < g.barrier_index;
  if (still_unsafe) return;
  MultiRaft* self = g.owner;
  const GroupId id = g.id;
  // Not from inside libraft's or the group commit's callback: at the end of the turn.
  self->loop_.AtEndOfTurn([self, id] {
    Group* g = self->Find(id);
    if (g == nullptr || g->closing) return;
    std::vector<Group::HeldMessage> held;
    held.swap(g->held_acks);
    for (Group::HeldMessage& h : held) Deliver(*self, h.message, h.from_id, h.from_address);
  });
}

bool RaftIoGlue::Deliver(MultiRaft& self, const RaftMessage& m, uint64_t from_id,
                         const std::string& from_address) {
  Group* g = self.Find(m.group_id());
  if (g == nullptr || g->recv_cb == nullptr || g->closing) return false;
  if (!IsMember(*g, from_id)) {
    self.stats_.messages_refused++;
    return false;
  }
  // Read probes are ours (multi_raft_reads.cc), not libraft's.
  if (m.has_read_probe()) {
    self.AnswerReadProbe(*g, m.read_probe(), from_id, from_address);
    return true;
  }
  if (m.has_read_probe_result()) {
    self.CountReadProbeAnswer(*g, m.read_probe_result(), from_id);
    return true;
  }
  const RaftGuards& guards = self.options_.guards;
  if (m.has_timeout_now() && ((guards.no_timeout_now_while_installing && g->installing_snapshot) ||
                              (guards.no_election_while_persisting && g->appends_in_flight > 0))) {
    // libraft 0.15 would start an election from a log that is not (all) on disk; the leader's
    // transfer times out instead, and it may try again.
    self.stats_.guard_timeout_now_dropped++;
    return false;
  }
  if (m.has_append_entries_result() && m.append_entries_result().rejected() == 0 &&
      guards.hold_acks_until_term_entry_stored && raft_state(&g->r) == RAFT_LEADER &&
      g->barrier_term == g->r.current_term && g->r.last_stored < g->barrier_index) {
    // Counting it now could commit an older term's entry (libraft 0.15 counts replicas of its
    // last stored entry, whatever its term): handed over once the barrier is stored.
    g->held_acks.push_back({m, from_id, from_address});
    self.stats_.guard_acks_held++;
    return true;
  }
  if (m.has_install_snapshot()) {
    // The snapshot replaces this replica's data: only from the leader it follows in its
    // current term, and only with the data streamed before it (a bare announcement would make
    // libraft drop the log with nothing installed in its place).
    const InstallSnapshot& install = m.install_snapshot();
    if (install.transfer_id() == 0 || install.term() != g->r.current_term ||
        !SnapshotSenderAllowed(*g, from_id).ok()) {
      self.stats_.messages_refused++;
      return false;
    }
    DrainApplies(*g);  // the snapshot replaces the data: nothing older may be applied after it
    if (!self.snapshots_->Install(g->id, from_id, install.transfer_id(), *g->sm)) return false;
    // Commands that waited (a merge's source) and the snapshot covers are done with.
    const uint64_t installed = g->sm->AppliedIndex();
    std::erase_if(g->apply_queue,
                  [installed](const Group::QueuedCommand& c) { return c.index <= installed; });
    if (g->apply_queue.empty()) g->apply_blocked = false;
  }
  raft_message msg;
  if (!DecodeMessage(m, from_id, from_address.c_str(), &msg).ok()) return false;
  if (m.has_append_entries()) {
    g->answering = true;
    g->answering_through = m.append_entries().prev_log_index() +
                           static_cast<uint64_t>(m.append_entries().entries_size());
  }
  g->recv_cb(&g->io, &msg);  // libraft owns what the message allocated
  g->answering = false;
  AfterStep(*g);
  return true;
}

static_assert(kCommandEntry == RAFT_COMMAND, "raft_log_store.h names libraft's command type");

// ---- raft_fsm ----

int RaftIoGlue::Apply(raft_fsm* fsm, const raft_buffer* buf, void** result) {
  Group& g = G(fsm);
  *result = nullptr;
  // libraft applies entry last_applied + 1 and advances last_applied afterwards.
  const uint64_t index = g.r.last_applied + 1;
  if (index <= g.sm->AppliedIndex()) return 0;  // applied before a restart or a snapshot
  // Queued: the turn's commands go to the state machine together (ApplyQueued); the proposer
  // waits for its result (MultiRaft::Propose).
  g.apply_queue.push_back({index, std::string(static_cast<const char*>(buf->base), buf->len)});
  if (!g.apply_scheduled) {
    g.apply_scheduled = true;
    MultiRaft* self = g.owner;
    const GroupId id = g.id;
    self->loop_.AtEndOfTurn([self, id] {
      if (Group* found = self->Find(id); found != nullptr) ApplyQueued(*found);
    });
  }
  return 0;
}

Result<std::vector<std::string>> RaftIoGlue::ApplyNow(
    StateMachine& sm, const std::vector<Group::QueuedCommand>& batch,
    std::chrono::milliseconds* took) {
  std::vector<StateMachine::Entry> entries;
  entries.reserve(batch.size());
  for (const auto& c : batch) entries.push_back({c.index, c.command});
  const auto started = std::chrono::steady_clock::now();
  Result<std::vector<std::string>> out = sm.ApplyBatch(entries);
  *took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                started);
  return out;
}

uint64_t RaftIoGlue::PendingFrom(const Group& g) {
  if (g.applying != nullptr) return g.applying->batch.front().index;
  return g.apply_queue.empty() ? 0 : g.apply_queue.front().index;
}

void RaftIoGlue::WhenApplied(Group& g, uint64_t index,
                             std::function<void(const std::string* result)> fn) {
  const uint64_t pending = PendingFrom(g);
  if (pending == 0 || pending > index) {
    fn(nullptr);
    return;
  }
  g.apply_waiters.emplace(index, std::move(fn));
}

void RaftIoGlue::ApplyQueueHere(Group& g) {
  std::vector<Group::QueuedCommand> batch;
  batch.swap(g.apply_queue);
  std::chrono::milliseconds took{0};
  const Result<std::vector<std::string>> out = ApplyNow(*g.sm, batch, &took);
  FinishApplied(g, batch, out, took);
}

void RaftIoGlue::FinishApplied(Group& g, std::vector<Group::QueuedCommand>& batch,
                               const Result<std::vector<std::string>>& out,
                               std::chrono::milliseconds took) {
  if (out.ok() && out->size() < batch.size()) {
    // The state machine waits before command out->size(): it and the rest go back in front.
    const auto applied = static_cast<std::ptrdiff_t>(out->size());
    g.apply_queue.insert(g.apply_queue.begin(), std::make_move_iterator(batch.begin() + applied),
                         std::make_move_iterator(batch.end()));
    batch.erase(batch.begin() + applied, batch.end());
    g.apply_blocked = true;
    g.owner->stats_.apply_waits++;
    if (batch.empty()) return;
  }
  FinishBatch(g, batch, out, took);
}

void RaftIoGlue::ApplyQueued(Group& g) {
  g.apply_scheduled = false;
  if (g.applying != nullptr || g.apply_queue.empty() || g.apply_blocked) return;
  if (!g.sm->ApplyOffLoop()) {
    ApplyQueueHere(g);
    return;
  }
  auto w = std::make_shared<Group::ApplyWork>();
  w->self = w;
  w->owner = g.owner;
  w->group = g.id;
  w->sm = g.sm.get();
  w->batch.swap(g.apply_queue);
  w->req.data = w.get();
  g.applying = w;
  g.owner->apply_works_++;
  const int rv = uv_queue_work(
      rpc::UvLoop(g.owner->loop_), &w->req,
      [](uv_work_t* r) {
        auto* w = static_cast<Group::ApplyWork*>(r->data);
        std::chrono::milliseconds took{0};
        Result<std::vector<std::string>> out = ApplyNow(*w->sm, w->batch, &took);
        std::lock_guard<std::mutex> lock(w->mu);
        w->out = std::move(out);
        w->took = took;
        w->done = true;
        w->cv.notify_all();
      },
      [](uv_work_t* r, int) {
        std::shared_ptr<Group::ApplyWork> w = static_cast<Group::ApplyWork*>(r->data)->self;
        w->self.reset();
        MultiRaft* self = w->owner;
        self->apply_works_--;
        // DrainApplies may have finished this batch, or the group may be gone.
        Group* g = self->Find(w->group);
        if (g != nullptr && g->applying == w) {
          TakeWorkDone(*g);
          if (!g->apply_scheduled) ApplyQueued(*g);
        }
        self->MaybeFinishShutdown();
      });
  if (rv != 0) {
    Fatal("queueing an apply of group " + std::to_string(g.id) + ": " + uv_strerror(rv));
  }
}

void RaftIoGlue::TakeWorkDone(Group& g) {
  const std::shared_ptr<Group::ApplyWork> w = std::move(g.applying);
  {
    std::unique_lock<std::mutex> lock(w->mu);
    w->cv.wait(lock, [&] { return w->done; });
  }
  FinishApplied(g, w->batch, w->out, w->took);
}

bool RaftIoGlue::DrainApplies(Group& g) {
  g.apply_blocked = false;  // one more try
  while (g.applying != nullptr || (!g.apply_queue.empty() && !g.apply_blocked)) {
    if (g.applying != nullptr) {
      TakeWorkDone(g);
    } else {
      ApplyQueueHere(g);
    }
  }
  return g.apply_queue.empty();
}

void RaftIoGlue::FinishBatch(Group& g, const std::vector<Group::QueuedCommand>& batch,
                             const Result<std::vector<std::string>>& out,
                             std::chrono::milliseconds took) {
  std::size_t bytes = 0;
  for (const Group::QueuedCommand& c : batch) bytes += c.command.size();
  const uint64_t first = batch.front().index, last = batch.back().index;
  if (took >= g.owner->options_.slow_apply) {
    spdlog::info("raft slow apply: group={} index={}..{} commands={} bytes={} ms={}", g.id, first,
                 last, batch.size(), bytes, took.count());
  }
  if (!out.ok() || out->size() != batch.size()) {
    // The state machine refuses bad commands with a result; an error is the engine failing
    // (disk full, I/O error). libraft has moved past these entries: stop, and let a restart
    // resume from the last applied index on disk.
    Fatal("applying entries " + std::to_string(first) + ".." + std::to_string(last) + " of group " +
          std::to_string(g.id) + ": " +
          (out.ok() ? std::string("wrong number of results") : out.status().ToString()));
  }
  g.owner->stats_.apply_batches++;
  g.owner->stats_.commands_applied += batch.size();
  // Release the waiters up to what is still queued (a callback may queue more waiters; they
  // are not in the range taken here).
  const uint64_t pending = PendingFrom(g);
  const uint64_t through = pending == 0 ? UINT64_MAX : pending - 1;
  std::vector<std::pair<uint64_t, std::function<void(const std::string*)>>> ready;
  auto end = g.apply_waiters.upper_bound(through);
  for (auto it = g.apply_waiters.begin(); it != end; ++it)
    ready.emplace_back(it->first, std::move(it->second));
  g.apply_waiters.erase(g.apply_waiters.begin(), end);
  for (auto& [index, fn] : ready) {
    auto at =
        std::lower_bound(batch.begin(), batch.end(), index,
                         [](const Group::QueuedCommand& c, uint64_t i) { return c.index < i; });
    fn(at != batch.end() && at->index == index ? &(*out)[at - batch.begin()] : nullptr);
  }
  g.owner->ResolveReads(g);  // reads waiting for these commands
}

// The snapshot is a marker: the data is durable in the engine already.
int RaftIoGlue::Snapshot(raft_fsm* fsm, raft_buffer* bufs[], unsigned* n) {
  Group& g = G(fsm);
  if (g.owner->options_.guards.no_snapshot_of_uncommitted_configuration &&
      g.r.configuration_uncommitted_index != 0) {
    // libraft 0.15 takes a busy state machine as "try again after the next apply".
    g.owner->stats_.guard_snapshots_postponed++;
    return RAFT_BUSY;
  }
  // libraft snapshots at its last_applied: the state machine must have caught up with it.
  if (!DrainApplies(g)) {
    return RAFT_BUSY;  // it waits (a merge's source): after the next apply
  }
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

void MultiRaft::StageSplitGroup(engine::WriteBatch& batch, GroupId group,
                                const std::vector<Member>& voters, uint64_t index, uint64_t term) {
  SnapshotMeta meta;
  meta.index = index;
  meta.term = term;
  meta.configuration_index = index;
  Configuration conf;
  for (const Member& m : voters) {
    Server* s = conf.add_servers();
    s->set_id(m.id);
    s->set_address(m.address);
    s->set_role(RAFT_VOTER);
  }
  meta.configuration = conf.SerializeAsString();
  meta.data = kSnapshotMarker;
  PutFixed64BE(meta.data, index);
  PutFixed64BE(meta.data, index);
  RaftLogStore store(nullptr);
  store.StageDeleteGroup(batch, group);
  store.StageSnapshot(batch, group, meta, 0);
  store.StageHardState(batch, group, HardState{term, 0});
}

void MultiRaft::StageDestroyGroup(engine::WriteBatch& batch, GroupId group) {
  RaftLogStore(nullptr).StageDeleteGroup(batch, group);
}

// Nothing to restore from a marker: on restart the data is in the engine; a snapshot from a
// leader was installed (SnapshotWriter::Finish) before libraft saw its message.
int RaftIoGlue::Restore(raft_fsm*, raft_buffer* buf) {
  raft_free(buf->base);
  return 0;
}

}  // namespace rustorium::raft
