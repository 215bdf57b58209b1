// fault_runner: the fault harness from the command line (tools/faults runs it), for runs
// longer than CI's. Prints the schedule as it happens and a summary per seed; exit 0 when
// every run passed.
//   fault_runner --binary PATH --dir DIR [--seed S] [--minutes M | --seconds S] [--runs N]
//                [--nemeses kill-leader,pause,...] [--clients N] [--keys N]
//                [--unsafe-reads-without-quorum]
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <string>

#include "tests/faults/harness.h"

int main(int argc, char** argv) {
  using namespace rustorium::faults;
  CLI::App app{
      "Runs the cluster under faults and checks linearizability, durability and index integrity"};
  std::string binary, dir, nemeses;
  uint64_t seed = static_cast<uint64_t>(std::time(nullptr));
  double minutes = 0;
  int seconds = 30, runs = 1, clients = 4, keys = 4, preload = 0;
  app.add_option("--binary", binary, "The rustorium binary")->required();
  app.add_option("--dir", dir, "Working directory (a subdirectory per run)")->required();
  app.add_option("--seed", seed, "First seed (the runs use seed, seed+1, ...)");
  app.add_option("--minutes", minutes, "Faulty time per run, in minutes (overrides --seconds)");
  app.add_option("--seconds", seconds, "Faulty time per run, in seconds");
  app.add_option("--runs", runs, "Runs, one seed each");
  app.add_option("--clients", clients, "Register clients");
  app.add_option("--keys", keys,
                 "Register keys (more keys: shorter histories per key for long runs)");
  app.add_option("--preload", preload,
                 "Set members written before the faults (large regions in a short run)");
  app.add_option("--nemeses", nemeses, "Comma-separated faults (default: all)");
  bool unsafe_reads = false;
  app.add_flag("--unsafe-reads-without-quorum", unsafe_reads,
               "Test switch: stores answer reads without confirming leadership (breaks "
               "linearizability on purpose, to show the checker catches it)");
  CLI11_PARSE(app, argc, argv);

  FaultOptions o;
  o.binary = binary;
  o.duration = minutes > 0 ? std::chrono::seconds(static_cast<int64_t>(minutes * 60))
                           : std::chrono::seconds(seconds);
  o.register_clients = clients;
  o.register_keys = keys;
  o.preload_keys = preload;
  o.unsafe_reads_without_quorum = unsafe_reads;
  if (!nemeses.empty()) {
    o.nemeses.clear();
    std::istringstream in(nemeses);
    for (std::string n; std::getline(in, n, ',');) {
      bool known = false;
      for (const std::string& k : AllNemeses()) known |= k == n;
      if (!known) {
        std::cerr << "error: unknown nemesis '" << n << "'\n";
        return 2;
      }
      o.nemeses.push_back(n);
    }
  }
  bool all_ok = true;
  for (int r = 0; r < runs; ++r) {
    o.seed = seed + static_cast<uint64_t>(r);
    o.dir = dir + "/seed-" + std::to_string(o.seed);
    std::filesystem::remove_all(o.dir);
    const FaultReport report = RunFaults(o);
    std::cout << report.Summary() << std::flush;
    all_ok &= report.ok;
  }
  return all_ok ? 0 : 1;
}
