#include "tests/fuzz/fuzz_driver.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>

namespace {

std::string Mutate(std::string input, const std::vector<std::string>& seeds, std::mt19937_64& rng) {
  const int steps = 1 + static_cast<int>(rng() % 4);
  for (int s = 0; s < steps; ++s) {
    switch (rng() % 7) {
      case 0:  // flip one bit
        if (!input.empty()) input[rng() % input.size()] ^= static_cast<char>(1u << (rng() % 8));
        break;
      case 1:  // set a byte to an interesting value
        if (!input.empty()) {
          static constexpr char kInteresting[] = {0, 1, '\n', ' ', '0', 'f', 'g', '\x7f', '\xff'};
          input[rng() % input.size()] = kInteresting[rng() % sizeof(kInteresting)];
        }
        break;
      case 2:  // truncate
        if (!input.empty()) input.resize(rng() % input.size());
        break;
      case 3:  // insert random bytes
        for (int n = 1 + static_cast<int>(rng() % 8); n > 0; --n) {
          input.insert(input.begin() + static_cast<long>(rng() % (input.size() + 1)),
                       static_cast<char>(rng()));
        }
        break;
      case 4:  // erase a span
        if (!input.empty()) {
          std::size_t at = rng() % input.size();
          input.erase(at, 1 + rng() % (input.size() - at));
        }
        break;
      case 5:  // splice with another seed
        if (!seeds.empty()) {
          const std::string& other = seeds[rng() % seeds.size()];
          input = input.substr(0, rng() % (input.size() + 1)) +
                  other.substr(rng() % (other.size() + 1));
        }
        break;
      default:  // fully random input
        input.assign(rng() % 300, '\0');
        for (char& c : input) c = static_cast<char>(rng());
        break;
    }
  }
  return input;
}

}  // namespace

int main() {
  uint64_t seed =
      static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  if (const char* s = std::getenv("RUSTORIUM_TEST_SEED")) seed = std::strtoull(s, nullptr, 10);
  long runs = 200000;
  if (const char* r = std::getenv("RUSTORIUM_FUZZ_RUNS")) runs = std::strtol(r, nullptr, 10);
  std::printf("fuzz seed: %llu, runs: %ld\n", static_cast<unsigned long long>(seed), runs);
  std::fflush(stdout);
  std::mt19937_64 rng(seed);
  const std::vector<std::string> seeds = FuzzSeeds();
  for (const std::string& s : seeds) {
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  }
  for (long i = 0; i < runs; ++i) {
    std::string base = seeds.empty() ? std::string() : seeds[rng() % seeds.size()];
    std::string input = Mutate(std::move(base), seeds, rng);
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
  }
  std::printf("fuzz: %ld inputs, no failure\n", runs + static_cast<long>(seeds.size()));
  return 0;
}
