// Fuzz targets are libFuzzer-style: each defines LLVMFuzzerTestOneInput and FuzzSeeds().
//
// Built with clang and RUSTORIUM_LIBFUZZER=ON they link libFuzzer for coverage-guided runs.
// Otherwise (and in CI) fuzz_driver.cc supplies main(): it runs the seeds, then a bounded
// number of seeded random mutations of them (RUSTORIUM_FUZZ_RUNS, default 200000), printing
// its seed (replay with RUSTORIUM_TEST_SEED).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

// Valid and near-valid inputs the mutations start from.
std::vector<std::string> FuzzSeeds();

// Aborts with a message when `cond` is false: a fuzz target's property check.
#define FUZZ_CHECK(cond)                                                                     \
  do {                                                                                       \
    if (!(cond)) {                                                                           \
      std::fprintf(stderr, "fuzz property failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
      __builtin_abort();                                                                     \
    }                                                                                        \
  } while (0)
