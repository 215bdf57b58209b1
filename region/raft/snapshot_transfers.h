// SnapshotTransfers: the state machines' data streamed between stores when a follower has to
// be brought up by snapshot (see state_machine.h).
//
// Outgoing: a SnapshotReader's data goes to the follower's store in "raft.SnapshotChunk"
// requests, one chunk in flight per transfer, paced by a store-wide bandwidth clock; once the
// last chunk is acknowledged the InstallSnapshot message that refers to the transfer is handed
// back to the owner to send. A failed chunk ends the transfer (libraft retries the snapshot).
// Incoming: chunks go into the group's SnapshotWriter, in order; a transfer idle longer than
// `incoming_timeout` is abandoned by Sweep. When the InstallSnapshot message arrives, Install
// finishes the writer before the message may go on to Raft: once libraft stores the marker and
// drops its log, the data has to be there.
//
// Not thread-safe: every method runs on the loop thread, except construction and destruction.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "base/status.h"
#include "region/raft/multi_raft_stats.h"
#include "region/raft/raft.pb.h"
#include "region/raft/raft_log_store.h"
#include "region/raft/state_machine.h"
#include "region/rpc/identity.h"

namespace rustorium::rpc {
class EventLoop;
class RpcServer;
}  // namespace rustorium::rpc

namespace rustorium::raft {

class PeerTransport;

struct SnapshotTransferOptions {
  uint64_t store_id = 0;  // ours: the sender named in every chunk; > 0
  // Outgoing chunks of all transfers share this bandwidth, and each carries about this much.
  uint64_t bytes_per_second = 64ull << 20;
  std::size_t chunk_bytes = 1 << 20;
  // Transfers being received at once; a new one beyond is refused Busy (the leader retries).
  std::size_t max_incoming = 16;
  // Transfers being sent at once, each holding an engine snapshot open; a new one beyond is
  // not started.
  std::size_t max_outgoing = 16;
  // An incoming transfer that received nothing for this long is abandoned at the next Sweep.
  std::chrono::milliseconds incoming_timeout{30000};
  // Under TLS a chunk is taken only from a certificate of this role whose id is the chunk's
  // from_id, and only when Hooks::accept_from agrees.
  rpc::PeerRole peer_role = rpc::PeerRole::kStore;
};

class SnapshotTransfers {
 public:
  // What the transfers need from their owner; each runs on the loop thread.
  struct Hooks {
    // The state machine of `group` when it is open on this store, nullptr otherwise.
    std::function<StateMachine*(GroupId group)> machine;
    // Sends the InstallSnapshot message that follows a transfer whose chunks all arrived.
    std::function<void(const std::string& address, RaftMessage install)> send_install;
    // OK when store `from_id` may send `group` snapshot data now (a member, the current
    // leader); PermissionDenied with the reason otherwise. Unset: everyone may.
    std::function<Status(GroupId group, uint64_t from_id)> accept_from;
  };

  // `loop`, `stats` and `transport` (whose channels carry the chunks) are not owned and must
  // outlive this. Counts snapshots_sent, snapshot_bytes_sent and snapshots_installed.
  SnapshotTransfers(rpc::EventLoop& loop, SnapshotTransferOptions options, MultiRaftStats* stats,
                    PeerTransport* transport, Hooks hooks);
  // Ends every transfer. Off the loop thread (it runs there and waits), or on it.
  ~SnapshotTransfers();
  SnapshotTransfers(const SnapshotTransfers&) = delete;
  SnapshotTransfers& operator=(const SnapshotTransfers&) = delete;

  // Registers the "raft.SnapshotChunk" handler on `server` (before it starts; the server must
  // be destroyed before this).
  void RegisterHandler(rpc::RpcServer& server);

  // True while a transfer of `group`'s data to `address` runs (one at a time per follower).
  bool Sending(GroupId group, const std::string& address) const;
  // Whether another outgoing transfer may start (fewer than max_outgoing run); when not, the
  // refusal is counted in snapshots_deferred (libraft sends the snapshot again later). Ask
  // before opening the snapshot's reader.
  bool MayStart();
  // Streams `reader`'s data of `group` to the store at `address`, then hands `install` (an
  // InstallSnapshot message; its transfer id is set here) to Hooks::send_install. Returns the
  // transfer id, or 0 when MayStart() refuses.
  uint64_t Send(GroupId group, const std::string& address, std::unique_ptr<SnapshotReader> reader,
                RaftMessage install);

  // For an InstallSnapshot message of `group` from store `from_id` naming `transfer_id`: true
  // when that transfer arrived complete and its data is installed in `sm` (or `sm` is ahead of
  // it already, and keeps its own), so the message may go on to Raft; false when the message
  // must be dropped (no such complete transfer, or installing failed).
  bool Install(GroupId group, uint64_t from_id, uint64_t transfer_id, StateMachine& sm);

  // Abandons incoming transfers idle longer than `incoming_timeout` (call it periodically).
  void Sweep();
  // Ends `group`'s transfers, both ways (the group is closing).
  void CancelGroup(GroupId group);

  // Transfers under way, sending and receiving (complete ones awaiting Install included).
  std::size_t outgoing() const { return outgoing_.size(); }
  std::size_t incoming() const { return incoming_.size(); }

 private:
  struct Outgoing;
  struct Incoming;
  void Pump(uint64_t transfer_id);
  void End(uint64_t transfer_id);
  void OnChunk(const std::string& payload, const rpc::PeerIdentity& peer,
               std::function<void(Result<std::string>)> respond);

  rpc::EventLoop& loop_;
  SnapshotTransferOptions options_;
  MultiRaftStats* stats_;
  PeerTransport* transport_;
  Hooks hooks_;
  std::map<uint64_t, std::unique_ptr<Outgoing>> outgoing_;
  // By sender store id and transfer id.
  std::map<std::pair<uint64_t, uint64_t>, std::unique_ptr<Incoming>> incoming_;
  uint64_t next_transfer_id_ = 1;
  uint64_t bandwidth_free_at_us_ = 0;  // the store-wide pacing clock
  // Reset on the loop thread by the destructor: a chunk's answer that arrives later (a channel
  // failing its calls as it closes) finds it expired.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace rustorium::raft
