#include "region/raft/raft_log_store.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

#include "tests/engine_util.h"
#include "tests/kill_harness.h"
#include "tests/test_util.h"

#ifndef RUSTORIUM_RAFT_LOG_WRITER
#error "RUSTORIUM_RAFT_LOG_WRITER must name the writer binary"
#endif

namespace rustorium::raft {
namespace {

using rustorium::testing::TempDir;

class RaftLogStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }
  void Reopen() {
    store_.reset();
    engine_.reset();
    // Sync mode none: the store syncs what Raft needs itself.
    engine_ = rustorium::testing::OpenScratchEngine(dir_.Sub("db"));
    ASSERT_TRUE(engine_);
    store_ = std::make_unique<RaftLogStore>(engine_.get());
  }
  static std::vector<LogEntry> Entries(uint64_t term, int n, const std::string& tag) {
    std::vector<LogEntry> out;
    for (int i = 0; i < n; ++i) out.push_back({term, 1, tag + std::to_string(i)});
    return out;
  }
  TempDir dir_;
  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<RaftLogStore> store_;
};

TEST_F(RaftLogStoreTest, GroupCommitOfManyGroupsSurvivesReopen) {
  engine::WriteBatch batch;
  for (GroupId g = 1; g <= 100; ++g)
    store_->StageAppend(batch, g, 1, Entries(1, 5, "g" + std::to_string(g) + "-"));
  ASSERT_TRUE(store_->Commit(batch).ok());
  ASSERT_TRUE(store_->SetHardState(7, {3, 2}).ok());
  Reopen();
  auto groups = store_->Groups();
  ASSERT_TRUE(groups.ok());
  ASSERT_EQ(groups->size(), 100u);
  EXPECT_EQ(groups->front(), 1u);
  EXPECT_EQ(groups->back(), 100u);
  for (GroupId g = 1; g <= 100; ++g) {
    auto loaded = store_->Load(g);
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    EXPECT_EQ(loaded->first_index, 1u);
    EXPECT_EQ(loaded->entries, Entries(1, 5, "g" + std::to_string(g) + "-"));
  }
  EXPECT_EQ(store_->Load(7)->hard_state, (HardState{3, 2}));
  EXPECT_EQ(store_->Load(8)->hard_state, (HardState{0, 0}));
  EXPECT_TRUE(store_->Load(12345)->entries.empty());
}

TEST_F(RaftLogStoreTest, TruncateThenAppendReplacesTheSuffix) {
  engine::WriteBatch batch;
  store_->StageAppend(batch, 1, 1, Entries(1, 10, "old"));
  store_->StageAppend(batch, 2, 1, Entries(1, 3, "other"));
  ASSERT_TRUE(store_->Commit(batch).ok());
  engine::WriteBatch fix;
  store_->StageTruncateSuffix(fix, 1, 6);
  store_->StageAppend(fix, 1, 6, Entries(2, 2, "new"));
  ASSERT_TRUE(store_->Commit(fix).ok());
  auto g = store_->Load(1);
  ASSERT_TRUE(g.ok());
  ASSERT_EQ(g->entries.size(), 7u);
  EXPECT_EQ(g->entries[4].data, "old4");
  EXPECT_EQ(g->entries[5], (LogEntry{2, 1, "new0"}));
  EXPECT_EQ(g->entries[6], (LogEntry{2, 1, "new1"}));
  EXPECT_EQ(store_->Load(2)->entries.size(), 3u) << "other groups untouched";
}

TEST_F(RaftLogStoreTest, SnapshotCompactsThePrefix) {
  engine::WriteBatch batch;
  store_->StageAppend(batch, 1, 1, Entries(1, 10, "e"));
  ASSERT_TRUE(store_->Commit(batch).ok());
  SnapshotMeta meta{8, 1, 1, "conf", std::string("marker\0with nul", 16)};
  engine::WriteBatch snap;
  store_->StageSnapshot(snap, 1, meta, 6);
  ASSERT_TRUE(store_->Commit(snap).ok());
  Reopen();
  auto g = store_->Load(1);
  ASSERT_TRUE(g.ok());
  ASSERT_TRUE(g->snapshot.has_value());
  EXPECT_EQ(*g->snapshot, meta);
  EXPECT_EQ(g->first_index, 7u);
  ASSERT_EQ(g->entries.size(), 4u);
  EXPECT_EQ(g->entries[0].data, "e6");
  // Compacting everything: the log starts after the snapshot.
  engine::WriteBatch all;
  store_->StageSnapshot(all, 1, SnapshotMeta{10, 1, 1, "conf", ""}, 10);
  ASSERT_TRUE(store_->Commit(all).ok());
  g = store_->Load(1);
  EXPECT_TRUE(g->entries.empty());
  EXPECT_EQ(g->first_index, 11u);
}

// A range of entries is read without the rest of the log; a range not all there is nullopt.
TEST_F(RaftLogStoreTest, ReadEntriesReadsARangeOrSaysItIsNotAllThere) {
  engine::WriteBatch batch;
  store_->StageAppend(batch, 1, 1, Entries(1, 10, "e"));  // entries 1..10
  store_->StageAppend(batch, 2, 1, Entries(3, 3, "o"));   // another group beside it
  ASSERT_TRUE(store_->Commit(batch).ok());
  auto mid = store_->ReadEntries(1, 4, 6);
  ASSERT_TRUE(mid.ok() && mid->has_value());
  ASSERT_EQ((*mid)->size(), 3u);
  EXPECT_EQ((**mid)[0].data, "e3");
  EXPECT_EQ((**mid)[2].data, "e5");
  auto last = store_->ReadEntries(1, 10, 10);
  ASSERT_TRUE(last.ok() && last->has_value());
  EXPECT_EQ((**last)[0].data, "e9");
  EXPECT_FALSE(store_->ReadEntries(1, 9, 11)->has_value()) << "11 is not appended";
  EXPECT_FALSE(store_->ReadEntries(3, 1, 1)->has_value()) << "no such group";
  engine::WriteBatch snap;
  store_->StageSnapshot(snap, 1, SnapshotMeta{8, 1, 1, "conf", ""}, 6);  // compacts 1..6
  ASSERT_TRUE(store_->Commit(snap).ok());
  EXPECT_FALSE(store_->ReadEntries(1, 6, 8)->has_value()) << "6 is compacted";
  EXPECT_TRUE(store_->ReadEntries(1, 7, 8)->has_value());
  EXPECT_EQ(store_->ReadEntries(1, 5, 4).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->ReadEntries(1, 0, 4).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(RaftLogStoreTest, DeleteGroupRemovesOnlyThatGroup) {
  engine::WriteBatch batch;
  for (GroupId g : {GroupId{4}, GroupId{5}, GroupId{6}, UINT64_MAX}) {
    store_->StageAppend(batch, g, 1, Entries(1, 3, "e"));
    store_->StageSnapshot(batch, g, SnapshotMeta{1, 1, 1, "c", "m"}, 0);
  }
  ASSERT_TRUE(store_->Commit(batch).ok());
  ASSERT_TRUE(store_->SetHardState(5, {2, 1}).ok());
  engine::WriteBatch del;
  store_->StageDeleteGroup(del, 5);
  store_->StageDeleteGroup(del, UINT64_MAX);
  ASSERT_TRUE(store_->Commit(del).ok());
  EXPECT_EQ(*store_->Groups(), (std::vector<GroupId>{4, 6}));
  auto g = store_->Load(5);
  ASSERT_TRUE(g.ok());
  EXPECT_TRUE(g->entries.empty());
  EXPECT_FALSE(g->snapshot.has_value());
  EXPECT_EQ(g->hard_state, (HardState{0, 0}));
  EXPECT_EQ(store_->Load(6)->entries.size(), 3u);
}

TEST_F(RaftLogStoreTest, GapsAndMalformedRecordsAreCorruption) {
  engine::WriteBatch batch;
  store_->StageAppend(batch, 1, 1, Entries(1, 5, "e"));
  ASSERT_TRUE(store_->Commit(batch).ok());
  // Remove entry 3 behind the store's back.
  std::string key(1, 'g');
  for (int i = 7; i >= 0; --i) key.push_back(static_cast<char>(uint64_t{1} >> (8 * i)));
  key.push_back('e');
  for (int i = 7; i >= 0; --i) key.push_back(static_cast<char>(uint64_t{3} >> (8 * i)));
  ASSERT_TRUE(engine_->Delete(engine::ColumnFamily::kRaft, key).ok());
  EXPECT_TRUE(store_->Load(1).status().IsCorruption());
  ASSERT_TRUE(engine_->Put(engine::ColumnFamily::kRaft, key, "short").ok());
  EXPECT_TRUE(store_->Load(1).status().IsCorruption());
}

}  // namespace
}  // namespace rustorium::raft

namespace rustorium::raft {
namespace {

TEST(RaftLogDurability, CommittedAppendsSurviveSigkill) {
  const uint64_t seed = rustorium::testing::TestSeed();
  std::printf("raft log durability seed: %llu (replay with RUSTORIUM_TEST_SEED)\n",
              static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  rustorium::testing::TempDir dir;
  const std::string path = dir.Sub("db");
  std::size_t total = 0;
  for (int round = 0; round < 3; ++round) {
    const auto delay = std::chrono::milliseconds(50 + rng() % 300);
    auto run = rustorium::testing::RunAndKill({RUSTORIUM_RAFT_LOG_WRITER, path}, delay);
    ASSERT_TRUE(run.ready && run.killed) << "round " << round;
    total += run.acked.size();
    engine::StorageOptions o;
    o.path = path;
    o.block_cache_size = 8 << 20;
    auto e = engine::Engine::Open(o);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    RaftLogStore store(e->get());
    std::map<GroupId, LoadedGroup> groups;
    for (GroupId g = 1; g <= 8; ++g) {
      auto loaded = store.Load(g);
      ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
      groups[g] = std::move(*loaded);
    }
    for (const std::string& line : run.acked) {
      unsigned long long g = 0, index = 0;
      ASSERT_EQ(std::sscanf(line.c_str(), "%llu %llu", &g, &index), 2) << line;
      ASSERT_TRUE(groups.count(g)) << line;
      const LoadedGroup* loaded = &groups[g];
      ASSERT_GE(index, loaded->first_index);
      ASSERT_LT(index - loaded->first_index, loaded->entries.size())
          << "committed entry " << index << " of group " << g << " lost (seed " << seed << ")";
      EXPECT_EQ(loaded->entries[index - loaded->first_index].data,
                "entry-" + std::to_string(g) + "-" + std::to_string(index));
    }
  }
  EXPECT_GT(total, 0u) << "nothing was committed: the test proved nothing";
}

}  // namespace
}  // namespace rustorium::raft
