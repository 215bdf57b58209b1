#include "region/raft/snapshot_transfers.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <vector>

#include "region/raft/peer_transport.h"
#include "region/rpc/channel.h"
#include "region/rpc/server.h"
#include "region/rpc/uv_loop.h"

namespace rustorium::raft {

namespace {

constexpr char kChunkMethod[] = "raft.SnapshotChunk";
constexpr std::chrono::milliseconds kChunkTimeout{30000};

uint64_t NowMicros() { return uv_hrtime() / 1000; }

}  // namespace

struct SnapshotTransfers::Outgoing {
  uint64_t id = 0;
  GroupId group = 0;
  std::string address;
  RaftMessage install;  // sent once every chunk is acknowledged
  std::unique_ptr<SnapshotReader> reader;
  uint64_t seq = 0;
  uint64_t bytes = 0;          // data sent so far
  uint64_t applied_index = 0;  // the snapshot's, once read to its end
  bool done_reading = false;
  uv_timer_t* timer = nullptr;  // waits for the bandwidth clock; freed by its close callback
};

struct SnapshotTransfers::Incoming {
  GroupId group = 0;
  std::unique_ptr<SnapshotWriter> writer;
  uint64_t next_seq = 0;
  bool complete = false;
  uint64_t applied_index = 0;
  uint64_t bytes = 0;  // data received
  uint64_t last_activity_ms = 0;
};

SnapshotTransfers::SnapshotTransfers(rpc::EventLoop& loop, SnapshotTransferOptions options,
                                     MultiRaftStats* stats, PeerTransport* transport, Hooks hooks)
    : loop_(loop),
      options_(std::move(options)),
      stats_(stats),
      transport_(transport),
      hooks_(std::move(hooks)) {}

SnapshotTransfers::~SnapshotTransfers() {
  loop_.RunSync([this] {
    incoming_.clear();
    std::vector<uint64_t> ids;
    for (const auto& [id, t] : outgoing_) ids.push_back(id);
    for (uint64_t id : ids) End(id);
    alive_.reset();
  });
}

void SnapshotTransfers::RegisterHandler(rpc::RpcServer& server) {
  server.Handle(
      kChunkMethod,
      [this](const rpc::Envelope& e, const rpc::PeerIdentity& peer,
             rpc::RpcServer::Responder respond) { OnChunk(e.payload(), peer, std::move(respond)); },
      rpc::Roles(options_.peer_role));
}

// ---- outgoing ----

bool SnapshotTransfers::Sending(GroupId group, const std::string& address) const {
  for (const auto& [id, t] : outgoing_) {
    if (t->group == group && t->address == address) return true;
  }
  return false;
}

bool SnapshotTransfers::MayStart() {
  if (outgoing_.size() < options_.max_outgoing) return true;
  stats_->snapshots_deferred++;
  return false;
}

uint64_t SnapshotTransfers::Send(GroupId group, const std::string& address,
                                 std::unique_ptr<SnapshotReader> reader, RaftMessage install) {
  if (!MayStart()) return 0;
  auto t = std::make_unique<Outgoing>();
  t->id = next_transfer_id_++;
  t->group = group;
  t->address = address;
  t->reader = std::move(reader);
  t->install = std::move(install);
  t->install.mutable_install_snapshot()->set_transfer_id(t->id);
  t->timer = new uv_timer_t{};
  uv_timer_init(rpc::UvLoop(loop_), t->timer);
  t->timer->data = nullptr;
  const uint64_t id = t->id;
  outgoing_.emplace(id, std::move(t));
  stats_->snapshots_sent++;
  Pump(id);
  return id;
}

void SnapshotTransfers::Pump(uint64_t transfer_id) {
  auto it = outgoing_.find(transfer_id);
  if (it == outgoing_.end()) return;
  Outgoing& t = *it->second;
  if (hooks_.machine(t.group) == nullptr || t.done_reading) {
    End(transfer_id);
    return;
  }
  SnapshotChunk chunk;
  chunk.set_group_id(t.group);
  chunk.set_from_id(options_.store_id);
  chunk.set_transfer_id(t.id);
  chunk.set_seq(t.seq++);
  std::string data;
  Result<bool> more = t.reader->Next(&data, options_.chunk_bytes);
  if (!more.ok()) {
    spdlog::warn("raft snapshot read failed: group={} transfer={} status=\"{}\"", t.group, t.id,
                 more.status().ToString());
    End(transfer_id);
    return;
  }
  if (!*more) {
    chunk.set_last(true);
    chunk.set_applied_index(t.reader->applied_index());
    t.applied_index = t.reader->applied_index();
    t.done_reading = true;
  }
  chunk.set_data(std::move(data));
  // Store-wide pacing: each chunk books its share of the bandwidth.
  const uint64_t bytes = chunk.data().size();
  const uint64_t now = NowMicros();
  const uint64_t start = std::max(now, bandwidth_free_at_us_);
  const uint64_t rate = std::max<uint64_t>(options_.bytes_per_second, 1);
  bandwidth_free_at_us_ = start + bytes * 1000000 / rate;
  stats_->snapshot_bytes_sent += bytes;
  t.bytes += bytes;
  auto send = [this, transfer_id, chunk = std::move(chunk)]() {
    auto it = outgoing_.find(transfer_id);
    if (it == outgoing_.end()) return;
    rpc::RpcChannel* channel = transport_->ChannelTo(it->second->address);
    if (channel == nullptr) {
      End(transfer_id);
      return;
    }
    const bool last = chunk.last();
    channel->Call(
        kChunkMethod, chunk.SerializeAsString(), kChunkTimeout,
        [this, alive = std::weak_ptr<bool>(alive_), transfer_id, last](Result<std::string> r) {
          if (alive.expired()) return;
          auto it = outgoing_.find(transfer_id);
          if (it == outgoing_.end()) return;
          if (!r.ok()) {
            End(transfer_id);
            return;
          }
          if (last) {
            const Outgoing& done = *it->second;
            spdlog::info("raft snapshot sent: group={} to={} peer={} bytes={} index={}", done.group,
                         done.install.to_id(), done.address, done.bytes, done.applied_index);
            hooks_.send_install(it->second->address, std::move(it->second->install));
            End(transfer_id);
            return;
          }
          Pump(transfer_id);
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

void SnapshotTransfers::End(uint64_t transfer_id) {
  auto it = outgoing_.find(transfer_id);
  if (it == outgoing_.end()) return;
  uv_timer_t* timer = it->second->timer;
  outgoing_.erase(it);
  if (timer != nullptr) {
    uv_timer_stop(timer);
    delete static_cast<std::function<void()>*>(timer->data);
    timer->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(timer),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
  }
}

// ---- incoming ----

void SnapshotTransfers::OnChunk(const std::string& payload, const rpc::PeerIdentity& peer,
                                std::function<void(Result<std::string>)> respond) {
  SnapshotChunk chunk;
  if (!chunk.ParseFromString(payload) || chunk.from_id() == 0) {
    respond(Status::InvalidArgument("malformed snapshot chunk"));
    return;
  }
  const GroupId group = chunk.group_id();
  if (!peer.Is(options_.peer_role, chunk.from_id())) {
    stats_->snapshot_chunks_refused++;
    respond(Status::PermissionDenied(
        "a snapshot chunk from " + std::string(rpc::RoleName(options_.peer_role)) + " " +
        std::to_string(chunk.from_id()) + " sent by " + peer.ToString()));
    return;
  }
  if (hooks_.accept_from) {
    Status allowed = hooks_.accept_from(group, chunk.from_id());
    if (!allowed.ok()) {
      stats_->snapshot_chunks_refused++;
      // A refused sender never keeps a transfer open here.
      incoming_.erase({chunk.from_id(), chunk.transfer_id()});
      respond(allowed);
      return;
    }
  }
  StateMachine* sm = hooks_.machine(group);
  if (sm == nullptr) {
    respond(Status::NotFound("no raft group " + std::to_string(group) + " on this store"));
    return;
  }
  const std::pair<uint64_t, uint64_t> key{chunk.from_id(), chunk.transfer_id()};
  if (chunk.seq() == 0) {
    // A new transfer from this sender replaces any older one for the same group.
    for (auto it = incoming_.begin(); it != incoming_.end();) {
      it = it->first.first == chunk.from_id() && it->second->group == group ? incoming_.erase(it)
                                                                            : std::next(it);
    }
    if (incoming_.size() >= options_.max_incoming) {
      respond(Status::Busy("too many snapshots arriving at once"));
      return;
    }
    Result<std::unique_ptr<SnapshotWriter>> writer = sm->BeginSnapshot();
    if (!writer.ok()) {
      respond(writer.status());
      return;
    }
    auto t = std::make_unique<Incoming>();
    t->group = group;
    t->writer = std::move(*writer);
    incoming_[key] = std::move(t);
  }
  auto it = incoming_.find(key);
  if (it == incoming_.end() || it->second->group != group || it->second->complete ||
      it->second->next_seq != chunk.seq()) {
    if (it != incoming_.end()) incoming_.erase(it);
    respond(Status::Aborted("snapshot chunk out of order"));
    return;
  }
  Incoming& t = *it->second;
  Status s = t.writer->Add(chunk.data());
  if (!s.ok()) {
    incoming_.erase(it);
    respond(s);
    return;
  }
  t.bytes += chunk.data().size();
  t.next_seq++;
  t.last_activity_ms = uv_now(rpc::UvLoop(loop_));
  if (chunk.last()) {
    t.complete = true;
    t.applied_index = chunk.applied_index();
  }
  respond(std::string());
}

bool SnapshotTransfers::Install(GroupId group, uint64_t from_id, uint64_t transfer_id,
                                StateMachine& sm) {
  auto it = incoming_.find({from_id, transfer_id});
  if (it == incoming_.end() || !it->second->complete || it->second->group != group) return false;
  std::unique_ptr<Incoming> t = std::move(it->second);
  incoming_.erase(it);
  // Never move a state machine backwards: when it is ahead of the data, it keeps its own.
  if (t->applied_index > sm.AppliedIndex()) {
    Status s = t->writer->Finish(t->applied_index);
    if (!s.ok()) {
      spdlog::error("raft snapshot install failed: group={} from={} transfer={} status=\"{}\"",
                    group, from_id, transfer_id, s.ToString());
      return false;
    }
    stats_->snapshots_installed++;
    spdlog::info("raft snapshot installed: group={} from={} bytes={} index={}", group, from_id,
                 t->bytes, t->applied_index);
  }
  return true;
}

void SnapshotTransfers::Sweep() {
  const uint64_t now = uv_now(rpc::UvLoop(loop_));
  const auto limit = static_cast<uint64_t>(options_.incoming_timeout.count());
  for (auto it = incoming_.begin(); it != incoming_.end();) {
    it = now - it->second->last_activity_ms > limit ? incoming_.erase(it) : std::next(it);
  }
}

void SnapshotTransfers::CancelGroup(GroupId group) {
  for (auto it = incoming_.begin(); it != incoming_.end();) {
    it = it->second->group == group ? incoming_.erase(it) : std::next(it);
  }
  std::vector<uint64_t> ids;
  for (const auto& [id, t] : outgoing_) {
    if (t->group == group) ids.push_back(id);
  }
  for (uint64_t id : ids) End(id);
}

}  // namespace rustorium::raft
