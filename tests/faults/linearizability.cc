// The register linearizability checker: per-key Wing & Gong search with a cache of visited
// (linearized set, register state) pairs, after Lowe and Porcupine.
#include "tests/faults/linearizability.h"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <map>
#include <unordered_set>
#include <utility>

namespace rustorium::faults {
namespace {

using Clock = std::chrono::steady_clock;

// The return time of a call whose outcome is unknown: it may take effect arbitrarily late.
constexpr int64_t kNever = std::numeric_limits<int64_t>::max();
// The interned index of "key absent"; every register starts there.
constexpr int kAbsent = 0;
// Step() answers this when the operation cannot take effect in the given state.
constexpr int kRefused = -1;
// How often (in search steps) the search looks at the clock; reading it every step would cost
// more than the step itself.
constexpr uint64_t kClockCheckInterval = 4096;
// Explanations print at most this many operations of the longest order found, and at most
// this many of the operations that could not follow it.
constexpr std::size_t kPrefixShown = 10;
constexpr std::size_t kCandidatesShown = 10;
// Longer values are cut in explanations.
constexpr std::size_t kValueShown = 40;

// A register value as an index into the key's distinct values, so the search compares ints.
class ValueTable {
 public:
  int Intern(const std::optional<std::string>& value) {
    if (!value) return kAbsent;
    auto [it, inserted] = index_.emplace(*value, static_cast<int>(index_.size()) + 1);
    return it->second;
  }

 private:
  std::map<std::string, int> index_;
};

// One operation of a key's history, ready for the search.
struct KeyOp {
  const Operation* op = nullptr;
  int value = kAbsent;     // interned Operation::value
  int expected = kAbsent;  // interned Operation::expected
  int64_t invoke = 0;
  int64_t complete = 0;  // kNever for unknown outcomes
};

// The register state after `op` takes effect in `state`, or kRefused when it cannot.
int Step(const KeyOp& op, int state) {
  switch (op.op->kind) {
    case OpKind::kRead:
      return state == op.value ? state : kRefused;
    case OpKind::kWrite:
      return op.value;
    case OpKind::kCas:
      if (op.op->outcome == Outcome::kUnknown) return state == op.expected ? op.value : state;
      if (op.op->cas_succeeded) return state == op.expected ? op.value : kRefused;
      return state != op.expected ? state : kRefused;
  }
  return kRefused;
}

std::string FormatValue(const std::optional<std::string>& value) {
  if (!value) return "<absent>";
  std::string out = "\"";
  for (std::size_t i = 0; i < value->size() && i < kValueShown; ++i) {
    const unsigned char c = static_cast<unsigned char>((*value)[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char hex[5];
      std::snprintf(hex, sizeof(hex), "\\x%02x", c);
      out += hex;
    }
  }
  out += value->size() > kValueShown ? "\"..." : "\"";
  return out;
}

std::string FormatOperation(const KeyOp& k) {
  const Operation& op = *k.op;
  std::string out = "p" + std::to_string(op.process) + " ";
  switch (op.kind) {
    case OpKind::kRead:
      out += "read -> " + FormatValue(op.value);
      break;
    case OpKind::kWrite:
      out += op.value ? "write " + FormatValue(op.value) : std::string("delete");
      break;
    case OpKind::kCas:
      out += "cas " + FormatValue(op.expected) + " -> " + FormatValue(op.value);
      if (op.outcome == Outcome::kOk) out += op.cas_succeeded ? " (swapped)" : " (not swapped)";
      break;
  }
  if (op.outcome == Outcome::kUnknown) out += " (outcome unknown)";
  out += " [" + std::to_string(k.invoke) + ", " +
         (k.complete == kNever ? std::string("?") : std::to_string(k.complete)) + "]";
  return out;
}

// Why `op` cannot take effect when the register holds `state` (whose text is `shown`).
std::string Refusal(const KeyOp& op, const std::string& shown) {
  if (op.op->kind == OpKind::kRead) return "the register holds " + shown;
  if (op.op->cas_succeeded) return "swapped, but the register holds " + shown;
  return "did not swap, but the register holds the expected value";
}

// A visited point of the search: which operations are linearized and the state they leave.
// Lowe's observation: reaching the same point twice cannot succeed the second time.
struct Visited {
  std::vector<uint64_t> linearized;  // bitset over the key's operations
  int state = kAbsent;
  uint64_t hash = 0;  // cached; see RegisterSearch::hash_

  bool operator==(const Visited& other) const {
    return state == other.state && linearized == other.linearized;
  }
};

struct VisitedHash {
  std::size_t operator()(const Visited& v) const { return static_cast<std::size_t>(v.hash); }
};

uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// The search over one key's operations. The history is a doubly linked list of call and
// return entries in time order; linearizing an operation unlinks both of its entries, and
// backtracking links them back (dancing links), so each step is O(1).
class RegisterSearch {
 public:
  enum class Verdict { kLinearizable, kViolation, kOutOfTime };

  RegisterSearch(std::vector<KeyOp> ops, Clock::time_point deadline)
      : ops_(std::move(ops)), deadline_(deadline) {
    BuildEntries();
    zobrist_.resize(ops_.size());
    for (std::size_t i = 0; i < ops_.size(); ++i) zobrist_[i] = SplitMix64(i);
    linearized_.assign((ops_.size() + 63) / 64, 0);
  }

  Verdict Run();

  // The longest sequence of operations (indices, in order) the search managed to linearize.
  const std::vector<int>& longest_prefix() const { return longest_prefix_; }
  std::size_t states_visited() const { return visited_.size(); }
  const std::vector<KeyOp>& ops() const { return ops_; }

 private:
  struct Undo {
    int call_entry;
    int state_before;
  };

  // Entries 0..2n-1: op i's call at 2i and its return at 2i+1. head_ is a sentinel.
  static int CallOf(int op) { return 2 * op; }
  static int ReturnOf(int op) { return 2 * op + 1; }
  static bool IsCall(int entry) { return entry % 2 == 0; }
  static int OpOf(int entry) { return entry / 2; }

  void BuildEntries();
  void Unlink(int entry) {
    next_[prev_[entry]] = next_[entry];
    if (next_[entry] >= 0) prev_[next_[entry]] = prev_[entry];
  }
  void Relink(int entry) {
    next_[prev_[entry]] = entry;
    if (next_[entry] >= 0) prev_[next_[entry]] = entry;
  }
  void Toggle(int op) {
    linearized_[op / 64] ^= uint64_t{1} << (op % 64);
    hash_ ^= zobrist_[op];
  }
  // Records the current linearized set with `state` as visited; false if it already was.
  bool FirstVisit(int state);

  std::vector<KeyOp> ops_;
  Clock::time_point deadline_;
  std::vector<int> next_, prev_;  // -1 ends the list
  int head_ = 0;
  std::vector<uint64_t> zobrist_;     // a random word per op; hash_ is the XOR over linearized
  std::vector<uint64_t> linearized_;  // bitset of linearized ops
  uint64_t hash_ = 0;
  std::unordered_set<Visited, VisitedHash> visited_;
  Visited probe_;  // reused so that cache hits do not allocate
  std::vector<int> longest_prefix_;
};

void RegisterSearch::BuildEntries() {
  const int n = static_cast<int>(ops_.size());
  struct Event {
    int64_t time;
    bool is_return;
    int op;
  };
  std::vector<Event> events;
  events.reserve(2 * ops_.size());
  for (int i = 0; i < n; ++i) {
    events.push_back({ops_[i].invoke, false, i});
    events.push_back({ops_[i].complete, true, i});
  }
  // Calls before returns at equal times: an operation returning at the instant another is
  // invoked is concurrent with it rather than before it, which can only avoid false alarms.
  std::sort(events.begin(), events.end(), [](const Event& a, const Event& b) {
    if (a.time != b.time) return a.time < b.time;
    if (a.is_return != b.is_return) return !a.is_return;
    return a.op < b.op;
  });
  head_ = 2 * n;
  next_.assign(2 * n + 1, -1);
  prev_.assign(2 * n + 1, -1);
  int last = head_;
  for (const Event& e : events) {
    const int entry = e.is_return ? ReturnOf(e.op) : CallOf(e.op);
    next_[last] = entry;
    prev_[entry] = last;
    last = entry;
  }
}

bool RegisterSearch::FirstVisit(int state) {
  probe_.linearized = linearized_;
  probe_.state = state;
  probe_.hash = hash_ ^ SplitMix64(static_cast<uint64_t>(state) + 0x51ed27);
  if (visited_.contains(probe_)) return false;
  visited_.insert(probe_);
  return true;
}

RegisterSearch::Verdict RegisterSearch::Run() {
  // Unknown operations may be left out (or put after everything), which a register always
  // allows, so the search is done once every operation with a known return is linearized.
  std::size_t pending = 0;
  for (const KeyOp& op : ops_) pending += op.complete != kNever ? 1 : 0;

  std::vector<Undo> undo;
  int state = kAbsent;
  int entry = next_[head_];
  for (uint64_t steps = 1;; ++steps) {
    if (pending == 0) return Verdict::kLinearizable;
    if (steps % kClockCheckInterval == 0 && Clock::now() >= deadline_) return Verdict::kOutOfTime;
    if (IsCall(entry)) {
      const int op = OpOf(entry);
      const int after = Step(ops_[op], state);
      if (after != kRefused) {
        Toggle(op);
        if (FirstVisit(after)) {
          undo.push_back({entry, state});
          state = after;
          if (ops_[op].complete != kNever) --pending;
          Unlink(entry);
          Unlink(ReturnOf(op));
          if (undo.size() > longest_prefix_.size()) {
            longest_prefix_.clear();
            for (const Undo& u : undo) longest_prefix_.push_back(OpOf(u.call_entry));
          }
          entry = next_[head_];
          continue;
        }
        Toggle(op);
      }
      entry = next_[entry];
    } else {
      // Every call before this return failed to fit, yet this operation must be linearized
      // before anything later: undo the most recent choice.
      if (undo.empty()) return Verdict::kViolation;
      const Undo last = undo.back();
      undo.pop_back();
      const int op = OpOf(last.call_entry);
      state = last.state_before;
      Toggle(op);
      if (ops_[op].complete != kNever) ++pending;
      Relink(ReturnOf(op));
      Relink(last.call_entry);
      entry = next_[last.call_entry];
    }
  }
}

// Shows the longest order found and why none of the operations that could come next fits.
std::string ExplainViolation(const RegisterSearch& search) {
  const std::vector<KeyOp>& ops = search.ops();
  const std::vector<int>& prefix = search.longest_prefix();
  std::vector<bool> placed(ops.size(), false);
  int state = kAbsent;
  std::optional<std::string> shown_state;
  for (int i : prefix) {
    placed[i] = true;
    const int after = Step(ops[i], state);
    if (after != state) {
      state = after;
      // A CAS that swapped (or may have) stores its new value; a write stores its value.
      shown_state = ops[i].op->value;
    }
  }
  std::string out = "no valid order; the longest found places " + std::to_string(prefix.size()) +
                    " of " + std::to_string(ops.size()) + " operations";
  if (prefix.empty()) {
    out += "\n";
  } else {
    out += ", ending with:\n";
    const std::size_t first = prefix.size() > kPrefixShown ? prefix.size() - kPrefixShown : 0;
    if (first > 0) out += "  ... " + std::to_string(first) + " earlier\n";
    for (std::size_t i = first; i < prefix.size(); ++i) {
      out += "  " + FormatOperation(ops[prefix[i]]) + "\n";
    }
  }
  const std::string shown = FormatValue(shown_state);
  out += "register then holds " + shown + "; no operation that may come next fits:";

  // An operation may come next if it was invoked no later than the earliest return among the
  // operations still to place.
  int64_t earliest_return = kNever;
  for (std::size_t i = 0; i < ops.size(); ++i) {
    if (!placed[i]) earliest_return = std::min(earliest_return, ops[i].complete);
  }
  std::size_t candidates = 0;
  for (std::size_t i = 0; i < ops.size(); ++i) {
    if (placed[i] || ops[i].invoke > earliest_return) continue;
    if (++candidates > kCandidatesShown) continue;
    out += "\n  " + FormatOperation(ops[i]) + ": ";
    out += Step(ops[i], state) == kRefused ? Refusal(ops[i], shown)
                                           : std::string("fits, but no order continues after it");
  }
  if (candidates > kCandidatesShown) {
    out += "\n  ... " + std::to_string(candidates - kCandidatesShown) + " more";
  }
  return out;
}

KeyVerdict CheckKey(const std::string& key, const std::vector<const Operation*>& history,
                    std::chrono::milliseconds budget) {
  const Clock::time_point start = Clock::now();
  ValueTable values;
  std::vector<KeyOp> ops;
  ops.reserve(history.size());
  for (const Operation* op : history) {
    KeyOp k;
    k.op = op;
    k.value = values.Intern(op->value);
    k.expected = op->kind == OpKind::kCas ? values.Intern(op->expected) : kAbsent;
    k.invoke = op->invoke_ns;
    k.complete =
        op->outcome == Outcome::kUnknown ? kNever : std::max(op->invoke_ns, op->complete_ns);
    ops.push_back(k);
  }

  KeyVerdict verdict;
  verdict.key = key;
  verdict.operations = ops.size();
  RegisterSearch search(std::move(ops), start + budget);
  switch (search.Run()) {
    case RegisterSearch::Verdict::kLinearizable:
      break;
    case RegisterSearch::Verdict::kViolation:
      verdict.linearizable = false;
      verdict.explanation = ExplainViolation(search);
      break;
    case RegisterSearch::Verdict::kOutOfTime:
      verdict.linearizable = false;
      verdict.inconclusive = true;
      verdict.explanation = "gave up after " + std::to_string(budget.count()) + " ms with " +
                            std::to_string(search.states_visited()) +
                            " states visited; the longest order found places " +
                            std::to_string(search.longest_prefix().size()) + " of " +
                            std::to_string(verdict.operations) + " operations";
      break;
  }
  return verdict;
}

}  // namespace

std::string CheckResult::Summary() const {
  std::size_t operations = 0;
  std::string out;
  for (const KeyVerdict& k : keys) {
    operations += k.operations;
    if (k.linearizable) continue;
    out += "key " + FormatValue(k.key) + " (" + std::to_string(k.operations) +
           " operations): " + (k.inconclusive ? "inconclusive" : "NOT linearizable") + "\n";
    std::size_t begin = 0;
    while (begin < k.explanation.size()) {
      std::size_t end = k.explanation.find('\n', begin);
      if (end == std::string::npos) end = k.explanation.size();
      out += "  " + k.explanation.substr(begin, end - begin) + "\n";
      begin = end + 1;
    }
  }
  if (out.empty()) {
    return std::to_string(keys.size()) + " keys, " + std::to_string(operations) +
           " operations: linearizable";
  }
  out.pop_back();
  return out;
}

CheckResult CheckRegisters(const std::vector<Operation>& history,
                           std::chrono::milliseconds budget_per_key) {
  // std::map keeps keys sorted, so verdicts come out in a deterministic order.
  std::map<std::string, std::vector<const Operation*>> by_key;
  for (const Operation& op : history) {
    if (op.outcome == Outcome::kFail) continue;
    if (op.kind == OpKind::kRead && op.outcome == Outcome::kUnknown) continue;
    by_key[op.key].push_back(&op);
  }
  CheckResult result;
  for (const auto& [key, ops] : by_key) {
    KeyVerdict verdict = CheckKey(key, ops, budget_per_key);
    result.linearizable = result.linearizable && verdict.linearizable;
    result.inconclusive = result.inconclusive || verdict.inconclusive;
    result.keys.push_back(std::move(verdict));
  }
  return result;
}

}  // namespace rustorium::faults
