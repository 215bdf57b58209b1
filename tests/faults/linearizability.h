// A linearizability checker for histories of single-key registers (read, write, compare-and-
// swap), for fault-injection tests that record what clients saw while nodes were killed and
// partitioned.
//
// It follows Wing & Gong's search with Lowe's memoisation, as Porcupine does: registers on
// different keys are independent, so the history is split per key (P-compositionality) and
// each key's sub-history is searched for an order of its operations that respects real time
// and the register's sequential semantics.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace rustorium::faults {

enum class OpKind { kRead, kWrite, kCas };

enum class Outcome {
  kOk,       // the call returned and its result is known
  kFail,     // the call definitely did not take effect
  kUnknown,  // the call may or may not have taken effect (timeout, lost connection)
};

// One client call as the client saw it.
struct Operation {
  int process = 0;  // the client thread that issued it; only used in explanations
  std::string key;
  OpKind kind = OpKind::kRead;
  // kWrite: the value written (nullopt = delete). kCas: the new value (nullopt = delete).
  // kRead with kOk: the value observed (nullopt = key absent).
  std::optional<std::string> value;
  std::optional<std::string> expected;  // kCas: the value it expects (nullopt = absent)
  bool cas_succeeded = false;           // kCas with kOk: whether it swapped
  int64_t invoke_ns = 0;                // when the call started
  int64_t complete_ns = 0;              // when it returned; ignored for kUnknown (+infinity)
  Outcome outcome = Outcome::kOk;
};

// The verdict for one key.
struct KeyVerdict {
  std::string key;
  std::size_t operations = 0;  // operations checked (after dropping kFail and unknown reads)
  bool linearizable = true;    // proven linearizable; false when a violation was found or the
                               // search ran out of time
  bool inconclusive = false;   // the search ran out of its time budget
  std::string explanation;     // for a violation or an inconclusive search; empty otherwise
};

struct CheckResult {
  bool linearizable = true;      // every key checked and linearizable
  bool inconclusive = false;     // some key hit the time budget
  std::vector<KeyVerdict> keys;  // one per key with operations to check, sorted by key

  // "N keys, M operations: linearizable", or one line per non-linearizable or inconclusive key,
  // each followed by its explanation indented by two spaces.
  std::string Summary() const;
};

// Checks that `history` is linearizable, every key starting absent. Operations with
// Outcome::kFail and reads with Outcome::kUnknown are dropped; writes and CASes with
// Outcome::kUnknown may take effect at any point after their invocation, or never. Two
// operations are ordered only when one completes strictly before the other is invoked; equal
// timestamps count as concurrent. A completion before the invocation is read as an instant
// call at the invocation. Each key's search stops after `budget_per_key` and is then
// reported inconclusive. Pure function; any thread may call it.
CheckResult CheckRegisters(const std::vector<Operation>& history,
                           std::chrono::milliseconds budget_per_key = std::chrono::seconds(30));

}  // namespace rustorium::faults
