// MultiRaft: the store's Raft backend. It runs every Raft group the store hosts (hundreds to
// thousands) as canonical raft (libraft 0.15) instances on one event loop, through our own
// `raft_io` implementation:
//
// - Storage: each group's term, vote, log and snapshot metadata live in the engine's `raft`
//   column family (RaftLogStore). The appends, truncations and snapshot records of all groups
//   that arrive while the previous write is in flight are staged into one WriteBatch and
//   written with one synced write on a worker thread (group commit, group_commit.h); libraft
//   hears that an append is done only once it is on disk. set_term / set_vote are written and
//   synced before they return.
// - Transport (peer_transport.h): every group's messages to one peer store travel on one
//   connection, tagged with the group id; the messages of one loop turn to one peer go out as
//   one RaftBatch frame.
// - Time: one timer ticks every group.
// - Snapshots (snapshot_transfers.h): the libraft snapshot is a small marker; the state
//   machine's data is streamed to a follower in chunks under a store-wide bandwidth limit
//   before the InstallSnapshot message that refers to it (see state_machine.h).
// - Reads (read index, no log entry): once the first entry of its term has committed, a leader
//   takes its commit index as the read index of the reads of one loop turn, confirms that it
//   still leads with one probe round per group (ReadProbe, answered by a quorum of voters for
//   the same term), and answers once that index is applied (read_index.h).
//
// A group's Raft server id on this store is the store id; its address is the store's Raft
// address. Everything here runs on the loop thread unless marked otherwise; callbacks run on
// the loop thread.
//
// This header hides libraft and libuv, as engine/engine.h hides RocksDB: they live in the .cc
// files and in multi_raft_internal.h, which only those include
// (tests/region/multi_raft_header_test.cc fails to compile if either leaks back in).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "region/raft/multi_raft_stats.h"
#include "region/raft/raft.pb.h"
#include "region/raft/raft_log_store.h"
#include "region/raft/state_machine.h"
#include "region/rpc/channel_options.h"
#include "region/rpc/identity.h"

namespace rustorium::rpc {
class EventLoop;  // region/rpc/event_loop.h
class RpcServer;  // region/rpc/server.h
}  // namespace rustorium::rpc

namespace rustorium::raft {

class GroupCommit;
class PeerTransport;
class SnapshotTransfers;

// Guards against faults of libraft 0.15 that later upstream versions fixed (each named by the
// upstream commit; docs/reliability.md, "libraft 0.15 faults", has the scenarios and the tests
// in tests/region/raft_faults_test.cc). Every guard is on by default; a test turns one off to
// show the fault it guards against. Turning one off in production is never right.
struct RaftGuards {
  // A TimeoutNow for a group whose snapshot install is being written is dropped (4fbd3c0): a
  // candidate would answer the install from the candidate's state.
  bool no_timeout_now_while_installing = true;
  // A follower with appends not yet on disk neither ticks toward an election nor takes a
  // TimeoutNow (a54636b, 634cb11, f65b6e7): it would campaign with entries it may lose.
  bool no_election_while_persisting = true;
  // A new leader proposes a barrier at once (29bb302), and until that entry, the first of its
  // term, is on its own disk, accepting AppendEntries results are held back and handed over
  // afterwards (524f735): before, libraft 0.15 counts replicas of an older term's entry and
  // commits it (Raft's Figure 8).
  bool barrier_on_election = true;
  bool hold_acks_until_term_entry_stored = true;
  // A follower's accepting answer to an AppendEntries says it holds entries only up to that
  // message's last (prev_log_index + entries): libraft answers its whole stored log, and the
  // leader counts a leftover suffix of an older term as matching its own entries (found in
  // review; upstream too).
  bool answer_only_checked_entries = true;
  // An append that completes after the follower's term changed is not answered (35479fc): the
  // answer would go to the new leader for entries the old one sent.
  bool no_answer_after_term_change = true;
  // No snapshot is taken while the group has an uncommitted configuration (half of baa8f52):
  // libraft 0.15 would record that configuration under the last committed one's index, and a
  // restart or a follower installing the snapshot would take it as committed.
  bool no_snapshot_of_uncommitted_configuration = true;
  // The buffer array of a snapshot install that libraft discards (the group closing while the
  // install is written, or the write failing) is freed here: libraft 0.15's installSnapshotCb
  // frees the install's data but not the array (16 bytes per discarded install; upstream too).
  bool free_discarded_install_buffers = true;
};

struct MultiRaftOptions {
  uint64_t store_id = 0;  // this store's Raft server id in every group; > 0
  std::string address;    // this store's Raft address as peers dial it, "host:port"
  // One timer ticks all groups at this interval; heartbeats and elections happen on ticks.
  std::chrono::milliseconds tick{100};
  // Defaults suited to many groups per store: a leader sends a heartbeat per second and a
  // follower waits 10-20 s (libraft randomises between 1x and 2x) before an election.
  std::chrono::milliseconds heartbeat{1000};
  std::chrono::milliseconds election{10000};
  bool pre_vote = true;  // a partitioned store rejoining does not disrupt a healthy leader
  // A group takes a snapshot (a marker) after this many applied entries, keeping `trailing`
  // entries for slow followers.
  unsigned snapshot_threshold = 1024;
  unsigned snapshot_trailing = 128;
  // A leader retries an InstallSnapshot that got no answer after this long.
  std::chrono::milliseconds install_snapshot_timeout{30000};
  // Snapshot data streamed to followers, store-wide, and the size of one chunk.
  uint64_t snapshot_bytes_per_second = 64ull << 20;
  std::size_t snapshot_chunk_bytes = 1 << 20;
  // Snapshots being received at once; more are refused Busy (the leader retries later).
  std::size_t max_incoming_snapshots = 16;
  // Snapshots being sent at once (each holds an engine snapshot open); more wait for
  // libraft's next attempt.
  std::size_t max_outgoing_snapshots = 16;
  // Largest Raft message and batch of messages to one peer, in bytes: an AppendEntries with
  // more is sent as consecutive valid AppendEntries (one entry each at least), and a peer's
  // messages of one loop turn go in as many batches as this needs. Far under the RPC frame
  // limit (16 MiB), which one largest command (12 MiB) must still fit.
  std::size_t max_message_bytes = 4 << 20;
  // An entry whose apply takes at least this long is logged at info level ("raft slow apply").
  std::chrono::milliseconds slow_apply{100};
  // Connections to peer stores (TLS client context for mutual TLS between stores, limits).
  rpc::ChannelOptions channel;
  // Under TLS, Raft messages and snapshot chunks are taken only from a certificate of this
  // role whose id is the sender's (stores: kStore; PD members: kPd), and only from a member
  // of the group (region/raft/peer_transport.h).
  rpc::PeerRole peer_role = rpc::PeerRole::kStore;
  RaftGuards guards;
  // Test hook, unset in production: sees every Raft message that arrives for this store (on
  // the loop thread) before its group does; false takes it away (the test may hand it back, or
  // another, with MultiRaft::InjectMessage). Snapshot chunks do not pass through it.
  std::function<bool(const RaftMessage& message, uint64_t from_id)> receive_filter;
  // Test hook, unset in production: a slow disk. Runs on a worker thread before each
  // group-commit write of the Raft log, which waits for it to return.
  std::function<void()> log_write_gate;
  // Test switch, false in production: a leader answers reads without confirming that it still
  // leads (no probe round), from whatever it has applied. A deposed leader that has not noticed
  // then serves stale reads: the fault harness's stale-read nemesis shows its checker catches
  // them (tests/faults; the `[raft] unsafe_reads_without_quorum` test configuration key).
  bool unsafe_reads_without_quorum = false;
};

// A member of a group: its Raft server id (the store id) and its Raft address.
struct Member {
  uint64_t id = 0;
  std::string address;
};

// What a replica is in its group's current term.
enum class Role { kUnavailable, kFollower, kCandidate, kLeader };

// A server's part in a group's configuration.
enum class Suffrage {
  kVoter,    // replicates and votes
  kStandby,  // replicates, does not vote (a learner)
  kSpare,    // neither (joined, not yet assigned)
};

// One server of a group's configuration (addresses are not kept).
struct ConfigMember {
  uint64_t id = 0;
  Suffrage suffrage = Suffrage::kVoter;
  friend bool operator==(const ConfigMember&, const ConfigMember&) = default;
};

struct ProposeResult {
  uint64_t index = 0;  // the log index the command was applied at
  std::string result;  // what StateMachine::Apply returned
};

struct GroupInfo {
  Role role = Role::kUnavailable;
  uint64_t leader_id = 0;      // 0 when unknown
  std::string leader_address;  // empty when unknown
  uint64_t term = 0;
  uint64_t voted_for = 0;
  uint64_t commit_index = 0;
  uint64_t last_applied = 0;  // libraft's (commands, barriers and configuration changes)
  uint64_t last_index = 0;
  uint64_t last_stored = 0;  // the last index on disk (last_index counts appends in flight)
  std::vector<ConfigMember> servers;  // the current configuration
  // On the leader: each server's (id, highest index known replicated on it), its own the last
  // stored; empty elsewhere.
  std::vector<std::pair<uint64_t, uint64_t>> match_indexes;
};

class MultiRaft {
 public:
  using StatusCallback = std::function<void(Status)>;

  // `loop` and `engine` are not owned and must outlive this. Construct and destroy off the
  // loop thread.
  MultiRaft(rpc::EventLoop& loop, engine::Engine* engine, MultiRaftOptions options);
  // Call Shutdown first and wait for it.
  ~MultiRaft();
  MultiRaft(const MultiRaft&) = delete;
  MultiRaft& operator=(const MultiRaft&) = delete;

  // Registers the "raft.Batch" and "raft.SnapshotChunk" handlers; before server.Start(). The
  // server must be destroyed before this.
  void RegisterHandlers(rpc::RpcServer& server);

  // Starts group `group` with its state machine. A group with state in the store resumes from
  // it. A new group with `bootstrap_members` starts as the first configuration (every member a
  // voter; every initial member must be given the same list); a new group without waits to be
  // added by a leader (it needs a message from one before it does anything).
  // With `campaign` (a group a split just made, on the store that led the group split) it
  // campaigns within a few ticks instead of an election timeout: it runs with election and
  // heartbeat timeouts of 3 ticks and 1 tick until it has a leader, then with the configured
  // ones. Only one replica of a group should campaign so.
  Status CreateGroup(GroupId group, std::unique_ptr<StateMachine> sm,
                     const std::vector<Member>& bootstrap_members, bool campaign = false);
  // Stages into `batch` the Raft state of a group made by a split, as every replica that
  // applies the split stages it alike: the group's log starts after a snapshot at (`index`,
  // `term`) whose configuration is `voters`, its term is `term`, and its state machine must be
  // at applied index `index` in the same batch (TiKV starts a split region's log at index 5
  // alike). A replica that never applied the split starts the group empty (CreateGroup without
  // members) and gets it by snapshot from the leader, which has no entry before index + 1.
  static void StageSplitGroup(engine::WriteBatch& batch, GroupId group,
                              const std::vector<Member>& voters, uint64_t index, uint64_t term);
  // Stages into `batch` the removal of a group's Raft state (a merge's source, in the merge's
  // write); the group, if open, is to be closed with `destroy` after it (its later writes).
  static void StageDestroyGroup(engine::WriteBatch& batch, GroupId group);
  // Proposes a command; `done` gets where and with what result it was applied, or an error:
  // FailedPrecondition when this replica is not the leader (see Info for a hint), Aborted when
  // leadership was lost with the command in flight (its outcome is unknown).
  void Propose(GroupId group, std::string command, std::function<void(Result<ProposeResult>)> done);
  // Linearizable read point: `done` runs (on the loop thread) once this leader has confirmed
  // its leadership and applied everything committed before the call; it gets the applied index,
  // and the caller reads the state machine inside the callback. No log entry is appended: the
  // reads of one loop turn share one probe round to the voters (after the first entry of the
  // leader's term has committed). Errors: FailedPrecondition when this replica is not the
  // leader; Aborted when leadership was lost, no quorum confirmed it within an election timeout,
  // or the group closed (all retryable, at the leader).
  void ReadIndex(GroupId group, std::function<void(Result<uint64_t>)> done);

  // Membership (one change at a time, on the leader): a new member joins as a learner
  // (Suffrage::kStandby: replicates, does not vote), is promoted to voter once it has caught up
  // (libraft runs the catch-up rounds), or is removed.
  void AddLearner(GroupId group, const Member& member, StatusCallback done);
  void Promote(GroupId group, uint64_t member_id, StatusCallback done);
  void RemoveMember(GroupId group, uint64_t member_id, StatusCallback done);
  // Hands leadership to `member_id` (0: the most up-to-date voter); `done` runs when the
  // transfer finished or timed out: check Info for the outcome.
  void TransferLeader(GroupId group, uint64_t member_id, StatusCallback done);

  // Stops a group (its state stays in the store); with `destroy` also deletes its Raft state
  // (the state machine's data is the caller's to delete).
  void CloseGroup(GroupId group, bool destroy, std::function<void()> done);
  // Closes every group; `done` runs when all I/O has finished.
  void Shutdown(std::function<void()> done);
  // Shutdown, called from another thread, returning when it is done.
  void ShutdownAndWait();

  // Hands `message` to its group as if it had arrived from `from_id` at `from_address`, past
  // receive_filter but through every other check of the receive path (membership, snapshot
  // sender, the guards); false when it was dropped. For tests that script the network; loop
  // thread.
  bool InjectMessage(const RaftMessage& message, uint64_t from_id, const std::string& from_address);

  // Sets this replica's election timeout in `group` (from the next reset of its timer; a
  // leader's check for a quorum uses it at once). For tests that script elections.
  void SetElectionTimeout(GroupId group, std::chrono::milliseconds election);

  std::optional<GroupInfo> Info(GroupId group) const;
  std::vector<GroupId> Groups() const;
  StateMachine* state_machine(GroupId group) const;
  const MultiRaftStats& stats() const { return stats_; }
  const MultiRaftOptions& options() const { return options_; }
  rpc::EventLoop& loop() const { return loop_; }

 private:
  struct Group;    // one libraft instance and its raft_io state (multi_raft_internal.h)
  struct Pending;  // a completion owed to libraft
  struct Ticker;   // the tick timer (a libuv handle)
  friend struct RaftIoGlue;

  Group* Find(GroupId group) const;
  // The open (not closing) group; nullptr with NotFound in *why otherwise.
  Group* Open(GroupId group, Status* why) const;
  // The group when this replica leads it; nullptr with the reason otherwise.
  Group* Leading(GroupId group, Status* why) const;
  void Tick();
  // End of turn: sends the turn's batches, starts the group-commit write, runs deferred
  // completions.
  void ScheduleFlush();
  void Flush();
  void QueueMessage(const std::string& address, RaftMessage message);
  // One completion owed to libraft has run.
  void IoDone(Group& g);
  void MaybeFinishClose(Group& g);
  void MaybeFinishShutdown();
  // Reads (multi_raft_reads.cc).
  void ScheduleReadRound(Group& g);
  void StartReadRound(GroupId group);
  // Moves the group's reads on: fails them when leadership was lost or a round timed out,
  // starts the round of queued reads once the term's first entry has committed, and answers
  // the confirmed reads whose read index the state machine has applied. Cheap when there are no
  // reads; called after every libraft step and I/O completion, and from the apply path whenever
  // applies complete.
  void ResolveReads(Group& g);
  void FailReads(Group& g, const Status& why);
  // A follower answers a leader's probe; the leader counts the answer.
  void AnswerReadProbe(Group& g, const ReadProbe& probe, uint64_t from_id,
                       const std::string& from_address);
  void CountReadProbeAnswer(Group& g, const ReadProbeResult& answer, uint64_t from_id);

  rpc::EventLoop& loop_;
  MultiRaftOptions options_;
  RaftLogStore log_store_;
  MultiRaftStats stats_;
  // The owned parts; each lives on the loop thread.
  std::unique_ptr<PeerTransport> transport_;
  std::unique_ptr<GroupCommit> commit_;
  std::unique_ptr<SnapshotTransfers> snapshots_;

  // Loop-thread state.
  std::map<GroupId, std::unique_ptr<Group>> groups_;
  Ticker* ticker_ = nullptr;  // freed by its close callback
  bool flush_scheduled_ = false;
  // Completions run at the end of the turn (sends, snapshot loads): never inside the call.
  std::vector<Pending> deferred_;
  bool shutting_down_ = false;
  // Apply batches handed to libuv's thread pool whose completion has not run yet.
  int apply_works_ = 0;
  std::function<void()> shutdown_done_;
};

}  // namespace rustorium::raft
