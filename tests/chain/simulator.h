// Deterministic simulation of a committee: every validator in this one thread, on virtual
// time, with one seeded generator deciding every delay, loss and duplicate. A run is a pure
// function of its seed and the scenario's calls, so a failing seed replays exactly.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "chain/validator.h"

namespace rustorium::chain::sim {

struct NetworkOptions {
  uint64_t min_delay_ms = 5;
  uint64_t max_delay_ms = 60;
  uint32_t drop_per_mille = 0;       // each message lost with this probability
  uint32_t duplicate_per_mille = 0;  // each message delivered twice with this probability
};

struct SimulationOptions {
  uint64_t seed = 1;
  size_t validators = 4;
  uint32_t workers = 1;
  NarwhalParameters parameters;
  NetworkOptions network;
  // Directory for the validators' engines (one subdirectory each); must exist.
  std::string dir;
  // A client sends `set kN vM` to a random validator's worker every this many ms (0: none).
  uint64_t client_interval_ms = 20;
  size_t client_keys = 32;
};

// Parameters scaled to simulated time: rounds of about 100 ms.
NarwhalParameters SimulationParameters();

// What one validator's executor saw: one entry per consensus index.
struct OutputEntry {
  uint64_t index = 0;
  Digest anchor{};
  std::vector<Digest> certificates;
  std::vector<std::pair<PublicKey, uint64_t>> slots;  // (author, round) of each certificate
  Digest state_hash{};
  bool operator==(const OutputEntry&) const = default;
};

// Applies `set K V` transactions to a map and hashes the map after every output. Survives
// its validator's crashes (it stands for the executor's own durable state).
class TestExecutor : public Executor {
 public:
  uint64_t LastExecutedIndex() const override { return last_index_; }
  void Execute(const ConsensusOutput& output) override;

  const std::vector<OutputEntry>& log() const { return log_; }
  // Outputs that did not come exactly once, in order (should stay 0).
  uint64_t order_violations() const { return order_violations_; }
  uint64_t transactions() const { return transactions_; }
  bool Executed(const std::string& tx) const { return executed_.count(tx) > 0; }
  // Transactions executed a second time (should stay 0: every client transaction is unique).
  uint64_t duplicates() const { return duplicates_; }

 private:
  std::map<std::string, std::string> state_;
  std::set<std::string> executed_;
  uint64_t duplicates_ = 0;
  std::vector<OutputEntry> log_;
  uint64_t last_index_ = 0;
  uint64_t order_violations_ = 0;
  uint64_t transactions_ = 0;
};

class Simulation {
 public:
  // Makes keys from the seed and opens every validator. Aborts the test on errors.
  explicit Simulation(SimulationOptions options);
  ~Simulation();

  // Runs events until virtual time reaches now + ms.
  void RunFor(uint64_t ms);
  // Runs until `done` holds (checked after each event) or `limit_ms` pass; true if it held.
  bool RunUntil(const std::function<bool()>& done, uint64_t limit_ms);
  uint64_t now() const { return now_ms_; }

  // Faults. A crashed validator's timers and messages vanish; Restart reopens its directory.
  void Crash(size_t i);
  Status Restart(size_t i);
  bool alive(size_t i) const { return nodes_[i].validator != nullptr; }
  // Messages between different groups are dropped until Heal().
  void Partition(const std::vector<std::set<size_t>>& groups);
  void Isolate(size_t i);
  void Heal();
  // Drops messages for which `filter(from, to, to_worker)` is true, until cleared (nullptr).
  using Filter = std::function<bool(size_t from, size_t to, bool to_worker)>;
  void SetFilter(Filter filter) { filter_ = std::move(filter); }
  // Sees every message sent, before faults apply (nullptr clears it).
  using Tap = std::function<void(size_t from, size_t to, bool to_worker, const std::string& bytes)>;
  void SetTap(Tap tap) { tap_ = std::move(tap); }
  void SetNetwork(const NetworkOptions& network) { options_.network = network; }
  // Stops or restarts the client load.
  void SetClientInterval(uint64_t ms);

  // Sends raw bytes as if from validator `from` (for Byzantine scenarios), over its
  // authenticated link.
  void InjectToPrimary(size_t from, size_t to, std::string bytes, bool request = false);
  // The same to validator `to`'s worker `worker_id`; as a request when `request` (answers go
  // back to `from`'s worker).
  void InjectToWorker(size_t from, size_t to, uint32_t worker_id, std::string bytes,
                      bool request = false);

  size_t size() const { return nodes_.size(); }
  Validator& validator(size_t i) { return *nodes_[i].validator; }
  const KeyPair& key(size_t i) const { return keys_[i]; }
  const Committee& committee() const { return *committee_; }
  const TestExecutor& executor(size_t i) const { return *nodes_[i].executor; }
  uint64_t seed() const { return options_.seed; }
  // Uniform in [0, n), from the simulation's generator.
  uint64_t Random(uint64_t n);

  // Empty when every pair of executors agrees on their common prefix (same certificates,
  // same state hash at every index), no output came twice or out of order, and no
  // (author, round) was committed with two different certificates; else what is wrong.
  std::string CheckSafety() const;
  // Client transactions a worker accepted that validator i has not executed.
  size_t Unexecuted(size_t i) const;
  // The smallest consensus index among the given validators (all when empty).
  uint64_t MinCommitted(const std::vector<size_t>& among = {}) const;

 private:
  class NodeEnv;
  class NodeTransport;
  struct Event {
    uint64_t time;
    uint64_t seq;
    std::function<void()> fn;
    bool operator>(const Event& o) const { return time != o.time ? time > o.time : seq > o.seq; }
  };
  struct Node {
    std::unique_ptr<NodeEnv> env;
    std::unique_ptr<NodeTransport> transport;
    std::unique_ptr<TestExecutor> executor;
    std::unique_ptr<Validator> validator;
    uint64_t generation = 0;
  };

  // A one-way message, a request (answered through MessageSource::reply) or an answer.
  enum class Kind { kMessage, kRequest, kAnswer };
  void Schedule(uint64_t delay_ms, std::function<void()> fn);
  void Send(size_t from, const PublicKey& to, bool to_worker, uint32_t worker_id, std::string bytes,
            Kind kind = Kind::kMessage);
  bool Blocked(size_t from, size_t to, bool to_worker) const;
  void ClientTick(uint64_t generation);
  Status Open(size_t i);

  SimulationOptions options_;
  std::mt19937_64 rng_;
  std::vector<KeyPair> keys_;
  std::unique_ptr<Committee> committee_;
  std::map<PublicKey, size_t> index_of_;
  std::vector<Node> nodes_;
  std::priority_queue<Event, std::vector<Event>, std::greater<Event>> events_;
  uint64_t now_ms_ = 0;
  uint64_t seq_ = 0;
  std::vector<int> group_;  // partition group per validator; all 0 when healed
  Filter filter_;
  Tap tap_;
  uint64_t client_generation_ = 0;
  uint64_t client_counter_ = 0;
  std::vector<std::string> accepted_;  // client transactions a worker accepted
};

}  // namespace rustorium::chain::sim
