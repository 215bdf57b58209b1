// An acknowledged write is never lost: a child process writes with sync mode `full` and
// prints each acknowledged key; we SIGKILL it at a random moment, reopen, and find every key.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "engine/engine.h"
#include "tests/kill_harness.h"
#include "tests/test_util.h"

#ifndef RUSTORIUM_DURABILITY_WRITER
#error "RUSTORIUM_DURABILITY_WRITER must name the writer binary"
#endif

namespace rustorium::engine {
namespace {

using rustorium::testing::TempDir;

using rustorium::testing::RunAndKill;
using rustorium::testing::TestSeed;

TEST(Durability, AcknowledgedWritesSurviveSigkill) {
  const uint64_t seed = TestSeed();
  std::printf("durability seed: %llu (replay with RUSTORIUM_TEST_SEED=%llu)\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed));
  RecordProperty("seed", std::to_string(seed));
  std::mt19937_64 rng(seed);
  TempDir dir;
  const std::string path = dir.Sub("db");
  constexpr int kRounds = 5;
  std::vector<std::vector<std::string>> acked(kRounds);

  for (int round = 0; round < kRounds; ++round) {
    const int delay_ms = 50 + static_cast<int>(rng() % 400);
    rustorium::testing::KillRun run =
        RunAndKill({RUSTORIUM_DURABILITY_WRITER, path, std::to_string(round), "1000000"},
                   std::chrono::milliseconds(delay_ms));
    ASSERT_TRUE(run.ready) << "writer never became ready in round " << round;
    ASSERT_TRUE(run.killed) << "writer ended on its own in round " << round;
    acked[round] = std::move(run.acked);
    std::printf("round %d: killed after %d ms with %zu acknowledged writes\n", round, delay_ms,
                acked[round].size());

    // Reopen: every acknowledged key of this and every earlier round is there.
    StorageOptions o;
    o.path = path;
    o.block_cache_size = 8 << 20;
    o.create_if_missing = false;
    auto e = Engine::Open(o);
    ASSERT_TRUE(e.ok()) << "round " << round << ": " << e.status().ToString();
    for (int r = 0; r <= round; ++r) {
      for (std::size_t i = 0; i < acked[r].size(); ++i) {
        auto v = (*e)->Get(ColumnFamily::kDefault, acked[r][i]);
        ASSERT_TRUE(v.ok()) << v.status().ToString();
        ASSERT_TRUE(v->has_value())
            << "acknowledged key " << acked[r][i] << " lost (seed " << seed << ")";
        ASSERT_EQ(v->value().rfind("value-" + std::to_string(r) + "-" + std::to_string(i), 0), 0u);
      }
      // The batch's second write (in another family) came with it.
      if (!acked[r].empty()) {
        auto last = (*e)->Get(ColumnFamily::kMeta, "last/" + std::to_string(r));
        ASSERT_TRUE(last.ok() && last->has_value());
        EXPECT_GE(std::stol(**last), static_cast<long>(acked[r].size()) - 1);
      }
    }
  }
  std::size_t total = 0;
  for (const auto& r : acked) total += r.size();
  EXPECT_GT(total, 0u) << "no write was acknowledged: the test proved nothing";
}

}  // namespace
}  // namespace rustorium::engine
