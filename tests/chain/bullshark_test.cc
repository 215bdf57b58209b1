// Bullshark over hand-built DAGs: the reference suite's scenarios (commit_one, dead_node,
// not_enough_support, missing_leader, garbage collection), the same DAG in hundreds of causal
// orders, restarts from a persisted ConsensusState, and the state's encoding. Every run goes
// through a Harness that checks the commit rule's invariants after each certificate.
#include "chain/bullshark/bullshark.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "base/codec.h"
#include "tests/chain/dag_builder.h"

namespace rustorium::chain {
namespace {

using testing::DagBuilder;

std::string EncodeSubDag(const CommittedSubDag& sub_dag) {
  std::string out;
  PutFixed64BE(out, sub_dag.index);
  out += EncodeCertificate(sub_dag.anchor);
  PutFixed64BE(out, sub_dag.certificates.size());
  for (const Certificate& c : sub_dag.certificates) out += EncodeCertificate(c);
  return out;
}

std::string EncodeSequence(const std::vector<CommittedSubDag>& sequence, size_t from = 0) {
  std::string out;
  for (size_t i = from; i < sequence.size(); ++i) out += EncodeSubDag(sequence[i]);
  return out;
}

std::vector<Digest> Digests(const std::vector<Certificate>& certificates) {
  std::vector<Digest> out;
  for (const Certificate& c : certificates) out.push_back(c.ComputeDigest());
  return out;
}

uint64_t Bound(uint64_t round, uint64_t gc_depth) {
  return round > gc_depth ? round - gc_depth : 0;
}

// Feeds certificates to a Bullshark and checks, after every call, what the commit rule
// promises, computed here from the certificates alone: consecutive indexes; anchors at
// increasing even rounds by the round's leader, each last in its sub-DAG and holding f + 1
// support among the delivered certificates when it is the newest of its call, or reached
// by the next anchor otherwise; sub-DAGs sorted by round, inside the anchor's causal
// history, above the GC bound in force before that anchor, never repeating a certificate
// nor one at or below its author's committed round; the state matching all of that.
class Harness {
 public:
  Harness(const DagBuilder& dag, uint64_t gc_depth, ConsensusState state = {})
      : committee_(dag.committee()),
        gc_depth_(gc_depth),
        last_committed_(state.last_committed),
        bullshark_(dag.committee(), gc_depth, std::move(state)) {}

  std::vector<CommittedSubDag> Feed(const Certificate& certificate) {
    delivered_.emplace(certificate.ComputeDigest(), certificate);
    const ConsensusState before = bullshark_.state();
    std::vector<CommittedSubDag> out = bullshark_.ProcessCertificate(certificate);
    max_dag_size_ = std::max(max_dag_size_, bullshark_.dag_size());
    max_batch_ = std::max(max_batch_, out.size());
    uint64_t previous_round = before.last_committed_round;
    for (size_t i = 0; i < out.size(); ++i) {
      const CommittedSubDag& s = out[i];
      const uint64_t round = s.anchor.round();
      EXPECT_EQ(s.index, before.last_index + i + 1);
      EXPECT_EQ(round % 2, 0u);
      EXPECT_GT(round, previous_round);
      EXPECT_EQ(s.anchor.origin(), committee_.Leader(round));
      EXPECT_FALSE(s.certificates.empty());
      if (!s.certificates.empty()) {
        EXPECT_EQ(s.certificates.back(), s.anchor);
      }
      if (i + 1 < out.size()) {
        EXPECT_TRUE(History(out[i + 1].anchor, 0).contains(s.anchor.ComputeDigest()))
            << "anchor of round " << round << " is not reached by the next one";
      } else {
        EXPECT_GE(Support(s.anchor), committee_.ValidityThreshold());
      }
      const uint64_t bound = Bound(previous_round, gc_depth_);
      const std::set<Digest> history = History(s.anchor, bound);
      for (size_t j = 0; j < s.certificates.size(); ++j) {
        const Certificate& c = s.certificates[j];
        const Digest digest = c.ComputeDigest();
        if (j > 0) {
          EXPECT_LE(s.certificates[j - 1].round(), c.round());
        }
        EXPECT_GT(c.round(), bound) << "committed at or below the GC bound";
        EXPECT_TRUE(history.contains(digest)) << "outside the anchor's history";
        EXPECT_TRUE(output_.insert(digest).second) << "committed twice";
        auto last = last_committed_.find(c.origin());
        EXPECT_TRUE(last == last_committed_.end() || c.round() > last->second)
            << "at or below its author's committed round";
      }
      for (const Certificate& c : s.certificates) {
        uint64_t& last = last_committed_[c.origin()];
        last = std::max(last, c.round());
      }
      previous_round = round;
    }
    const ConsensusState& after = bullshark_.state();
    EXPECT_EQ(after.last_index, before.last_index + out.size());
    EXPECT_EQ(after.last_committed_round, previous_round);
    EXPECT_EQ(after.last_committed, last_committed_);
    EXPECT_EQ(bullshark_.gc_round(), Bound(previous_round, gc_depth_));
    committed_.insert(committed_.end(), out.begin(), out.end());
    return out;
  }

  void FeedAll(const std::vector<Certificate>& certificates) {
    for (const Certificate& c : certificates) Feed(c);
  }

  const std::vector<CommittedSubDag>& committed() const { return committed_; }
  const Bullshark& bullshark() const { return bullshark_; }
  size_t max_dag_size() const { return max_dag_size_; }
  size_t max_batch() const { return max_batch_; }
  std::vector<uint64_t> AnchorRounds() const {
    std::vector<uint64_t> rounds;
    for (const CommittedSubDag& s : committed_) rounds.push_back(s.anchor.round());
    return rounds;
  }
  bool WasOutput(const Certificate& c) const { return output_.contains(c.ComputeDigest()); }

 private:
  // Digests of `from` and its delivered ancestors above round `bound`.
  std::set<Digest> History(const Certificate& from, uint64_t bound) const {
    std::set<Digest> seen = {from.ComputeDigest()};
    std::vector<const Certificate*> stack = {&from};
    while (!stack.empty()) {
      const Certificate* c = stack.back();
      stack.pop_back();
      for (const Digest& parent : c->header.parents) {
        auto it = delivered_.find(parent);
        if (it == delivered_.end() || it->second.round() <= bound) continue;
        if (seen.insert(parent).second) stack.push_back(&it->second);
      }
    }
    return seen;
  }

  uint64_t Support(const Certificate& anchor) const {
    const Digest digest = anchor.ComputeDigest();
    uint64_t stake = 0;
    for (const auto& [d, c] : delivered_) {
      if (c.round() != anchor.round() + 1) continue;
      if (std::find(c.header.parents.begin(), c.header.parents.end(), digest) !=
          c.header.parents.end()) {
        stake += committee_.Stake(c.origin());
      }
    }
    return stake;
  }

  Committee committee_;
  uint64_t gc_depth_;
  std::map<PublicKey, uint64_t> last_committed_;
  Bullshark bullshark_;
  std::map<Digest, Certificate> delivered_;
  std::set<Digest> output_;
  std::vector<CommittedSubDag> committed_;
  size_t max_dag_size_ = 0;
  size_t max_batch_ = 0;
};

// The sub-DAG of `anchor` as the rule defines it, written recursively: depth-first from the
// anchor over parents in digest order, skipping certificates whose author has a committed
// certificate of the same or a later round in `last_committed`, then a stable sort by round.
std::vector<Certificate> ModelSubDag(const DagBuilder& dag, const Certificate& anchor,
                                     const std::map<PublicKey, uint64_t>& last_committed) {
  std::map<Digest, Certificate> all;
  for (const Certificate& c : dag.InRoundOrder()) all.emplace(c.ComputeDigest(), c);
  std::vector<Certificate> out;
  std::set<Digest> visited;
  auto visit = [&](auto& self, const Certificate& c) -> void {
    visited.insert(c.ComputeDigest());
    out.push_back(c);
    std::vector<Digest> parents = c.header.parents;
    std::sort(parents.begin(), parents.end());
    for (const Digest& p : parents) {
      auto it = all.find(p);
      if (it == all.end() || visited.contains(p)) continue;
      auto last = last_committed.find(it->second.origin());
      if (last != last_committed.end() && it->second.round() <= last->second) continue;
      self(self, it->second);
    }
  };
  visit(visit, anchor);
  std::stable_sort(out.begin(), out.end(), [](const Certificate& a, const Certificate& b) {
    return a.round() < b.round();
  });
  return out;
}

// Per author, the highest round among the certificates of the first `n` sub-DAGs.
std::map<PublicKey, uint64_t> LastCommitted(const std::vector<CommittedSubDag>& sequence,
                                            size_t n) {
  std::map<PublicKey, uint64_t> last;
  for (size_t i = 0; i < n; ++i) {
    for (const Certificate& c : sequence[i].certificates) {
      last[c.origin()] = std::max(last[c.origin()], c.round());
    }
  }
  return last;
}

uint64_t TestSeed() {
  if (const char* s = std::getenv("RUSTORIUM_TEST_SEED")) return std::strtoull(s, nullptr, 10);
  return static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
}

TEST(DagBuilder, CertificatesAreGenuine) {
  DagBuilder dag({1, 2, 3, 4});
  std::mt19937_64 rng(5);
  dag.AddRandomRounds(1, 6, rng, 20);
  std::vector<Certificate> all = dag.InRoundOrder();
  ASSERT_GE(all.size(), 6u * 2);
  for (const Certificate& c : all) EXPECT_TRUE(dag.IsGenuine(c));
  Certificate forged = all.back();
  forged.votes.front().second[0] ^= 1;
  EXPECT_FALSE(dag.IsGenuine(forged));
  forged = all.back();
  forged.votes.pop_back();
  forged.votes.pop_back();
  EXPECT_FALSE(dag.IsGenuine(forged));
}

TEST(Bullshark, CommitOne) {
  DagBuilder dag;
  dag.AddRounds(1, 2, dag.Everyone());
  Harness h(dag, 50);
  h.FeedAll(dag.InRoundOrder());
  EXPECT_TRUE(h.committed().empty());
  // f stake of round 3 behind the anchor of round 2: not yet.
  EXPECT_TRUE(h.Feed(dag.Add(0, 3, dag.Everyone())).empty());
  std::vector<CommittedSubDag> out = h.Feed(dag.Add(1, 3, dag.Everyone()));
  ASSERT_EQ(out.size(), 1u);
  const Certificate& anchor = *dag.Get(2, dag.LeaderIndex(2));
  EXPECT_EQ(out[0].index, 1u);
  EXPECT_EQ(out[0].anchor, anchor);
  // The anchor references all of round 1, visited in digest order.
  std::vector<Certificate> expected;
  for (size_t a = 0; a < dag.size(); ++a) expected.push_back(*dag.Get(1, a));
  std::sort(expected.begin(), expected.end(), [](const Certificate& x, const Certificate& y) {
    return x.ComputeDigest() < y.ComputeDigest();
  });
  expected.push_back(anchor);
  EXPECT_EQ(out[0].certificates, expected);
  ConsensusState state;
  state.last_committed_round = 2;
  state.last_index = 1;
  for (size_t a = 0; a < dag.size(); ++a) state.last_committed[dag.Name(a)] = 1;
  state.last_committed[anchor.origin()] = 2;
  EXPECT_EQ(h.bullshark().state(), state);
  // More support commits nothing more.
  EXPECT_TRUE(h.Feed(dag.Add(2, 3, dag.Everyone())).empty());
  EXPECT_EQ(h.bullshark().dag_size(), 4u + 4u + 3u);
}

// A certificate given twice, a second certificate for a taken (author, round) and one from
// outside the committee are not held and add no support.
TEST(Bullshark, RepeatsEquivocationsAndStrangersAreIgnored) {
  DagBuilder dag, twin;  // the same keys: the same rounds 1 and 2, then a conflicting round 3
  dag.AddRounds(1, 2, dag.Everyone());
  twin.AddRounds(1, 2, twin.Everyone());
  const size_t l2 = dag.LeaderIndex(2);
  Harness h(dag, 50);
  h.FeedAll(dag.InRoundOrder());
  const Certificate& first = dag.Add(0, 3, dag.Everyone());
  const Certificate& second = twin.Add(0, 3, dag.AllBut(l2 == 3 ? 2 : 3));
  ASSERT_NE(first.ComputeDigest(), second.ComputeDigest());
  ASSERT_NE(
      std::count(second.header.parents.begin(), second.header.parents.end(), dag.DigestOf(2, l2)),
      0);
  DagBuilder outsider({1, 1, 1, 1, 1});
  size_t stranger = 0;
  while (dag.committee().Contains(outsider.Name(stranger))) ++stranger;
  const size_t held = h.bullshark().dag_size();
  EXPECT_TRUE(h.Feed(first).empty());
  for (const Certificate& c : {first, second, outsider.Add(stranger, 1, outsider.Everyone())}) {
    EXPECT_TRUE(h.Feed(c).empty());
    EXPECT_EQ(h.bullshark().dag_size(), held + 1);
  }
  std::vector<CommittedSubDag> out = h.Feed(dag.Add(2, 3, dag.Everyone()));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].anchor, *dag.Get(2, l2));
}

TEST(Bullshark, DeadNode) {
  DagBuilder dag;
  const size_t dead = 3;
  dag.SetVoters({0, 1, 2});
  dag.AddRounds(1, 20, {0, 1, 2});
  Harness h(dag, 50);
  h.FeedAll(dag.InRoundOrder());
  // Every anchor whose leader is alive commits (it is last supported by round 19); the dead
  // node's anchor rounds commit nothing and do not stop the later ones.
  std::vector<uint64_t> expected;
  for (uint64_t r = 2; r < 20; r += 2) {
    if (dag.LeaderIndex(r) != dead) expected.push_back(r);
  }
  ASSERT_LT(expected.size(), 9u) << "the dead node must lead some round";
  EXPECT_EQ(h.AnchorRounds(), expected);
  // Everything below the last anchor is committed, exactly once (the Harness checks that).
  size_t count = 0;
  for (const CommittedSubDag& s : h.committed()) count += s.certificates.size();
  EXPECT_EQ(count, 3 * (expected.back() - 1) + 1);
  for (const Certificate& c : dag.InRoundOrder()) {
    EXPECT_EQ(h.WasOutput(c), c.round() < expected.back() || c == h.committed().back().anchor);
  }
}

// The anchor of round 2 has f support only; the anchor of round 4 reaches it and commits it
// first, when round 5 gives f + 1.
TEST(Bullshark, NotEnoughSupport) {
  DagBuilder dag;
  const size_t l2 = dag.LeaderIndex(2);
  const std::vector<size_t> without_l2 = dag.AllBut(l2);
  dag.AddRounds(1, 2, dag.Everyone());
  const size_t supporter = without_l2.front();
  for (size_t a : dag.Everyone()) dag.Add(a, 3, a == supporter ? dag.Everyone() : without_l2);
  dag.AddRounds(4, 4, dag.Everyone());
  Harness h(dag, 50);
  h.FeedAll(dag.InRoundOrder());
  EXPECT_TRUE(h.committed().empty());
  const size_t l4 = dag.LeaderIndex(4);
  dag.AddRound(5, dag.Everyone());
  EXPECT_TRUE(h.Feed(*dag.Get(5, 0)).empty());
  std::vector<CommittedSubDag> out = h.Feed(*dag.Get(5, 1));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].anchor, *dag.Get(2, l2));
  EXPECT_EQ(out[1].anchor, *dag.Get(4, l4));
  EXPECT_EQ(out[0].certificates, ModelSubDag(dag, out[0].anchor, {}));
  EXPECT_EQ(out[0].certificates.size(), 4u + 1u);
  EXPECT_EQ(out[1].certificates, ModelSubDag(dag, out[1].anchor, LastCommitted(out, 1)));
  EXPECT_EQ(out[1].certificates.size(), 3u + 4u + 1u);
  EXPECT_EQ(h.bullshark().state().last_committed_round, 4u);
}

// As above, but the anchor of round 4 does not reach the anchor of round 2, which is then
// never committed as an anchor. The anchor of round 6 reaches it, but by then its author has
// a round-3 certificate committed, so it is never output at all.
TEST(Bullshark, NotEnoughSupportAndNotLinked) {
  DagBuilder dag;
  const size_t l2 = dag.LeaderIndex(2), l4 = dag.LeaderIndex(4);
  const std::vector<size_t> without_l2 = dag.AllBut(l2);
  const size_t supporter = without_l2.front();
  const std::vector<size_t> without_supporter = dag.AllBut(supporter);
  dag.AddRounds(1, 2, dag.Everyone());
  for (size_t a : dag.Everyone()) dag.Add(a, 3, a == supporter ? dag.Everyone() : without_l2);
  for (size_t a : dag.Everyone()) dag.Add(a, 4, a == l4 ? without_supporter : dag.Everyone());
  dag.AddRounds(5, 7, dag.Everyone());
  Harness h(dag, 50);
  h.FeedAll(dag.InRoundOrder());
  EXPECT_EQ(h.AnchorRounds(), (std::vector<uint64_t>{4, 6}));
  const Certificate& anchor2 = *dag.Get(2, l2);
  ASSERT_EQ(h.committed().size(), 2u);
  const std::vector<Digest> in6 = Digests(h.committed()[1].certificates);
  EXPECT_FALSE(h.WasOutput(anchor2));
  EXPECT_GT(LastCommitted(h.committed(), 1).at(anchor2.origin()), anchor2.round());
  // The anchor's supporter is in the history of round 6 only, through the round-4
  // certificates that are not the anchor.
  EXPECT_EQ(std::count(in6.begin(), in6.end(), dag.DigestOf(3, supporter)), 1);
  EXPECT_EQ(h.committed()[0].certificates, ModelSubDag(dag, h.committed()[0].anchor, {}));
  EXPECT_EQ(h.committed()[1].certificates,
            ModelSubDag(dag, h.committed()[1].anchor, LastCommitted(h.committed(), 1)));
}

TEST(Bullshark, MissingLeader) {
  DagBuilder dag;
  const size_t l2 = dag.LeaderIndex(2);
  const std::vector<size_t> without_l2 = dag.AllBut(l2);
  dag.AddRound(1, dag.Everyone());
  dag.AddRound(2, without_l2);
  dag.AddRounds(3, 7, dag.Everyone());
  Harness h(dag, 50);
  h.FeedAll(dag.InRoundOrder());
  EXPECT_EQ(h.AnchorRounds(), (std::vector<uint64_t>{4, 6}));
  const CommittedSubDag& first = h.committed().front();
  EXPECT_EQ(first.certificates, ModelSubDag(dag, first.anchor, {}));
  EXPECT_EQ(first.certificates.size(), 4u + 3u + 4u + 1u);

  // The leader's certificate of round 2 shows up late, referenced by nobody: it is of a
  // round its author already has committed, so it is ignored.
  const size_t before = h.bullshark().dag_size();
  EXPECT_TRUE(h.Feed(dag.Add(l2, 2, dag.Everyone())).empty());
  EXPECT_EQ(h.bullshark().dag_size(), before);
}

// A certificate that only a later anchor reaches, two rounds below the bound by then: with a
// small gc_depth it is never committed, with a large one it is. The anchor of round 4 is
// committed either directly or with the one of round 6 (then the bound moves in between,
// before the DAG is collected).
class GcBound : public ::testing::TestWithParam<uint64_t> {};

TEST_P(GcBound, HistoryAtOrBelowTheBoundIsNeverCommitted) {
  const uint64_t gc_depth = GetParam();
  for (const bool recursive : {false, true}) {
    SCOPED_TRACE(recursive ? "anchor 4 committed with anchor 6" : "anchor 4 committed alone");
    DagBuilder dag;
    const size_t l4 = dag.LeaderIndex(4);
    const size_t late = 3;
    ASSERT_NE(late, l4);
    const std::vector<size_t> others = dag.AllBut(late), without_l4 = dag.AllBut(l4);
    dag.AddRounds(1, 2, dag.Everyone());
    // Round 3: only `late` itself references its round-2 certificate x; round 4: the anchor
    // does not reference late's round-3 certificate y, the others do.
    for (size_t a : dag.Everyone()) dag.Add(a, 3, a == late ? dag.Everyone() : others);
    for (size_t a : dag.Everyone()) dag.Add(a, 4, a == l4 ? others : dag.Everyone());
    // Round 5: everybody supports the anchor of round 4, or only one authority does.
    for (size_t a : dag.Everyone())
      dag.Add(a, 5, !recursive || a == 0 ? dag.Everyone() : without_l4);
    dag.AddRounds(6, 7, dag.Everyone());
    Harness h(dag, gc_depth);
    h.FeedAll(dag.InRoundOrder());
    EXPECT_EQ(h.AnchorRounds(), (std::vector<uint64_t>{2, 4, 6}));
    EXPECT_EQ(h.max_batch(), recursive ? 2u : 1u);
    const Certificate& x = *dag.Get(2, late);
    const Certificate& y = *dag.Get(3, late);
    ASSERT_EQ(h.committed().size(), 3u);
    const std::vector<Digest> in6 = Digests(h.committed()[2].certificates);
    auto in_6 = [&](const Certificate& c) {
      return std::count(in6.begin(), in6.end(), c.ComputeDigest()) == 1;
    };
    // The anchor of round 6 is ordered with the bound at 4 - gc_depth.
    EXPECT_EQ(in_6(y), y.round() > Bound(4, gc_depth));
    EXPECT_EQ(in_6(x), x.round() > Bound(4, gc_depth));
    EXPECT_EQ(h.WasOutput(x), x.round() > Bound(4, gc_depth));
    EXPECT_EQ(h.bullshark().gc_round(), Bound(6, gc_depth));
  }
}

INSTANTIATE_TEST_SUITE_P(Depths, GcBound, ::testing::Values(1, 2, 3, 50));

// 1000 rounds: three authorities reference each other only; the fourth is slow, its
// certificates arrive one or 25 rounds late and nobody references them. None of them is
// committed, the late ones are not even held, and the DAG stays within the GC window.
TEST(Bullshark, SlowNodeAndBoundedMemory) {
  const uint64_t gc_depth = 10, rounds = 1000;
  const size_t slow = 3;
  DagBuilder dag;
  const std::vector<size_t> fast = {0, 1, 2};
  for (uint64_t r = 1; r <= rounds; ++r) {
    for (size_t a : fast) dag.Add(a, r, fast);
    dag.Add(slow, r, fast);
  }
  auto delay = [](uint64_t r) -> uint64_t { return r % 3 == 0 ? 25 : 1; };
  Harness h(dag, gc_depth);
  size_t ignored = 0;
  for (uint64_t r = 1; r <= rounds; ++r) {
    for (size_t a : fast) h.Feed(*dag.Get(r, a));
    for (uint64_t s = 1; s <= r; ++s) {
      if (s + delay(s) != r) continue;
      const size_t before = h.bullshark().dag_size();
      const bool below = s <= h.bullshark().gc_round();
      h.Feed(*dag.Get(s, slow));
      EXPECT_EQ(h.bullshark().dag_size(), below ? before : before + 1);
      ignored += below;
    }
  }
  EXPECT_GT(ignored, rounds / 4);
  std::vector<uint64_t> expected;
  for (uint64_t r = 2; r < rounds; r += 2) {
    if (dag.LeaderIndex(r) != slow) expected.push_back(r);
  }
  EXPECT_EQ(h.AnchorRounds(), expected);
  for (uint64_t r = 1; r <= rounds; ++r) {
    EXPECT_FALSE(h.WasOutput(*dag.Get(r, slow)));
    for (size_t a : fast) {
      EXPECT_EQ(h.WasOutput(*dag.Get(r, a)),
                r < expected.back() || (r == expected.back() && a == dag.LeaderIndex(r)));
    }
  }
  // The DAG holds the rounds above gc_round(), up to two past the last committed anchor
  // (four when the slow node leads), and the slow node's stragglers of one round.
  EXPECT_LE(h.max_dag_size(), dag.size() * (gc_depth + 5));
  std::printf("max dag_size %zu over %llu rounds (gc_depth %llu)\n", h.max_dag_size(),
              static_cast<unsigned long long>(rounds), static_cast<unsigned long long>(gc_depth));
}

struct DagConfig {
  std::vector<uint64_t> stakes;
  uint64_t gc_depth;
  uint64_t dag_seed;
  size_t min_anchors;  // what the DAG of a fixed seed is known to commit at least
};

// Fixed DAGs, and one drawn from this run's seed.
std::vector<DagConfig> Configs(uint64_t fresh) {
  return {
      {{1, 1, 1, 1}, 50, 11, 5},         {{1, 1, 1, 1}, 3, 12, 5},       {{1, 2, 3, 4}, 3, 13, 5},
      {{1, 1, 1, 1, 1, 1, 1}, 5, 14, 5}, {{1, 1, 2, 1, 1}, 2, fresh, 0},
  };
}

DagBuilder RandomDag(const DagConfig& config) {
  DagBuilder dag(config.stakes);
  std::mt19937_64 rng(config.dag_seed);
  dag.AddRandomRounds(1, 40, rng, 20);
  return dag;
}

TEST(Bullshark, CausalOrdersGiveOneCommitSequence) {
  const uint64_t fresh = TestSeed();
  std::printf("orders seed: %llu (replay with RUSTORIUM_TEST_SEED=%llu)\n",
              static_cast<unsigned long long>(fresh), static_cast<unsigned long long>(fresh));
  size_t recursive = 0, skipped = 0;
  for (const DagConfig& config : Configs(fresh)) {
    const DagBuilder dag = RandomDag(config);
    Harness baseline(dag, config.gc_depth);
    baseline.FeedAll(dag.InRoundOrder());
    const std::vector<uint64_t> anchors = baseline.AnchorRounds();
    ASSERT_GE(anchors.size(), config.min_anchors);
    if (anchors.empty()) continue;
    recursive += baseline.max_batch() > 1;
    skipped += anchors.back() / 2 > anchors.size();
    const std::string expected = EncodeSequence(baseline.committed());
    // 75 orders from fixed seeds, 25 from this run's seed. The baseline went through the
    // Harness's checks; the other orders only need to give the same bytes.
    for (uint64_t i = 0; i < 100; ++i) {
      const uint64_t seed = i < 75 ? i : fresh + i;
      std::mt19937_64 rng(seed);
      Bullshark bullshark(dag.committee(), config.gc_depth);
      std::vector<CommittedSubDag> sequence;
      for (const Certificate& c : dag.RandomCausalOrder(rng)) {
        for (CommittedSubDag& s : bullshark.ProcessCertificate(c)) sequence.push_back(std::move(s));
      }
      ASSERT_TRUE(EncodeSequence(sequence) == expected)
          << "order seed " << seed << ", dag seed " << config.dag_seed << ": " << sequence.size()
          << " sub-DAGs, expected " << anchors.size();
      ASSERT_EQ(bullshark.state(), baseline.bullshark().state());
    }
  }
  // The DAGs exercise recursive commits and anchors that never commit.
  EXPECT_GT(recursive, 0u);
  EXPECT_GT(skipped, 0u);
}

// A validator persists its state after some certificate, restarts from it and is fed the
// whole DAG again in another causal order: it outputs exactly the rest of the sequence.
TEST(Bullshark, RestartCommitsExactlyTheRest) {
  const uint64_t fresh = TestSeed();
  std::printf("restart seed: %llu (replay with RUSTORIUM_TEST_SEED=%llu)\n",
              static_cast<unsigned long long>(fresh), static_cast<unsigned long long>(fresh));
  std::mt19937_64 rng(fresh);
  for (const DagConfig& config : Configs(fresh)) {
    const DagBuilder dag = RandomDag(config);
    const std::vector<Certificate> order = dag.RandomCausalOrder(rng);
    Harness original(dag, config.gc_depth);
    std::vector<std::string> states;
    std::vector<size_t> outputs;
    for (const Certificate& c : order) {
      original.Feed(c);
      states.push_back(EncodeConsensusState(original.bullshark().state()));
      outputs.push_back(original.committed().size());
    }
    for (size_t k = 0; k < order.size(); k += 5) {
      auto state = DecodeConsensusState(states[k]);
      ASSERT_TRUE(state.ok()) << state.status().ToString();
      Harness restarted(dag, config.gc_depth, *state);
      restarted.FeedAll(dag.RandomCausalOrder(rng));
      ASSERT_TRUE(EncodeSequence(restarted.committed()) ==
                  EncodeSequence(original.committed(), outputs[k]))
          << "restart after certificate " << k << ", dag seed " << config.dag_seed;
      ASSERT_EQ(restarted.bullshark().state(), original.bullshark().state());
    }
  }
}

// Certificates at or below the restored bound, or of rounds their author has committed, are
// not held again.
TEST(Bullshark, RestoredStateIgnoresWhatItCommitted) {
  DagBuilder dag;
  dag.AddRounds(1, 12, dag.Everyone());
  ConsensusState state;
  state.last_committed_round = 8;
  state.last_index = 4;
  for (size_t a = 0; a < dag.size(); ++a) state.last_committed[dag.Name(a)] = 7;
  state.last_committed[dag.Name(dag.LeaderIndex(8))] = 8;
  Harness h(dag, 3, state);
  for (const Certificate& c : dag.InRoundOrder()) {
    if (c.round() > 9) {
      h.Feed(c);
      continue;
    }
    const size_t before = h.bullshark().dag_size();
    const bool held =
        c.round() > 8 || (c.round() == 8 && c.origin() != dag.Name(dag.LeaderIndex(8)));
    EXPECT_TRUE(h.Feed(c).empty());
    EXPECT_EQ(h.bullshark().dag_size(), before + (held ? 1 : 0)) << "round " << c.round();
  }
  EXPECT_EQ(h.AnchorRounds(), (std::vector<uint64_t>{10}));
  EXPECT_EQ(h.committed().front().index, 5u);
  // The rest of round 8, round 9 and the anchor.
  EXPECT_EQ(h.committed().front().certificates.size(), 3u + 4u + 1u);
}

ConsensusState SampleState() {
  DagBuilder dag;
  ConsensusState state;
  state.last_committed_round = 1'000'000'006;
  state.last_index = 77;
  for (size_t a = 0; a < dag.size(); ++a) state.last_committed[dag.Name(a)] = 1'000'000'003 + a;
  return state;
}

TEST(ConsensusStateCodec, RoundTrips) {
  for (const ConsensusState& state : {ConsensusState{}, SampleState()}) {
    const std::string bytes = EncodeConsensusState(state);
    auto decoded = DecodeConsensusState(bytes);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_EQ(*decoded, state);
    EXPECT_EQ(EncodeConsensusState(*decoded), bytes);
  }
  EXPECT_EQ(EncodeConsensusState(SampleState()).size(), 1u + 8 + 8 + 4 + 4 * (32 + 8));
}

TEST(ConsensusStateCodec, RefusesMalformedBytes) {
  const std::string good = EncodeConsensusState(SampleState());
  auto refused = [](const std::string& bytes) {
    auto decoded = DecodeConsensusState(bytes);
    return !decoded.ok() && decoded.status().IsCorruption();
  };
  for (size_t n = 0; n < good.size(); ++n) EXPECT_TRUE(refused(good.substr(0, n))) << n;
  EXPECT_TRUE(refused(good + '\0'));
  std::string bad = good;
  bad[0] = 2;  // version
  EXPECT_TRUE(refused(bad));
  const size_t count_at = 1 + 8 + 8, first_entry = count_at + 4, entry = 32 + 8;
  bad = good;
  bad[count_at + 3] = 5;  // more authors than there are bytes
  EXPECT_TRUE(refused(bad));
  bad = good;
  bad[count_at] = '\xff';  // an absurd count
  EXPECT_TRUE(refused(bad));
  bad = good;  // two authors swapped
  std::swap_ranges(bad.begin() + first_entry, bad.begin() + first_entry + entry,
                   bad.begin() + first_entry + entry);
  EXPECT_TRUE(refused(bad));
  bad = good;  // an author twice
  std::copy(bad.begin() + first_entry, bad.begin() + first_entry + entry,
            bad.begin() + first_entry + entry);
  EXPECT_TRUE(refused(bad));
  ConsensusState ahead = SampleState();
  ahead.last_committed.begin()->second = ahead.last_committed_round + 1;
  EXPECT_TRUE(refused(EncodeConsensusState(ahead)));
  ConsensusState many;
  many.last_committed_round = 1;
  for (uint32_t i = 0; i <= kMaxListLength; ++i) {
    PublicKey key{};
    key[0] = static_cast<uint8_t>(i >> 8);
    key[1] = static_cast<uint8_t>(i);
    many.last_committed[key] = 1;
  }
  EXPECT_TRUE(refused(EncodeConsensusState(many)));
}

}  // namespace
}  // namespace rustorium::chain
