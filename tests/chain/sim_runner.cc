// Runs many randomized simulation seeds: chain_sim_runner --seeds N [--start S] [--seconds T].
// Prints every failing seed (replay one with --start SEED --seeds 1) and a summary; exits 1
// when any seed failed.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "tests/chain/random_scenario.h"

int main(int argc, char** argv) {
  CLI::App app{"Randomized Narwhal + Bullshark simulation over many seeds"};
  uint64_t seeds = 100, start = 1, seconds = 20;
  std::string dir = std::filesystem::temp_directory_path().string();
  app.add_option("--seeds", seeds, "number of seeds to run");
  app.add_option("--start", start, "first seed");
  app.add_option("--seconds", seconds, "virtual seconds of faults per seed");
  app.add_option("--dir", dir, "scratch directory");
  CLI11_PARSE(app, argc, argv);

  const auto began = std::chrono::steady_clock::now();
  uint64_t failed = 0, faults = 0, committed = 0, transactions = 0, virtual_ms = 0;
  for (uint64_t seed = start; seed < start + seeds; ++seed) {
    const std::filesystem::path run =
        std::filesystem::path(dir) / ("rustorium-sim-" + std::to_string(seed));
    std::filesystem::remove_all(run);
    std::filesystem::create_directories(run);
    const auto r = rustorium::chain::sim::RunRandomScenario(seed, run.string(), seconds * 1000);
    std::filesystem::remove_all(run);
    faults += r.faults;
    committed += r.committed;
    transactions += r.transactions;
    virtual_ms += r.virtual_ms;
    if (!r.failure.empty()) {
      ++failed;
      std::printf("seed %llu FAILED: %s\n", static_cast<unsigned long long>(seed),
                  r.failure.c_str());
    }
    if ((seed - start + 1) % 100 == 0) {
      std::printf(
          "%llu seeds done, %llu failed; %llu faults, %llu sub-DAGs, %llu transactions, %.0f "
          "virtual s\n",
          static_cast<unsigned long long>(seed - start + 1),
          static_cast<unsigned long long>(failed), static_cast<unsigned long long>(faults),
          static_cast<unsigned long long>(committed), static_cast<unsigned long long>(transactions),
          virtual_ms / 1000.0);
    }
    std::fflush(stdout);
  }
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  std::printf(
      "seeds %llu..%llu: %llu failed; %llu faults, %llu sub-DAGs committed (slowest validator, "
      "summed), "
      "%llu transactions executed, %.0f virtual s, %.0f wall s\n",
      static_cast<unsigned long long>(start), static_cast<unsigned long long>(start + seeds - 1),
      static_cast<unsigned long long>(failed), static_cast<unsigned long long>(faults),
      static_cast<unsigned long long>(committed), static_cast<unsigned long long>(transactions),
      virtual_ms / 1000.0, wall);
  return failed == 0 ? 0 : 1;
}
