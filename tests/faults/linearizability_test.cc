// The register linearizability checker accepts histories that some order of the operations
// explains and rejects those that none does: hand-written anomalies, and random histories
// recorded from a real register with and without one corrupted read.
#include "tests/faults/linearizability.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "tests/kill_harness.h"

namespace rustorium::faults {
namespace {

using Value = std::optional<std::string>;

Operation Write(int process, const std::string& key, Value value, int64_t invoke, int64_t complete,
                Outcome outcome = Outcome::kOk) {
  Operation op;
  op.process = process;
  op.key = key;
  op.kind = OpKind::kWrite;
  op.value = std::move(value);
  op.invoke_ns = invoke;
  op.complete_ns = complete;
  op.outcome = outcome;
  return op;
}

Operation Read(int process, const std::string& key, Value seen, int64_t invoke, int64_t complete,
               Outcome outcome = Outcome::kOk) {
  Operation op;
  op.process = process;
  op.key = key;
  op.kind = OpKind::kRead;
  op.value = std::move(seen);
  op.invoke_ns = invoke;
  op.complete_ns = complete;
  op.outcome = outcome;
  return op;
}

Operation Cas(int process, const std::string& key, Value expected, Value value, bool swapped,
              int64_t invoke, int64_t complete, Outcome outcome = Outcome::kOk) {
  Operation op;
  op.process = process;
  op.key = key;
  op.kind = OpKind::kCas;
  op.expected = std::move(expected);
  op.value = std::move(value);
  op.cas_succeeded = swapped;
  op.invoke_ns = invoke;
  op.complete_ns = complete;
  op.outcome = outcome;
  return op;
}

bool Linearizable(const std::vector<Operation>& history) {
  const CheckResult result = CheckRegisters(history);
  EXPECT_FALSE(result.inconclusive) << result.Summary();
  return result.linearizable;
}

TEST(Linearizability, SequentialWriteThenReadIsLinearizable) {
  const std::vector<Operation> history = {
      Read(1, "k", std::nullopt, 0, 10),
      Write(1, "k", "a", 20, 30),
      Read(2, "k", "a", 40, 50),
  };
  const CheckResult result = CheckRegisters(history);
  EXPECT_TRUE(result.linearizable) << result.Summary();
  EXPECT_EQ(result.Summary(), "1 keys, 3 operations: linearizable");
}

TEST(Linearizability, StaleReadAfterCompletedWriteIsRejected) {
  EXPECT_FALSE(Linearizable({
      Write(1, "k", "a", 0, 10),
      Write(1, "k", "b", 20, 30),
      Read(2, "k", "a", 40, 50),
  }));
}

TEST(Linearizability, ReadConcurrentWithWriteMaySeeEitherValue) {
  EXPECT_TRUE(Linearizable({
      Write(1, "k", "a", 0, 10),
      Write(1, "k", "b", 20, 60),
      Read(2, "k", "a", 30, 40),
  }));
  EXPECT_TRUE(Linearizable({
      Write(1, "k", "a", 0, 10),
      Write(1, "k", "b", 20, 60),
      Read(2, "k", "b", 30, 40),
  }));
  // Once one reader has seen the new value, a reader that starts later cannot see the old one.
  EXPECT_FALSE(Linearizable({
      Write(1, "k", "a", 0, 10),
      Write(1, "k", "b", 20, 100),
      Read(2, "k", "b", 30, 40),
      Read(3, "k", "a", 50, 60),
  }));
}

TEST(Linearizability, TouchingIntervalsAreConcurrent) {
  // A read invoked at the instant a write returns may still be ordered before it.
  EXPECT_TRUE(Linearizable({
      Write(1, "k", "a", 0, 10),
      Read(2, "k", std::nullopt, 10, 20),
  }));
  EXPECT_FALSE(Linearizable({
      Write(1, "k", "a", 0, 10),
      Read(2, "k", std::nullopt, 11, 20),
  }));
}

TEST(Linearizability, ReadOfValueNeverWrittenIsRejected) {
  EXPECT_FALSE(Linearizable({Read(1, "k", "ghost", 0, 10)}));
  EXPECT_FALSE(Linearizable({
      Write(1, "k", "a", 0, 10),
      Read(2, "k", "ghost", 5, 20),
  }));
}

TEST(Linearizability, CasThatSwappedNeedsTheExpectedValue) {
  EXPECT_TRUE(Linearizable({
      Write(1, "k", "a", 0, 10),
      Cas(2, "k", "a", "b", true, 20, 30),
      Read(3, "k", "b", 40, 50),
  }));
  // Creating a key with an absent expectation works only while it is absent.
  EXPECT_TRUE(Linearizable({
      Cas(1, "k", std::nullopt, "a", true, 0, 10),
      Read(2, "k", "a", 20, 30),
  }));
  EXPECT_FALSE(Linearizable({
      Write(1, "k", "x", 0, 10),
      Cas(2, "k", "a", "b", true, 20, 30),
  }));
  EXPECT_FALSE(Linearizable({
      Write(1, "k", "a", 0, 10),
      Cas(2, "k", std::nullopt, "b", true, 20, 30),
  }));
}

TEST(Linearizability, CasThatDidNotSwapNeedsAnotherValue) {
  EXPECT_TRUE(Linearizable({
      Write(1, "k", "x", 0, 10),
      Cas(2, "k", "a", "b", false, 20, 30),
      Read(3, "k", "x", 40, 50),
  }));
  // The state matched the expectation, so the CAS should have swapped.
  EXPECT_FALSE(Linearizable({
      Write(1, "k", "a", 0, 10),
      Cas(2, "k", "a", "b", false, 20, 30),
  }));
  // A CAS that did not swap leaves the value alone.
  EXPECT_FALSE(Linearizable({
      Write(1, "k", "x", 0, 10),
      Cas(2, "k", "a", "b", false, 20, 30),
      Read(3, "k", "b", 40, 50),
  }));
  // Concurrent with a write of the expected value, it may have run before that write.
  EXPECT_TRUE(Linearizable({
      Write(1, "k", "a", 0, 30),
      Cas(2, "k", "a", "b", false, 10, 20),
  }));
}

TEST(Linearizability, UnknownWriteMayTakeEffectLaterOrNever) {
  // Never observed.
  EXPECT_TRUE(Linearizable({
      Write(1, "k", "a", 0, 10),
      Write(2, "k", "b", 20, 0, Outcome::kUnknown),
      Read(3, "k", "a", 30, 40),
  }));
  // Observed long after its caller gave up, even after a later write.
  EXPECT_TRUE(Linearizable({
      Write(1, "k", "a", 0, 10),
      Write(2, "k", "b", 20, 0, Outcome::kUnknown),
      Read(3, "k", "a", 30, 40),
      Write(1, "k", "c", 50, 60),
      Read(3, "k", "b", 70, 80),
  }));
  // But not before it was invoked.
  EXPECT_FALSE(Linearizable({
      Write(1, "k", "a", 0, 10),
      Read(3, "k", "b", 20, 30),
      Write(2, "k", "b", 40, 0, Outcome::kUnknown),
  }));
  // And only once.
  EXPECT_FALSE(Linearizable({
      Write(1, "k", "a", 0, 10),
      Write(2, "k", "b", 20, 0, Outcome::kUnknown),
      Read(3, "k", "b", 30, 40),
      Write(1, "k", "a", 50, 60),
      Read(3, "k", "a", 70, 80),
      Read(3, "k", "b", 90, 100),
  }));
}

TEST(Linearizability, UnknownCasSwapsOnlyWhenTheExpectationHolds) {
  EXPECT_TRUE(Linearizable({
      Write(1, "k", "a", 0, 10),
      Cas(2, "k", "a", "b", false, 20, 0, Outcome::kUnknown),
      Read(3, "k", "b", 30, 40),
  }));
  EXPECT_TRUE(Linearizable({
      Write(1, "k", "a", 0, 10),
      Cas(2, "k", "a", "b", false, 20, 0, Outcome::kUnknown),
      Read(3, "k", "a", 30, 40),
  }));
  EXPECT_FALSE(Linearizable({
      Write(1, "k", "x", 0, 10),
      Cas(2, "k", "a", "b", false, 20, 0, Outcome::kUnknown),
      Read(3, "k", "b", 30, 40),
  }));
}

TEST(Linearizability, DoubleApplyIsRejected) {
  // A retried write applied a second time makes an overwritten value come back.
  EXPECT_FALSE(Linearizable({
      Write(1, "k", "a", 0, 10),
      Read(2, "k", "a", 20, 30),
      Write(3, "k", "b", 40, 50),
      Read(2, "k", "b", 60, 70),
      Read(2, "k", "a", 80, 90),
  }));
}

TEST(Linearizability, FailedWriteMustNotBeObserved) {
  EXPECT_FALSE(Linearizable({
      Write(1, "k", "a", 0, 10),
      Write(2, "k", "b", 20, 30, Outcome::kFail),
      Read(3, "k", "b", 40, 50),
  }));
  EXPECT_TRUE(Linearizable({
      Write(1, "k", "a", 0, 10),
      Write(2, "k", "b", 20, 30, Outcome::kFail),
      Read(3, "k", "a", 40, 50),
  }));
}

TEST(Linearizability, FailedAndUnknownReadsCarryNoInformation) {
  const std::vector<Operation> history = {
      Write(1, "k", "a", 0, 10),
      Read(2, "k", "ghost", 20, 30, Outcome::kFail),
      Read(3, "k", "ghost", 20, 30, Outcome::kUnknown),
  };
  const CheckResult result = CheckRegisters(history);
  EXPECT_TRUE(result.linearizable) << result.Summary();
  ASSERT_EQ(result.keys.size(), 1u);
  EXPECT_EQ(result.keys[0].operations, 1u);
}

TEST(Linearizability, DeleteMakesTheKeyAbsent) {
  EXPECT_TRUE(Linearizable({
      Write(1, "k", "a", 0, 10),
      Write(1, "k", std::nullopt, 20, 30),
      Read(2, "k", std::nullopt, 40, 50),
      Cas(2, "k", std::nullopt, "b", true, 60, 70),
      Cas(2, "k", "b", std::nullopt, true, 80, 90),
      Read(3, "k", std::nullopt, 100, 110),
  }));
  EXPECT_FALSE(Linearizable({
      Write(1, "k", "a", 0, 10),
      Write(1, "k", std::nullopt, 20, 30),
      Read(2, "k", "a", 40, 50),
  }));
  // An empty value is a value, not a delete.
  EXPECT_FALSE(Linearizable({
      Write(1, "k", "", 0, 10),
      Read(2, "k", std::nullopt, 20, 30),
  }));
}

TEST(Linearizability, KeysAreCheckedIndependently) {
  // Each key alone is fine for "good"; only "bad" has a stale read.
  const std::vector<Operation> history = {
      Write(1, "good", "a", 0, 10), Write(1, "bad", "a", 0, 10), Write(2, "bad", "b", 20, 30),
      Read(3, "good", "a", 40, 50), Read(3, "bad", "a", 40, 50),
  };
  const CheckResult result = CheckRegisters(history);
  EXPECT_FALSE(result.linearizable);
  EXPECT_FALSE(result.inconclusive);
  ASSERT_EQ(result.keys.size(), 2u);
  EXPECT_EQ(result.keys[0].key, "bad");
  EXPECT_FALSE(result.keys[0].linearizable);
  EXPECT_EQ(result.keys[1].key, "good");
  EXPECT_TRUE(result.keys[1].linearizable);
  EXPECT_NE(result.Summary().find("key \"bad\""), std::string::npos) << result.Summary();
  EXPECT_EQ(result.Summary().find("good"), std::string::npos) << result.Summary();
}

TEST(Linearizability, ExplanationShowsWhatCannotBePlaced) {
  const std::vector<Operation> history = {
      Write(1, "k", "a", 0, 10),
      Write(2, "k", "b", 20, 30),
      Read(7, "k", "a", 40, 50),
  };
  const CheckResult result = CheckRegisters(history);
  ASSERT_EQ(result.keys.size(), 1u);
  const std::string& why = result.keys[0].explanation;
  EXPECT_NE(why.find("places 2 of 3"), std::string::npos) << why;
  EXPECT_NE(why.find("p7 read -> \"a\" [40, 50]: the register holds \"b\""), std::string::npos)
      << why;
}

TEST(Linearizability, GivesUpWhenTheBudgetRunsOut) {
  // Thirty concurrent writes, then a read of a value none wrote: refuting it means trying
  // every subset of the writes with every last writer.
  std::vector<Operation> history;
  for (int i = 0; i < 30; ++i) history.push_back(Write(i, "k", std::to_string(i), 0, 100));
  history.push_back(Read(99, "k", "ghost", 200, 300));
  const CheckResult result = CheckRegisters(history, std::chrono::milliseconds(1));
  EXPECT_TRUE(result.inconclusive);
  EXPECT_FALSE(result.linearizable);
  ASSERT_EQ(result.keys.size(), 1u);
  EXPECT_TRUE(result.keys[0].inconclusive);
  EXPECT_NE(result.Summary().find("inconclusive"), std::string::npos) << result.Summary();
}

// A history recorded from a real register: each operation takes effect at a random point
// inside its interval, so the history is linearizable by construction.
class RegisterRecorder {
 public:
  explicit RegisterRecorder(uint64_t seed) : rng_(seed) {}

  // One operation on `key` taking effect at `at`, with an interval around it of up to
  // `spread` on each side.
  void Record(int process, const std::string& key, int64_t at, int64_t spread,
              const std::vector<Value>& values) {
    Value& state = state_[key];
    const Value pick = values[rng_() % values.size()];
    Operation op;
    op.process = process;
    op.key = key;
    op.invoke_ns = at - static_cast<int64_t>(rng_() % (spread + 1));
    op.complete_ns = at + static_cast<int64_t>(rng_() % (spread + 1));
    const unsigned dice = rng_() % 20;
    // Writes and CASes now and then fail outright or lose their reply; one that lost its reply
    // took effect or not, by a coin toss.
    const unsigned fate = rng_() % 20;
    const bool fails = fate == 0;
    const bool unknown = fate == 1;
    const bool applies = !fails && (!unknown || rng_() % 2 == 0);
    if (fails) op.outcome = Outcome::kFail;
    if (unknown) op.outcome = Outcome::kUnknown;
    if (dice < 8) {
      op.kind = OpKind::kRead;
      op.value = state;
      op.outcome = Outcome::kOk;
    } else if (dice < 14) {
      op.kind = OpKind::kWrite;
      op.value = pick;
      if (applies) state = pick;
    } else {
      op.kind = OpKind::kCas;
      op.expected = rng_() % 2 == 0 ? state : values[rng_() % values.size()];
      op.value = pick;
      op.cas_succeeded = op.expected == state;
      if (applies && op.cas_succeeded) state = pick;
    }
    history_.push_back(std::move(op));
  }

  std::mt19937_64& rng() { return rng_; }
  std::vector<Operation>& history() { return history_; }

 private:
  std::mt19937_64 rng_;
  std::map<std::string, Value> state_;
  std::vector<Operation> history_;
};

TEST(Linearizability, RandomRegisterHistoriesPassAndOneCorruptedReadFails) {
  const uint64_t seed = rustorium::testing::TestSeed();
  std::printf("linearizability seed: %llu (replay with RUSTORIUM_TEST_SEED)\n",
              static_cast<unsigned long long>(seed));
  const std::vector<std::string> keys = {"a", "b", "c"};
  const std::vector<Value> values = {"x", "y", "z", "", std::nullopt};
  for (int round = 0; round < 10; ++round) {
    RegisterRecorder recorder(seed + round);
    for (int i = 0; i < 300; ++i) {
      recorder.Record(i % 5, keys[recorder.rng()() % keys.size()], 100 * i, 400, values);
    }
    std::vector<Operation>& history = recorder.history();
    CheckResult result = CheckRegisters(history);
    ASSERT_TRUE(result.linearizable) << "round " << round << "\n" << result.Summary();

    std::vector<std::size_t> reads;
    for (std::size_t i = 0; i < history.size(); ++i) {
      if (history[i].kind == OpKind::kRead) reads.push_back(i);
    }
    ASSERT_FALSE(reads.empty());
    Operation& victim = history[reads[recorder.rng()() % reads.size()]];
    victim.value = "never-written";
    result = CheckRegisters(history);
    EXPECT_FALSE(result.linearizable) << "round " << round;
    EXPECT_FALSE(result.inconclusive) << "round " << round;
    for (const KeyVerdict& k : result.keys) {
      EXPECT_EQ(k.linearizable, k.key != victim.key) << "round " << round << " key " << k.key;
    }
  }
}

TEST(Linearizability, EightConcurrentClientsOnOneKeySettleWithinTheBudget) {
  const uint64_t seed = rustorium::testing::TestSeed();
  std::printf("linearizability seed: %llu (replay with RUSTORIUM_TEST_SEED)\n",
              static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  // Each client issues its calls back to back; every call takes effect somewhere inside its
  // interval, and the register applies them in the order of those points.
  struct Call {
    int process;
    int64_t invoke, at, complete;
  };
  std::vector<Call> calls;
  for (int process = 0; process < 8; ++process) {
    int64_t now = static_cast<int64_t>(rng() % 50);
    for (int i = 0; i < 250; ++i) {
      const int64_t duration = 1 + static_cast<int64_t>(rng() % 100);
      calls.push_back(
          {process, now, now + static_cast<int64_t>(rng() % (duration + 1)), now + duration});
      now += duration + static_cast<int64_t>(rng() % 20);
    }
  }
  std::sort(calls.begin(), calls.end(), [](const Call& a, const Call& b) { return a.at < b.at; });
  std::vector<Operation> history;
  Value state;
  std::vector<Value> written = {std::nullopt};
  for (const Call& call : calls) {
    const unsigned dice = rng() % 10;
    if (dice < 4) {
      history.push_back(Read(call.process, "k", state, call.invoke, call.complete));
    } else if (dice < 8) {
      state = "v" + std::to_string(history.size());
      written.push_back(state);
      history.push_back(Write(call.process, "k", state, call.invoke, call.complete));
    } else {
      const Value expected = rng() % 2 == 0 ? state : written[rng() % written.size()];
      const Value next = "v" + std::to_string(history.size());
      const bool swapped = expected == state;
      if (swapped) state = next;
      written.push_back(next);
      history.push_back(
          Cas(call.process, "k", expected, next, swapped, call.invoke, call.complete));
    }
  }
  // The memoised search settles this well within the budget (about 0.2 s under the
  // sanitizers); an exponential search would not, and would be reported inconclusive.
  const CheckResult result = CheckRegisters(history, std::chrono::seconds(30));
  EXPECT_FALSE(result.inconclusive) << result.Summary();
  EXPECT_TRUE(result.linearizable) << result.Summary();
}

}  // namespace
}  // namespace rustorium::faults
