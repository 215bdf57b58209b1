// GroupCommit on a real engine in a temporary directory, driven from a real event loop.
#include "region/raft/group_commit.h"

#include <gtest/gtest.h>

#include <future>
#include <string>
#include <vector>

#include "region/rpc/event_loop.h"
#include "tests/engine_util.h"
#include "tests/test_util.h"

namespace rustorium::raft {
namespace {

using namespace std::chrono_literals;
using rustorium::testing::TempDir;

class GroupCommitTest : public ::testing::Test {
 protected:
  GroupCommitTest()
      : engine_(rustorium::testing::OpenScratchEngine(dir_.Sub("db"))),
        store_(engine_.get()),
        commit_(std::make_unique<GroupCommit>(loop_, &store_, &stats_)) {}
  ~GroupCommitTest() override {
    Drain();
    loop_.RunSync([&] { commit_.reset(); });
  }

  // Stages entries [from, to] of `group` (data "g<group>i<index>") on the loop thread.
  void StageEntries(GroupId group, uint64_t from, uint64_t to) {
    for (uint64_t i = from; i <= to; ++i) {
      commit_->StageEntry(group, i, 1, 1, "g" + std::to_string(group) + "i" + std::to_string(i));
    }
  }
  // Waits (from the test thread) until the group commit is idle.
  void Drain() {
    std::promise<void> drained;
    loop_.RunSync([&] { commit_->Drain([&] { drained.set_value(); }); });
    ASSERT_EQ(drained.get_future().wait_for(10s), std::future_status::ready);
  }
  std::vector<uint64_t> Indexes(GroupId group) {
    auto loaded = store_.Load(group);
    EXPECT_TRUE(loaded.ok()) << loaded.status().ToString();
    std::vector<uint64_t> out;
    if (!loaded.ok()) return out;
    for (std::size_t i = 0; i < loaded->entries.size(); ++i) out.push_back(loaded->first_index + i);
    return out;
  }

  TempDir dir_;
  std::unique_ptr<engine::Engine> engine_;
  RaftLogStore store_;
  MultiRaftStats stats_;
  rpc::EventLoop loop_;
  std::unique_ptr<GroupCommit> commit_;
};

TEST_F(GroupCommitTest, RecordsOfOneTurnShareOneSyncedWrite) {
  std::promise<std::vector<Status>> all;
  auto statuses = std::make_shared<std::vector<Status>>();
  loop_.RunSync([&] {
    for (GroupId g = 1; g <= 3; ++g) {
      StageEntries(g, 1, 4);
      commit_->OnWritten([&, statuses](const Status& s) {
        statuses->push_back(s);
        if (statuses->size() == 3) all.set_value(*statuses);
      });
    }
    commit_->Flush();
    EXPECT_FALSE(commit_->idle()) << "the write is in flight";
  });
  auto f = all.get_future();
  ASSERT_EQ(f.wait_for(10s), std::future_status::ready);
  for (const Status& s : f.get()) EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(stats_.log_writes.load(), 1u);
  for (GroupId g = 1; g <= 3; ++g) EXPECT_EQ(Indexes(g), (std::vector<uint64_t>{1, 2, 3, 4}));
}

TEST_F(GroupCommitTest, TheNextBatchIsStagedWhileAWriteIsInFlightAndGoesWhenItReturns) {
  std::promise<void> second_done;
  auto order = std::make_shared<std::vector<int>>();
  loop_.RunSync([&] {
    StageEntries(1, 1, 2);
    commit_->OnWritten([order](const Status& s) {
      EXPECT_TRUE(s.ok());
      order->push_back(1);
    });
    commit_->Flush();
    // Staged behind the write in flight; no further Flush is needed for it to go.
    StageEntries(2, 1, 2);
    commit_->OnWritten([&, order](const Status& s) {
      EXPECT_TRUE(s.ok());
      order->push_back(2);
      second_done.set_value();
    });
    commit_->Flush();  // a write is in flight: nothing starts now
  });
  ASSERT_EQ(second_done.get_future().wait_for(10s), std::future_status::ready);
  loop_.RunSync([&] {
    EXPECT_EQ(*order, (std::vector<int>{1, 2}));
    EXPECT_TRUE(commit_->idle());
  });
  EXPECT_EQ(stats_.log_writes.load(), 2u) << "one write in flight at a time";
  EXPECT_EQ(Indexes(2), (std::vector<uint64_t>{1, 2}));
}

TEST_F(GroupCommitTest, ATruncationWithNoAppendIsStillWritten) {
  loop_.RunSync([&] {
    StageEntries(7, 1, 5);
    commit_->OnWritten([](const Status&) {});
    commit_->Flush();
  });
  Drain();
  ASSERT_EQ(Indexes(7), (std::vector<uint64_t>{1, 2, 3, 4, 5}));
  loop_.RunSync([&] {
    commit_->StageTruncation(7, 3);  // no completion follows it
    EXPECT_FALSE(commit_->idle());
    commit_->Flush();
  });
  Drain();
  EXPECT_EQ(Indexes(7), (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(stats_.log_writes.load(), 2u);
}

TEST_F(GroupCommitTest, SnapshotRecordsCompactTheLog) {
  loop_.RunSync([&] {
    StageEntries(4, 1, 10);
    SnapshotMeta meta;
    meta.index = 8;
    meta.term = 1;
    meta.configuration = "conf";
    meta.data = "marker";
    commit_->StageSnapshot(4, meta, 6);
    commit_->OnWritten([](const Status& s) { EXPECT_TRUE(s.ok()); });
    commit_->Flush();
  });
  Drain();
  auto loaded = store_.Load(4);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  ASSERT_TRUE(loaded->snapshot.has_value());
  EXPECT_EQ(loaded->snapshot->index, 8u);
  EXPECT_EQ(loaded->snapshot->data, "marker");
  EXPECT_EQ(Indexes(4), (std::vector<uint64_t>{7, 8, 9, 10}));
  EXPECT_EQ(stats_.log_writes.load(), 1u);
}

TEST_F(GroupCommitTest, DrainWaitsForTheWriteInFlightAndWritesWhatIsStaged) {
  auto order = std::make_shared<std::vector<std::string>>();
  std::promise<void> drained;
  loop_.RunSync([&] {
    // Idle: at once.
    commit_->Drain([order] { order->push_back("idle"); });
    StageEntries(1, 1, 1);
    commit_->OnWritten([order](const Status&) { order->push_back("first"); });
    commit_->Flush();
    StageEntries(1, 2, 2);
    commit_->OnWritten([order](const Status&) { order->push_back("second"); });
    // Not flushed: Drain writes it after the write in flight.
    commit_->Drain([&, order] {
      order->push_back("drained");
      drained.set_value();
    });
  });
  ASSERT_EQ(drained.get_future().wait_for(10s), std::future_status::ready);
  loop_.RunSync([&] {
    EXPECT_EQ(*order, (std::vector<std::string>{"idle", "first", "second", "drained"}));
  });
  EXPECT_EQ(Indexes(1), (std::vector<uint64_t>{1, 2}));
}

}  // namespace
}  // namespace rustorium::raft
