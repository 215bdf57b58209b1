// Helpers shared by the proof/zk tests.
#pragma once

#include <memory>
#include <random>

#include "proof/zk/groth16.h"

namespace rustorium::proof::zk::testing {

inline Fr F(uint64_t v) { return Fr::FromUint64(v); }

// A seeded scalar source, so that a failing setup or proof replays.
inline ScalarSource Seeded(uint64_t seed) {
  auto rng = std::make_shared<std::mt19937_64>(seed);
  return [rng] { return Fr::FromLimbsReduced({(*rng)(), (*rng)(), (*rng)(), (*rng)() >> 3}); };
}

}  // namespace rustorium::proof::zk::testing
