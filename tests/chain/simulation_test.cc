// Narwhal + Bullshark under deterministic simulation: every scenario prints its seed, and a
// failing seed replays exactly.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <optional>
#include <random>

#include "tests/chain/random_scenario.h"
#include "tests/chain/simulator.h"
#include "tests/test_util.h"

namespace rustorium::chain::sim {
namespace {

using rustorium::testing::TempDir;

SimulationOptions Options(uint64_t seed, const TempDir& dir) {
  SimulationOptions options;
  options.seed = seed;
  options.dir = dir.path().string();
  options.parameters = SimulationParameters();
  std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
  return options;
}

void ExpectSafe(const Simulation& sim) {
  const std::string bad = sim.CheckSafety();
  EXPECT_TRUE(bad.empty()) << "seed " << sim.seed() << ": " << bad;
}

// The first commits need certificates of rounds 1-3: a few hundred milliseconds.
TEST(Simulation, CommitsAndAgreesWithoutFaults) {
  for (uint64_t seed : {1, 2, 3}) {
    TempDir dir;
    Simulation sim(Options(seed, dir));
    sim.RunFor(10'000);
    ExpectSafe(sim);
    EXPECT_GE(sim.MinCommitted(), 20u) << "seed " << seed;
    EXPECT_GE(sim.validator(0).stats().last_committed_round, 80u)
        << "an anchor should commit almost every 2 rounds";
    EXPECT_GT(sim.executor(0).transactions(), 300u) << "seed " << seed;
    for (size_t i = 0; i < sim.size(); ++i) {
      EXPECT_EQ(sim.validator(i).stats().primary.rejected_certificates, 0u);
      EXPECT_EQ(sim.validator(i).stats().primary.dropped_messages, 0u);
    }
  }
}

TEST(Simulation, SameSeedReplaysExactly) {
  std::vector<std::vector<OutputEntry>> logs;
  for (int run = 0; run < 2; ++run) {
    TempDir dir;
    SimulationOptions options = Options(77, dir);
    options.network.drop_per_mille = 30;
    options.network.duplicate_per_mille = 30;
    Simulation sim(options);
    sim.RunFor(3'000);
    sim.Crash(1);
    sim.RunFor(1'000);
    ASSERT_TRUE(sim.Restart(1).ok());
    sim.RunFor(3'000);
    logs.push_back(sim.executor(1).log());
  }
  ASSERT_GT(logs[0].size(), 5u);
  EXPECT_EQ(logs[0], logs[1]);
}

TEST(Simulation, LossyReorderingDuplicatingNetwork) {
  for (uint64_t seed : {11, 12}) {
    TempDir dir;
    SimulationOptions options = Options(seed, dir);
    options.network = NetworkOptions{1, 250, 100, 100};
    Simulation sim(options);
    sim.RunFor(20'000);
    ExpectSafe(sim);
    EXPECT_GE(sim.MinCommitted(), 10u) << "seed " << seed;
  }
}

TEST(Simulation, FCrashedValidatorsKeepLiveness) {
  TempDir dir;
  Simulation sim(Options(21, dir));
  sim.Crash(3);
  sim.RunFor(10'000);
  ExpectSafe(sim);
  EXPECT_GE(sim.MinCommitted({0, 1, 2}), 10u);
}

TEST(Simulation, SymmetricPartitionStopsThenRecovers) {
  TempDir dir;
  Simulation sim(Options(31, dir));
  sim.RunFor(3'000);
  sim.Partition({{0, 1}, {2, 3}});
  sim.RunFor(1'000);  // what was in flight settles
  std::vector<uint64_t> during;
  for (size_t i = 0; i < sim.size(); ++i) during.push_back(sim.executor(i).LastExecutedIndex());
  sim.RunFor(5'000);
  for (size_t i = 0; i < sim.size(); ++i) {
    EXPECT_EQ(sim.executor(i).LastExecutedIndex(), during[i])
        << "validator " << i << " committed without a quorum";
  }
  ExpectSafe(sim);
  sim.Heal();
  uint64_t target = *std::max_element(during.begin(), during.end()) + 5;
  EXPECT_TRUE(sim.RunUntil([&] { return sim.MinCommitted() >= target; }, 20'000));
  ExpectSafe(sim);
  // Every transaction a worker accepted, during the partition too, commits everywhere: the
  // headers proposed without a quorum were never certified and their batches go again.
  sim.SetClientInterval(0);
  auto all_executed = [&] {
    for (size_t i = 0; i < sim.size(); ++i) {
      if (sim.Unexecuted(i) > 0) return false;
    }
    return true;
  };
  for (int step = 0; step < 100 && !all_executed(); ++step) sim.RunFor(200);
  EXPECT_TRUE(all_executed()) << "validator 0 misses " << sim.Unexecuted(0)
                              << " accepted transactions";
  ExpectSafe(sim);
}

TEST(Simulation, IsolatedValidatorCatchesUp) {
  TempDir dir;
  Simulation sim(Options(32, dir));
  sim.RunFor(2'000);
  sim.Isolate(0);
  sim.RunFor(3'000);
  EXPECT_LT(sim.executor(0).LastExecutedIndex(), sim.executor(1).LastExecutedIndex());
  sim.Heal();
  sim.RunFor(3'000);
  const uint64_t target = sim.executor(1).LastExecutedIndex();
  EXPECT_TRUE(sim.RunUntil([&] { return sim.executor(0).LastExecutedIndex() >= target; }, 10'000));
  ExpectSafe(sim);
}

TEST(Simulation, CrashAndRestartOfOneValidator) {
  for (uint64_t seed : {41, 42}) {
    TempDir dir;
    Simulation sim(Options(seed, dir));
    sim.RunFor(3'000);
    sim.Crash(2);
    sim.RunFor(2'000);
    ASSERT_TRUE(sim.Restart(2).ok());
    sim.RunFor(2'000);
    const uint64_t target = sim.executor(0).LastExecutedIndex() + 3;
    EXPECT_TRUE(sim.RunUntil([&] { return sim.MinCommitted() >= target; }, 10'000))
        << "seed " << seed;
    ExpectSafe(sim);
    EXPECT_EQ(sim.executor(2).order_violations(), 0u);
  }
}

// The reference implementations' stall bugs: after f + 1 crash together, restarted
// proposers must reload their round and the previous round's certificates, must not start
// again from round 1, and a header voted for before the crash must still be certifiable.
TEST(Simulation, CrashAndRestartOfFPlusOneValidators) {
  for (uint64_t seed : {51, 52, 53}) {
    TempDir dir;
    Simulation sim(Options(seed, dir));
    sim.RunFor(3'000);
    sim.Crash(1);
    sim.Crash(3);
    sim.RunFor(1'000);
    const uint64_t stuck = sim.executor(0).LastExecutedIndex();
    sim.RunFor(3'000);
    EXPECT_EQ(sim.executor(0).LastExecutedIndex(), stuck) << "progress without a quorum";
    const uint64_t round_before = sim.validator(0).stats().primary.round;
    ASSERT_TRUE(sim.Restart(1).ok());
    ASSERT_TRUE(sim.Restart(3).ok());
    EXPECT_GE(sim.validator(1).stats().primary.round + 2, round_before)
        << "restarted from an old round";
    const uint64_t target = stuck + 5;
    EXPECT_TRUE(sim.RunUntil([&] { return sim.MinCommitted() >= target; }, 15'000))
        << "seed " << seed;
    ExpectSafe(sim);
  }
}

TEST(Simulation, CrashOfEveryValidatorAndRestart) {
  TempDir dir;
  Simulation sim(Options(55, dir));
  sim.RunFor(3'000);
  for (size_t i = 0; i < sim.size(); ++i) sim.Crash(i);
  sim.RunFor(500);
  for (size_t i = 0; i < sim.size(); ++i) ASSERT_TRUE(sim.Restart(i).ok());
  const uint64_t target = sim.executor(0).LastExecutedIndex() + 5;
  EXPECT_TRUE(sim.RunUntil([&] { return sim.MinCommitted() >= target; }, 15'000));
  ExpectSafe(sim);
}

// Validator 3 never sends validator 0 anything, neither batches nor headers nor
// certificates: validator 0 gets them from the others and orders them all the same.
TEST(Simulation, WithholdingAuthor) {
  TempDir dir;
  Simulation sim(Options(61, dir));
  sim.SetFilter([](size_t from, size_t to, bool) { return from == 3 && to == 0; });
  sim.RunFor(10'000);
  ExpectSafe(sim);
  EXPECT_GE(sim.MinCommitted(), 10u);
  size_t from_3 = 0;
  for (const OutputEntry& e : sim.executor(0).log()) {
    for (const auto& [author, round] : e.slots) from_3 += author == sim.key(3).public_key();
  }
  EXPECT_GT(from_3, 5u)
      << "validator 0 should order validator 3's certificates, fetched from others";
}

TEST(Simulation, GarbageCollectionBoundsMemory) {
  TempDir dir;
  SimulationOptions options = Options(71, dir);
  options.parameters.gc_depth = 10;
  Simulation sim(options);
  size_t peak_dag = 0, peak_primary = 0;
  for (int step = 0; step < 60; ++step) {
    sim.RunFor(1'000);
    for (size_t i = 0; i < sim.size(); ++i) {
      const ValidatorStats s = sim.validator(i).stats();
      if (step >= 5) {
        peak_dag = std::max(peak_dag, s.dag_size);
        peak_primary = std::max(peak_primary, s.primary_items);
      }
    }
  }
  ExpectSafe(sim);
  const ValidatorStats s = sim.validator(0).stats();
  EXPECT_GT(s.last_committed_round, 200u) << "the run should go far past the GC depth";
  // gc_depth + a few rounds above the last commit, 4 certificates each.
  EXPECT_LE(peak_dag, (10u + 8u) * 4u);
  EXPECT_LE(peak_primary, (10u + 8u) * 4u * 2u);
}

// Validator 3 makes a second, different header for each round it proposes and sends it to
// everybody. Honest validators vote once per (author, round), so at most one of the two
// headers can gather 2f + 1 votes (validator 3 counted for both), and nothing is committed
// twice for one (author, round).
TEST(Simulation, EquivocatingAuthorGetsNoSecondCertificate) {
  TempDir dir;
  Simulation sim(Options(81, dir));
  const PublicKey byzantine = sim.key(3).public_key();
  std::map<uint64_t, std::map<Digest, std::set<PublicKey>>> votes;  // round → header → voters
  sim.SetTap([&](size_t, size_t to, bool to_worker, const std::string& bytes) {
    if (to != 3 || to_worker) return;
    auto m = DecodeMessage(bytes);
    if (m.ok() && std::holds_alternative<Vote>(*m)) {
      const Vote& v = std::get<Vote>(*m);
      votes[v.round][v.header_id].insert(v.author);
    }
  });
  sim.RunFor(1'000);
  std::set<uint64_t> twinned;
  for (int step = 0; step < 200; ++step) {
    sim.RunFor(50);
    const auto& own = sim.validator(3).LatestOwnHeader();
    if (!own || twinned.count(own->round)) continue;
    std::vector<Digest> parents = own->parents;
    std::vector<PayloadEntry> payload = own->payload;
    if (parents.size() > 3) {
      parents.pop_back();
    } else if (!payload.empty()) {
      payload.clear();
    } else {
      continue;
    }
    twinned.insert(own->round);
    const Header twin = Header::Make(sim.key(3), own->round, payload, parents);
    for (size_t to = 0; to < 3; ++to) sim.InjectToPrimary(3, to, EncodeMessage(twin));
  }
  sim.RunFor(2'000);
  ASSERT_GT(twinned.size(), 20u);
  uint64_t refused = 0;
  for (size_t i = 0; i < 3; ++i) refused += sim.validator(i).stats().primary.refused_votes;
  EXPECT_GT(refused, 0u) << "the second header of a round must be refused";
  for (const auto& [round, headers] : votes) {
    size_t quorums = 0;
    for (const auto& [id, voters] : headers) {
      std::set<PublicKey> with_author = voters;
      with_author.insert(byzantine);
      quorums += with_author.size() >= 3;
    }
    EXPECT_LE(quorums, 1u) << "round " << round << ": two headers could be certified";
  }
  ExpectSafe(sim);
  EXPECT_GE(sim.MinCommitted(), 10u);
}

// Forged and broken messages: each is rejected and counted, and nothing changes.
TEST(Simulation, InvalidHeadersAndCertificatesAreRejected) {
  TempDir dir;
  Simulation sim(Options(91, dir));
  sim.RunFor(2'000);
  // `fresh` below must differ from validator 3's real header: wait for one with a payload.
  for (int i = 0; i < 50 && sim.validator(3).LatestOwnHeader()->payload.empty(); ++i)
    sim.RunFor(50);
  const Header own = *sim.validator(3).LatestOwnHeader();
  ASSERT_FALSE(own.payload.empty());
  // A header for the same round that no certificate exists for (validator 3 equivocates).
  std::vector<Digest> parents = own.parents;
  const Header fresh = Header::Make(
      sim.key(3), own.round, {},
      parents.size() > 3 ? std::vector<Digest>(parents.begin(), parents.begin() + 3) : parents);
  auto vote = [&](size_t i) {
    return std::make_pair(sim.key(i).public_key(), Vote::Make(sim.key(i), fresh).signature);
  };
  auto sorted = [](Certificate c) {
    std::sort(c.votes.begin(), c.votes.end());
    return c;
  };
  std::vector<Certificate> bad_certificates;
  {
    Certificate c{fresh, {vote(0), vote(1), vote(2)}};
    c.votes[1].second[5] ^= 1;  // a bad signature
    bad_certificates.push_back(sorted(c));
  }
  bad_certificates.push_back(
      sorted(Certificate{fresh, {vote(0), vote(1), vote(1)}}));                // a voter twice
  bad_certificates.push_back(sorted(Certificate{fresh, {vote(0), vote(1)}}));  // below quorum
  {
    const KeyPair outsider = KeyPair::FromSeed(HashBytes("outsider"));
    Certificate c{
        fresh, {vote(0), vote(1), {outsider.public_key(), Vote::Make(outsider, fresh).signature}}};
    bad_certificates.push_back(sorted(c));  // a voter outside the committee
  }
  {
    Certificate c{fresh, {vote(0), vote(1), vote(2)}};
    c.header.signature[0] ^= 1;  // the author's signature broken
    bad_certificates.push_back(sorted(c));
  }
  std::vector<Header> bad_headers;
  bad_headers.push_back(
      Header::Make(sim.key(3), own.round + 1, {PayloadEntry{HashBytes("b"), 7}}, parents));
  bad_headers.push_back(
      Header::Make(sim.key(3), own.round + 10'000, {}, parents));   // too far ahead
  bad_headers.push_back(Header::Make(sim.key(3), 0, {}, parents));  // genesis round
  {
    Header h = Header::Make(sim.key(3), own.round + 1, {}, parents);
    h.author = sim.key(2).public_key();  // claims another author
    bad_headers.push_back(h);
  }
  const ValidatorStats before = sim.validator(0).stats();
  for (const Certificate& c : bad_certificates) sim.InjectToPrimary(3, 0, EncodeMessage(c));
  for (const Header& h : bad_headers) sim.InjectToPrimary(3, 0, EncodeMessage(h));
  sim.InjectToPrimary(3, 0, "\x03garbage");
  sim.RunFor(500);
  const ValidatorStats after = sim.validator(0).stats();
  EXPECT_EQ(after.primary.rejected_certificates - before.primary.rejected_certificates,
            bad_certificates.size());
  EXPECT_EQ(after.primary.rejected_headers - before.primary.rejected_headers, bad_headers.size());
  EXPECT_EQ(after.primary.dropped_messages - before.primary.dropped_messages, 1u);
  sim.RunFor(5'000);
  ExpectSafe(sim);
  for (const OutputEntry& e : sim.executor(0).log()) {
    for (const Digest& d : e.certificates) EXPECT_NE(d, (Certificate{fresh, {}}).ComputeDigest());
  }
}

// With f + 1 validators down no batch reaches a quorum: the workers stop taking
// transactions at max_pending_batches instead of holding ever more, and go on after.
TEST(Simulation, WorkersRefuseTransactionsWhenBatchesCannotSpread) {
  TempDir dir;
  SimulationOptions options = Options(95, dir);
  options.parameters.max_pending_batches = 5;
  Simulation sim(options);
  sim.RunFor(1'000);
  sim.Crash(2);
  sim.Crash(3);
  sim.RunFor(5'000);
  const WorkerStats busy = sim.validator(0).stats().workers[0];
  EXPECT_GT(busy.refused_busy, 0u);
  EXPECT_EQ(sim.validator(0).SubmitTransaction(0, "set a b").code(), StatusCode::kBusy);
  ASSERT_TRUE(sim.Restart(2).ok());
  ASSERT_TRUE(sim.Restart(3).ok());
  const uint64_t target = sim.executor(0).LastExecutedIndex() + 3;
  EXPECT_TRUE(sim.RunUntil([&] { return sim.MinCommitted() >= target; }, 10'000));
  EXPECT_TRUE(sim.validator(0).SubmitTransaction(0, "set a b").ok());
  ExpectSafe(sim);
}

// Randomized faults of every kind: two fixed seeds, then fresh ones (printed, so a failure
// replays with chain_sim_runner --start SEED --seeds 1).
TEST(Simulation, RandomScenarios) {
  std::vector<uint64_t> seeds = {1001, 1002};
  std::random_device fresh;
  for (int i = 0; i < 3; ++i) seeds.push_back((uint64_t{fresh()} << 32 | fresh()) >> 1);
  for (uint64_t seed : seeds) {
    TempDir dir;
    std::printf("random scenario seed %llu\n", static_cast<unsigned long long>(seed));
    const RandomScenarioResult r = RunRandomScenario(seed, dir.path().string(), 15'000);
    EXPECT_TRUE(r.failure.empty()) << "seed " << seed << ": " << r.failure;
    std::printf("  %llu faults, %llu committed\n", static_cast<unsigned long long>(r.faults),
                static_cast<unsigned long long>(r.committed));
  }
}

namespace binding {

// The batch validator `from` sends validator `to`'s worker, caught by a tap.
struct Caught {
  std::optional<BatchMessage> batch;
  // Worker messages carrying a batch, per (from, to).
  std::map<std::pair<size_t, size_t>, int> batches;
  int acks_to_2 = 0;
};

void Watch(Simulation& sim, Caught& caught) {
  sim.SetTap([&caught](size_t from, size_t to, bool to_worker, const std::string& bytes) {
    if (!to_worker) return;
    auto m = DecodeMessage(bytes);
    if (!m.ok()) return;
    if (auto* b = std::get_if<BatchMessage>(&*m)) {
      ++caught.batches[{from, to}];
      if (from == 0 && to == 3 && !caught.batch) caught.batch = *b;
    }
    if (std::holds_alternative<BatchAck>(*m) && to == 2) ++caught.acks_to_2;
  });
}

uint64_t WorkerRefused(Simulation& sim, size_t i) {
  return sim.validator(i).stats().workers[0].refused_identity;
}

}  // namespace binding

// A validator (3, authenticated as itself) that acknowledges a batch in the name of another (2)
// does not give it a quorum, and a batch it sends claiming 2 as its origin is not taken; both
// are refused and counted. Without the binding the forged ack completes the quorum.
TEST(Simulation, BatchesAndAcksInAnotherMembersNameAreRefused) {
  TempDir dir;
  SimulationOptions options = Options(101, dir);
  options.client_interval_ms = 0;
  Simulation sim(options);
  binding::Caught caught;
  binding::Watch(sim, caught);
  // 1 and 2 hear nothing and say nothing: only 0 and 3 (half the stake) hold the batch.
  sim.SetFilter(
      [](size_t from, size_t to, bool) { return from == 1 || from == 2 || to == 1 || to == 2; });
  ASSERT_TRUE(sim.validator(0).SubmitTransaction(0, "set k v").ok());
  sim.RunFor(500);
  ASSERT_TRUE(caught.batch.has_value());
  const Digest digest = caught.batch->batch.ComputeDigest();
  EXPECT_EQ(sim.validator(0).stats().workers[0].batches_reported, 0u) << "no quorum yet";

  const uint64_t refused = binding::WorkerRefused(sim, 0);
  sim.InjectToWorker(3, 0, 0, EncodeMessage(BatchAck{digest, sim.key(2).public_key()}));
  sim.RunFor(300);
  EXPECT_EQ(sim.validator(0).stats().workers[0].batches_reported, 0u)
      << "a forged acknowledgement made a quorum";
  EXPECT_EQ(binding::WorkerRefused(sim, 0), refused + 1);

  Batch other;
  other.transactions = {"set forged 1"};
  sim.InjectToWorker(3, 0, 0, EncodeMessage(BatchMessage{sim.key(2).public_key(), 0, other}));
  sim.RunFor(300);
  EXPECT_EQ(binding::WorkerRefused(sim, 0), refused + 2);
  sim.SetFilter(nullptr);  // 0's acknowledgements to 2 would show here
  EXPECT_EQ(caught.acks_to_2, 0);

  // The same acknowledgement in its own name counts (3 had acknowledged already: a
  // duplicate), and once 1 and 2 hear the batch the quorum forms.
  sim.RunFor(2'000);
  EXPECT_EQ(sim.validator(0).stats().workers[0].batches_reported, 1u);
  EXPECT_EQ(binding::WorkerRefused(sim, 0), refused + 2);
  ExpectSafe(sim);
}

// A sync request is answered on the connection it came in on, to its sender, and only when
// the sender is the requester it names: never sent to the member a request names, and a
// request that came one-way (no way back) goes unanswered.
TEST(Simulation, SyncRequestsAreAnsweredOnlyToTheRequester) {
  TempDir dir;
  SimulationOptions options = Options(102, dir);
  options.client_interval_ms = 0;
  Simulation sim(options);
  binding::Caught caught;
  binding::Watch(sim, caught);
  ASSERT_TRUE(sim.validator(0).SubmitTransaction(0, "set k v").ok());
  sim.RunFor(1'000);
  ASSERT_TRUE(caught.batch.has_value());
  const Digest digest = caught.batch->batch.ComputeDigest();
  ASSERT_EQ(sim.validator(0).stats().workers[0].batches_reported, 1u);
  const int to_1 = caught.batches[{0, 1}], to_3 = caught.batches[{0, 3}];
  const uint64_t refused = binding::WorkerRefused(sim, 0);
  const uint64_t dropped = sim.validator(0).stats().workers[0].dropped_messages;

  // 3 asks in 1's name: refused, nothing goes to 1.
  sim.InjectToWorker(3, 0, 0, EncodeMessage(BatchesRequest{sim.key(1).public_key(), 0, {digest}}),
                     /*request=*/true);
  sim.RunFor(300);
  EXPECT_EQ(binding::WorkerRefused(sim, 0), refused + 1);
  EXPECT_EQ((caught.batches[{0, 1}]), to_1) << "the answer went to the named requester";
  EXPECT_EQ((caught.batches[{0, 3}]), to_3);
  // 3 asks in its own name, but one-way: no connection to answer on.
  sim.InjectToWorker(3, 0, 0, EncodeMessage(BatchesRequest{sim.key(3).public_key(), 0, {digest}}));
  sim.RunFor(300);
  EXPECT_EQ(sim.validator(0).stats().workers[0].dropped_messages, dropped + 1);
  EXPECT_EQ((caught.batches[{0, 3}]), to_3);
  // 3 asks in its own name on its request: answered to 3.
  sim.InjectToWorker(3, 0, 0, EncodeMessage(BatchesRequest{sim.key(3).public_key(), 0, {digest}}),
                     /*request=*/true);
  sim.RunFor(300);
  EXPECT_EQ((caught.batches[{0, 3}]), to_3 + 1);
  EXPECT_EQ((caught.batches[{0, 1}]), to_1);

  // The primary: a certificate request in 1's name is refused and counted.
  const uint64_t primary_refused = sim.validator(0).stats().primary.refused_identity;
  sim.InjectToPrimary(3, 0, EncodeMessage(CertificatesRequest{sim.key(1).public_key(), {}, 1}),
                      /*request=*/true);
  sim.RunFor(300);
  EXPECT_EQ(sim.validator(0).stats().primary.refused_identity, primary_refused + 1);
  ExpectSafe(sim);
}

// A batch no header names is deleted orphan_batch_age_ms after it was stored (not before),
// so a peer cannot fill a validator's disk with batches nobody proposes; batches that headers
// name are never collected that way.
TEST(Simulation, OrphanBatchesAreCollectedAfterTheirAge) {
  TempDir dir;
  SimulationOptions options = Options(103, dir);
  options.client_interval_ms = 0;
  options.parameters.orphan_batch_age_ms = 2'000;
  Simulation sim(options);
  binding::Caught caught;
  binding::Watch(sim, caught);
  sim.RunFor(200);
  Batch orphan;
  orphan.transactions = {"set orphan 1"};
  const Digest digest = orphan.ComputeDigest();
  const uint64_t stored_at = sim.now();
  sim.InjectToWorker(3, 0, 0, EncodeMessage(BatchMessage{sim.key(3).public_key(), 0, orphan}));
  auto ask = [&] {  // 3 asks 0 for the batch: answered while 0 holds it
    const int before = caught.batches[{0, 3}];
    sim.InjectToWorker(3, 0, 0, EncodeMessage(BatchesRequest{sim.key(3).public_key(), 0, {digest}}),
                       /*request=*/true);
    sim.RunFor(150);
    return caught.batches[{0, 3}] > before;
  };
  // Well inside the age (ticks come every retry_delay_ms = 400 ms): kept.
  sim.RunFor(1'400);
  EXPECT_TRUE(ask()) << "collected before its age";
  EXPECT_EQ(sim.validator(0).stats().workers[0].orphan_batches_collected, 0u);
  // Past the age by at most one tick: gone.
  ASSERT_LT(sim.now() - stored_at, 2'000u);
  sim.RunFor(2'000 + 400 + 100 - (sim.now() - stored_at));
  EXPECT_EQ(sim.validator(0).stats().workers[0].orphan_batches_collected, 1u);
  EXPECT_FALSE(ask()) << "the orphan batch is still stored";
  for (size_t i = 1; i < sim.size(); ++i) {
    EXPECT_EQ(sim.validator(i).stats().workers[0].orphan_batches_collected, 0u);
  }

  // Under load, with a short age, every batch is named in time: none is collected, and
  // everything submitted executes.
  sim.SetClientInterval(20);
  sim.RunFor(6'000);
  sim.SetClientInterval(0);
  sim.RunFor(3'000);
  for (size_t i = 0; i < sim.size(); ++i) {
    EXPECT_EQ(sim.validator(i).stats().workers[0].orphan_batches_collected, i == 0 ? 1u : 0u);
    EXPECT_EQ(sim.Unexecuted(i), 0u) << i;
  }
  ExpectSafe(sim);
}

// A header alone does not keep a batch forever: it starts the batch's age again, and when no
// certificate follows, the batch goes orphan_batch_age_ms after that header.
TEST(Simulation, ABatchNamedOnlyByAnUncertifiedHeaderGoesAfterTheAge) {
  TempDir dir;
  SimulationOptions options = Options(104, dir);
  options.client_interval_ms = 0;
  options.parameters.orphan_batch_age_ms = 2'000;
  Simulation sim(options);
  binding::Caught caught;
  binding::Watch(sim, caught);
  sim.RunFor(500);
  Batch batch;
  batch.transactions = {"set named 1"};
  const Digest digest = batch.ComputeDigest();
  sim.InjectToWorker(3, 0, 0, EncodeMessage(BatchMessage{sim.key(3).public_key(), 0, batch}));
  const uint64_t stored_at = sim.now();
  auto collected = [&] { return sim.validator(0).stats().workers[0].orphan_batches_collected; };
  sim.RunFor(1'500);
  // 3 signs a header naming the batch whose parents nobody has: verified, never certified.
  ASSERT_TRUE(sim.validator(0).LatestOwnHeader().has_value());
  const uint64_t round = sim.validator(0).LatestOwnHeader()->round + 5;
  std::vector<Digest> parents = {HashBytes("p1"), HashBytes("p2"), HashBytes("p3")};
  std::sort(parents.begin(), parents.end());
  const uint64_t rejected = sim.validator(0).stats().primary.rejected_headers;
  sim.InjectToPrimary(
      3, 0, EncodeMessage(Header::Make(sim.key(3), round, {PayloadEntry{digest, 0}}, parents)));
  sim.RunFor(100);
  ASSERT_EQ(sim.validator(0).stats().primary.rejected_headers, rejected);
  const uint64_t named_at = sim.now() - 50;  // within the delivery delay bound (5..60 ms)
  // Past the age counted from when it was stored: kept, the header named it since.
  sim.RunFor(stored_at + 2'000 + 400 + 100 - sim.now());
  EXPECT_EQ(collected(), 0u) << "collected although a header named it";
  // Past the age counted from the header: gone.
  sim.RunFor(named_at + 2'000 + 400 + 100 - sim.now());
  EXPECT_EQ(collected(), 1u);
  ExpectSafe(sim);
}

// Which batches no header names lives in memory, so a restart forgets it: at start-up every
// stored batch that no stored certificate above the GC bound names is an orphan again, and
// goes orphan_batch_age_ms after the restart (not after it was stored, not before), while a
// batch a stored certificate names stays. Without the restore the orphan stays forever.
TEST(Simulation, OrphanBatchesStoredBeforeARestartAreCollected) {
  for (const uint32_t workers : {1u, 2u}) {
    SCOPED_TRACE("workers " + std::to_string(workers));
    TempDir dir;
    SimulationOptions options = Options(106, dir);
    options.workers = workers;
    options.parameters.orphan_batch_age_ms = 2'000;
    const std::string data_dir = options.dir + "/v0";
    Simulation sim(options);
    sim.RunFor(2'000);
    Batch orphan;
    orphan.transactions = {"set orphan 1"};
    const Digest digest = orphan.ComputeDigest();
    sim.InjectToWorker(3, 0, 0, EncodeMessage(BatchMessage{sim.key(3).public_key(), 0, orphan}));
    sim.SetClientInterval(0);
    sim.RunFor(1'000);  // every client batch certified, the orphan half its age
    for (size_t i = 0; i < sim.size(); ++i) ASSERT_EQ(sim.Unexecuted(i), 0u) << i;
    auto collected = [&sim](size_t i) {
      uint64_t n = 0;
      for (const WorkerStats& w : sim.validator(i).stats().workers) n += w.orphan_batches_collected;
      return n;
    };
    ASSERT_EQ(collected(0), 0u);

    sim.Crash(0);
    std::optional<Digest> named;  // a batch of the highest certificate that carries one
    {
      auto store = DagStore::Open(data_dir, false);
      ASSERT_TRUE(store.ok()) << store.status().ToString();
      ASSERT_TRUE((*store)->HasBatch(digest));
      auto certificates = (*store)->LoadCertificatesAbove(0);
      ASSERT_TRUE(certificates.ok());
      for (const Certificate& c : *certificates) {
        if (!c.header.payload.empty()) named = c.header.payload.front().batch;
      }
      ASSERT_TRUE(named.has_value());
      ASSERT_TRUE((*store)->HasBatch(*named));
    }
    ASSERT_TRUE(sim.Restart(0).ok());
    const uint64_t restarted_at = sim.now();
    // Past the age counted from when it was stored, well inside the age from the restart: kept.
    sim.RunFor(1'400);
    EXPECT_EQ(collected(0), 0u) << "collected before its age from the restart";
    // Past the age from the restart by at most one tick (400 ms): gone, and only the orphan.
    sim.RunFor(restarted_at + 2'000 + 400 + 100 - sim.now());
    EXPECT_EQ(collected(0), 1u) << "the orphan stored before the restart was not collected";
    for (size_t i = 1; i < sim.size(); ++i) {
      EXPECT_EQ(collected(i), 0u) << i;
    }

    sim.Crash(0);
    {
      auto store = DagStore::Open(data_dir, false);
      ASSERT_TRUE(store.ok()) << store.status().ToString();
      EXPECT_FALSE((*store)->HasBatch(digest)) << "the orphan is still stored";
      EXPECT_TRUE((*store)->HasBatch(*named)) << "a batch a certificate names was deleted";
    }
    ASSERT_TRUE(sim.Restart(0).ok());
    sim.RunFor(1'000);
    ExpectSafe(sim);
  }
}

// Each validator's batches that no certificate names are bounded in bytes: at the bound a
// batch is still stored, one byte over it is not (nor acknowledged), other validators are not
// affected, and the room comes back once orphans are collected.
TEST(Simulation, UnnamedBatchBytesAreBoundedPerValidator) {
  auto batch_of = [](char c, size_t bytes) {
    Batch b;
    b.transactions = {std::string(bytes, c)};
    return b;
  };
  const Batch a = batch_of('a', 1'000), b = batch_of('b', 1'999), c = batch_of('c', 1),
              d = batch_of('d', 1), e = batch_of('e', 1);
  const size_t charge = Worker::ChargedBytes(a) + Worker::ChargedBytes(b) + Worker::ChargedBytes(c);
  // The bound one byte under, at, and one byte over the charge of a, b and c.
  for (const size_t bound : {charge - 1, charge, charge + 1}) {
    TempDir dir;
    SimulationOptions options = Options(105, dir);
    options.client_interval_ms = 0;
    options.parameters.orphan_batch_age_ms = 2'000;
    options.parameters.max_unnamed_batch_bytes = bound;
    Simulation sim(options);
    binding::Caught caught;
    binding::Watch(sim, caught);
    sim.RunFor(200);
    auto send = [&](size_t from, const Batch& batch) {
      sim.InjectToWorker(from, 0, 0,
                         EncodeMessage(BatchMessage{sim.key(from).public_key(), 0, batch}));
      sim.RunFor(100);
    };
    auto held = [&](const Batch& batch) {  // 3 asks 0 for it: answered while 0 holds it
      const int before = caught.batches[{0, 3}];
      sim.InjectToWorker(
          3, 0, 0,
          EncodeMessage(BatchesRequest{sim.key(3).public_key(), 0, {batch.ComputeDigest()}}),
          /*request=*/true);
      sim.RunFor(150);
      return caught.batches[{0, 3}] > before;
    };
    auto refused = [&] { return sim.validator(0).stats().workers[0].refused_unnamed_quota; };
    send(3, a);
    send(3, b);
    send(3, c);
    EXPECT_EQ(refused(), bound < charge ? 1u : 0u) << "bound " << bound << ", charge " << charge;
    EXPECT_TRUE(held(a) && held(b));
    EXPECT_EQ(held(c), bound >= charge) << "bound " << bound;
    if (bound != charge) continue;
    send(3, d);  // over the bound
    EXPECT_EQ(refused(), 1u);
    EXPECT_FALSE(held(d)) << "stored over the bound";
    send(2, e);  // another validator's room is its own
    EXPECT_EQ(refused(), 1u);
    EXPECT_TRUE(held(e));
    // Collected after the age: room again.
    sim.RunFor(2'000 + 400);
    EXPECT_EQ(sim.validator(0).stats().workers[0].orphan_batches_collected, 4u);
    send(3, d);
    EXPECT_EQ(refused(), 1u);
    EXPECT_TRUE(held(d));
    ExpectSafe(sim);
  }
}

}  // namespace
}  // namespace rustorium::chain::sim
