// A randomized run: faults of every kind drawn from the seed (crashes of up to f and of
// f + 1 validators with restarts, partitions, isolation, lossy and duplicating links), then
// healing; checks safety throughout and liveness after healing.
#pragma once

#include <cstdint>
#include <string>

namespace rustorium::chain::sim {

struct RandomScenarioResult {
  std::string failure;  // empty when every check passed
  uint64_t faults = 0;
  uint64_t committed = 0;     // consensus index every validator reached
  uint64_t transactions = 0;  // transactions executed by validator 0
  uint64_t virtual_ms = 0;
};

// Runs the scenario of `seed` for about `duration_ms` of virtual time in `dir` (which must
// exist and be empty).
RandomScenarioResult RunRandomScenario(uint64_t seed, const std::string& dir, uint64_t duration_ms);

}  // namespace rustorium::chain::sim
