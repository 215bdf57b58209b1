// The multi-raft backend over real sockets: in-process stores, each with its own loop, engine
// and server, replicating TestStateMachine groups.
#include "region/raft/multi_raft.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <condition_variable>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <span>
#include <thread>

#include "base/fatal.h"
#include "region/rpc/certs.h"
#include "region/rpc/channel.h"
#include "tests/engine_util.h"
#include "tests/kill_harness.h"
#include "tests/support/log_capture.h"
#include "tests/support/raft_cluster.h"
#include "tests/test_util.h"

#ifndef RUSTORIUM_MULTI_RAFT_WRITER
#error "RUSTORIUM_MULTI_RAFT_WRITER must name the writer binary"
#endif

namespace rustorium::raft::testing {
namespace {

using namespace std::chrono_literals;
using rustorium::testing::TempDir;

// Fast timers for tests: elections in 1-2 s instead of 10-20 s.
MultiRaftOptions TestOptions() {
  MultiRaftOptions o;
  o.tick = 20ms;
  o.heartbeat = 100ms;
  o.election = 1000ms;
  o.install_snapshot_timeout = 5000ms;
  return o;
}

class Cluster {
 public:
  Cluster(TempDir& dir, int n, MultiRaftOptions options) {
    for (int i = 1; i <= n; ++i) {
      stores_.push_back(
          std::make_unique<TestStore>(i, dir.Sub("store" + std::to_string(i)), options));
    }
  }
  std::vector<Member> Members() const {
    std::vector<Member> out;
    for (const auto& s : stores_) out.push_back(s->member());
    return out;
  }
  TestStore& store(int i) { return *stores_[i - 1]; }
  std::size_t size() const { return stores_.size(); }

  // The running store whose replica of `g` is leader in the highest term, or nullptr.
  TestStore* Leader(GroupId g) {
    TestStore* best = nullptr;
    uint64_t term = 0;
    for (auto& s : stores_) {
      if (!s->running()) continue;
      auto info = s->Info(g);
      if (info && info->role == Role::kLeader && info->term >= term) {
        best = s.get();
        term = info->term;
      }
    }
    return best;
  }
  // Proposes through whichever store leads `g`, retrying while leadership moves.
  Result<ProposeResult> Propose(GroupId g, const std::string& command,
                                std::chrono::milliseconds timeout = 30s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    Status last = Status::TimedOut("no leader for group " + std::to_string(g));
    while (std::chrono::steady_clock::now() < deadline) {
      if (TestStore* leader = Leader(g)) {
        auto r = leader->Propose(g, command);
        if (r.ok()) return r;
        last = r.status();
      }
      std::this_thread::sleep_for(20ms);
    }
    return last;
  }
  // Proposes one command to each group at once (all from one loop turn per leader), retrying
  // the ones that fail; false when some group could not take its command.
  bool ProposeAll(const std::vector<GroupId>& groups,
                  const std::function<std::string(GroupId)>& command) {
    std::vector<GroupId> todo = groups;
    for (int attempt = 0; attempt < 100 && !todo.empty(); ++attempt) {
      std::map<TestStore*, std::vector<GroupId>> by_leader;
      for (GroupId g : todo) {
        if (TestStore* leader = Leader(g)) by_leader[leader].push_back(g);
      }
      auto results = std::make_shared<std::map<GroupId, std::promise<Status>>>();
      for (GroupId g : todo) (*results)[g];
      std::vector<GroupId> failed;
      for (auto& [leader, gs] : by_leader) {
        leader->Sync([&, leader = leader] {
          for (GroupId g : gs) {
            leader->raft().Propose(g, command(g), [results, g](Result<ProposeResult> r) {
              (*results)[g].set_value(r.status());
            });
          }
        });
      }
      for (GroupId g : todo) {
        bool proposed = false;
        for (auto& [leader, gs] : by_leader)
          proposed |= std::find(gs.begin(), gs.end(), g) != gs.end();
        auto f = (*results)[g].get_future();
        if (!proposed || f.wait_for(30s) != std::future_status::ready || !f.get().ok())
          failed.push_back(g);
      }
      todo = failed;
      if (!todo.empty()) std::this_thread::sleep_for(50ms);
    }
    return todo.empty();
  }
  // True once every running replica of every group in `groups` has the same applied index and
  // digest, with applied index >= at_least.
  bool Converged(const std::vector<GroupId>& groups, uint64_t at_least = 0) {
    for (GroupId g : groups) {
      std::optional<std::pair<uint64_t, uint64_t>> first;
      for (auto& s : stores_) {
        if (!s->running()) continue;
        auto st = s->State(g);
        if (st.first < at_least) return false;
        if (!first) first = st;
        if (*first != st) return false;
      }
    }
    return true;
  }

 private:
  std::vector<std::unique_ptr<TestStore>> stores_;
};

std::vector<GroupId> Range(GroupId from, GroupId to) {
  std::vector<GroupId> out;
  for (GroupId g = from; g <= to; ++g) out.push_back(g);
  return out;
}

TEST(MultiRaft, HundredGroupsOnThreeStoresElectReplicateAndSurviveRestart) {
  TempDir dir;
  MultiRaftOptions o = TestOptions();
  o.snapshot_threshold = 32;  // so that the last phase compacts some logs
  o.snapshot_trailing = 8;
  Cluster c(dir, 3, o);
  const auto groups = Range(1, 100);
  for (int i = 1; i <= 3; ++i) ASSERT_TRUE(c.store(i).Start(groups, c.Members()).ok());

  // Every group elects a leader.
  ASSERT_TRUE(WaitFor(
      [&] {
        for (GroupId g : groups) {
          if (c.Leader(g) == nullptr) return false;
        }
        return true;
      },
      60s))
      << "not every group elected a leader";

  // Five rounds of one command per group, proposed to all groups at once through their
  // leaders; every replica applies the same sequence.
  uint64_t writes_before = 0, entries_before = 0;
  for (int i = 1; i <= 3; ++i) {
    writes_before += c.store(i).raft().stats().log_writes.load();
    entries_before += c.store(i).raft().stats().entries_appended.load();
  }
  for (int round = 0; round < 5; ++round) {
    ASSERT_TRUE(c.ProposeAll(
        groups, [&](GroupId g) { return "k" + std::to_string(round) + "=v" + std::to_string(g); }));
  }
  auto r = c.Propose(1, "single=1");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->result, "ok");
  ASSERT_TRUE(WaitFor([&] { return c.Converged(groups, 6); }, 30s)) << "replicas diverged or lag";
  for (int i = 1; i <= 3; ++i) {
    EXPECT_EQ(c.store(i).Machine(7)->Value("k4"), "v7") << "store " << i;
  }

  // Group commit: appends of many groups share synced writes.
  uint64_t writes = 0, entries = 0;
  for (int i = 1; i <= 3; ++i) {
    writes += c.store(i).raft().stats().log_writes.load();
    entries += c.store(i).raft().stats().entries_appended.load();
  }
  EXPECT_GE(entries - entries_before, 3u * 500);
  EXPECT_LT((writes - writes_before) * 5, entries - entries_before)
      << "expected group commit: " << writes - writes_before << " writes for "
      << entries - entries_before << " entries";
  const auto& stats = c.store(1).raft().stats();
  EXPECT_LT(stats.batches_sent.load(), stats.messages_sent.load())
      << "messages to one peer coalesced per turn";

  // A linearizable read point covers every acknowledged write.
  {
    TestStore* leader = c.Leader(3);
    ASSERT_NE(leader, nullptr);
    auto w = leader->Propose(3, "read=me");
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    auto at = leader->ReadIndex(3);
    ASSERT_TRUE(at.ok()) << at.status().ToString();
    EXPECT_GE(*at, w->index);
    EXPECT_EQ(leader->Machine(3)->Value("read"), "me");
    // A follower refuses, naming the leader.
    for (int i = 1; i <= 3; ++i) {
      if (&c.store(i) == leader) continue;
      auto r = c.store(i).ReadIndex(3);
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition) << r.status().ToString();
    }
  }

  // Restart store 2: its state comes back from RocksDB, and it keeps up afterwards.
  std::map<GroupId, std::pair<uint64_t, uint64_t>> before;
  std::map<GroupId, uint64_t> term_before;
  for (GroupId g : groups) {
    before[g] = c.store(2).State(g);
    term_before[g] = c.store(2).Info(g)->term;
  }
  c.store(2).Stop();
  ASSERT_TRUE(c.store(2).Start(groups, c.Members()).ok());
  for (GroupId g : groups) {
    const auto st = c.store(2).State(g);
    EXPECT_GE(st.first, before[g].first) << "group " << g << " lost applied state";
    if (st.first == before[g].first) {
      EXPECT_EQ(st.second, before[g].second);
    }
    EXPECT_GE(c.store(2).Info(g)->term, term_before[g]) << "term went back in group " << g;
  }
  for (GroupId g : groups) {
    auto r = c.Propose(g, "after=restart" + std::to_string(g));
    ASSERT_TRUE(r.ok()) << "group " << g << ": " << r.status().ToString();
  }
  ASSERT_TRUE(WaitFor([&] { return c.Converged(groups, 7); }, 30s));
  EXPECT_EQ(c.store(2).Machine(42)->Value("after"), "restart42");

  // Store 3 misses 40 commands in groups 1-10 (their logs get compacted past it) and 2 in the
  // others; restarted, it catches up by snapshot and by log.
  c.store(3).Stop();
  for (int round = 0; round < 40; ++round) {
    ASSERT_TRUE(c.ProposeAll(Range(1, 10), [&](GroupId g) {
      return "m" + std::to_string(round % 7) + "=" + std::to_string(g);
    }));
  }
  for (int round = 0; round < 2; ++round) {
    ASSERT_TRUE(c.ProposeAll(groups, [&](GroupId g) {
      return "late" + std::to_string(round) + "=" + std::to_string(g);
    }));
  }
  ASSERT_TRUE(c.store(3).Start(groups, c.Members()).ok());
  ASSERT_TRUE(WaitFor([&] { return c.Converged(groups, 9); }, 60s)) << "store 3 did not catch up";
  EXPECT_GE(c.store(3).raft().stats().snapshots_installed.load(), 1u);
  EXPECT_EQ(c.store(3).Machine(99)->snapshots_installed(), 0u) << "group 99 only needed the log";
  EXPECT_EQ(c.store(3).Machine(5)->Value("m6"), "5");
}

// Issue 19: the commands libraft applies in one loop turn reach the state machine as one batch
// (StateMachine::ApplyBatch); each proposer still gets its own command's result. (A read waits
// for the batch holding its index: AnApplyHeldOnTheWorker... below.)
TEST(MultiRaft, CommandsAppliedInOneTurnReachTheStateMachineTogether) {
  TempDir dir;
  Cluster c(dir, 3, TestOptions());
  for (int i = 1; i <= 3; ++i) ASSERT_TRUE(c.store(i).Start({1}, c.Members()).ok());
  ASSERT_TRUE(WaitFor([&] { return c.Leader(1) != nullptr; }, 30s));
  TestStore* leader = c.Leader(1);
  const uint64_t batches_before = leader->raft().stats().apply_batches.load();
  const uint64_t commands_before = leader->raft().stats().commands_applied.load();
  constexpr int kCommands = 64;
  std::mutex mu;
  std::map<int, Result<ProposeResult>> results;
  leader->Sync([&] {
    for (int i = 0; i < kCommands; ++i) {
      leader->raft().Propose(1, "b" + std::to_string(i) + "=" + std::to_string(i),
                             [&, i](Result<ProposeResult> r) {
                               std::lock_guard<std::mutex> lock(mu);
                               results.emplace(i, std::move(r));
                             });
    }
  });
  ASSERT_TRUE(WaitFor(
      [&] {
        std::lock_guard<std::mutex> lock(mu);
        return results.size() == kCommands;
      },
      30s));
  uint64_t last = 0;
  for (auto& [i, r] : results) {
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->result, "ok") << "command " << i;
    EXPECT_GT(r->index, last) << "applied in proposal order";
    last = r->index;
  }
  EXPECT_EQ(leader->Machine(1)->Value("b63"), "63");
  const uint64_t batches = leader->raft().stats().apply_batches.load() - batches_before;
  const uint64_t commands = leader->raft().stats().commands_applied.load() - commands_before;
  EXPECT_EQ(commands, static_cast<uint64_t>(kCommands));
  EXPECT_LE(batches * 4, commands) << batches << " batches for " << commands << " commands";
  ASSERT_TRUE(WaitFor([&] { return c.Converged({1}, kCommands); }, 30s));
}

// A state machine that applies on the apply worker (ApplyOffLoop), with a gate that holds its
// batches until the test opens it, and the threads it applied on.
class OffLoopMachine : public TestStateMachine {
 public:
  struct Gate {
    std::mutex mu;
    std::condition_variable cv;
    bool open = true;
    std::set<std::thread::id> threads;
  };
  OffLoopMachine(engine::Engine* engine, GroupId group, Gate* gate)
      : TestStateMachine(engine, group), gate_(gate) {}
  bool ApplyOffLoop() const override { return true; }
  Result<std::vector<std::string>> ApplyBatch(std::span<const Entry> entries) override {
    {
      std::unique_lock<std::mutex> lock(gate_->mu);
      gate_->threads.insert(std::this_thread::get_id());
      gate_->cv.wait_for(lock, 20s, [&] { return gate_->open; });
    }
    return TestStateMachine::ApplyBatch(entries);
  }

 private:
  Gate* gate_;
};

// Issue 19: applies run off the loop. While a batch is held on the worker, the loop goes on
// (it answers, it ticks); the proposer and a read issued after it wait for the batch.
TEST(MultiRaft, AnApplyHeldOnTheWorkerLeavesTheLoopFreeAndRepliesWaitForIt) {
  TempDir dir;
  Cluster c(dir, 3, TestOptions());
  OffLoopMachine::Gate gate;
  for (int i = 1; i <= 3; ++i) {
    c.store(i).set_machine_factory([&gate](engine::Engine* e, GroupId g) {
      return std::unique_ptr<StateMachine>(new OffLoopMachine(e, g, &gate));
    });
    ASSERT_TRUE(c.store(i).Start({1}, c.Members()).ok());
  }
  ASSERT_TRUE(WaitFor([&] { return c.Leader(1) != nullptr; }, 30s));
  TestStore* leader = c.Leader(1);
  ASSERT_TRUE(leader->Propose(1, "warm=up").ok());
  {
    std::lock_guard<std::mutex> lock(gate.mu);
    gate.open = false;
  }
  std::atomic<bool> written{false}, read{false};
  const uint64_t applied_before = leader->Info(1)->last_applied;
  leader->Sync([&] {
    leader->raft().Propose(1, "held=1", [&](Result<ProposeResult> r) {
      EXPECT_TRUE(r.ok() && r->result == "ok");
      written = true;
    });
  });
  // Committed and applied by libraft; the state machine's batch waits at the gate.
  ASSERT_TRUE(WaitFor([&] { return leader->Info(1)->last_applied > applied_before; }, 10s));
  leader->Sync([&] {
    leader->raft().ReadIndex(1, [&](Result<uint64_t> r) {
      EXPECT_TRUE(r.ok());
      read = true;
    });
  });
  for (int i = 0; i < 10; ++i) {
    EXPECT_TRUE(leader->Info(1).has_value()) << "the loop answers while the batch is held";
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_FALSE(written.load()) << "answered before the state machine applied the command";
  EXPECT_FALSE(read.load()) << "a read answered before the write before it was applied";
  {
    std::lock_guard<std::mutex> lock(gate.mu);
    gate.open = true;
  }
  gate.cv.notify_all();
  ASSERT_TRUE(WaitFor([&] { return written.load() && read.load(); }, 10s));
  EXPECT_EQ(leader->Machine(1)->Value("held"), "1");
  const std::thread::id loop_thread = leader->Sync([] { return std::this_thread::get_id(); });
  std::lock_guard<std::mutex> lock(gate.mu);
  EXPECT_EQ(gate.threads.count(loop_thread), 0u) << "applied on the loop thread";
}

TEST(MultiRaft, StoppedStoreCatchesUpByLogAndBySnapshot) {
  TempDir dir;
  rustorium::testing::LogCapture log;  // outlives the cluster
  MultiRaftOptions o = TestOptions();
  o.snapshot_threshold = 32;
  o.snapshot_trailing = 8;
  o.snapshot_chunk_bytes = 512;  // many chunks per snapshot
  o.snapshot_bytes_per_second = 16 << 10;
  Cluster c(dir, 3, o);
  const auto groups = Range(1, 10);
  for (int i = 1; i <= 3; ++i) ASSERT_TRUE(c.store(i).Start(groups, c.Members()).ok());
  for (GroupId g : groups) ASSERT_TRUE(c.Propose(g, "start=1").ok());
  ASSERT_TRUE(WaitFor([&] { return c.Converged(groups, 2); }, 30s));

  c.store(3).Stop();
  // Groups 1-5 move far past the snapshot threshold (their logs get compacted beyond what
  // store 3 has); groups 6-10 only a little (store 3 catches up from the log).
  for (GroupId g : groups) {
    const int n = g <= 5 ? 80 : 3;
    for (int i = 0; i < n; ++i) {
      auto r = c.Propose(g, "key" + std::to_string(i % 20) + "=" +
                                std::string(400, 'a' + static_cast<char>(i % 26)));
      ASSERT_TRUE(r.ok()) << r.status().ToString();
    }
  }
  const auto restarted = std::chrono::steady_clock::now();
  ASSERT_TRUE(c.store(3).Start(groups, c.Members()).ok());
  ASSERT_TRUE(WaitFor([&] { return c.Converged(groups, 5); }, 60s)) << "store 3 did not catch up";
  // The streaming kept to its bandwidth limit (each leader store paces its own transfers).
  const double took =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - restarted).count();
  const uint64_t sent = std::max(c.store(1).raft().stats().snapshot_bytes_sent.load(),
                                 c.store(2).raft().stats().snapshot_bytes_sent.load());
  EXPECT_GT(sent, 8u * 1024);
  EXPECT_GE(took, 0.5 * static_cast<double>(sent) / (16 << 10))
      << sent << " bytes in " << took << " s";
  const auto& stats = c.store(3).raft().stats();
  EXPECT_GE(stats.snapshots_installed.load(), 1u) << "a compacted group must come back by snapshot";
  uint64_t by_snapshot = 0;
  for (GroupId g : groups) {
    by_snapshot += c.store(3).Machine(g)->snapshots_installed();
    EXPECT_EQ(c.store(3).Machine(g)->Value("start"), "1");
  }
  EXPECT_GE(by_snapshot, 1u);
  for (GroupId g = 6; g <= 10; ++g) {
    EXPECT_EQ(c.store(3).Machine(g)->snapshots_installed(), 0u)
        << "group " << g << " should catch up by log";
  }
  EXPECT_EQ(c.store(3).Machine(2)->Value("key19"), c.store(1).Machine(2)->Value("key19"));
  // The operator's log names each snapshot sent and installed: group, peer, bytes, index.
  const std::string text = log.Text();
  EXPECT_NE(text.find("raft snapshot sent: group="), std::string::npos) << text;
  EXPECT_NE(text.find(" to=3 peer=127.0.0.1:"), std::string::npos) << text;
  EXPECT_NE(text.find("raft snapshot installed: group="), std::string::npos) << text;
  EXPECT_EQ(text.find("bytes=0 "), std::string::npos) << text;
  // After a snapshot, replication goes on normally.
  for (GroupId g : groups) ASSERT_TRUE(c.Propose(g, "end=1").ok());
  ASSERT_TRUE(WaitFor([&] { return c.Converged(groups); }, 30s));
}

// A lagging follower's AppendEntries once held every missing entry in one message; past the
// frame limit it was never delivered and the follower never caught up. Split, it catches up.
TEST(MultiRaft, ALaggingFollowerCatchesUpFromALogLargerThanAFrame) {
  TempDir dir;
  MultiRaftOptions o = TestOptions();
  o.snapshot_threshold = 1u << 20;  // catch up from the log, never by snapshot
  o.max_message_bytes = 8 << 10;
  o.channel.limits.max_frame_bytes = 32 << 10;  // what the stores send each other
  Cluster c(dir, 3, o);
  const std::vector<GroupId> groups = {1};
  for (int i = 1; i <= 3; ++i) ASSERT_TRUE(c.store(i).Start(groups, c.Members()).ok());
  ASSERT_TRUE(c.Propose(1, "start=1").ok());
  ASSERT_TRUE(WaitFor([&] { return c.Converged(groups, 2); }, 30s));
  c.store(3).Stop();
  for (int i = 0; i < 60; ++i) {  // 60 KiB of entries: two frames' worth
    auto r = c.Propose(1, "key" + std::to_string(i) + "=" + std::string(1000, 'v'));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  ASSERT_TRUE(c.store(3).Start(groups, c.Members()).ok());
  ASSERT_TRUE(WaitFor([&] { return c.Converged(groups, 60); }, 60s)) << "store 3 did not catch up";
  EXPECT_EQ(c.store(3).Machine(1)->snapshots_installed(), 0u);
  EXPECT_EQ(c.store(3).Machine(1)->Value("key59"), std::string(1000, 'v'));
}

TEST(MultiRaft, LearnerPromotionRemovalAndLeaderTransfer) {
  TempDir dir;
  rustorium::testing::LogCapture log;  // outlives the cluster
  MultiRaftOptions o = TestOptions();
  o.slow_apply = 0ms;  // every apply is "slow": its log line shows
  Cluster c(dir, 4, o);
  const GroupId g = 9;
  std::vector<Member> first3 = {c.store(1).member(), c.store(2).member(), c.store(3).member()};
  for (int i = 1; i <= 3; ++i) ASSERT_TRUE(c.store(i).Start({g}, first3).ok());
  ASSERT_TRUE(c.store(4).Start({g}, {}).ok()) << "store 4 waits to be added";
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(c.Propose(g, "x" + std::to_string(i) + "=1").ok());

  auto suffrage_of = [&](TestStore& s, uint64_t id) -> std::optional<Suffrage> {
    auto info = s.Info(g);
    for (const ConfigMember& m : info->servers) {
      if (m.id == id) return m.suffrage;
    }
    return std::nullopt;
  };
  auto leader_change = [&](const std::function<void(MultiRaft&, MultiRaft::StatusCallback)>& call) {
    for (int attempt = 0; attempt < 50; ++attempt) {
      TestStore* leader = c.Leader(g);
      if (leader != nullptr) {
        Status s = leader->Change(call);
        if (s.ok() || s.code() != StatusCode::kFailedPrecondition) return s;
      }
      std::this_thread::sleep_for(100ms);
    }
    return Status::TimedOut("no leader");
  };

  // Learner: replicates, does not vote.
  ASSERT_TRUE(leader_change([&](MultiRaft& r, auto done) {
                r.AddLearner(g, c.store(4).member(), done);
              }).ok());
  ASSERT_TRUE(WaitFor([&] { return c.Converged({g}, 11); }, 30s)) << "learner did not catch up";
  EXPECT_EQ(suffrage_of(*c.Leader(g), 4), Suffrage::kStandby);
  EXPECT_EQ(c.store(4).Machine(g)->Value("x9"), "1");

  // Promote to voter, then hand it the leadership.
  ASSERT_TRUE(leader_change([&](MultiRaft& r, auto done) { r.Promote(g, 4, done); }).ok());
  EXPECT_EQ(suffrage_of(*c.Leader(g), 4), Suffrage::kVoter);
  ASSERT_TRUE(WaitFor(
      [&] {
        TestStore* leader = c.Leader(g);
        if (leader == &c.store(4)) return true;
        if (leader != nullptr)
          leader->Change([&](MultiRaft& r, auto done) { r.TransferLeader(g, 4, done); })
              .IgnoreError();
        return c.Leader(g) == &c.store(4);
      },
      30s))
      << "leadership did not move to store 4";

  // Remove store 1; the group goes on with 2, 3 and 4.
  ASSERT_TRUE(leader_change([&](MultiRaft& r, auto done) { r.RemoveMember(g, 1, done); }).ok());
  EXPECT_EQ(suffrage_of(*c.Leader(g), 1), std::nullopt);
  c.store(1).Stop();
  ASSERT_TRUE(c.Propose(g, "after=removal").ok());
  ASSERT_TRUE(WaitFor([&] { return c.Converged({g}); }, 30s));
  EXPECT_EQ(c.store(2).Machine(g)->Value("after"), "removal");

  // The operator's log: each replica's view of the leader (with the term) and of each
  // membership change.
  const std::string text = log.Text();
  for (const char* line :
       {"raft leader: group=9 term=", " (elected here)", "leader=4 (elected here)",
        "raft membership: group=9 term=", "added=4(spare)", "changed=4(spare->standby)",
        "changed=4(standby->voter)", "removed=1 members=2(voter),3(voter),4(voter)",
        "raft slow apply: group=9 index="}) {
    EXPECT_NE(text.find(line), std::string::npos) << line << "\n" << text;
  }
}

// Stores authenticate each other with certificates from the cluster CA; a store whose
// certificate another CA signed is refused and never receives a thing.
TEST(MultiRaft, StoresUseMutualTlsAndRefuseAStrangersCertificate) {
  TempDir dir;
  rpc::ClusterCertsOptions cluster;
  cluster.dir = dir.Sub("certs");
  cluster.stores = 2;
  ASSERT_TRUE(rpc::CreateClusterCerts(cluster).ok());
  rpc::ClusterCertsOptions other = cluster;
  other.dir = dir.Sub("other");
  other.stores = 1;
  ASSERT_TRUE(rpc::CreateClusterCerts(other).ok());
  auto contexts = [](const std::string& certs, int node) {
    rpc::TlsOptions t;
    t.ca_file = certs + "/ca.crt";
    t.cert_file = certs + "/store-" + std::to_string(node) + ".crt";
    t.key_file = certs + "/store-" + std::to_string(node) + ".key";
    t.require_client_cert = true;
    auto server = rpc::TlsContext::CreateServer(t);
    auto client = rpc::TlsContext::CreateClient(t);
    EXPECT_TRUE(server.ok() && client.ok());
    return std::make_pair(*server, *client);
  };
  std::vector<std::unique_ptr<TestStore>> stores;
  std::vector<Member> peers;
  for (int i = 1; i <= 3; ++i) {
    auto [server, client] = i < 3 ? contexts(cluster.dir, i) : contexts(other.dir, 1);
    MultiRaftOptions o = TestOptions();
    o.channel.tls = client;
    stores.push_back(std::make_unique<TestStore>(i, dir.Sub("s" + std::to_string(i)), o));
    stores.back()->set_server_tls(server);
    peers.push_back(stores.back()->member());
  }
  const auto groups = Range(1, 5);
  for (auto& s : stores) ASSERT_TRUE(s->Start(groups, peers).ok());
  for (GroupId g : groups) {
    Result<ProposeResult> r = Status::TimedOut("no leader");
    ASSERT_TRUE(WaitFor(
        [&] {
          for (int i = 0; i < 2; ++i) {
            auto info = stores[i]->Info(g);
            if (info->role == Role::kLeader) {
              r = stores[i]->Propose(g, "tls=on");
              return r.ok();
            }
          }
          return false;
        },
        30s))
        << "group " << g << ": " << r.status().ToString();
  }
  ASSERT_TRUE(WaitFor(
      [&] {
        for (GroupId g : groups) {
          if (stores[0]->State(g) != stores[1]->State(g) || stores[0]->State(g).first == 0)
            return false;
        }
        return true;
      },
      30s));
  for (GroupId g : groups) {
    EXPECT_EQ(stores[2]->State(g).first, 0u) << "the stranger must not replicate group " << g;
    EXPECT_NE(stores[2]->Info(g)->role, Role::kLeader);
  }
  EXPECT_EQ(stores[2]->raft().stats().messages_received.load(), 0u);
}

// A peer that is only an RPC server recording the Raft messages it receives.
class FakePeer {
 public:
  explicit FakePeer(uint64_t id) : id_(id) {
    server_ = std::make_unique<rpc::RpcServer>(loop_, rpc::ServerOptions{});
    server_->OnMessage("raft.Batch", [this](const rpc::Envelope& e) {
      RaftBatch b;
      if (!b.ParseFromString(e.payload())) return;
      std::lock_guard<std::mutex> lock(mu_);
      for (const RaftMessage& m : b.messages()) received_.push_back(m);
    });
    EXPECT_TRUE(server_->Start().ok());
    channel_.reset();
  }
  ~FakePeer() {
    channel_.reset();
    server_.reset();
  }
  Member member() const { return {id_, "127.0.0.1:" + std::to_string(server_->port())}; }
  // Sends `m` to `to` as if from this peer.
  void Send(const TestStore& to, RaftMessage m) {
    if (!channel_) {
      const rpc::HostPort hp = *rpc::ParseAddress(to.address());
      channel_ = std::make_unique<rpc::RpcChannel>(loop_, hp.host, hp.port);
    }
    RaftBatch b;
    b.set_from_id(id_);
    b.set_from_address(member().address);
    *b.add_messages() = std::move(m);
    channel_->Send("raft.Batch", b.SerializeAsString());
  }
  // The vote results received so far.
  std::vector<RequestVoteResult> Votes() {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<RequestVoteResult> out;
    for (const RaftMessage& m : received_) {
      if (m.has_request_vote_result()) out.push_back(m.request_vote_result());
    }
    return out;
  }

 private:
  uint64_t id_;
  rpc::EventLoop loop_;
  std::unique_ptr<rpc::RpcServer> server_;
  std::unique_ptr<rpc::RpcChannel> channel_;
  std::mutex mu_;
  std::vector<RaftMessage> received_;
};

RaftMessage VoteRequest(GroupId g, uint64_t to, uint64_t candidate, uint64_t term) {
  RaftMessage m;
  m.set_group_id(g);
  m.set_to_id(to);
  RequestVote* v = m.mutable_request_vote();
  v->set_term(term);
  v->set_candidate_id(candidate);
  v->set_last_log_index(1000);  // more up to date than anything store 1 has
  v->set_last_log_term(term - 1);
  return m;
}

TEST(MultiRaft, RestartedStoreNeverVotesTwiceInATerm) {
  TempDir dir;
  MultiRaftOptions o = TestOptions();
  o.election = 60000ms;  // store 1 never campaigns itself during the test
  o.heartbeat = 1000ms;
  o.pre_vote = false;
  FakePeer two(2), three(3);
  TestStore one(1, dir.Sub("one"), o);
  const GroupId g = 5;
  const std::vector<Member> peers = {one.member(), two.member(), three.member()};
  ASSERT_TRUE(one.Start({g}, peers).ok());

  // Candidate 2 asks for term 7: granted, and the vote is on disk before the answer.
  two.Send(one, VoteRequest(g, 1, 2, 7));
  ASSERT_TRUE(WaitFor([&] { return two.Votes().size() == 1; }, 10s));
  EXPECT_TRUE(two.Votes()[0].vote_granted());
  EXPECT_EQ(one.Info(g)->voted_for, 2u);

  // Restart: the same term's vote for candidate 3 is refused.
  one.Stop();
  ASSERT_TRUE(one.Start({g}, peers).ok());
  EXPECT_EQ(one.Info(g)->term, 7u);
  EXPECT_EQ(one.Info(g)->voted_for, 2u);
  three.Send(one, VoteRequest(g, 1, 3, 7));
  ASSERT_TRUE(WaitFor([&] { return three.Votes().size() == 1; }, 10s));
  EXPECT_FALSE(three.Votes()[0].vote_granted()) << "voted twice in term 7";
  // The next term is a new vote (so the refusal above was about the term, not the candidate).
  three.Send(one, VoteRequest(g, 1, 3, 8));
  ASSERT_TRUE(WaitFor([&] { return three.Votes().size() == 2; }, 10s));
  EXPECT_TRUE(three.Votes()[1].vote_granted());
}

TEST(MultiRaft, MalformedAndMisaddressedMessagesAreDroppedAndCounted) {
  TempDir dir;
  MultiRaftOptions o = TestOptions();
  FakePeer two(2);
  TestStore one(1, dir.Sub("one"), o);
  ASSERT_TRUE(one.Start({1}, {one.member()}).ok());  // a one-member group: leader at once
  ASSERT_TRUE(WaitFor([&] { return one.Info(1)->role == Role::kLeader; }, 10s));
  const uint64_t term = one.Info(1)->term;
  RaftMessage no_body;
  no_body.set_group_id(1);
  no_body.set_to_id(1);
  two.Send(one, no_body);
  two.Send(one, VoteRequest(1, 99, 2, 50));   // addressed to another server id
  two.Send(one, VoteRequest(777, 1, 2, 50));  // a group this store does not host
  RaftMessage bad_entry;
  bad_entry.set_group_id(1);
  bad_entry.set_to_id(1);
  bad_entry.mutable_append_entries()->set_term(1);
  bad_entry.mutable_append_entries()->add_entries()->set_type(99);
  two.Send(one, bad_entry);
  ASSERT_TRUE(WaitFor([&] { return one.raft().stats().messages_dropped.load() >= 4; }, 10s))
      << one.raft().stats().messages_dropped.load();
  EXPECT_EQ(one.Info(1)->role, Role::kLeader);
  EXPECT_EQ(one.Info(1)->term, term) << "no dropped message reached Raft";
  ASSERT_TRUE(one.Propose(1, "still=serving").ok());
}

// Every proposal libraft reported committed is in the log on disk after SIGKILL, at the index
// it was reported at; rounds continue the same logs.
TEST(MultiRaftDurability, CommittedEntriesSurviveSigkill) {
  const uint64_t seed = rustorium::testing::TestSeed();
  std::printf("multi-raft durability seed: %llu (replay with RUSTORIUM_TEST_SEED)\n",
              static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  TempDir dir;
  const std::string path = dir.Sub("db");
  std::map<uint64_t, std::map<uint64_t, std::string>> acked;  // group -> index -> command
  for (int round = 0; round < 3; ++round) {
    const auto delay = std::chrono::milliseconds(100 + rng() % 400);
    auto run = rustorium::testing::RunAndKill({RUSTORIUM_MULTI_RAFT_WRITER, path}, delay);
    ASSERT_TRUE(run.ready && run.killed) << "round " << round;
    for (const std::string& line : run.acked) {
      unsigned long long g = 0, index = 0;
      char command[128];
      ASSERT_EQ(std::sscanf(line.c_str(), "%llu %llu %127s", &g, &index, command), 3) << line;
      acked[g][index] = command;
    }
  }
  auto engine = rustorium::testing::OpenScratchEngine(path);
  ASSERT_TRUE(engine);
  RaftLogStore store(engine.get());
  std::size_t total = 0;
  for (const auto& [g, entries] : acked) {
    auto loaded = store.Load(g);
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    for (const auto& [index, command] : entries) {
      ASSERT_GE(index, loaded->first_index);
      ASSERT_LT(index - loaded->first_index, loaded->entries.size())
          << "group " << g << " lost entry " << index;
      EXPECT_EQ(loaded->entries[index - loaded->first_index].data, command)
          << "group " << g << " index " << index;
      ++total;
    }
  }
  EXPECT_GT(total, 100u) << "the writer acknowledged too little to test anything";
}

// Adds the "group index command" lines of a writer run to `acked`.
void AddAcked(const std::vector<std::string>& lines,
              std::map<uint64_t, std::map<uint64_t, std::string>>& acked) {
  for (const std::string& line : lines) {
    unsigned long long g = 0, index = 0;
    char command[128];
    if (std::sscanf(line.c_str(), "%llu %llu %127s", &g, &index, command) == 3)
      acked[g][index] = command;
  }
}

std::vector<std::string> Lines(const std::string& out) {
  std::vector<std::string> lines;
  std::size_t pos = 0;
  for (std::size_t nl; (nl = out.find('\n', pos)) != std::string::npos; pos = nl + 1)
    lines.push_back(out.substr(pos, nl - pos));
  return lines;
}

// Runs the writer with the fault `fault` armed: it must stop itself with Fatal's exit code and
// log line; then a restart loads every group (no shifted or missing entry: each acknowledged
// entry is at its index) and goes on writing.
void ExpectStopThenResume(const std::string& fault, const std::string& fatal_line) {
  TempDir dir;
  const std::string path = dir.Sub("db");
  auto stopped = rustorium::testing::RunCommand("RUSTORIUM_FAULTS=" + fault + " timeout 60 " +
                                                RUSTORIUM_MULTI_RAFT_WRITER + " " + path);
  EXPECT_EQ(stopped.exit_code, kFatalExitCode) << stopped.out;
  EXPECT_NE(stopped.out.find(fatal_line), std::string::npos) << stopped.out;
  std::map<uint64_t, std::map<uint64_t, std::string>> acked;
  AddAcked(Lines(stopped.out), acked);
  auto resumed = rustorium::testing::RunAndKill({RUSTORIUM_MULTI_RAFT_WRITER, path}, 1500ms);
  ASSERT_TRUE(resumed.ready && resumed.killed) << "the store did not come back";
  const std::size_t before = acked.size();
  AddAcked(resumed.acked, acked);
  EXPECT_FALSE(resumed.acked.empty()) << "no write after the restart";
  EXPECT_GE(acked.size(), before);
  auto engine = rustorium::testing::OpenScratchEngine(path);
  ASSERT_TRUE(engine);
  RaftLogStore store(engine.get());
  for (uint64_t g = 1; g <= 8; ++g) {
    auto loaded = store.Load(g);
    ASSERT_TRUE(loaded.ok()) << "group " << g << ": " << loaded.status().ToString();
    for (const auto& [index, command] : acked[g]) {
      ASSERT_GE(index, loaded->first_index);
      ASSERT_LT(index - loaded->first_index, loaded->entries.size())
          << "group " << g << " lost entry " << index;
      EXPECT_EQ(loaded->entries[index - loaded->first_index].data, command)
          << "group " << g << " index " << index;
    }
  }
}

// A failed Raft log write once went back to libraft as an error while the next batch was
// written behind it at the following indexes: the stored log shifted. Now the store stops.
TEST(MultiRaftDurability, AFailedLogWriteStopsTheStoreAndARestartLoadsEveryGroup) {
  ExpectStopThenResume("raft.log_write@40", "fatal: raft log write failed");
}

// An engine failure in apply once made libraft retry the entry forever.
TEST(MultiRaftDurability, AFailedApplyStopsTheStoreAndARestartResumes) {
  ExpectStopThenResume("test.apply_write@60", "fatal: applying entries ");
}

}  // namespace
}  // namespace rustorium::raft::testing
