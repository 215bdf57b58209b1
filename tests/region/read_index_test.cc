// Linearizable reads without a log entry: the read-index rounds on their own (ReadRounds), and
// MultiRaft::ReadIndex over a scripted network (tests/support/scripted_raft.h): reads append
// nothing, see every write acknowledged before them, wait for the first entry of a new
// leader's term, and a deposed leader that has not noticed never answers; with the test switch
// unsafe_reads_without_quorum it does, stale.
#include "region/raft/read_index.h"

#include <gtest/gtest.h>

#include <future>

#include "tests/support/scripted_raft.h"

namespace rustorium::raft::testing {
namespace {

using rustorium::testing::TempDir;

ReadProbeResult Answer(uint64_t term, uint64_t seq, bool ok) {
  ReadProbeResult r;
  r.set_term(term);
  r.set_seq(seq);
  r.set_ok(ok);
  return r;
}

struct Outcomes {
  std::vector<Result<uint64_t>> got;
  ReadRounds::Done Recorder() {
    return [this](Result<uint64_t> r) { got.push_back(std::move(r)); };
  }
};

TEST(ReadRounds, OnlyAQuorumOfVotersAnsweringOkForTheSameTermAndSeqConfirms) {
  ReadRounds rounds;
  Outcomes out;
  const std::vector<uint64_t> voters = {1, 2, 3, 4, 5};
  rounds.Queue(7, out.Recorder(), 0);
  rounds.Queue(7, out.Recorder(), 0);
  auto probe = rounds.StartRound(40, 0, voters, 1);
  ASSERT_TRUE(probe.has_value());
  EXPECT_EQ(probe->term(), 7u);
  EXPECT_FALSE(rounds.has_queued());
  // None of these counts: a learner, the leader itself, another term, another round, a refusal.
  EXPECT_FALSE(rounds.Answer(Answer(7, probe->seq(), true), 9, voters, 1));
  EXPECT_FALSE(rounds.Answer(Answer(7, probe->seq(), true), 1, voters, 1));
  EXPECT_FALSE(rounds.Answer(Answer(8, probe->seq(), true), 2, voters, 1));
  EXPECT_FALSE(rounds.Answer(Answer(7, probe->seq() + 1, true), 2, voters, 1));
  EXPECT_FALSE(rounds.Answer(Answer(7, probe->seq(), false), 2, voters, 1));
  // One voter twice is one answer: the leader and voter 2 are two of five.
  EXPECT_FALSE(rounds.Answer(Answer(7, probe->seq(), true), 2, voters, 1));
  EXPECT_FALSE(rounds.Answer(Answer(7, probe->seq(), true), 2, voters, 1));
  EXPECT_TRUE(rounds.TakeApplied(1000).empty()) << "not confirmed yet";
  EXPECT_TRUE(rounds.Answer(Answer(7, probe->seq(), true), 4, voters, 1));
  // Confirmed: answered once applied through the read index.
  EXPECT_TRUE(rounds.TakeApplied(39).empty());
  auto ready = rounds.TakeApplied(40);
  ASSERT_EQ(ready.size(), 2u);
  EXPECT_EQ(ready[0].index, 40u);
  EXPECT_TRUE(rounds.empty());
}

TEST(ReadRounds, ALaterRoundConfirmsEarlierOnesAndUnansweredRoundsExpire) {
  ReadRounds rounds;
  Outcomes out;
  const std::vector<uint64_t> voters = {1, 2, 3};
  rounds.Queue(3, out.Recorder(), 0);
  auto first = rounds.StartRound(10, 0, voters, 1);
  rounds.Queue(3, out.Recorder(), 5);
  auto second = rounds.StartRound(12, 5, voters, 1);
  ASSERT_TRUE(first && second);
  EXPECT_LT(first->seq(), second->seq());
  EXPECT_TRUE(rounds.Answer(Answer(3, second->seq(), true), 3, voters, 1));
  EXPECT_FALSE(rounds.Answer(Answer(3, first->seq(), true), 2, voters, 1)) << "already confirmed";
  EXPECT_EQ(rounds.TakeApplied(12).size(), 2u);

  rounds.Queue(3, out.Recorder(), 100);
  ASSERT_TRUE(rounds.StartRound(12, 100, voters, 1).has_value());
  rounds.Queue(3, out.Recorder(), 150);  // waiting for its round
  EXPECT_TRUE(rounds.TakeExpired(1099, 1000).empty());
  EXPECT_EQ(rounds.TakeExpired(1100, 1000).size(), 1u);
  EXPECT_EQ(rounds.TakeExpired(1150, 1000).size(), 1u);
  EXPECT_TRUE(rounds.empty());

  // A lone voter is its own quorum; TakeAll fails whatever is left.
  rounds.Queue(4, out.Recorder(), 0);
  EXPECT_FALSE(rounds.StartRound(20, 0, {1}, 1).has_value());
  rounds.Queue(4, out.Recorder(), 0);
  EXPECT_EQ(rounds.TakeAll().size(), 2u);
}

// ---- MultiRaft over a scripted network ----

// Runs ReadIndex on store `s` and returns its outcome, to wait on; on `s`'s loop thread.
std::shared_future<Result<uint64_t>> ReadOnLoop(TestStore& s) {
  auto p = std::make_shared<std::promise<Result<uint64_t>>>();
  s.raft().ReadIndex(kGroup, [p](Result<uint64_t> r) { p->set_value(r); });
  return p->get_future().share();
}

std::shared_future<Result<uint64_t>> StartRead(TestStore& s) {
  return s.Sync([&] { return ReadOnLoop(s); });
}

std::string ValueAt(TestStore& s, const std::string& key) {
  return s.Sync(
      [&] { return static_cast<TestStateMachine*>(s.raft().state_machine(kGroup))->Value(key); });
}

uint64_t LastIndex(TestStore& s) { return s.Info(kGroup)->last_index; }

TEST(MultiRaftReads, ReadsAppendNoLogEntryAndATurnsReadsShareOneProbe) {
  TempDir dir;
  ScriptedNet net;
  ScriptedCluster c(dir, 3, &net, AllGuards());
  ASSERT_TRUE(c.Start().ok());
  ASSERT_TRUE(c.SettleOnStoreOne());
  auto w = c.store(1).Propose(kGroup, "a=1");
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  uint64_t last[4];
  for (uint64_t i = 1; i <= 3; ++i) {
    ASSERT_TRUE(WaitFor([&] { return LastIndex(c.store(i)) == w->index; }, 20s));
    last[i] = LastIndex(c.store(i));
  }
  const auto& stats = c.store(1).raft().stats();
  const uint64_t appended = stats.entries_appended.load();
  const uint64_t probes = stats.read_probes.load();
  for (int i = 0; i < 50; ++i) {
    auto at = c.store(1).ReadIndex(kGroup);
    ASSERT_TRUE(at.ok()) << at.status().ToString();
    EXPECT_GE(*at, w->index);
  }
  EXPECT_EQ(stats.read_probes.load() - probes, 50u);
  // Twenty reads of one loop turn: one probe round.
  std::vector<std::shared_future<Result<uint64_t>>> reads;
  c.store(1).Sync([&] {
    for (int i = 0; i < 20; ++i) reads.push_back(ReadOnLoop(c.store(1)));
  });
  for (auto& r : reads) {
    ASSERT_EQ(r.wait_for(10s), std::future_status::ready);
    EXPECT_TRUE(r.get().ok()) << r.get().status().ToString();
  }
  EXPECT_EQ(stats.read_probes.load() - probes, 51u);
  EXPECT_EQ(stats.entries_appended.load(), appended) << "a read appended a log entry";
  for (uint64_t i = 1; i <= 3; ++i) EXPECT_EQ(LastIndex(c.store(i)), last[i]) << "store " << i;
}

TEST(MultiRaftReads, ReadsSeeEveryWriteAcknowledgedBeforeThem) {
  TempDir dir;
  ScriptedNet net;
  ScriptedCluster c(dir, 3, &net, AllGuards());
  ASSERT_TRUE(c.Start().ok());
  ASSERT_TRUE(c.SettleOnStoreOne());
  for (int i = 0; i < 100; ++i) {
    // A write in flight while the read is queued, then one acknowledged before the next read.
    c.ProposeAndForget(1, "pending=" + std::to_string(i));
    auto w = c.store(1).Propose(kGroup, "k=" + std::to_string(i));
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    std::string seen;
    auto p = std::make_shared<std::promise<Result<uint64_t>>>();
    auto f = p->get_future();
    c.store(1).loop().Post([&, p] {
      c.store(1).raft().ReadIndex(kGroup, [&, p](Result<uint64_t> r) {
        if (r.ok())
          seen =
              static_cast<TestStateMachine*>(c.store(1).raft().state_machine(kGroup))->Value("k");
        p->set_value(r);
      });
    });
    ASSERT_EQ(f.wait_for(10s), std::future_status::ready);
    auto at = f.get();
    ASSERT_TRUE(at.ok()) << at.status().ToString();
    EXPECT_GE(*at, w->index);
    EXPECT_EQ(seen, std::to_string(i));
  }
}

// Store 1 leads in t1 with "k=old" everywhere; then it is cut off from the others (it never
// times out, so it goes on believing it leads), store 2 is elected in t1 + 1 with store 3's
// vote, and "k=new" is acknowledged there.
struct DeposedLeader {
  explicit DeposedLeader(bool unsafe_reads)
      : c(dir, 3, &net, AllGuards(), [unsafe_reads](int store, MultiRaftOptions& o) {
          o.unsafe_reads_without_quorum = store == 1 && unsafe_reads;
        }) {}

  void Depose() {
    ASSERT_TRUE(c.Start().ok());
    ASSERT_TRUE(c.SettleOnStoreOne());
    auto w = c.store(1).Propose(kGroup, "k=old");
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    for (uint64_t i = 1; i <= 3; ++i) {
      ASSERT_TRUE(WaitFor([&] { return ValueAt(c.store(i), "k") == "old"; }, 20s));
    }
    net.SetScript([](uint64_t to, uint64_t from, const RaftMessage&) {
      return to == 1 || from == 1 ? Verdict::kDrop : Verdict::kPass;
    });
    const GroupInfo info = *c.store(1).Info(kGroup);
    c.Campaign(2, 1, info.term, info.last_index, info.term);
    ASSERT_TRUE(WaitFor(
        [&] {
          auto i2 = c.store(2).Info(kGroup);
          return i2->role == Role::kLeader && i2->term == info.term + 1;
        },
        20s));
    auto n = c.store(2).Propose(kGroup, "k=new");
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    ASSERT_EQ(c.store(1).Info(kGroup)->role, Role::kLeader) << "store 1 should not have noticed";
    ASSERT_EQ(ValueAt(c.store(1), "k"), "old");
  }

  TempDir dir;
  ScriptedNet net;
  ScriptedCluster c;
};

TEST(MultiRaftReads, ADeposedLeaderThatHasNotNoticedNeverAnswersARead) {
  DeposedLeader d(false);
  ASSERT_NO_FATAL_FAILURE(d.Depose());
  auto read = StartRead(d.c.store(1));
  // Its probes reach no voter: no answer, stale or otherwise.
  EXPECT_EQ(read.wait_for(3s), std::future_status::timeout);
  EXPECT_GE(d.c.store(1).raft().stats().read_probes.load(), 1u);
  // Healed, it hears of t1 + 1 and steps down: the read fails (the client retries elsewhere).
  d.net.SetScript({});
  ASSERT_EQ(read.wait_for(20s), std::future_status::ready);
  ASSERT_FALSE(read.get().ok());
  EXPECT_EQ(read.get().status().code(), StatusCode::kAborted) << read.get().status().ToString();
}

TEST(MultiRaftReads, ABoundedWaitFailsAReadNoQuorumConfirms) {
  DeposedLeader d(false);
  ASSERT_NO_FATAL_FAILURE(d.Depose());
  // Rounds are bounded by the election timeout (also its check for a quorum of contacts, which
  // may make it step down first: the read fails either way, never answers).
  d.c.store(1).Sync([&] { d.c.store(1).raft().SetElectionTimeout(kGroup, 500ms); });
  auto read = d.c.store(1).ReadIndex(kGroup, 20s);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), StatusCode::kAborted) << read.status().ToString();
}

TEST(MultiRaftReads, WithTheUnsafeTestSwitchADeposedLeaderAnswersStale) {
  DeposedLeader d(true);
  ASSERT_NO_FATAL_FAILURE(d.Depose());
  auto read = StartRead(d.c.store(1));
  ASSERT_EQ(read.wait_for(10s), std::future_status::ready);
  ASSERT_TRUE(read.get().ok()) << read.get().status().ToString();
  EXPECT_EQ(ValueAt(d.c.store(1), "k"), "old") << "the stale read the probe prevents";
}

TEST(MultiRaftReads, AReadRightAfterElectionWaitsForTheTermsFirstEntry) {
  TempDir dir;
  ScriptedNet net;
  ScriptedCluster c(dir, 3, &net, AllGuards());
  ASSERT_TRUE(c.Start().ok());
  ASSERT_TRUE(c.SettleOnStoreOne());
  auto w = c.store(1).Propose(kGroup, "k=1");
  ASSERT_TRUE(w.ok());
  for (uint64_t i = 1; i <= 3; ++i) {
    ASSERT_TRUE(WaitFor([&] { return LastIndex(c.store(i)) == w->index; }, 20s));
  }
  // Store 2 is elected; the answers to its AppendEntries are held, so its election barrier (the
  // first entry of its term) cannot commit.
  net.SetScript([](uint64_t to, uint64_t, const RaftMessage& m) {
    return to == 2 && m.has_append_entries_result() ? Verdict::kHold : Verdict::kPass;
  });
  const GroupInfo info = *c.store(1).Info(kGroup);
  c.Campaign(2, 1, info.term, info.last_index, info.term);
  ASSERT_TRUE(WaitFor([&] { return c.store(2).Info(kGroup)->role == Role::kLeader; }, 20s));
  const uint64_t probes = c.store(2).raft().stats().read_probes.load();
  auto read = StartRead(c.store(2));
  EXPECT_EQ(read.wait_for(1s), std::future_status::timeout);
  EXPECT_EQ(c.store(2).raft().stats().read_probes.load(), probes) << "no round before it";
  EXPECT_LT(c.store(2).Info(kGroup)->commit_index, c.store(2).Info(kGroup)->last_index);
  // Released, the barrier commits and the read is answered at or after it.
  net.SetScript({});
  for (Held& h : net.Take([](const Held& h) { return h.to == 2; })) {
    c.store(2).Sync([&] {
      (void)c.store(2).raft().InjectMessage(h.message, h.from, c.store(h.from).address());
    });
  }
  ASSERT_EQ(read.wait_for(10s), std::future_status::ready);
  ASSERT_TRUE(read.get().ok()) << read.get().status().ToString();
  EXPECT_GT(*read.get(), w->index);
  EXPECT_EQ(c.store(2).raft().stats().read_probes.load(), probes + 1);
}

}  // namespace
}  // namespace rustorium::raft::testing
