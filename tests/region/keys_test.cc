#include "region/keys.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "engine/column_family.h"
#include "proof/smt/sparse_merkle_tree.h"

namespace rustorium {
namespace {

// Each kind of record of one column family, by the prefix every key of that kind starts with.
struct Kind {
  std::string name;
  std::string prefix;
};

std::map<engine::ColumnFamily, std::vector<Kind>> KindsByFamily() {
  // Per-group and per-region kinds: the prefix up to the id, which varies.
  return {
      {engine::ColumnFamily::kDefault,
       {{"data", std::string(1, keys::kDataPrefix)},
        {"snapshot staging", std::string(1, keys::kSnapshotStagingPrefix)}}},
      {engine::ColumnFamily::kRaft, {{"raft group", std::string(1, keys::kRaftGroupPrefix)}}},
      {engine::ColumnFamily::kMeta,
       {{"region apply state", std::string(1, keys::kRegionMetaTag)},
        {"store id", keys::StoreIdKey()},
        {"PD state", keys::PdStateKey()},
        {"legacy store id", std::string(keys::kLegacyStoreIdKey)},
        {"legacy PD state", std::string(keys::kLegacyPdStateKey)}}},
      {engine::ColumnFamily::kIndex, {{"tree", proof::TreeKeyPrefix(0).substr(0, 1)}}},
  };
}

bool IsPrefix(const std::string& a, const std::string& b) { return b.compare(0, a.size(), a) == 0; }

TEST(Keys, NoTwoKindsInOneFamilyOverlap) {
  for (const auto& [cf, kinds] : KindsByFamily()) {
    for (std::size_t i = 0; i < kinds.size(); ++i) {
      for (std::size_t j = 0; j < kinds.size(); ++j) {
        if (i == j) continue;
        EXPECT_FALSE(IsPrefix(kinds[i].prefix, kinds[j].prefix))
            << engine::ColumnFamilyName(cf) << ": " << kinds[i].name << " is a prefix of "
            << kinds[j].name;
      }
    }
  }
}

TEST(Keys, RaftRecordsOfAGroupOverlapNeitherEachOtherNorOtherGroups) {
  const std::vector<std::string> records = {keys::RaftHardStateKey(7), keys::RaftSnapshotKey(7),
                                            keys::RaftEntryPrefix(7)};
  for (const std::string& a : records) {
    EXPECT_TRUE(IsPrefix(keys::RaftGroupPrefix(7), a));
    EXPECT_LT(a, keys::RaftGroupEnd(7));
    EXPECT_GE(a, keys::RaftGroupPrefix(7));
    EXPECT_FALSE(IsPrefix(keys::RaftGroupPrefix(8), a));
    for (const std::string& b : records) {
      if (a != b) {
        EXPECT_FALSE(IsPrefix(a, b));
      }
    }
  }
  // Entries sort by index and stay inside the entry range.
  EXPECT_LT(keys::RaftEntryKey(7, 9), keys::RaftEntryKey(7, 10));
  EXPECT_LT(keys::RaftEntryKey(7, UINT64_MAX), keys::RaftEntryEnd(7));
  EXPECT_LT(keys::RaftEntryEnd(7), keys::RaftSnapshotKey(7));
  EXPECT_EQ(keys::RaftGroupEnd(UINT64_MAX), "h");
  EXPECT_LT(keys::RaftSnapshotKey(UINT64_MAX), keys::RaftGroupEnd(UINT64_MAX));
}

TEST(Keys, RegionDataStaysInsideItsRange) {
  EXPECT_EQ(keys::DataKey("abc"), "zabc");
  EXPECT_EQ(keys::UserKey(keys::DataKey("abc")), "abc");
  EXPECT_LT(keys::DataKey("m"), keys::DataEnd("n"));
  EXPECT_GE(keys::DataKey("n"), keys::DataEnd("n"));
  // An unbounded region ends past every data key, even the largest.
  EXPECT_LT(keys::DataKey(std::string(8192, '\xff')), keys::DataEnd(""));
  EXPECT_TRUE(IsPrefix("r", keys::RegionApplyStateKey(3)));
  EXPECT_NE(keys::RegionApplyStateKey(3), keys::RegionApplyStateKey(4));
}

TEST(Keys, RegionMetaRecordsOverlapNeitherEachOtherNorOtherRegions) {
  const std::vector<std::string> records = {
      keys::RegionApplyStateKey(7), keys::RegionLocalStateKey(7), keys::RegionSessionsBegin(7),
      keys::RegionSessionStagingPrefix(7)};
  for (const std::string& a : records) {
    EXPECT_TRUE(IsPrefix(keys::RegionMetaPrefix(7), a));
    EXPECT_FALSE(IsPrefix(keys::RegionMetaPrefix(8), a));
    for (const std::string& b : records) {
      if (a != b) {
        EXPECT_FALSE(IsPrefix(a, b));
      }
    }
  }
  // The local state lies outside the session records (a snapshot install deletes those).
  EXPECT_FALSE(keys::RegionLocalStateKey(7) >= keys::RegionSessionsBegin(7) &&
               keys::RegionLocalStateKey(7) < keys::RegionSessionsEnd(7));
}

TEST(Keys, TreePrefixesOfTwoRegionsDiffer) {
  EXPECT_EQ(proof::TreeKeyPrefix(1).size(), 9u);
  EXPECT_FALSE(IsPrefix(proof::TreeKeyPrefix(1), proof::TreeKeyPrefix(2)));
  EXPECT_EQ(proof::TreeKeyPrefix(1)[0], 'T');
}

}  // namespace
}  // namespace rustorium
