#include "tests/chain/simulator.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "base/codec.h"

namespace rustorium::chain::sim {

NarwhalParameters SimulationParameters() {
  NarwhalParameters p;
  p.batch_size = 2'000;
  p.max_batch_delay_ms = 50;
  p.header_size = 36;  // one batch
  p.max_header_delay_ms = 100;
  p.gc_depth = 50;
  p.max_rounds_ahead = 200;
  p.retry_delay_ms = 400;
  return p;
}

void TestExecutor::Execute(const ConsensusOutput& output) {
  if (output.index != last_index_ + 1) ++order_violations_;
  last_index_ = output.index;
  for (const std::string& tx : output.transactions) {
    ++transactions_;
    if (!executed_.insert(tx).second) ++duplicates_;
    // "set K V"; anything else is applied as a no-op (consensus orders opaque bytes).
    if (tx.rfind("set ", 0) != 0) continue;
    const size_t space = tx.find(' ', 4);
    if (space == std::string::npos) continue;
    state_[tx.substr(4, space - 4)] = tx.substr(space + 1);
  }
  std::string encoded;
  PutFixed64BE(encoded, output.index);
  for (const auto& [k, v] : state_) {
    PutFixed64BE(encoded, k.size());
    encoded += k;
    PutFixed64BE(encoded, v.size());
    encoded += v;
  }
  OutputEntry entry;
  entry.index = output.index;
  entry.anchor = output.certificates.back().ComputeDigest();
  for (const Certificate& c : output.certificates) {
    entry.certificates.push_back(c.ComputeDigest());
    entry.slots.emplace_back(c.origin(), c.round());
  }
  entry.state_hash = HashBytes(encoded);
  log_.push_back(std::move(entry));
}

class Simulation::NodeEnv : public Env {
 public:
  NodeEnv(Simulation* sim, size_t node)
      : sim_(sim), node_(node), generation_(sim->nodes_[node].generation) {}
  uint64_t NowMs() const override { return sim_->now_ms_; }
  TimerId StartTimer(uint64_t delay_ms, std::function<void()> fn) override {
    const TimerId id = ++next_id_;
    Simulation* sim = sim_;
    const size_t node = node_;
    const uint64_t generation = generation_;
    sim_->Schedule(delay_ms, [sim, node, generation, id, fn = std::move(fn)] {
      Node& n = sim->nodes_[node];
      if (n.generation != generation || !n.validator) return;  // crashed since
      if (n.env->cancelled_.erase(id)) return;
      fn();
    });
    return id;
  }
  void CancelTimer(TimerId id) override {
    if (id != 0) cancelled_.insert(id);
  }

 private:
  Simulation* sim_;
  size_t node_;
  uint64_t generation_;
  TimerId next_id_ = 0;
  std::set<TimerId> cancelled_;
};

class Simulation::NodeTransport : public Transport {
 public:
  NodeTransport(Simulation* sim, size_t node) : sim_(sim), node_(node) {}
  void SendToPrimary(const PublicKey& to, std::string bytes) override {
    sim_->Send(node_, to, false, 0, std::move(bytes));
  }
  void SendToWorker(const PublicKey& to, uint32_t worker_id, std::string bytes) override {
    sim_->Send(node_, to, true, worker_id, std::move(bytes));
  }
  void RequestFromPrimary(const PublicKey& to, std::string bytes) override {
    sim_->Send(node_, to, false, 0, std::move(bytes), Kind::kRequest);
  }
  void RequestFromWorker(const PublicKey& to, uint32_t worker_id, std::string bytes) override {
    sim_->Send(node_, to, true, worker_id, std::move(bytes), Kind::kRequest);
  }

 private:
  Simulation* sim_;
  size_t node_;
};

Simulation::Simulation(SimulationOptions options)
    : options_(std::move(options)), rng_(options_.seed) {
  std::vector<Authority> authorities;
  for (size_t i = 0; i < options_.validators; ++i) {
    std::string seed_input = "rustorium.sim.key";
    PutFixed64BE(seed_input, options_.seed);
    PutFixed64BE(seed_input, i);
    keys_.push_back(KeyPair::FromSeed(HashBytes(seed_input)));
    Authority a;
    a.name = keys_.back().public_key();
    a.workers = options_.workers;
    authorities.push_back(a);
    index_of_[a.name] = i;
  }
  auto committee = Committee::Create(authorities);
  EXPECT_TRUE(committee.ok()) << committee.status().ToString();
  committee_ = std::make_unique<Committee>(std::move(committee).value());
  nodes_.resize(options_.validators);
  group_.assign(options_.validators, 0);
  for (size_t i = 0; i < nodes_.size(); ++i) {
    nodes_[i].executor = std::make_unique<TestExecutor>();
    Status s = Open(i);
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  SetClientInterval(options_.client_interval_ms);
}

Simulation::~Simulation() {
  for (Node& n : nodes_) n.validator.reset();
}

Status Simulation::Open(size_t i) {
  Node& n = nodes_[i];
  n.env = std::make_unique<NodeEnv>(this, i);
  n.transport = std::make_unique<NodeTransport>(this, i);
  ValidatorOptions options;
  options.parameters = options_.parameters;
  options.data_dir = options_.dir + "/v" + std::to_string(i);
  options.sync = false;
  ASSIGN_OR_RETURN(n.validator, Validator::Open(*committee_, keys_[i], options, n.env.get(),
                                                n.transport.get(), n.executor.get()));
  return Status::OK();
}

uint64_t Simulation::Random(uint64_t n) { return n == 0 ? 0 : rng_() % n; }

void Simulation::Schedule(uint64_t delay_ms, std::function<void()> fn) {
  events_.push(Event{now_ms_ + delay_ms, seq_++, std::move(fn)});
}

void Simulation::RunFor(uint64_t ms) {
  RunUntil([] { return false; }, ms);
}

bool Simulation::RunUntil(const std::function<bool()>& done, uint64_t limit_ms) {
  const uint64_t end = now_ms_ + limit_ms;
  while (!events_.empty() && events_.top().time <= end) {
    Event event = events_.top();
    events_.pop();
    now_ms_ = event.time;
    event.fn();
    if (done()) return true;
  }
  now_ms_ = end;
  return done();
}

bool Simulation::Blocked(size_t from, size_t to, bool to_worker) const {
  if (group_[from] != group_[to]) return true;
  return filter_ && filter_(from, to, to_worker);
}

void Simulation::Send(size_t from, const PublicKey& to_name, bool to_worker, uint32_t worker_id,
                      std::string bytes, Kind kind) {
  auto found = index_of_.find(to_name);
  if (found == index_of_.end()) return;
  const size_t to = found->second;
  if (tap_) tap_(from, to, to_worker, bytes);
  if (Blocked(from, to, to_worker)) return;
  const NetworkOptions& net = options_.network;
  if (net.drop_per_mille > 0 && Random(1000) < net.drop_per_mille) return;
  const int copies = net.duplicate_per_mille > 0 && Random(1000) < net.duplicate_per_mille ? 2 : 1;
  for (int c = 0; c < copies; ++c) {
    const uint64_t delay = net.min_delay_ms + Random(net.max_delay_ms - net.min_delay_ms + 1);
    const uint64_t generation = nodes_[to].generation;
    Schedule(delay, [this, from, to, to_worker, worker_id, generation, bytes, kind] {
      Node& n = nodes_[to];
      if (n.generation != generation || !n.validator) return;  // lost with the crash
      // Every simulated link is authenticated, like TLS between validators: the sender is
      // known. A request's answers travel back to its sender over the same faulty network.
      MessageSource source;
      source.member = keys_[from].public_key();
      source.answer = kind == Kind::kAnswer;
      if (kind == Kind::kRequest) {
        source.reply = [this, from, to, to_worker, worker_id](std::string answer) {
          Send(to, keys_[from].public_key(), to_worker, worker_id, std::move(answer),
               Kind::kAnswer);
        };
      }
      if (to_worker) {
        n.validator->OnWorkerMessage(worker_id, bytes, source);
      } else {
        n.validator->OnPrimaryMessage(bytes, source);
      }
    });
  }
}

void Simulation::InjectToPrimary(size_t from, size_t to, std::string bytes, bool request) {
  Send(from, keys_[to].public_key(), false, 0, std::move(bytes),
       request ? Kind::kRequest : Kind::kMessage);
}

void Simulation::InjectToWorker(size_t from, size_t to, uint32_t worker_id, std::string bytes,
                                bool request) {
  Send(from, keys_[to].public_key(), true, worker_id, std::move(bytes),
       request ? Kind::kRequest : Kind::kMessage);
}

void Simulation::Crash(size_t i) {
  Node& n = nodes_[i];
  n.validator.reset();
  ++n.generation;
}

Status Simulation::Restart(size_t i) {
  if (nodes_[i].validator) return Status::FailedPrecondition("validator is running");
  return Open(i);
}

void Simulation::Partition(const std::vector<std::set<size_t>>& groups) {
  for (size_t i = 0; i < group_.size(); ++i) group_[i] = static_cast<int>(groups.size() + i + 1);
  for (size_t g = 0; g < groups.size(); ++g) {
    for (size_t i : groups[g]) group_[i] = static_cast<int>(g);
  }
}

void Simulation::Isolate(size_t i) {
  group_.assign(group_.size(), 0);
  group_[i] = 1;
}

void Simulation::Heal() { group_.assign(group_.size(), 0); }

void Simulation::SetClientInterval(uint64_t ms) {
  options_.client_interval_ms = ms;
  const uint64_t generation = ++client_generation_;
  if (ms > 0) Schedule(ms, [this, generation] { ClientTick(generation); });
}

void Simulation::ClientTick(uint64_t generation) {
  if (generation != client_generation_) return;
  Schedule(options_.client_interval_ms, [this, generation] { ClientTick(generation); });
  const size_t i = Random(nodes_.size());
  if (!nodes_[i].validator) return;
  const std::string tx = "set k" + std::to_string(Random(options_.client_keys)) + " v" +
                         std::to_string(++client_counter_);
  const uint32_t worker = static_cast<uint32_t>(Random(options_.workers));
  Status s = nodes_[i].validator->SubmitTransaction(worker, tx);
  EXPECT_TRUE(s.ok() || s.code() == StatusCode::kBusy)
      << s.ToString();  // Busy: no quorum to spread to
  if (s.ok()) accepted_.push_back(tx);
}

size_t Simulation::Unexecuted(size_t i) const {
  size_t missing = 0;
  for (const std::string& tx : accepted_) missing += nodes_[i].executor->Executed(tx) ? 0 : 1;
  return missing;
}

std::string Simulation::CheckSafety() const {
  std::map<std::pair<PublicKey, uint64_t>, Digest> slots;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    const TestExecutor& e = *nodes_[i].executor;
    if (e.order_violations() > 0) {
      return "validator " + std::to_string(i) + " delivered " +
             std::to_string(e.order_violations()) + " outputs out of order or twice";
    }
    if (e.duplicates() > 0) {
      return "validator " + std::to_string(i) + " executed " + std::to_string(e.duplicates()) +
             " transactions twice";
    }
    for (const OutputEntry& entry : e.log()) {
      for (size_t k = 0; k < entry.slots.size(); ++k) {
        auto [it, fresh] = slots.emplace(entry.slots[k], entry.certificates[k]);
        if (!fresh && it->second != entry.certificates[k]) {
          return "two certificates committed for author " + ShortHex(entry.slots[k].first) +
                 " round " + std::to_string(entry.slots[k].second);
        }
      }
    }
    for (size_t j = i + 1; j < nodes_.size(); ++j) {
      const auto& a = e.log();
      const auto& b = nodes_[j].executor->log();
      for (size_t k = 0; k < std::min(a.size(), b.size()); ++k) {
        if (!(a[k] == b[k])) {
          return "validators " + std::to_string(i) + " and " + std::to_string(j) +
                 " diverge at index " + std::to_string(k + 1);
        }
      }
    }
  }
  return {};
}

uint64_t Simulation::MinCommitted(const std::vector<size_t>& among) const {
  uint64_t min = UINT64_MAX;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (!among.empty() && std::find(among.begin(), among.end(), i) == among.end()) continue;
    min = std::min(min, nodes_[i].executor->LastExecutedIndex());
  }
  return min == UINT64_MAX ? 0 : min;
}

}  // namespace rustorium::chain::sim
