// Helpers shared by the BN254 curve tests: a seeded generator that prints its seed, random
// field elements, and conversions between our field elements and GMP integers.
#pragma once

#include <gmpxx.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "proof/curve/fq_tower.h"
#include "proof/field/fr.h"
#include "tests/kill_harness.h"
#include "tests/proof/fq12_decimals.h"

namespace rustorium::proof::testing {

inline const mpz_class kQ(
    "21888242871839275222246405745257275088696311157297823662689037894645226208583");
inline const mpz_class kR(
    "21888242871839275222246405745257275088548364400416034343698204186575808495617");

// A generator seeded by RUSTORIUM_TEST_SEED or the clock; the seed is printed and recorded
// so that a failure replays exactly.
inline std::mt19937_64 SeededRng() {
  const uint64_t seed = rustorium::testing::TestSeed();
  std::printf("seed: %llu (replay with RUSTORIUM_TEST_SEED=%llu)\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed));
  ::testing::Test::RecordProperty("seed", std::to_string(seed));
  return std::mt19937_64(seed);
}

inline mpz_class LimbsToMpz(const Limbs& v) {
  mpz_class m = 0;
  for (int i = 3; i >= 0; --i) m = (m << 64) + mpz_class(std::to_string(v[i]));
  return m;
}

// The limbs of a non-negative integer, least significant first (an exponent for Pow).
inline std::vector<uint64_t> MpzToLimbs(const mpz_class& v) {
  std::vector<uint64_t> out((mpz_sizeinbase(v.get_mpz_t(), 2) + 63) / 64 + 1, 0);
  size_t count = 0;
  mpz_export(out.data(), &count, -1, sizeof(uint64_t), 0, 0, v.get_mpz_t());
  out.resize(count);
  return out;
}

template <typename F>
mpz_class ToMpz(const F& f) {
  return LimbsToMpz(f.ToCanonical());
}

template <typename F>
F FromMpz(const mpz_class& v) {
  auto f = F::FromDecimal(v.get_str(10));
  EXPECT_TRUE(f.ok()) << v.get_str(10);
  return *f;
}

// Uniform below `below` (up to 2^320 / below bias, negligible here).
inline mpz_class RandomMpz(std::mt19937_64& rng, const mpz_class& below) {
  mpz_class v = 0;
  for (int i = 0; i < 5; ++i) v = (v << 64) + mpz_class(std::to_string(rng()));
  return v % below;
}

inline Fq RandomFq(std::mt19937_64& rng) {
  return Fq::FromLimbsReduced({rng(), rng(), rng(), rng() >> 2});
}
inline Fr RandomFr(std::mt19937_64& rng) {
  return Fr::FromLimbsReduced({rng(), rng(), rng(), rng() >> 2});
}
inline Fq2 RandomFq2(std::mt19937_64& rng) { return {RandomFq(rng), RandomFq(rng)}; }
inline Fq6 RandomFq6(std::mt19937_64& rng) {
  return {RandomFq2(rng), RandomFq2(rng), RandomFq2(rng)};
}
inline Fq12 RandomFq12(std::mt19937_64& rng) { return {RandomFq6(rng), RandomFq6(rng)}; }

}  // namespace rustorium::proof::testing
