// The fault harness: runs a real cluster (FaultCluster), drives concurrent clients against it
// while a seeded nemesis injects faults, records every operation, and checks the outcome:
//   - register workload: reads, writes and compare-and-swaps on a few keys, checked for
//     linearizability per key (linearizability.h);
//   - set workload: every acknowledged insert is readable at the end, and no insert that
//     surely failed is;
//   - index integrity: after the run every replica of every region has applied the same index,
//     with the same root, equal to the root rebuilt from its data; no answer during the run
//     failed its signature or proof check (the client checks every one).
// The seed picks every fault, its target and its timing; the same seed gives the same
// schedule (the cluster's own timing still varies).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace rustorium::faults {

// The faults the nemesis picks from.
inline const std::vector<std::string>& AllNemeses() {
  static const std::vector<std::string> all = {
      "kill-leader",  // SIGKILL the region's leader, restart it later
      "kill-store",   // SIGKILL a random store, restart it later
      "pause",        // SIGSTOP a store (the leader half the time), SIGCONT later
      "kill-all",     // SIGKILL PD and every store, restart them all
      "isolate",      // cut one store (the leader half the time) off from the others and PD
      "delay",        // delay every link between stores by 50-300 ms
      // Scripted: pause the leader and cut it off, write through the next leader, then read
      // from the old one through a client that still takes it for the leader (harness.cc).
      "stale-read",
      // Split the region holding a key of the workload at that key (issue 20), as an operator
      // would with `rustorium shard split`; a split that a fault stops is logged, not failed.
      "split",
      // Merge a region with its right neighbour (`rustorium shard merge`); one that a fault
      // stops is logged (a prepared merge resumes at the next merge or the stores' check).
      "merge",
  };
  return all;
}

struct FaultOptions {
  uint64_t seed = 1;
  std::chrono::seconds duration{30};  // the faulty part of the run
  std::string binary;                 // the rustorium binary
  std::string dir;                    // cluster data and logs (a new directory)
  int register_clients = 4;
  int register_keys = 4;
  // Set members written before the faults start (as the set workload's, checked alike), so that
  // a short run splits and merges regions as large as a long run's.
  int preload_keys = 0;
  std::vector<std::string> nemeses = AllNemeses();
  // Each round: quiet for quiet_min..quiet_max, then one fault held for fault_min..fault_max.
  std::chrono::milliseconds quiet_min{1500}, quiet_max{3000};
  std::chrono::milliseconds fault_min{2000}, fault_max{5000};
  std::chrono::seconds check_budget{60};  // linearizability search time per key
  bool verbose = true;                    // print the schedule as it happens
  // Test switch: the stores answer reads without confirming leadership
  // (MultiRaftOptions::unsafe_reads_without_quorum), to show the checker catches stale reads.
  bool unsafe_reads_without_quorum = false;
};

struct FaultReport {
  bool ok = false;
  uint64_t seed = 0;
  std::vector<std::string> faults;    // what the nemesis did, with times
  std::vector<std::string> failures;  // why the run failed (empty when ok)
  // Register workload.
  std::size_t ops = 0, ops_ok = 0, ops_failed = 0, ops_unknown = 0;
  std::string linearizability;  // the checker's summary
  // Set workload.
  std::size_t set_acknowledged = 0, set_unknown = 0, set_failed = 0, set_lost = 0;
  // Every answer's signature and proof checked; this many failed.
  std::size_t proof_failures = 0;
  std::string integrity;   // the replicas' applied index and root, per region
  std::size_t splits = 0;  // splits the nemesis applied
  std::size_t merges = 0;  // merges the nemesis applied
  std::string Summary() const;
};

FaultReport RunFaults(const FaultOptions& options);

}  // namespace rustorium::faults
