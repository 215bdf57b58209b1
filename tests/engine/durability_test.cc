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
#include "tests/test_util.h"

#ifndef RUSTORIUM_DURABILITY_WRITER
#error "RUSTORIUM_DURABILITY_WRITER must name the writer binary"
#endif

namespace rustorium::engine {
namespace {

using rustorium::testing::TempDir;

struct Child {
  pid_t pid = -1;
  FILE* out = nullptr;
};

Child Spawn(const std::string& dir, int round, long max_keys) {
  int fds[2];
  if (::pipe(fds) != 0) return {};
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], STDOUT_FILENO);
    ::close(fds[0]);
    ::close(fds[1]);
    std::string r = std::to_string(round), m = std::to_string(max_keys);
    ::execl(RUSTORIUM_DURABILITY_WRITER, RUSTORIUM_DURABILITY_WRITER, dir.c_str(), r.c_str(),
            m.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  ::close(fds[1]);
  return {pid, ::fdopen(fds[0], "r")};
}

// Seed from RUSTORIUM_TEST_SEED when set (to replay a failure), else from the clock.
uint64_t TestSeed() {
  if (const char* s = std::getenv("RUSTORIUM_TEST_SEED")) return std::strtoull(s, nullptr, 10);
  return static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
}

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
    Child child = Spawn(path, round, /*max_keys=*/1000000);
    ASSERT_GT(child.pid, 0);
    ASSERT_NE(child.out, nullptr);
    // Read acknowledgements on a thread; kill after a random delay once the child is ready.
    std::atomic<bool> ready{false};
    std::thread reader([&] {
      char line[256];
      while (std::fgets(line, sizeof(line), child.out) != nullptr) {
        std::string key(line);
        if (!key.empty() && key.back() == '\n') {
          key.pop_back();
        } else {
          break;  // a line cut by the kill was never fully acknowledged
        }
        if (key == "ready") {
          ready = true;
        } else {
          acked[round].push_back(key);
        }
      }
    });
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!ready && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    const int delay_ms = 50 + static_cast<int>(rng() % 400);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    ASSERT_EQ(::kill(child.pid, SIGKILL), 0);
    int wstatus = 0;
    ASSERT_EQ(::waitpid(child.pid, &wstatus, 0), child.pid);
    reader.join();
    std::fclose(child.out);
    ASSERT_TRUE(ready.load()) << "writer never became ready in round " << round;
    ASSERT_TRUE(WIFSIGNALED(wstatus)) << "writer ended on its own in round " << round;
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
        ASSERT_TRUE(v->has_value()) << "acknowledged key " << acked[r][i] << " lost (seed "
                                    << seed << ")";
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
