#include "region/raft/group_commit.h"

#include <spdlog/spdlog.h>

#include <string>

#include "base/fatal.h"
#include "base/fault_point.h"
#include "region/rpc/uv_loop.h"

namespace rustorium::raft {

namespace {

struct WriteWork {
  uv_work_t req;
  GroupCommit* self;
  RaftLogStore* store;
  engine::WriteBatch* batch;
  Status status;
  const std::function<void()>* gate;  // GroupCommit::write_gate_
};

}  // namespace

GroupCommit::GroupCommit(rpc::EventLoop& loop, RaftLogStore* store, MultiRaftStats* stats)
    : loop_(loop), store_(store), stats_(stats), staged_(std::make_unique<engine::WriteBatch>()) {}

GroupCommit::~GroupCommit() = default;

void GroupCommit::StageEntry(GroupId group, uint64_t index, uint64_t term, uint16_t type,
                             std::string_view data) {
  store_->StageEntry(*staged_, group, index, term, type, data);
}

void GroupCommit::StageTruncation(GroupId group, uint64_t from_index) {
  store_->StageTruncateSuffix(*staged_, group, from_index);
  dirty_ = true;
}

void GroupCommit::StageSnapshot(GroupId group, const SnapshotMeta& meta, uint64_t compact_through) {
  store_->StageSnapshot(*staged_, group, meta, compact_through);
}

void GroupCommit::OnWritten(Completion done) { staged_done_.push_back(std::move(done)); }

void GroupCommit::Flush() {
  if (!write_in_flight_ && HasStaged()) StartWrite();
}

void GroupCommit::Drain(std::function<void()> done) {
  if (idle()) {
    done();
    return;
  }
  drained_ = std::move(done);
  Flush();
}

void GroupCommit::StartWrite() {
  write_in_flight_ = true;
  writing_ = std::move(staged_);
  staged_ = std::make_unique<engine::WriteBatch>();
  writing_done_.swap(staged_done_);
  staged_done_.clear();
  dirty_ = false;
  auto* work = new WriteWork{{}, this, store_, writing_.get(), Status::OK(), &write_gate_};
  work->req.data = work;
  const int rv = uv_queue_work(
      rpc::UvLoop(loop_), &work->req,
      [](uv_work_t* r) {
        auto* w = static_cast<WriteWork*>(r->data);
        if (*w->gate) (*w->gate)();
        w->status = FaultPoint("raft.log_write") ? Status::IOError("injected fault raft.log_write")
                                                 : w->store->Commit(*w->batch);
      },
      [](uv_work_t* r, int) {
        auto* w = static_cast<WriteWork*>(r->data);
        GroupCommit* self = w->self;
        Status status = std::move(w->status);
        delete w;
        self->WriteDone(std::move(status));
      });
  if (rv != 0) {
    delete work;
    WriteDone(Status::IOError(std::string("queueing the raft log write: ") + uv_strerror(rv)));
  }
}

void GroupCommit::WriteDone(Status status) {
  write_in_flight_ = false;
  stats_->log_writes++;
  if (!status.ok()) {
    // The records of this write are lost while later ones may be staged behind them at the
    // following indexes: answering the failure would leave libraft's view and the stored log
    // apart (libraft 0.15 does not reload it). Stop; a restart loads the log as stored.
    Fatal("raft log write failed: " + status.ToString());
  }
  std::vector<Completion> done;
  done.swap(writing_done_);
  writing_.reset();
  for (Completion& fn : done) fn(status);
  if (HasStaged()) {
    StartWrite();
    return;
  }
  if (drained_) {
    auto fn = std::move(drained_);
    drained_ = nullptr;
    fn();
  }
}

}  // namespace rustorium::raft
