#include "tests/faults/harness.h"

#include <atomic>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "engine/engine.h"
#include "region/store/command_limits.h"
#include "region/store/engine_limits.h"
#include "region/store/region_fsm.h"
#include "tests/faults/fault_cluster.h"
#include "tests/faults/linearizability.h"

namespace rustorium::faults {

namespace {

using Clock = std::chrono::steady_clock;

// Every choice comes from one seeded mt19937_64 through this (not a standard-library
// distribution, whose results differ between implementations): a seed replays the schedule.
uint64_t Pick(std::mt19937_64& rng, uint64_t lo, uint64_t hi) { return lo + rng() % (hi - lo + 1); }

std::chrono::milliseconds PickDuration(std::mt19937_64& rng, std::chrono::milliseconds lo,
                                       std::chrono::milliseconds hi) {
  return std::chrono::milliseconds(
      Pick(rng, static_cast<uint64_t>(lo.count()), static_cast<uint64_t>(hi.count())));
}

// How a finished client call counts in the history.
enum class Ending { kOk, kFailed, kUnknown, kProofFailure };

Ending EndingOf(const Status& s, bool is_write) {
  if (s.ok()) return Ending::kOk;
  if (s.code() == StatusCode::kCorruption) return Ending::kProofFailure;
  // The client's contract (region/client.h): a write that timed out may have been applied.
  if (is_write && s.code() == StatusCode::kTimedOut) return Ending::kUnknown;
  return Ending::kFailed;
}

class Run {
 public:
  Run(const FaultOptions& options, FaultCluster& cluster)
      : o_(options), cluster_(cluster), start_(Clock::now()) {}

  void Log(const std::string& what) {
    const double at = std::chrono::duration<double>(Clock::now() - start_).count();
    char line[512];
    std::snprintf(line, sizeof(line), "[%7.2f s] %s", at, what.c_str());
    std::lock_guard<std::mutex> lock(mu_);
    report_.faults.push_back(line);
    if (o_.verbose) {
      std::printf("%s\n", line);
      std::fflush(stdout);
    }
  }

  // ---- workloads ----

  void RegisterClient(int process) {
    auto client = client::Client::Connect(cluster_.ClientOptions());
    if (!client.ok()) {
      Fail("register client " + std::to_string(process) +
           " cannot start: " + client.status().ToString());
      return;
    }
    std::mt19937_64 rng(o_.seed * 1000003 + static_cast<uint64_t>(process));
    std::map<std::string, std::optional<std::string>> seen;  // per key, what this client last read
    uint64_t n = 0;
    std::vector<Operation> history;
    while (!stop_workload_.load()) {
      Operation op;
      op.process = process;
      op.key = "reg/" + std::to_string(Pick(rng, 0, static_cast<uint64_t>(o_.register_keys - 1)));
      const uint64_t dice = Pick(rng, 0, 99);
      op.invoke_ns = Now();
      Status status;
      if (dice < 45) {
        op.kind = OpKind::kRead;
        auto r = (*client)->Get(op.key);
        status = r.status();
        if (r.ok()) op.value = seen[op.key] = r->value;
      } else if (dice < 75) {
        op.kind = OpKind::kWrite;
        op.value = "v" + std::to_string(process) + "." + std::to_string(++n);
        status = (*client)->Put(op.key, *op.value).status();
      } else {
        op.kind = OpKind::kCas;
        op.expected = seen[op.key];
        op.value = "v" + std::to_string(process) + "." + std::to_string(++n);
        auto r = (*client)->CompareAndSwap(op.key, op.expected, op.value);
        status = r.status();
        if (r.ok()) op.cas_succeeded = r->result.cas_succeeded();
      }
      op.complete_ns = Now();
      op.outcome = OutcomeOf(status, op.kind != OpKind::kRead);
      history.push_back(std::move(op));
    }
    std::lock_guard<std::mutex> lock(mu_);
    history_.insert(history_.end(), history.begin(), history.end());
  }

  // How a finished register call counts in the history (a proof failure also fails the run).
  Outcome OutcomeOf(const Status& status, bool is_write) {
    switch (EndingOf(status, is_write)) {
      case Ending::kOk:
        return Outcome::kOk;
      case Ending::kFailed:
        return Outcome::kFail;
      case Ending::kUnknown:
        return Outcome::kUnknown;
      case Ending::kProofFailure:
        ProofFailure(status);
        return Outcome::kUnknown;
    }
    return Outcome::kUnknown;
  }

  void SetClient() {
    auto client = client::Client::Connect(cluster_.ClientOptions());
    if (!client.ok()) {
      Fail("set client cannot start: " + client.status().ToString());
      return;
    }
    for (uint64_t n = 0; !stop_workload_.load(); ++n) {
      char key[32];
      std::snprintf(key, sizeof(key), "set/%08llu", static_cast<unsigned long long>(n));
      Insert(**client, key);
    }
  }

  // Before the faults: o_.preload_keys members ("set/pre/..."), from a few clients at once.
  void Preload() {
    if (o_.preload_keys <= 0) return;
    const auto start = Clock::now();
    constexpr int kClients = 4;
    std::vector<std::thread> clients;
    for (int c = 0; c < kClients; ++c) {
      clients.emplace_back([this, c] {
        auto client = client::Client::Connect(cluster_.ClientOptions());
        if (!client.ok()) {
          Fail("preload client cannot start: " + client.status().ToString());
          return;
        }
        for (int n = c; n < o_.preload_keys; n += kClients) {
          char key[32];
          std::snprintf(key, sizeof(key), "set/pre/%08d", n);
          Insert(**client, key);
        }
      });
    }
    for (std::thread& t : clients) t.join();
    Log("preloaded " + std::to_string(o_.preload_keys) + " set members in " +
        std::to_string(
            std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - start).count()) +
        " s");
  }

  // One set insert, recorded by its outcome.
  void Insert(client::Client& client, const std::string& key) {
    Result<client::WriteResult> w = client.Put(key, "member");
    const Status s = w.status();
    std::lock_guard<std::mutex> lock(mu_);
    if (w.ok()) {
      // Who acknowledged it, when: what a loss's report needs to find the replica at fault.
      char ack[160];
      std::snprintf(ack, sizeof(ack), "at %.2f s by store %llu, region %llu index %llu%s",
                    std::chrono::duration<double>(Clock::now() - start_).count(),
                    static_cast<unsigned long long>(w->root.store_id),
                    static_cast<unsigned long long>(w->root.region_id),
                    static_cast<unsigned long long>(w->root.applied_index),
                    w->result.replayed() ? " (replayed)" : "");
      set_acks_[key] = ack;
    }
    switch (EndingOf(s, true)) {
      case Ending::kOk:
        set_acknowledged_.insert(key);
        break;
      case Ending::kFailed:
        set_failed_.insert(key);
        break;
      case Ending::kUnknown:
        set_unknown_.insert(key);
        break;
      case Ending::kProofFailure:
        set_unknown_.insert(key);
        report_.proof_failures++;
        report_.failures.push_back("a set insert's answer failed its check: " + s.ToString());
        break;
    }
  }

  // ---- the nemesis ----

  // The store index of the region's leader as PD last heard it, or a random store.
  int LeaderOrRandom(std::mt19937_64& rng) {
    auto client = client::Client::Connect(cluster_.ClientOptions());
    if (client.ok()) {
      auto regions = (*client)->Regions();
      auto stores = (*client)->Stores();
      if (regions.ok() && stores.ok() && regions->leader_store_ids_size() > 0) {
        const uint64_t leader = regions->leader_store_ids(0);
        for (const auto& s : stores->stores()) {
          if (s.id() != leader) continue;
          for (int i = 0; i < cluster_.stores(); ++i) {
            if (cluster_.store_address(i) == s.address()) return i;
          }
        }
      }
    }
    return static_cast<int>(Pick(rng, 0, static_cast<uint64_t>(cluster_.stores() - 1)));
  }

  void Nemesis() {
    std::mt19937_64 rng(o_.seed);
    const auto end = start_ + o_.duration;
    while (Clock::now() < end) {
      SleepUntil(std::min(end, Clock::now() + PickDuration(rng, o_.quiet_min, o_.quiet_max)));
      if (Clock::now() >= end) break;
      const std::string& kind = o_.nemeses[Pick(rng, 0, o_.nemeses.size() - 1)];
      const auto hold = PickDuration(rng, o_.fault_min, o_.fault_max);
      const bool leader = Pick(rng, 0, 1) == 0;
      const int random_store =
          static_cast<int>(Pick(rng, 0, static_cast<uint64_t>(cluster_.stores() - 1)));
      const uint64_t delay_ms = Pick(rng, 50, 300);
      if (kind == "kill-leader" || kind == "kill-store") {
        const int i = kind == "kill-leader" ? LeaderOrRandom(rng) : random_store;
        Log("SIGKILL store " + std::to_string(i + 1) + (kind == "kill-leader" ? " (leader)" : ""));
        cluster_.KillStore(i);
        SleepUntil(Clock::now() + hold);
        cluster_.StartStore(i);
        Log("restarted store " + std::to_string(i + 1));
      } else if (kind == "pause") {
        const int i = leader ? LeaderOrRandom(rng) : random_store;
        Log("SIGSTOP store " + std::to_string(i + 1) + (leader ? " (leader)" : ""));
        cluster_.PauseStore(i);
        SleepUntil(Clock::now() + hold);
        cluster_.ResumeStore(i);
        Log("SIGCONT store " + std::to_string(i + 1));
      } else if (kind == "kill-all") {
        Log("SIGKILL PD and every store");
        for (int i = 0; i < cluster_.stores(); ++i) cluster_.KillStore(i);
        cluster_.KillPd();
        SleepUntil(Clock::now() + std::min(hold, std::chrono::milliseconds(2000)));
        cluster_.StartAll();
        Log("restarted PD and every store");
      } else if (kind == "isolate") {
        const int i = leader ? LeaderOrRandom(rng) : random_store;
        Log("isolate store " + std::to_string(i + 1) + (leader ? " (leader)" : "") +
            " from the stores and PD");
        Isolate(i);
        SleepUntil(Clock::now() + hold);
        Check(cluster_.ClearLinks());
        Log("healed the partition");
      } else if (kind == "stale-read") {
        StaleRead(++stale_rounds_);
      } else if (kind == "split") {
        // Keys inside the register and set key spaces; one already a region's start is a no-op.
        static const std::vector<std::string> keys = {
            "reg/1",        "reg/2",        "reg/3",        "s",
            "set/00000050", "set/00000200", "set/00000500", "set/00001000"};
        const std::string& key = keys[Pick(rng, 0, keys.size() - 1)];
        auto admin = client::Client::Connect(cluster_.AdminOptions());
        Result<std::vector<meta::Region>> split =
            admin.ok() ? (*admin)->SplitRegion(key)
                       : Result<std::vector<meta::Region>>(admin.status());
        if (!split.ok()) {
          Log("split at " + key + " not done: " + split.status().ToString());
        } else if (split->size() == 1) {
          Log("split at " + key + ": region " + std::to_string(split->front().id()) +
              " starts there already");
        } else {
          Log("split region " + std::to_string(split->front().id()) + " at " + key +
              ": new region " + std::to_string(split->back().id()));
          splits_++;
        }
      } else if (kind == "merge") {
        auto admin = client::Client::Connect(cluster_.AdminOptions());
        Result<pd::GetRegionsResponse> regions =
            admin.ok() ? (*admin)->Regions() : Result<pd::GetRegionsResponse>(admin.status());
        std::vector<uint64_t> with_neighbour;
        if (regions.ok()) {
          for (const meta::Region& r : regions->regions())
            if (!r.end_key().empty()) with_neighbour.push_back(r.id());
        }
        if (with_neighbour.empty()) {
          Log("merge: no region has a right neighbour" +
              (regions.ok() ? std::string() : " (" + regions.status().ToString() + ")"));
        } else {
          const uint64_t id = with_neighbour[Pick(rng, 0, with_neighbour.size() - 1)];
          Result<meta::Region> merged = (*admin)->MergeRegions(id);
          if (!merged.ok()) {
            Log("merge into region " + std::to_string(id) +
                " not done: " + merged.status().ToString());
          } else {
            Log("merged region " + std::to_string(id) + "'s right neighbour into it");
            merges_++;
          }
        }
      } else if (kind == "delay") {
        Log("delay every link between stores by " + std::to_string(delay_ms) + " ms");
        for (int j = 0; j < cluster_.stores(); ++j) {
          rpc::LinkRules rules;
          for (int k = 0; k < cluster_.stores(); ++k) {
            if (k != j)
              rules[cluster_.store_address(k)].delay = std::chrono::milliseconds(delay_ms);
          }
          Check(cluster_.SetLinks(j, rules));
        }
        SleepUntil(Clock::now() + hold);
        Check(cluster_.ClearLinks());
        Log("links back to normal");
      }
      for (const std::string& e : cluster_.UnexpectedExits()) {
        Log("UNEXPECTED: " + e);
        Fail(e);
      }
    }
  }

  // Cuts store i off from the other stores and PD (clients still reach it).
  void Isolate(int i) {
    for (int j = 0; j < cluster_.stores(); ++j) {
      rpc::LinkRules rules;
      if (j == i) {
        for (int k = 0; k < cluster_.stores(); ++k) {
          if (k != i) rules[cluster_.store_address(k)].drop = true;
        }
        rules[cluster_.pd_address()].drop = true;
      } else {
        rules[cluster_.store_address(i)].drop = true;
      }
      Check(cluster_.SetLinks(j, rules));
    }
  }

  // The stale-read nemesis, scripted so that a broken read path is caught every time: the
  // leader is paused (SIGSTOP) and cut off from the stores and PD, so it still believes it
  // leads; the others elect a leader that acknowledges a newer write; then a client that still
  // takes the old leader for the leader reads the key from it, and the old leader resumes with
  // that read waiting in its socket, answering it before its first tick can notice anything. A
  // read path that answers without confirming leadership returns the value from before the
  // write, which the checker reports; MultiRaft::ReadIndex's probe finds no quorum and the read
  // fails (the client then asks the new leader). The nemesis's calls join the history on the
  // key reg/stale, as the process after the register clients.
  void StaleRead(int round) {
    const std::string tag = "s" + std::to_string(round);
    auto pinned = client::Client::Connect(cluster_.ClientOptions());
    if (!pinned.ok()) {
      Log("stale-read: no client; skipped");
      return;
    }
    // The first write goes to the leader, which the pinned client now takes for the leader.
    StaleCall first = StaleReadCall(OpKind::kWrite, tag + ".old", **pinned);
    // Store N runs with the certificate store-N (FaultCluster): the answer's signer.
    const int i = static_cast<int>(first.signer) - 1;
    if (!first.status.ok() || i < 0 || i >= cluster_.stores()) {
      Log("stale-read: the first write failed (" + first.status.ToString() + "); skipped");
      return;
    }
    Log("stale-read: SIGSTOP store " + std::to_string(i + 1) +
        " (leader) and cut it off from the stores and PD");
    cluster_.PauseStore(i);
    Isolate(i);
    const auto deadline = Clock::now() + std::chrono::seconds(20);
    bool written = false;
    for (int attempt = 1; !written && Clock::now() < deadline; ++attempt) {
      // A fresh client each time: a write still waiting in the stopped leader's socket keeps
      // its client's write session in doubt, and the session's later writes fail with it.
      auto fresh = client::Client::Connect(cluster_.ClientOptions());
      if (!fresh.ok()) continue;
      const StaleCall w =
          StaleReadCall(OpKind::kWrite, tag + ".new" + std::to_string(attempt), **fresh);
      written = w.status.ok();
      if (!written) Log("stale-read: a newer write failed: " + w.status.ToString());
    }
    Log(std::string("stale-read: ") +
        (written ? "the new leader acknowledged a newer write" : "no newer write within 20 s"));
    StaleCall read;
    std::thread reader([&] { read = StaleReadCall(OpKind::kRead, "", **pinned); });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    cluster_.ResumeStore(i);
    reader.join();
    Log("stale-read: SIGCONT store " + std::to_string(i + 1) + "; the read " +
        (read.status.ok() ? "returned " + read.op.value.value_or("(absent)") + " from store " +
                                std::to_string(read.signer)
                          : "failed: " + read.status.ToString()));
    Check(cluster_.ClearLinks());
    Log("healed the partition");
  }

  // One call of the stale-read nemesis on reg/stale, recorded in the history.
  struct StaleCall {
    Operation op;
    Status status;
    uint64_t signer = 0;  // the store that signed the answer
  };
  StaleCall StaleReadCall(OpKind kind, const std::string& value, client::Client& c) {
    StaleCall out;
    out.op.process = o_.register_clients;
    out.op.key = "reg/stale";
    out.op.kind = kind;
    out.op.invoke_ns = Now();
    if (kind == OpKind::kRead) {
      auto r = c.Get(out.op.key);
      out.status = r.status();
      if (r.ok()) {
        out.op.value = r->value;
        out.signer = r->root.store_id;
      }
    } else {
      out.op.value = value;
      auto r = c.Put(out.op.key, value);
      out.status = r.status();
      if (r.ok()) out.signer = r->root.store_id;
    }
    out.op.complete_ns = Now();
    out.op.outcome = OutcomeOf(out.status, kind != OpKind::kRead);
    std::lock_guard<std::mutex> lock(mu_);
    history_.push_back(out.op);
    return out;
  }

  // ---- checks ----

  void CheckRegisters() {
    std::vector<Operation> history;
    {
      std::lock_guard<std::mutex> lock(mu_);
      history = history_;
    }
    for (const Operation& op : history) {
      report_.ops++;
      if (op.outcome == Outcome::kOk) report_.ops_ok++;
      if (op.outcome == Outcome::kFail) report_.ops_failed++;
      if (op.outcome == Outcome::kUnknown) report_.ops_unknown++;
    }
    const CheckResult result = faults::CheckRegisters(history, o_.check_budget);
    report_.linearizability = result.Summary();
    if (!result.linearizable) Fail("register histories: " + result.Summary());
    if (report_.ops_ok < 20)
      Fail("too few register operations succeeded to mean anything: " +
           std::to_string(report_.ops_ok));
  }

  void CheckSet() {
    report_.set_acknowledged = set_acknowledged_.size();
    report_.set_unknown = set_unknown_.size();
    report_.set_failed = set_failed_.size();
    // The whole set, in pages (each page's proofs are made and checked in one call), with a
    // patient client: the faults are over, and a long run's set is large.
    client::ClientOptions patient = cluster_.ClientOptions();
    patient.timeout = std::chrono::seconds(30);
    patient.deadline = std::chrono::seconds(120);
    auto client = client::Client::Connect(patient);
    if (!client.ok()) {
      Fail("the final set read cannot start: " + client.status().ToString());
      return;
    }
    constexpr uint32_t kPage = 2000;
    std::vector<client::ScanItem> all;
    for (std::string from = "set/";;) {
      auto page = (*client)->Scan(from, "set0", kPage);
      if (!page.ok()) {
        Fail("the final set read failed: " + page.status().ToString());
        return;
      }
      all.insert(all.end(), page->items.begin(), page->items.end());
      if (!page->more) break;
      from = page->next_key;
    }
    std::set<std::string> present;
    for (const auto& it : all) present.insert(it.key);
    for (const std::string& k : set_acknowledged_) {
      if (present.count(k) == 0) {
        if (report_.set_lost++ < 10)
          Fail("acknowledged insert " + k + " is lost (acknowledged " + set_acks_[k] + ")");
      }
    }
    for (const std::string& k : set_failed_) {
      if (present.count(k) != 0) Fail("insert " + k + " was reported failed but is present");
    }
    for (const std::string& k : present) {
      if (!set_acknowledged_.count(k) && !set_unknown_.count(k) && !set_failed_.count(k)) {
        Fail("set element " + k + " was never inserted");
      }
    }
    if (report_.set_acknowledged < 10)
      Fail("too few set inserts were acknowledged: " + std::to_string(report_.set_acknowledged));
  }

  // Each replica, read offline from its store's data after a clean stop: its applied index,
  // its index root and the root rebuilt from its data.
  struct Replica {
    uint64_t applied = 0;
    proof::Fr root;
    proof::Fr rebuilt;
  };
  // Per store, its replicas by region id (every region it recorded).
  Result<std::vector<std::map<uint64_t, Replica>>> ReadReplicas() {
    std::vector<std::map<uint64_t, Replica>> out;
    for (int i = 0; i < cluster_.stores(); ++i) {
      engine::StorageOptions so = store::EngineOptionsFor({});
      so.path = cluster_.store_data_dir(i) + "/db";
      ASSIGN_OR_RETURN(auto engine, engine::Engine::Open(so));
      ASSIGN_OR_RETURN(std::vector<meta::Region> regions,
                       store::RegionFsm::RecordedRegions(*engine));
      std::map<uint64_t, Replica> replicas;
      for (const meta::Region& region : regions) {
        ASSIGN_OR_RETURN(auto fsm, store::RegionFsm::Open(engine.get(), region));
        Replica r;
        r.applied = fsm->AppliedIndex();
        ASSIGN_OR_RETURN(r.root, fsm->Root());
        ASSIGN_OR_RETURN(r.rebuilt, fsm->RootFromData());
        replicas[region.id()] = r;
      }
      out.push_back(std::move(replicas));
    }
    return out;
  }

  // Stops the cluster cleanly and compares the replicas of each region; when they have not all
  // caught up (or a store does not host every region yet), runs the cluster a while longer and
  // looks again.
  void CheckIntegrity() {
    for (int round = 0; round < 3; ++round) {
      std::string problems;
      if (!cluster_.StopAll(&problems)) Fail(problems);
      auto replicas = ReadReplicas();
      if (!replicas.ok()) {
        Fail("cannot read the replicas: " + replicas.status().ToString());
        return;
      }
      std::set<uint64_t> regions;
      for (const auto& store : *replicas) {
        for (const auto& [id, r] : store) regions.insert(id);
      }
      std::ostringstream line;
      bool converged = !regions.empty();
      for (uint64_t id : regions) {
        line << "region " << id << ":";
        std::optional<Replica> first;
        for (std::size_t i = 0; i < replicas->size(); ++i) {
          auto it = (*replicas)[i].find(id);
          if (it == (*replicas)[i].end()) {
            line << " store " << i + 1 << " missing;";
            converged = false;
            continue;
          }
          const Replica& r = it->second;
          line << " store " << i + 1 << " applied " << r.applied << " root "
               << r.root.ToHex().substr(0, 12) << "...;";
          if (r.root != r.rebuilt)
            Fail("store " + std::to_string(i + 1) + " region " + std::to_string(id) +
                 ": the index root disagrees with the root of its data");
          if (!first) first = r;
          converged &= r.applied == first->applied;
        }
        line << " ";
      }
      report_.integrity = line.str();
      if (converged) {
        for (uint64_t id : regions) {
          std::optional<proof::Fr> root;
          for (const auto& store : *replicas) {
            const Replica& r = store.at(id);
            if (root && r.root != *root)
              Fail("replicas of region " + std::to_string(id) +
                   " at the same applied index have different roots: " + line.str());
            root = r.root;
          }
        }
        return;
      }
      if (round == 2) {
        Fail("the replicas did not converge on one applied index per region: " + line.str());
        return;
      }
      Log("replicas not caught up yet (" + line.str() + "): running the cluster a while longer");
      cluster_.StartAll();
      if (!cluster_.WaitServing(std::chrono::seconds(60)).ok()) {
        Fail("the cluster did not serve again for the integrity check");
        return;
      }
      std::this_thread::sleep_for(std::chrono::seconds(5));
    }
  }

  FaultReport Go() {
    report_.seed = o_.seed;
    Log("seed " + std::to_string(o_.seed) + ", " + std::to_string(o_.duration.count()) +
        " s of faults");
    Preload();
    std::vector<std::thread> workers;
    for (int p = 0; p < o_.register_clients; ++p)
      workers.emplace_back([this, p] { RegisterClient(p); });
    workers.emplace_back([this] { SetClient(); });
    Nemesis();
    Check(cluster_.ClearLinks());
    for (int i = 0; i < cluster_.stores(); ++i) {
      if (cluster_.StorePaused(i)) cluster_.ResumeStore(i);
    }
    cluster_.StartAll();
    Log("faults over; healing");
    // The workload runs on through the healing, so that the last operations see a sound cluster.
    if (Status s = cluster_.WaitServing(std::chrono::seconds(60)); !s.ok())
      Fail("after the faults: " + s.ToString());
    std::this_thread::sleep_for(std::chrono::seconds(2));
    stop_workload_ = true;
    for (std::thread& t : workers) t.join();
    Log("workload stopped; checking");
    for (const std::string& e : cluster_.UnexpectedExits()) Fail(e);
    CheckRegisters();
    CheckSet();
    CheckIntegrity();
    for (int i = 0; i < cluster_.stores(); ++i)
      ScanLog(cluster_.store_log(i), "store " + std::to_string(i + 1));
    ScanLog(cluster_.pd_log(), "pd");
    report_.splits = static_cast<std::size_t>(splits_);
    report_.merges = static_cast<std::size_t>(merges_);
    report_.ok = report_.failures.empty();
    return report_;
  }

 private:
  int64_t Now() const {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start_).count();
  }
  void SleepUntil(Clock::time_point t) { std::this_thread::sleep_until(t); }
  void Fail(const std::string& why) {
    std::lock_guard<std::mutex> lock(mu_);
    report_.failures.push_back(why);
  }
  void Check(const Status& s) {
    if (!s.ok()) Fail("harness: " + s.ToString());
  }
  void ProofFailure(const Status& s) {
    std::lock_guard<std::mutex> lock(mu_);
    report_.proof_failures++;
    report_.failures.push_back("an answer failed its signature or proof check: " + s.ToString());
  }
  // Sanitizer findings in a child's log fail the run.
  void ScanLog(const std::string& path, const std::string& name) {
    std::FILE* f = std::fopen(path.c_str(), "r");
    if (f == nullptr) return;
    // The finding and the report after it (its first lines carry the stack that matters).
    char line[4096];
    std::string report;
    int report_lines = 0;
    while (std::fgets(line, sizeof(line), f) != nullptr && report_lines < 40) {
      const std::string l(line);
      if (report_lines == 0 && l.find("Sanitizer") == std::string::npos &&
          l.find("runtime error") == std::string::npos) {
        continue;
      }
      report += l;
      ++report_lines;
    }
    std::fclose(f);
    if (report_lines > 0) Fail(name + " log: " + report);
  }

  const FaultOptions& o_;
  FaultCluster& cluster_;
  const Clock::time_point start_;
  std::atomic<bool> stop_workload_{false};
  int stale_rounds_ = 0;  // the nemesis thread's
  int splits_ = 0;        // the nemesis thread's: splits applied
  int merges_ = 0;        // the nemesis thread's: merges applied
  std::mutex mu_;
  FaultReport report_;              // guarded by mu_ while workers run
  std::vector<Operation> history_;  // guarded by mu_
  std::set<std::string> set_acknowledged_, set_unknown_, set_failed_;  // guarded by mu_
  std::map<std::string, std::string> set_acks_;  // key → who acknowledged it, when (mu_)
};

}  // namespace

std::string FaultReport::Summary() const {
  std::ostringstream out;
  out << "seed " << seed << ": " << (ok ? "PASS" : "FAIL") << "\n"
      << "  faults: " << faults.size() << " events, " << splits << " splits, " << merges
      << " merges\n"
      << "  register ops: " << ops << " (" << ops_ok << " ok, " << ops_failed << " failed, "
      << ops_unknown << " unknown); " << linearizability << "\n"
      << "  set: " << set_acknowledged << " acknowledged, " << set_unknown << " unknown, "
      << set_failed << " failed; lost " << set_lost << "\n"
      << "  proof failures: " << proof_failures << "\n"
      << "  replicas: " << integrity << "\n";
  for (const std::string& f : failures) out << "  FAILURE: " << f << "\n";
  return out.str();
}

FaultReport RunFaults(const FaultOptions& options) {
  FaultReport report;
  report.seed = options.seed;
  auto cluster =
      FaultCluster::Create(options.binary, options.dir, 3, options.unsafe_reads_without_quorum);
  if (!cluster.ok()) {
    report.failures.push_back("cannot set up the cluster: " + cluster.status().ToString());
    return report;
  }
  (*cluster)->StartAll();
  if (Status s = (*cluster)->WaitServing(std::chrono::seconds(90)); !s.ok()) {
    report.failures.push_back(s.ToString());
    return report;
  }
  Run run(options, **cluster);
  return run.Go();
}

}  // namespace rustorium::faults
