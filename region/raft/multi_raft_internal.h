// MultiRaft's internals, shared by its .cc files: multi_raft.cc (groups, proposals, reads,
// membership, closing) and raft_io_glue.cc (libraft's raft_io and raft_fsm). This header
// brings in libraft: include it from region/raft's .cc files only, never from a header.
#pragma once

#include <uv.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "region/raft/libraft.h"
#include "region/raft/multi_raft.h"
#include "region/raft/read_index.h"

namespace rustorium::raft {

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
  // Started with short timeouts to elect a leader at once (CreateGroup's `campaign`); the
  // configured ones return once the group has a leader.
  bool campaigning = false;
  bool destroy = false;
  int pending_io = 0;  // completions owed to libraft (appends, sends, snapshot puts and gets)
  // A snapshot from a leader is being written. libraft 0.15 must not tick meanwhile: a tick
  // can make it a candidate, and its completion of the install then answers "the leader" from
  // the candidate's state (a wild pointer; the upstream fix holds elections off the same way).
  bool installing_snapshot = false;
  // Appends handed to the group commit and not yet written (RaftGuards).
  int appends_in_flight = 0;
  // The term in which this replica, as leader, proposed its election barrier, and the barrier's
  // index: the first entry of that term (0: none).
  uint64_t barrier_term = 0;
  uint64_t barrier_index = 0;
  // AppendEntries results held back until the barrier is on this replica's disk.
  struct HeldMessage {
    RaftMessage message;
    uint64_t from_id;
    std::string from_address;
  };
  std::vector<HeldMessage> held_acks;
  // While libraft answers an AppendEntries (inside its receipt, or the completion of the append
  // it started): the last index that message checked, and whether the term changed since it
  // arrived (RaftGuards).
  bool answering = false;
  uint64_t answering_through = 0;
  bool answer_stale = false;
  raft_io_close_cb io_close_cb = nullptr;
  std::vector<std::function<void()>> close_done;
  uint64_t next_index = 1;  // where the next append goes
  HardState hard;
  std::optional<SnapshotMeta> snapshot;  // the latest durable one
  std::mt19937_64 rng{std::random_device{}()};
  // Commands libraft has applied and the state machine not yet: executed as one batch at the
  // end of the turn (RaftIoGlue::ApplyQueued), or at once when something needs the state
  // machine caught up (a snapshot taken or installed, the group closing).
  struct QueuedCommand {
    uint64_t index;
    std::string command;
  };
  std::vector<QueuedCommand> apply_queue;
  bool apply_scheduled = false;
  // The state machine applied a prefix of a batch (StateMachine::ApplyBatch): the queue waits
  // for the next tick.
  bool apply_blocked = false;
  // The batch on the apply worker (ApplyOffLoop state machines), or null: one at a time.
  struct ApplyWork;
  std::shared_ptr<ApplyWork> applying;
  // Callbacks waiting for every command up to their index to be through the state machine:
  // a proposer (with its command's result) or a read (nullptr).
  std::multimap<uint64_t, std::function<void(const std::string* result)>> apply_waiters;
  // What the operator log last said (RaftIoGlue::LogChanges): the leader and its term, and the
  // configuration as (server id, role) pairs (empty: not yet seen; the first is not a change).
  uint64_t logged_leader = 0;
  uint64_t logged_term = 0;
  std::vector<std::pair<uint64_t, int>> logged_members;
  // Linearizable reads (MultiRaft::ReadIndex, multi_raft_reads.cc): their probe rounds, and
  // whether a round is to start at the end of this turn.
  ReadRounds reads;
  bool read_scheduled = false;
};

// A batch on the apply worker (libuv's thread pool). The loop owns it through g.applying; the
// worker fills `out` and `took` and then sets `done`; `self` keeps it alive until libuv's
// completion has run on the loop (after DrainApplies may have finished it already).
struct MultiRaft::Group::ApplyWork {
  uv_work_t req{};
  std::shared_ptr<ApplyWork> self;
  MultiRaft* owner = nullptr;
  GroupId group = 0;
  StateMachine* sm = nullptr;
  std::vector<QueuedCommand> batch;
  Result<std::vector<std::string>> out = Status::Internal("not applied");
  std::chrono::milliseconds took{0};
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;  // guarded by mu
};

// libraft's C entry points (raft_io and raft_fsm), forwarding to the owning MultiRaft, and the
// storage, transport and snapshot work behind them (raft_io_glue.cc). Loop thread only.
struct RaftIoGlue {
  using Group = MultiRaft::Group;

  // Points g.io and g.fsm at the entry points below (before raft_init).
  static void Wire(Group& g);
  // Hands a message received from a peer to its group's Raft instance: false when it was
  // dropped (no such open group here, snapshot data not installed, malformed).
  static bool Deliver(MultiRaft& self, const RaftMessage& m, uint64_t from_id,
                      const std::string& from_address);
  // Whether server `from_id` is in the group's configuration (a replica that knows none yet,
  // waiting to be added, takes any node).
  static bool IsMember(const Group& g, uint64_t from_id);
  // OK when `from_id` may send the group snapshot data: a member that this replica knows as
  // the leader of its current term. PermissionDenied with the reason otherwise.
  static Status SnapshotSenderAllowed(Group& g, uint64_t from_id);
  // After libraft handled a message or a tick: a replica that just became leader proposes its
  // election barrier (RaftGuards::barrier_on_election); reads move on.
  static void AfterStep(Group& g);
  // Proposes a barrier as the first entry of the leader's current term (recorded in
  // barrier_term / barrier_index); linearizable reads wait for it to commit.
  static void ProposeTermBarrier(Group& g);
  // Whether that barrier has committed (multi_raft_reads.cc).
  static bool TermEntryCommitted(const Group& g);
  // How far the state machine is applied, barriers and configuration changes included:
  // libraft's applied index once no command is queued or on the apply worker, else the index
  // before the first that is.
  static uint64_t AppliedThrough(const Group& g);
  // The operator's info lines (docs/operations.md, "Logs"): a new leader or term once this
  // replica knows its leader, and a configuration that differs from the one seen before.
  static void LogChanges(Group& g);
  // Runs `fn` once every command up to `index` has gone through the state machine: at once
  // when none is queued, else after the batch that holds them; with the command's result when
  // `index` is a queued command's.
  static void WhenApplied(Group& g, uint64_t index,
                          std::function<void(const std::string* result)> fn);
  // Applies the queued commands as one batch, on the apply worker when the state machine
  // allows it and none of the group's is there already (then the queue waits for it), and
  // answers the waiters it releases. A state machine error stops the store (base/fatal.h), as
  // an apply error always has.
  static void ApplyQueued(Group& g);
  // Applies everything queued before returning, waiting for the batch on the worker: before a
  // snapshot is taken or installed and before the group closes. Blocks the loop for that batch.
  // False when commands remain queued because the state machine waits (apply_blocked).
  static bool DrainApplies(Group& g);
  // Whether a follower may tick now (RaftGuards::no_election_while_persisting).
  static bool MayTick(const Group& g);
  // Hands the held AppendEntries results to libraft once they can no longer make it count
  // replicas of an older term's entry (at the end of the turn).
  static void MaybeReleaseAcks(Group& g);

  // raft_io.
  static int Init(raft_io*, raft_id, const char*);
  static void Close(raft_io* io, raft_io_close_cb cb);
  static int Load(raft_io* io, raft_term* term, raft_id* vote, raft_snapshot** snapshot,
                  raft_index* start_index, raft_entry** entries, size_t* n_entries);
  static int Start(raft_io* io, unsigned, raft_io_tick_cb tick, raft_io_recv_cb recv);
  static int Bootstrap(raft_io* io, const raft_configuration* conf);
  static int Recover(raft_io* io, const raft_configuration* conf);
  static int SetTerm(raft_io* io, raft_term term);
  static int SetVote(raft_io* io, raft_id vote);
  static int Send(raft_io* io, raft_io_send* req, const raft_message* message, raft_io_send_cb cb);
  static int Append(raft_io* io, raft_io_append* req, const raft_entry entries[], unsigned n,
                    raft_io_append_cb cb);
  static int Truncate(raft_io* io, raft_index index);
  static int SnapshotPut(raft_io* io, unsigned trailing, raft_io_snapshot_put* req,
                         const raft_snapshot* snapshot, raft_io_snapshot_put_cb cb);
  static int SnapshotGet(raft_io* io, raft_io_snapshot_get* req, raft_io_snapshot_get_cb cb);
  static raft_time Time(raft_io* io);
  static int Random(raft_io* io, int min, int max);

  // raft_fsm: the state machine.
  static int Apply(raft_fsm* fsm, const raft_buffer* buf, void** result);
  static int Snapshot(raft_fsm* fsm, raft_buffer* bufs[], unsigned* n);
  static int Restore(raft_fsm* fsm, raft_buffer* buf);

 private:
  static Group& G(raft_io* io) { return *static_cast<Group*>(io->impl); }
  static Group& G(raft_fsm* fsm) { return *static_cast<Group*>(fsm->data); }
  static int WriteHardState(Group& g, raft_term term, raft_id vote);
  // The lowest index libraft applied that the state machine has not yet (on the worker or
  // queued), or 0 when it has them all.
  static uint64_t PendingFrom(const Group& g);
  // Applies the queued commands here and now, as one batch.
  static void ApplyQueueHere(Group& g);
  // Takes the worker's finished batch out of g.applying and finishes it.
  static void TakeWorkDone(Group& g);
  // Runs `batch` through the state machine here and now.
  static Result<std::vector<std::string>> ApplyNow(StateMachine& sm,
                                                   const std::vector<Group::QueuedCommand>& batch,
                                                   std::chrono::milliseconds* took);
  // Finishes what the state machine applied of `batch` (all of it, or a prefix: the rest goes
  // back to the front of the queue, which waits for the next tick).
  static void FinishApplied(Group& g, std::vector<Group::QueuedCommand>& batch,
                            const Result<std::vector<std::string>>& out,
                            std::chrono::milliseconds took);
  // The batch applied: stats, the slow-apply line, the waiters it releases.
  static void FinishBatch(Group& g, const std::vector<Group::QueuedCommand>& batch,
                          const Result<std::vector<std::string>>& out,
                          std::chrono::milliseconds took);
};

}  // namespace rustorium::raft
