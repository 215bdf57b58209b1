#include "tests/chain/random_scenario.h"

#include <cstdio>
#include <cstdlib>
#include <set>

#include "tests/chain/simulator.h"

namespace rustorium::chain::sim {

RandomScenarioResult RunRandomScenario(uint64_t seed, const std::string& dir,
                                       uint64_t duration_ms) {
  SimulationOptions options;
  options.seed = seed;
  options.dir = dir;
  options.parameters = SimulationParameters();
  Simulation sim(options);
  const size_t n = sim.size();
  const size_t f = (n - 1) / 3;
  RandomScenarioResult result;
  const bool verbose = std::getenv("RUSTORIUM_SIM_VERBOSE") != nullptr;
  auto report = [&](const char* what) {
    if (!verbose) return;
    std::printf("t=%llu %s\n", static_cast<unsigned long long>(sim.now()), what);
    for (size_t i = 0; i < n; ++i) {
      if (!sim.alive(i)) {
        std::printf("  v%zu down, executed %llu\n", i,
                    static_cast<unsigned long long>(sim.executor(i).LastExecutedIndex()));
        continue;
      }
      const ValidatorStats s = sim.validator(i).stats();
      std::printf(
          "  v%zu round %llu highest %llu committed round %llu index %llu executed %llu accepted "
          "%llu "
          "rejected h/c %llu/%llu refused %llu items %zu\n",
          i, (unsigned long long)s.primary.round,
          (unsigned long long)s.primary.highest_accepted_round,
          (unsigned long long)s.last_committed_round, (unsigned long long)s.consensus_index,
          (unsigned long long)sim.executor(i).LastExecutedIndex(),
          (unsigned long long)s.primary.certificates_accepted,
          (unsigned long long)s.primary.rejected_headers,
          (unsigned long long)s.primary.rejected_certificates,
          (unsigned long long)s.primary.refused_votes, s.primary_items);
    }
  };
  auto check = [&](const char* when) {
    if (!result.failure.empty()) return false;
    if (std::string bad = sim.CheckSafety(); !bad.empty())
      result.failure = std::string(when) + ": " + bad;
    return result.failure.empty();
  };
  auto restart = [&](size_t i) {
    if (sim.alive(i)) return;
    if (Status s = sim.Restart(i); !s.ok())
      result.failure = "restart of " + std::to_string(i) + ": " + s.ToString();
  };
  // Faults last at most 3 s (about 30 rounds) so a validator left behind stays within the
  // GC depth (50 rounds) of the others and can catch up from the DAG.
  while (sim.now() < duration_ms && result.failure.empty()) {
    const uint64_t length = 500 + sim.Random(2500);
    switch (sim.Random(7)) {
      case 0:
        report("none");
        sim.RunFor(length);
        break;
      case 1: {  // up to f crashed
        report("f crashed");
        std::set<size_t> down;
        while (down.size() < f) down.insert(sim.Random(n));
        for (size_t i : down) sim.Crash(i);
        sim.RunFor(length);
        for (size_t i : down) restart(i);
        break;
      }
      case 2: {  // f + 1 crashed: no progress until they return
        report("f+1 crashed");
        std::set<size_t> down;
        while (down.size() < f + 1) down.insert(sim.Random(n));
        for (size_t i : down) sim.Crash(i);
        sim.RunFor(length);
        for (size_t i : down) restart(i);
        break;
      }
      case 3: {  // two halves, or one against the rest
        report("partition");
        std::set<size_t> side;
        const size_t size = 1 + sim.Random(n / 2);
        while (side.size() < size) side.insert(sim.Random(n));
        std::set<size_t> other;
        for (size_t i = 0; i < n; ++i) {
          if (!side.count(i)) other.insert(i);
        }
        sim.Partition({side, other});
        sim.RunFor(length);
        sim.Heal();
        break;
      }
      case 4:
        report("isolate");
        sim.Isolate(sim.Random(n));
        sim.RunFor(length);
        sim.Heal();
        break;
      case 5: {
        report("network");
        NetworkOptions net;
        net.min_delay_ms = 1 + sim.Random(20);
        net.max_delay_ms = net.min_delay_ms + sim.Random(250);
        net.drop_per_mille = static_cast<uint32_t>(sim.Random(100));
        net.duplicate_per_mille = static_cast<uint32_t>(sim.Random(100));
        sim.SetNetwork(net);
        sim.RunFor(length);
        break;
      }
      case 6: {  // crash and restart one validator quickly
        report("quick crash");
        const size_t i = sim.Random(n);
        sim.Crash(i);
        sim.RunFor(length / 5);
        restart(i);
        sim.RunFor(length);
        break;
      }
    }
    ++result.faults;
    if (!check("during faults")) break;
    // A quiet spell after each fault lets a validator that was cut off catch up: faults
    // back to back on one validator could otherwise leave it more than gc_depth rounds
    // behind, which only state sync (not built) can repair (docs/decisions.md).
    sim.RunFor(2'000 + sim.Random(1'000));
  }
  if (result.failure.empty()) {
    sim.Heal();
    sim.SetNetwork(NetworkOptions{});
    for (size_t i = 0; i < n; ++i) restart(i);
    uint64_t target = 0;
    for (size_t i = 0; i < n; ++i) target = std::max(target, sim.executor(i).LastExecutedIndex());
    target += 3;
    report("healed");
    if (!sim.RunUntil([&] { return sim.MinCommitted() >= target; }, 60'000)) {
      report("stuck");
      result.failure =
          "no progress within 60 s after healing: every validator should reach index " +
          std::to_string(target) + ", the slowest is at " + std::to_string(sim.MinCommitted());
    }
    check("after healing");
  }
  result.committed = sim.MinCommitted();
  result.transactions = sim.executor(0).transactions();
  result.virtual_ms = sim.now();
  return result;
}

}  // namespace rustorium::chain::sim
