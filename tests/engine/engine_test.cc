#include "engine/engine.h"

#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "tests/test_util.h"

namespace rustorium::engine {
namespace {

using rustorium::testing::TempDir;

std::unique_ptr<Engine> OpenOrDie(StorageOptions options) {
  Result<std::unique_ptr<Engine>> e = Engine::Open(options);
  EXPECT_TRUE(e.ok()) << e.status().ToString();
  return e.ok() ? std::move(*e) : nullptr;
}

StorageOptions Options(const TempDir& dir, std::string_view name = "db") {
  StorageOptions o;
  o.path = dir.Sub(name);
  o.block_cache_size = 8 << 20;
  return o;
}

std::optional<std::string> GetOrDie(const Engine& e, ColumnFamily cf, std::string_view key,
                                    const ReadOptions& ro = {}) {
  Result<std::optional<std::string>> r = e.Get(cf, key, ro);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : std::nullopt;
}

// Every key of an iterator from its current position, moving with Next (or Prev).
std::vector<std::string> Drain(Iterator& it, bool reverse = false) {
  std::vector<std::string> out;
  for (; it.Valid(); reverse ? it.Prev() : it.Next()) out.emplace_back(it.key());
  EXPECT_TRUE(it.status().ok()) << it.status().ToString();
  return out;
}

TEST(Engine, PutGetDeleteRoundTrip) {
  TempDir dir;
  auto e = OpenOrDie(Options(dir));
  ASSERT_TRUE(e);
  EXPECT_EQ(GetOrDie(*e, ColumnFamily::kDefault, "k1"), std::nullopt);
  ASSERT_TRUE(e->Put(ColumnFamily::kDefault, "k1", "v1").ok());
  EXPECT_EQ(GetOrDie(*e, ColumnFamily::kDefault, "k1"), "v1");
  ASSERT_TRUE(e->Put(ColumnFamily::kDefault, "k1", "v2").ok());
  EXPECT_EQ(GetOrDie(*e, ColumnFamily::kDefault, "k1"), "v2");
  // Binary keys and values, including NUL bytes, and an empty value.
  const std::string bin_key("\x00\xff\x01", 3), bin_value("a\x00b", 3);
  ASSERT_TRUE(e->Put(ColumnFamily::kDefault, bin_key, bin_value).ok());
  EXPECT_EQ(GetOrDie(*e, ColumnFamily::kDefault, bin_key), bin_value);
  ASSERT_TRUE(e->Put(ColumnFamily::kDefault, "empty", "").ok());
  EXPECT_EQ(GetOrDie(*e, ColumnFamily::kDefault, "empty"), "");
  ASSERT_TRUE(e->Delete(ColumnFamily::kDefault, "k1").ok());
  EXPECT_EQ(GetOrDie(*e, ColumnFamily::kDefault, "k1"), std::nullopt);
  // Deleting a missing key is not an error.
  EXPECT_TRUE(e->Delete(ColumnFamily::kDefault, "never-there").ok());
}

TEST(Engine, GetIntoReusesTheCallersBuffer) {
  TempDir dir;
  auto e = OpenOrDie(Options(dir));
  ASSERT_TRUE(e);
  ASSERT_TRUE(e->Put(ColumnFamily::kDefault, "k", std::string(1000, 'v')).ok());
  std::string buffer = "stale";
  auto hit = e->GetInto(ColumnFamily::kDefault, "k", buffer);
  ASSERT_TRUE(hit.ok());
  EXPECT_TRUE(*hit);
  EXPECT_EQ(buffer, std::string(1000, 'v'));
  hit = e->GetInto(ColumnFamily::kDefault, "absent", buffer);
  ASSERT_TRUE(hit.ok());
  EXPECT_FALSE(*hit);
  EXPECT_TRUE(buffer.empty()) << "a miss must not leave the previous value behind";
  EXPECT_TRUE(e->GetInto(ColumnFamily::kDefault, "", buffer).status().IsInvalidArgument());
}

TEST(Engine, ColumnFamiliesAreSeparate) {
  TempDir dir;
  auto e = OpenOrDie(Options(dir));
  ASSERT_TRUE(e);
  for (ColumnFamily cf : kAllColumnFamilies) {
    ASSERT_TRUE(e->Put(cf, "same-key", std::string(ColumnFamilyName(cf))).ok());
  }
  for (ColumnFamily cf : kAllColumnFamilies) {
    EXPECT_EQ(GetOrDie(*e, cf, "same-key"), std::string(ColumnFamilyName(cf)));
  }
}

TEST(Engine, DataSurvivesReopen) {
  TempDir dir;
  {
    auto e = OpenOrDie(Options(dir));
    ASSERT_TRUE(e);
    ASSERT_TRUE(e->Put(ColumnFamily::kRaft, "term", "7").ok());
    ASSERT_TRUE(e->Put(ColumnFamily::kDefault, "a", "1").ok());
  }
  auto e = OpenOrDie(Options(dir));
  ASSERT_TRUE(e);
  EXPECT_EQ(GetOrDie(*e, ColumnFamily::kRaft, "term"), "7");
  EXPECT_EQ(GetOrDie(*e, ColumnFamily::kDefault, "a"), "1");
}

TEST(Engine, MultiGetAnswersEachKey) {
  TempDir dir;
  auto e = OpenOrDie(Options(dir));
  ASSERT_TRUE(e);
  ASSERT_TRUE(e->Put(ColumnFamily::kMeta, "a", "1").ok());
  ASSERT_TRUE(e->Put(ColumnFamily::kMeta, "c", "3").ok());
  auto results = e->MultiGet(ColumnFamily::kMeta, {"a", "b", "c", ""});
  ASSERT_EQ(results.size(), 4u);
  ASSERT_TRUE(results[0].ok());
  EXPECT_EQ(*results[0], "1");
  ASSERT_TRUE(results[1].ok());
  EXPECT_EQ(*results[1], std::nullopt);
  ASSERT_TRUE(results[2].ok());
  EXPECT_EQ(*results[2], "3");
  EXPECT_TRUE(results[3].status().IsInvalidArgument());
}

TEST(Engine, BatchAcrossFamiliesIsAtomic) {
  TempDir dir;
  auto e = OpenOrDie(Options(dir));
  ASSERT_TRUE(e);
  ASSERT_TRUE(e->Put(ColumnFamily::kDefault, "old", "x").ok());
  WriteBatch batch;
  batch.Put(ColumnFamily::kDefault, "data", "d");
  batch.Put(ColumnFamily::kIndex, "node", "n");
  batch.Put(ColumnFamily::kMeta, "applied", "5");
  batch.Delete(ColumnFamily::kDefault, "old");
  EXPECT_EQ(batch.Count(), 4u);
  ASSERT_TRUE(e->Write(batch).ok());
  EXPECT_EQ(GetOrDie(*e, ColumnFamily::kDefault, "data"), "d");
  EXPECT_EQ(GetOrDie(*e, ColumnFamily::kIndex, "node"), "n");
  EXPECT_EQ(GetOrDie(*e, ColumnFamily::kMeta, "applied"), "5");
  EXPECT_EQ(GetOrDie(*e, ColumnFamily::kDefault, "old"), std::nullopt);
}

TEST(Engine, AppendCarriesEveryKindOfChange) {
  TempDir dir;
  auto e = OpenOrDie(Options(dir));
  ASSERT_TRUE(e);
  for (std::string k : {"a", "b", "c", "d"}) ASSERT_TRUE(e->Put(ColumnFamily::kMeta, k, k).ok());
  WriteBatch staged;
  staged.Put(ColumnFamily::kIndex, "node", "n");
  staged.Delete(ColumnFamily::kMeta, "a");
  staged.DeleteRange(ColumnFamily::kMeta, "b", "d");
  WriteBatch outer;
  outer.Put(ColumnFamily::kDefault, "data", "x");
  outer.Append(staged);
  EXPECT_EQ(outer.Count(), 4u);
  ASSERT_TRUE(e->Write(outer).ok());
  EXPECT_EQ(GetOrDie(*e, ColumnFamily::kDefault, "data"), "x");
  EXPECT_EQ(GetOrDie(*e, ColumnFamily::kIndex, "node"), "n");
  EXPECT_EQ(GetOrDie(*e, ColumnFamily::kMeta, "a"), std::nullopt);
  EXPECT_EQ(GetOrDie(*e, ColumnFamily::kMeta, "c"), std::nullopt);
  EXPECT_EQ(GetOrDie(*e, ColumnFamily::kMeta, "d"), "d");
  // Limits travel with the appended changes.
  StorageOptions small = Options(dir, "small");
  small.max_value_size = 4;
  auto limited = OpenOrDie(small);
  ASSERT_TRUE(limited);
  WriteBatch big;
  big.Put(ColumnFamily::kDefault, "k", "too long");
  WriteBatch carrier;
  carrier.Append(big);
  EXPECT_TRUE(limited->Write(carrier).IsInvalidArgument());
}

TEST(Engine, WriteSyncAppliesWithTheSameChecks) {
  TempDir dir;
  StorageOptions o = Options(dir);
  o.sync_mode = SyncMode::kNone;
  o.max_key_size = 8;
  auto e = OpenOrDie(o);
  ASSERT_TRUE(e);
  WriteBatch ok;
  ok.Put(ColumnFamily::kRaft, "term", "5");
  ASSERT_TRUE(e->WriteSync(ok).ok());
  EXPECT_EQ(GetOrDie(*e, ColumnFamily::kRaft, "term"), "5");
  WriteBatch bad;
  bad.Put(ColumnFamily::kRaft, "vote", "1");
  bad.Put(ColumnFamily::kRaft, "a-key-too-long", "1");
  EXPECT_TRUE(e->WriteSync(bad).IsInvalidArgument());
  EXPECT_EQ(GetOrDie(*e, ColumnFamily::kRaft, "vote"), std::nullopt);
}

TEST(Engine, InvalidBatchWritesNothing) {
  TempDir dir;
  StorageOptions o = Options(dir);
  o.max_value_size = 100;
  auto e = OpenOrDie(o);
  ASSERT_TRUE(e);
  WriteBatch batch;
  batch.Put(ColumnFamily::kDefault, "good", "v");
  batch.Put(ColumnFamily::kIndex, "too-big", std::string(101, 'x'));
  Status s = e->Write(batch);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_EQ(GetOrDie(*e, ColumnFamily::kDefault, "good"), std::nullopt);

  WriteBatch with_empty_key;
  with_empty_key.Put(ColumnFamily::kDefault, "good", "v");
  with_empty_key.Delete(ColumnFamily::kDefault, "");
  EXPECT_TRUE(e->Write(with_empty_key).IsInvalidArgument());
  EXPECT_EQ(GetOrDie(*e, ColumnFamily::kDefault, "good"), std::nullopt);

  WriteBatch inverted_range;
  inverted_range.DeleteRange(ColumnFamily::kDefault, "b", "a");
  EXPECT_TRUE(e->Write(inverted_range).IsInvalidArgument());
}

// A reader never sees part of a batch: every snapshot shows the same version on all keys.
TEST(Engine, ConcurrentReadersSeeWholeBatches) {
  TempDir dir;
  StorageOptions o = Options(dir);
  o.sync_mode = SyncMode::kNone;
  auto e = OpenOrDie(o);
  ASSERT_TRUE(e);
  constexpr int kKeys = 8;
  constexpr int kVersions = 300;
  auto key = [](int i) { return "ring/" + std::to_string(i); };
  {
    WriteBatch b;
    for (int i = 0; i < kKeys; ++i) b.Put(ColumnFamily::kDefault, key(i), "0");
    ASSERT_TRUE(e->Write(b).ok());
  }
  std::atomic<bool> done{false};
  std::atomic<int> torn{0};
  std::atomic<int> reads{0};
  std::thread reader([&] {
    while (!done.load()) {
      auto snap = e->GetSnapshot();
      ReadOptions ro;
      ro.snapshot = snap.get();
      std::vector<std::string> keys;
      for (int i = 0; i < kKeys; ++i) keys.push_back(key(i));
      std::vector<std::string_view> views(keys.begin(), keys.end());
      auto results = e->MultiGet(ColumnFamily::kDefault, views, ro);
      for (auto& r : results) {
        if (!r.ok() || !r->has_value() || **r != **results[0]) ++torn;
      }
      ++reads;
    }
  });
  for (int v = 1; v <= kVersions; ++v) {
    WriteBatch b;
    for (int i = 0; i < kKeys; ++i) b.Put(ColumnFamily::kDefault, key(i), std::to_string(v));
    ASSERT_TRUE(e->Write(b).ok());
  }
  done = true;
  reader.join();
  EXPECT_GT(reads.load(), 0);
  EXPECT_EQ(torn.load(), 0);
}

TEST(Engine, DeleteRangeRemovesHalfOpenRange) {
  TempDir dir;
  auto e = OpenOrDie(Options(dir));
  ASSERT_TRUE(e);
  for (std::string k : {"a", "b", "c", "d"}) ASSERT_TRUE(e->Put(ColumnFamily::kDefault, k, k).ok());
  WriteBatch b;
  b.DeleteRange(ColumnFamily::kDefault, "b", "d");
  ASSERT_TRUE(e->Write(b).ok());
  EXPECT_EQ(GetOrDie(*e, ColumnFamily::kDefault, "a"), "a");
  EXPECT_EQ(GetOrDie(*e, ColumnFamily::kDefault, "b"), std::nullopt);
  EXPECT_EQ(GetOrDie(*e, ColumnFamily::kDefault, "c"), std::nullopt);
  EXPECT_EQ(GetOrDie(*e, ColumnFamily::kDefault, "d"), "d");
}

class IteratorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    e_ = OpenOrDie(Options(dir_));
    ASSERT_TRUE(e_);
    WriteBatch b;
    for (std::string k : {"a", "b1", "b2", "b3", "c", "d"})
      b.Put(ColumnFamily::kDefault, k, "v" + k);
    b.Put(ColumnFamily::kMeta, "b0", "other family");
    ASSERT_TRUE(e_->Write(b).ok());
  }
  std::vector<std::string> Scan(IteratorOptions o, bool reverse) {
    auto it = e_->NewIterator(ColumnFamily::kDefault, std::move(o));
    reverse ? it->SeekToLast() : it->SeekToFirst();
    return Drain(*it, reverse);
  }
  TempDir dir_;
  std::unique_ptr<Engine> e_;
};

using Keys = std::vector<std::string>;

TEST_F(IteratorTest, UnboundedBothDirections) {
  EXPECT_EQ(Scan({}, false), (Keys{"a", "b1", "b2", "b3", "c", "d"}));
  EXPECT_EQ(Scan({}, true), (Keys{"d", "c", "b3", "b2", "b1", "a"}));
}

TEST_F(IteratorTest, RangeIsHalfOpenBothDirections) {
  IteratorOptions o;
  o.lower_bound = "b1";
  o.upper_bound = "c";
  EXPECT_EQ(Scan(o, false), (Keys{"b1", "b2", "b3"}));
  EXPECT_EQ(Scan(o, true), (Keys{"b3", "b2", "b1"}));
}

TEST_F(IteratorTest, PrefixBothDirections) {
  IteratorOptions o;
  o.prefix = "b";
  EXPECT_EQ(Scan(o, false), (Keys{"b1", "b2", "b3"}));
  EXPECT_EQ(Scan(o, true), (Keys{"b3", "b2", "b1"}));
  // A prefix narrows explicit bounds, never widens them.
  o.lower_bound = "b2";
  EXPECT_EQ(Scan(o, false), (Keys{"b2", "b3"}));
  o.upper_bound = "b3";
  EXPECT_EQ(Scan(o, true), (Keys{"b2"}));
}

TEST_F(IteratorTest, PrefixOfAllOnesHasNoUpperBound) {
  ASSERT_TRUE(e_->Put(ColumnFamily::kDefault, "\xff\xff", "x").ok());
  ASSERT_TRUE(e_->Put(ColumnFamily::kDefault, "\xff\xff\x01", "y").ok());
  IteratorOptions o;
  o.prefix = "\xff\xff";
  EXPECT_EQ(Scan(o, false), (Keys{"\xff\xff", "\xff\xff\x01"}));
}

TEST_F(IteratorTest, EmptyAndInvertedRanges) {
  IteratorOptions o;
  o.lower_bound = "c";
  o.upper_bound = "c";
  EXPECT_TRUE(Scan(o, false).empty());
  o.lower_bound = "d";
  o.upper_bound = "a";
  EXPECT_TRUE(Scan(o, true).empty());
  o.lower_bound = "";
  o.upper_bound = "";
  o.prefix = "zz";
  EXPECT_TRUE(Scan(o, false).empty());
}

TEST_F(IteratorTest, SeeksAreClampedToBounds) {
  IteratorOptions o;
  o.lower_bound = "b1";
  o.upper_bound = "c";
  auto it = e_->NewIterator(ColumnFamily::kDefault, o);
  it->Seek("a");  // below the range
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->key(), "b1");
  EXPECT_EQ(it->value(), "vb1");
  it->Seek("b2");
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->key(), "b2");
  it->SeekForPrev("zzz");  // above the range
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->key(), "b3");
  it->SeekForPrev("b25");
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->key(), "b2");
  it->Seek("c");
  EXPECT_FALSE(it->Valid());
  it->SeekForPrev("b0");
  EXPECT_FALSE(it->Valid());
}

TEST(Engine, SnapshotIsolation) {
  TempDir dir;
  auto e = OpenOrDie(Options(dir));
  ASSERT_TRUE(e);
  ASSERT_TRUE(e->Put(ColumnFamily::kDefault, "k", "before").ok());
  ASSERT_TRUE(e->Put(ColumnFamily::kDefault, "gone", "here").ok());
  auto snap = e->GetSnapshot();
  ASSERT_TRUE(e->Put(ColumnFamily::kDefault, "k", "after").ok());
  ASSERT_TRUE(e->Put(ColumnFamily::kDefault, "new", "n").ok());
  ASSERT_TRUE(e->Delete(ColumnFamily::kDefault, "gone").ok());
  ReadOptions ro;
  ro.snapshot = snap.get();
  EXPECT_EQ(GetOrDie(*e, ColumnFamily::kDefault, "k", ro), "before");
  EXPECT_EQ(GetOrDie(*e, ColumnFamily::kDefault, "new", ro), std::nullopt);
  EXPECT_EQ(GetOrDie(*e, ColumnFamily::kDefault, "gone", ro), "here");
  EXPECT_EQ(GetOrDie(*e, ColumnFamily::kDefault, "k"), "after");
  IteratorOptions io;
  io.snapshot = snap.get();
  auto it = e->NewIterator(ColumnFamily::kDefault, io);
  it->SeekToFirst();
  EXPECT_EQ(Drain(*it), (Keys{"gone", "k"}));
  // A snapshot survives a flush to SST files.
  ASSERT_TRUE(e->Flush().ok());
  EXPECT_EQ(GetOrDie(*e, ColumnFamily::kDefault, "k", ro), "before");
}

TEST(Engine, CheckpointOpensWithSameData) {
  TempDir dir;
  auto e = OpenOrDie(Options(dir));
  ASSERT_TRUE(e);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(e->Put(ColumnFamily::kDefault, "key" + std::to_string(i), std::to_string(i)).ok());
  }
  ASSERT_TRUE(e->Flush().ok());
  ASSERT_TRUE(e->Put(ColumnFamily::kRaft, "unflushed", "still there").ok());
  const std::string cp = dir.Sub("checkpoint");
  ASSERT_TRUE(e->Checkpoint(cp).ok());
  // Later writes to the source do not reach the checkpoint.
  ASSERT_TRUE(e->Put(ColumnFamily::kDefault, "key0", "changed").ok());
  EXPECT_TRUE(e->Checkpoint(cp).IsInvalidArgument()) << "existing directory must be refused";

  StorageOptions o = Options(dir);
  o.path = cp;
  o.create_if_missing = false;
  auto copy = OpenOrDie(o);
  ASSERT_TRUE(copy);
  EXPECT_EQ(GetOrDie(*copy, ColumnFamily::kDefault, "key0"), "0");
  EXPECT_EQ(GetOrDie(*copy, ColumnFamily::kDefault, "key999"), "999");
  EXPECT_EQ(GetOrDie(*copy, ColumnFamily::kRaft, "unflushed"), "still there");
  // The copy is independent of the source.
  ASSERT_TRUE(copy->Put(ColumnFamily::kDefault, "only-in-copy", "x").ok());
  EXPECT_EQ(GetOrDie(*e, ColumnFamily::kDefault, "only-in-copy"), std::nullopt);
}

// Compressible values: a random quarter repeated four times.
std::string CompressibleValue(std::mt19937_64& rng, std::size_t size) {
  std::string quarter(size / 4, '\0');
  for (char& c : quarter) c = static_cast<char>('a' + rng() % 26);
  std::string v;
  while (v.size() < size) v += quarter;
  v.resize(size);
  return v;
}

TEST(Engine, StatsAreSane) {
  TempDir dir;
  auto e = OpenOrDie(Options(dir));
  ASSERT_TRUE(e);
  std::mt19937_64 rng(1);
  constexpr int kKeys = 5000;
  for (int i = 0; i < kKeys; ++i) {
    ASSERT_TRUE(
        e->Put(ColumnFamily::kDefault, "key" + std::to_string(i), CompressibleValue(rng, 400))
            .ok());
  }
  ASSERT_TRUE(e->Flush().ok());
  ASSERT_TRUE(e->CompactRange(ColumnFamily::kDefault).ok());
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(GetOrDie(*e, ColumnFamily::kDefault, "key" + std::to_string(i)).has_value());
  }
  Result<EngineStats> st = e->Stats();
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_GE(st->bytes_written, kKeys * 400u);
  EXPECT_GE(st->bytes_read, 100 * 400u);
  EXPECT_GE(st->keys, kKeys * 9u / 10);
  EXPECT_LE(st->keys, kKeys * 11u / 10);
  EXPECT_EQ(st->keys, st->keys_per_family[0] + st->keys_per_family[1] + st->keys_per_family[2] +
                          st->keys_per_family[3] + st->keys_per_family[4] + st->keys_per_family[5]);
  EXPECT_GT(st->compaction_bytes_written, 0u);
  EXPECT_GT(st->compaction_bytes_read, 0u);
  EXPECT_GT(st->block_cache_hits + st->block_cache_misses, 0u);
  EXPECT_GE(st->block_cache_hit_rate, 0.0);
  EXPECT_LE(st->block_cache_hit_rate, 1.0);
  EXPECT_GT(st->live_sst_bytes, 0u);
  // Values repeat a quarter four times: zstd at the bottom must shrink them well.
  EXPECT_GT(st->compression_ratio, 2.0);
  EXPECT_GE(st->sst_raw_bytes, kKeys * 400u);
}

TEST(Engine, CompressionOffKeepsRatioNearOne) {
  TempDir dir;
  StorageOptions o = Options(dir);
  o.compression = false;
  auto e = OpenOrDie(o);
  ASSERT_TRUE(e);
  std::mt19937_64 rng(2);
  for (int i = 0; i < 2000; ++i) {
    ASSERT_TRUE(
        e->Put(ColumnFamily::kDefault, "key" + std::to_string(i), CompressibleValue(rng, 400))
            .ok());
  }
  ASSERT_TRUE(e->Flush().ok());
  Result<EngineStats> st = e->Stats();
  ASSERT_TRUE(st.ok());
  EXPECT_GT(st->compression_ratio, 0.9);
  EXPECT_LT(st->compression_ratio, 1.1);
}

TEST(Engine, AsyncSyncModeWritesAndReopens) {
  TempDir dir;
  StorageOptions o = Options(dir);
  o.sync_mode = SyncMode::kAsync;
  o.sync_interval = std::chrono::milliseconds(5);
  {
    auto e = OpenOrDie(o);
    ASSERT_TRUE(e);
    for (int i = 0; i < 200; ++i) {
      ASSERT_TRUE(e->Put(ColumnFamily::kDefault, "k" + std::to_string(i), "v").ok());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  auto e = OpenOrDie(o);
  ASSERT_TRUE(e);
  EXPECT_EQ(GetOrDie(*e, ColumnFamily::kDefault, "k199"), "v");
}

TEST(Engine, ParseSyncMode) {
  EXPECT_EQ(*ParseSyncMode("none"), SyncMode::kNone);
  EXPECT_EQ(*ParseSyncMode("async"), SyncMode::kAsync);
  EXPECT_EQ(*ParseSyncMode("full"), SyncMode::kFull);
  EXPECT_TRUE(ParseSyncMode("FULL").status().IsInvalidArgument());
  EXPECT_TRUE(ParseSyncMode("").status().IsInvalidArgument());
}

}  // namespace
}  // namespace rustorium::engine
