// MultiRaft: the store's Raft backend. It runs every Raft group the store hosts (hundreds to
// thousands) as canonical raft (libraft 0.15) instances on one event loop, through our own
// `raft_io` implementation:
//
// - Storage: each group's term, vote, log and snapshot metadata live in the engine's `raft`
//   column family (RaftLogStore). The appends, truncations and snapshot records of all groups
//   that arrive while the previous write is in flight are staged into one WriteBatch and
//   written with one synced write on a worker thread (group commit); libraft hears that an
//   append is done only once it is on disk. set_term / set_vote are written and synced before
//   they return.
// - Transport: every group's messages to one peer store travel on one connection, tagged with
//   the group id; the messages of one loop turn to one peer go out as one RaftBatch frame.
// - Time: one timer ticks every group.
// - Snapshots: the libraft snapshot is a small marker; the state machine's data is streamed to
//   a follower in chunks under a store-wide bandwidth limit before the InstallSnapshot message
//   that refers to it (see state_machine.h).
// - Reads: ReadIndex batches the reads of one loop turn behind one raft_barrier per group.
//
// A group's Raft server id on this store is the store id; its address is the store's Raft
// address. Everything here runs on the loop thread unless marked otherwise; callbacks run on
// the loop thread.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "region/raft/libraft.h"
#include "region/raft/raft.pb.h"
#include "region/raft/raft_log_store.h"
#include "region/raft/state_machine.h"
#include "region/rpc/channel.h"
#include "region/rpc/event_loop.h"
#include "region/rpc/server.h"

namespace rustorium::raft {

struct MultiRaftOptions {
  uint64_t store_id = 0;  // this store's Raft server id in every group; > 0
  std::string address;    // this store's Raft address as peers dial it, "ip:port"
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
  // Connections to peer stores (TLS client context for mutual TLS between stores, limits).
  rpc::ChannelOptions channel;
};

struct Peer {
  uint64_t id = 0;
  std::string address;
};

struct ProposeResult {
  uint64_t index = 0;  // the log index the command was applied at
  std::string result;  // what StateMachine::Apply returned
};

struct GroupInfo {
  int state = RAFT_UNAVAILABLE;  // RAFT_FOLLOWER, RAFT_CANDIDATE, RAFT_LEADER, ...
  uint64_t leader_id = 0;        // 0 when unknown
  std::string leader_address;    // empty when unknown
  uint64_t term = 0;
  uint64_t voted_for = 0;
  uint64_t commit_index = 0;
  uint64_t last_applied = 0;  // libraft's (commands, barriers and configuration changes)
  uint64_t last_index = 0;
  std::vector<raft_server> servers;  // the current configuration; addresses are not kept
};

// Counters since construction; readable from any thread.
struct MultiRaftStats {
  std::atomic<uint64_t> entries_appended{0};   // log entries written for libraft
  std::atomic<uint64_t> append_requests{0};    // libraft append calls
  std::atomic<uint64_t> log_writes{0};         // synced group-commit writes (fsyncs)
  std::atomic<uint64_t> hard_state_writes{0};  // synced term / vote writes
  std::atomic<uint64_t> messages_sent{0};
  std::atomic<uint64_t> batches_sent{0};  // RaftBatch frames (one per peer per turn)
  std::atomic<uint64_t> messages_received{0};
  std::atomic<uint64_t> messages_dropped{0};  // malformed, for unknown groups, or unusable
  std::atomic<uint64_t> snapshots_sent{0};
  std::atomic<uint64_t> snapshots_installed{0};
  std::atomic<uint64_t> snapshot_bytes_sent{0};
  std::atomic<uint64_t> read_barriers{0};
};

class MultiRaft {
 public:
  using StatusCallback = std::function<void(Status)>;

  // `engine` is not owned and must outlive this. Construct and destroy off the loop thread.
  MultiRaft(rpc::EventLoop& loop, engine::Engine* engine, MultiRaftOptions options);
  // Call Shutdown first and wait for it.
  ~MultiRaft();
  MultiRaft(const MultiRaft&) = delete;
  MultiRaft& operator=(const MultiRaft&) = delete;

  // Registers the "raft.Batch" and "raft.SnapshotChunk" handlers; before server.Start().
  void RegisterHandlers(rpc::RpcServer& server);

  // Starts group `group` with its state machine. A group with state in the store resumes from
  // it. A new group with `bootstrap_peers` starts as the first configuration (every peer a
  // voter; every initial member must be given the same list); a new group without waits to be
  // added by a leader (it needs a message from one before it does anything).
  Status CreateGroup(GroupId group, std::unique_ptr<StateMachine> sm,
                     const std::vector<Peer>& bootstrap_peers);
  // Proposes a command; `done` gets where and with what result it was applied, or an error:
  // FailedPrecondition when this replica is not the leader (see Info for a hint), Aborted when
  // leadership was lost with the command in flight (its outcome is unknown).
  void Propose(GroupId group, std::string command, std::function<void(Result<ProposeResult>)> done);
  // Linearizable read point: `done` runs (on the loop thread) once this leader has confirmed
  // its leadership and applied everything committed before the call; it gets the applied index,
  // and the caller reads the state machine inside the callback. The reads of one loop turn
  // share one barrier.
  void ReadIndex(GroupId group, std::function<void(Result<uint64_t>)> done);

  // Membership (one change at a time, on the leader): a new peer joins as a learner
  // (RAFT_STANDBY: replicates, does not vote), is promoted to voter once it has caught up
  // (libraft runs the catch-up rounds), or is removed.
  void AddLearner(GroupId group, const Peer& peer, StatusCallback done);
  void Promote(GroupId group, uint64_t peer_id, StatusCallback done);
  void RemovePeer(GroupId group, uint64_t peer_id, StatusCallback done);
  // Hands leadership to `peer_id` (0: the most up-to-date voter); `done` runs when the
  // transfer finished or timed out: check Info for the outcome.
  void TransferLeader(GroupId group, uint64_t peer_id, StatusCallback done);

  // Stops a group (its state stays in the store); with `destroy` also deletes its Raft state
  // (the state machine's data is the caller's to delete).
  void CloseGroup(GroupId group, bool destroy, std::function<void()> done);
  // Closes every group; `done` runs when all I/O has finished.
  void Shutdown(std::function<void()> done);
  // Shutdown, called from another thread, returning when it is done.
  void ShutdownAndWait();

  std::optional<GroupInfo> Info(GroupId group) const;
  std::vector<GroupId> Groups() const;
  StateMachine* state_machine(GroupId group) const;
  const MultiRaftStats& stats() const { return stats_; }
  const MultiRaftOptions& options() const { return options_; }

 private:
  struct Group;
  struct Pending;
  struct OutgoingTransfer;
  struct IncomingTransfer;
  friend struct RaftIoGlue;

  Group* Find(GroupId group) const;
  // The group when this replica leads it; nullptr with the reason otherwise.
  Group* Leading(GroupId group, Status* why) const;
  // raft_io, per group.
  int Load(Group& g, raft_term* term, raft_id* vote, raft_snapshot** snapshot,
           raft_index* start_index, raft_entry** entries, size_t* n_entries);
  int Bootstrap(Group& g, const raft_configuration* conf);
  int Recover(Group& g, const raft_configuration* conf);
  int SetHardState(Group& g, raft_term term, raft_id vote);
  int Send(Group& g, raft_io_send* req, const raft_message* message, raft_io_send_cb cb);
  int Append(Group& g, raft_io_append* req, const raft_entry entries[], unsigned n,
             raft_io_append_cb cb);
  int Truncate(Group& g, raft_index index);
  int SnapshotPut(Group& g, unsigned trailing, raft_io_snapshot_put* req,
                  const raft_snapshot* snapshot, raft_io_snapshot_put_cb cb);
  int SnapshotGet(Group& g, raft_io_snapshot_get* req, raft_io_snapshot_get_cb cb);
  void CloseIo(Group& g, raft_io_close_cb cb);
  void MaybeFinishClose(Group& g);
  void MaybeFinishShutdown();

  // Group commit.
  void ScheduleFlush();
  void Flush();
  void StartWrite();
  void WriteDone(Status status);
  // Transport.
  void QueueMessage(const std::string& address, RaftMessage message);
  void SendBatches();
  rpc::RpcChannel* ChannelTo(const std::string& address);  // nullptr for a bad address
  void OnBatch(const rpc::Envelope& envelope);
  void OnChunk(const rpc::Envelope& request, rpc::RpcServer::Responder respond);
  void Deliver(Group& g, const RaftMessage& m, uint64_t from_id, const std::string& from_address);
  // Snapshot streaming.
  void StartTransfer(Group& g, const raft_message& message);
  void PumpTransfer(uint64_t transfer_id);
  void EndTransfer(uint64_t transfer_id);
  // Reads and membership.
  void IssueReadBarrier(GroupId group);
  void Change(GroupId group, uint64_t peer_id, bool then_standby, StatusCallback done,
              const std::function<int(struct ::raft*, raft_change*)>& start);

  rpc::EventLoop& loop_;
  MultiRaftOptions options_;
  RaftLogStore log_store_;
  MultiRaftStats stats_;

  // Loop-thread state.
  std::map<GroupId, std::unique_ptr<Group>> groups_;
  uv_timer_t tick_timer_;
  bool flush_scheduled_ = false;
  // Group commit: what is staged for the next write, and the write in flight.
  std::unique_ptr<engine::WriteBatch> staged_;
  std::vector<Pending> staged_done_;
  bool staged_dirty_ = false;  // truncations staged with no append to carry them
  bool write_in_flight_ = false;
  std::unique_ptr<engine::WriteBatch> writing_;
  std::vector<Pending> writing_done_;
  // Transport: per peer address, this turn's messages.
  std::map<std::string, RaftBatch> outgoing_;
  // Completions run at the end of the turn (sends, snapshot loads): never inside the call.
  std::vector<Pending> deferred_;
  std::map<std::string, std::unique_ptr<rpc::RpcChannel>> channels_;
  // Snapshot streaming.
  std::map<uint64_t, std::unique_ptr<OutgoingTransfer>> transfers_out_;
  std::map<std::pair<uint64_t, uint64_t>, std::unique_ptr<IncomingTransfer>> transfers_in_;
  uint64_t next_transfer_id_ = 1;
  uint64_t bandwidth_free_at_us_ = 0;  // the store-wide snapshot pacing clock
  bool shutting_down_ = false;
  std::function<void()> shutdown_done_;
};

}  // namespace rustorium::raft
