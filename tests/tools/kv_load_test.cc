// The load driver of `rustorium bench kv` and bench/kv_bench against an in-memory target, and
// its latency histogram against exact quantiles.
#include "tools/rustorium/kv_load.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>

#include "tools/rustorium/latency_histogram.h"

namespace rustorium::tools {
namespace {

TEST(LatencyHistogram, QuantilesWithinOnePercent) {
  LatencyHistogram h;
  EXPECT_EQ(h.Quantile(0.5), 0) << "empty";
  for (uint64_t v = 1; v <= 1000000; ++v) h.Record(v * 1000);  // 1 µs .. 1 s, evenly
  EXPECT_EQ(h.count(), 1000000u);
  for (double q : {0.5, 0.99, 0.999}) {
    const double exact = q * 1e9;
    EXPECT_NEAR(h.Quantile(q), exact, exact * 0.01) << q;
  }
  LatencyHistogram small;
  for (uint64_t v = 0; v < 100; ++v) small.Record(v);
  EXPECT_EQ(small.Quantile(0.5), 49) << "one bucket per nanosecond below 128 ns";
  small.Merge(h);
  EXPECT_EQ(small.count(), 1000100u);
}

// A store in memory; every `fail_every`-th put fails.
class MemoryStore {
 public:
  explicit MemoryStore(int fail_every) : fail_every_(fail_every) {}
  Status Put(const std::string& key, const std::string& value) {
    std::lock_guard<std::mutex> lock(mu_);
    if (fail_every_ > 0 && ++puts_ % fail_every_ == 0) return Status::Busy("refused on purpose");
    data_[key] = value;
    return Status::OK();
  }
  Status Get(const std::string& key) {
    std::lock_guard<std::mutex> lock(mu_);
    ++gets_;
    if (key.size() != 16)
      return Status::InvalidArgument("key of " + std::to_string(key.size()) + " bytes");
    return Status::OK();
  }
  std::map<std::string, std::string> data() {
    std::lock_guard<std::mutex> lock(mu_);
    return data_;
  }

 private:
  std::mutex mu_;
  int fail_every_;
  uint64_t puts_ = 0;
  uint64_t gets_ = 0;
  std::map<std::string, std::string> data_;
};

class MemoryTarget : public KvTarget {
 public:
  explicit MemoryTarget(MemoryStore& store) : store_(store) {}
  Status Put(const std::string& key, const std::string& value) override {
    return store_.Put(key, value);
  }
  Status Get(const std::string& key) override { return store_.Get(key); }

 private:
  MemoryStore& store_;
};

KvTargetFactory Targets(MemoryStore& store, std::atomic<int>& made) {
  return [&store, &made](int) -> Result<std::unique_ptr<KvTarget>> {
    ++made;
    return std::unique_ptr<KvTarget>(std::make_unique<MemoryTarget>(store));
  };
}

TEST(KvLoad, PreloadsEveryKeyAndMixesAsAsked) {
  MemoryStore store(0);
  std::atomic<int> made{0};
  KvLoadOptions o;
  o.threads = 4;
  o.seconds = 0.3;
  o.warmup_seconds = 0.05;
  o.read_percent = 80;
  o.keys = 1000;
  o.value_size = 256;
  int hooks = 0;
  o.at_measure_start = [&] { ++hooks; };
  o.at_measure_end = [&] { ++hooks; };
  Result<KvLoadReport> r = RunKvLoad(o, Targets(store, made));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(made.load(), 4) << "one target per thread";
  EXPECT_EQ(hooks, 2);
  const auto data = store.data();
  ASSERT_EQ(data.size(), 1000u) << "every key written once first";
  EXPECT_EQ(data.begin()->first, "k000000000000000");
  EXPECT_EQ(data.begin()->second.size(), 256u);
  EXPECT_EQ(r->all.errors, 0u);
  EXPECT_EQ(r->all.ops, r->put.ops + r->get.ops);
  ASSERT_GT(r->all.ops, 1000u);
  const double reads = static_cast<double>(r->get.ops) / static_cast<double>(r->all.ops);
  EXPECT_NEAR(reads, 0.8, 0.02);
  EXPECT_GE(r->seconds, 0.3);
  EXPECT_GT(r->all.ops_per_second, 0);
  EXPECT_LE(r->all.p50_ms, r->all.p99_ms);
  EXPECT_LE(r->all.p99_ms, r->all.p999_ms);
}

TEST(KvLoad, FailuresAreCountedNotTimed) {
  MemoryStore store(10);
  std::atomic<int> made{0};
  KvLoadOptions o;
  o.threads = 2;
  o.seconds = 0.2;
  o.warmup_seconds = 0;
  o.read_percent = 0;  // no preload: the load only writes
  Result<KvLoadReport> r = RunKvLoad(o, Targets(store, made));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->get.ops, 0u);
  ASSERT_GT(r->put.errors, 0u);
  EXPECT_NEAR(static_cast<double>(r->put.errors) / static_cast<double>(r->put.ops + r->put.errors),
              0.1, 0.01);
  EXPECT_NE(r->first_error.find("refused on purpose"), std::string::npos) << r->first_error;
}

TEST(KvLoad, RefusesBadOptionsAndFailedPreloads) {
  MemoryStore store(0);
  std::atomic<int> made{0};
  KvLoadOptions o;
  o.read_percent = 101;
  EXPECT_TRUE(RunKvLoad(o, Targets(store, made)).status().IsInvalidArgument());
  o.read_percent = 50;
  o.threads = 0;
  EXPECT_TRUE(RunKvLoad(o, Targets(store, made)).status().IsInvalidArgument());

  MemoryStore failing(1);
  o.threads = 2;
  o.keys = 10;
  Result<KvLoadReport> r = RunKvLoad(o, Targets(failing, made));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("preloading"), std::string::npos) << r.status().ToString();
}

TEST(KvLoad, KeysAreSixteenBytes) {
  EXPECT_EQ(KvKey(0), "k000000000000000");
  EXPECT_EQ(KvKey(123456789), "k000000123456789");
  EXPECT_EQ(KvKey(999999999999999ull).size(), 16u);
}

}  // namespace
}  // namespace rustorium::tools
