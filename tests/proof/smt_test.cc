#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <random>
#include <thread>

#include "proof/poseidon/poseidon.h"
#include "proof/smt/sparse_merkle_tree.h"
#include "tests/engine_util.h"
#include "tests/test_util.h"

namespace rustorium::proof {
namespace {

using engine::ColumnFamily;
using rustorium::testing::TempDir;

Fr F(uint64_t v) { return Fr::FromUint64(v); }

class SmtTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }
  void Reopen() {
    engine_.reset();
    engine_ = rustorium::testing::OpenScratchEngine(dir_.Sub("db"));
    ASSERT_TRUE(engine_);
  }
  SparseMerkleTree Tree(uint64_t id = 1, SmtOptions options = {}) {
    auto t = SparseMerkleTree::Open(engine_.get(), id, options);
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return std::move(*t);
  }
  // Applies and commits one version.
  Fr Commit(SparseMerkleTree& t, std::vector<SmtUpdate> updates, uint64_t version) {
    engine::WriteBatch batch;
    auto root = t.Apply(updates, version, batch);
    EXPECT_TRUE(root.ok()) << root.status().ToString();
    EXPECT_TRUE(engine_->Write(batch).ok());
    return root.ok() ? *root : Fr();
  }
  int CountIndexRecords(char tag) {
    engine::IteratorOptions io;
    io.prefix = std::string("T\0\0\0\0\0\0\0\x01", 9) + tag;
    auto it = engine_->NewIterator(ColumnFamily::kIndex, io);
    int n = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
    return n;
  }
  TempDir dir_;
  std::unique_ptr<engine::Engine> engine_;
};

// go-merkletree / js-merkletree known roots (shared/ANCHORS.md).
TEST_F(SmtTest, KnownRoots) {
  auto t = Tree();
  EXPECT_TRUE(t.Root()->IsZero());
  EXPECT_EQ(Commit(t, {{F(1), F(2)}}, 1).ToDecimal(),
            "13578938674299138072471463694055224830892726234048532520316387704878000008795");
  EXPECT_EQ(Commit(t, {{F(33), F(44)}}, 2).ToDecimal(),
            "5412393676474193513566895793055462193090331607895808993925969873307089394741");
  EXPECT_EQ(Commit(t, {{F(1234), F(9876)}}, 3).ToDecimal(),
            "14204494359367183802864593755198662203838502594566452929175967972147978322084");
  // The same set in one batch, in another order, in another tree of the same engine.
  auto t2 = Tree(2);
  EXPECT_EQ(Commit(t2, {{F(1234), F(9876)}, {F(1), F(2)}, {F(33), F(44)}}, 7).ToDecimal(),
            "14204494359367183802864593755198662203838502594566452929175967972147978322084");
  EXPECT_EQ(*t.LatestVersion(), std::optional<uint64_t>(3));
  EXPECT_EQ(t.Root(1)->ToDecimal(),
            "13578938674299138072471463694055224830892726234048532520316387704878000008795");
}

TEST_F(SmtTest, SingleLeafRootIsTheLeafHash) {
  auto t = Tree();
  EXPECT_EQ(Commit(t, {{F(5), F(6)}}, 1), Poseidon3(F(5), F(6), Fr::One()));
}

TEST_F(SmtTest, RootIndependentOfOrderAndBatching) {
  std::mt19937_64 rng(3);
  std::vector<SmtUpdate> kv;
  for (int i = 0; i < 300; ++i)
    kv.push_back({Fr::FromLimbsReduced({rng(), rng(), rng(), rng()}), F(rng())});
  auto bulk = Tree(1);
  const Fr bulk_root = Commit(bulk, kv, 1);
  auto one_by_one = Tree(2);
  std::shuffle(kv.begin(), kv.end(), rng);
  Fr root;
  for (std::size_t i = 0; i < kv.size(); ++i) root = Commit(one_by_one, {kv[i]}, i + 1);
  EXPECT_EQ(root, bulk_root);
  auto chunks = Tree(3);
  for (std::size_t i = 0; i < kv.size(); i += 37) {
    std::vector<SmtUpdate> chunk(kv.begin() + i, kv.begin() + std::min(kv.size(), i + 37));
    root = Commit(chunks, chunk, i + 1);
  }
  EXPECT_EQ(root, bulk_root);
  for (const auto& u : kv) EXPECT_EQ(*bulk.Get(u.key), u.value);
}

TEST_F(SmtTest, DeletesRestoreEarlierRoots) {
  std::mt19937_64 rng(4);
  auto t = Tree();
  std::vector<Fr> roots = {Fr()};
  std::vector<SmtUpdate> added;
  for (int i = 0; i < 60; ++i) {
    SmtUpdate u{Fr::FromLimbsReduced({rng(), rng(), rng(), rng()}), F(i + 1)};
    added.push_back(u);
    roots.push_back(Commit(t, {u}, added.size()));
  }
  // Deleting in reverse order walks back through every earlier root.
  uint64_t version = 100;
  for (int i = 59; i >= 0; --i) {
    EXPECT_EQ(Commit(t, {{added[i].key, std::nullopt}}, ++version), roots[i]) << i;
  }
  EXPECT_TRUE(t.Root()->IsZero());
}

TEST_F(SmtTest, UpdatesAndDeletesOfAbsentKeys) {
  auto t = Tree();
  const Fr r1 = Commit(t, {{F(1), F(10)}, {F(2), F(20)}}, 1);
  EXPECT_EQ(Commit(t, {{F(99), std::nullopt}}, 2), r1) << "deleting an absent key changes nothing";
  EXPECT_EQ(Commit(t, {{F(1), F(10)}}, 3), r1) << "rewriting a value changes nothing";
  const Fr r4 = Commit(t, {{F(1), F(11)}}, 4);
  EXPECT_NE(r4, r1);
  EXPECT_EQ(*t.Get(F(1)), std::optional<Fr>(F(11)));
  // Several updates of one key in a batch: the last wins.
  EXPECT_EQ(Commit(t, {{F(1), F(12)}, {F(1), std::nullopt}, {F(1), F(10)}}, 5), r1);
}

TEST_F(SmtTest, KeysSharingLongPrefixes) {
  auto t = Tree(1, SmtOptions{.max_levels = 64});
  // 1, 1 + 2^40 and 1 + 2^62 share their low 40 bits.
  const Fr a = F(1), b = F(1 + (uint64_t{1} << 40)), c = F(1 + (uint64_t{1} << 62));
  Commit(t, {{a, F(1)}, {b, F(2)}, {c, F(3)}}, 1);
  for (const Fr& k : {a, b, c}) {
    auto p = t.Prove(k);
    ASSERT_TRUE(p.ok());
    EXPECT_TRUE(p->existence);
    EXPECT_GE(p->siblings.size(), 41u);
    EXPECT_TRUE(VerifyProof(*t.Root(), k, *t.Get(k), *p).ok());
  }
  // Two keys equal in their first 63 bits cannot both be stored with max_levels 64.
  const Fr d = F(5), e = F(5 + (uint64_t{1} << 63));
  engine::WriteBatch batch;
  auto r = t.Apply(std::vector<SmtUpdate>{{d, F(1)}, {e, F(2)}}, 2, batch);
  EXPECT_TRUE(r.status().IsInvalidArgument()) << r.status().ToString();
  EXPECT_TRUE(batch.Empty()) << "a refused apply stages nothing";
  // With more levels they fit.
  auto wide = Tree(2, SmtOptions{.max_levels = 65});
  Commit(wide, {{d, F(1)}, {e, F(2)}}, 1);
  EXPECT_EQ(wide.Prove(e)->siblings.size(), 64u);
}

TEST_F(SmtTest, ProofsVerifyAndTamperingIsRejected) {
  std::mt19937_64 rng(9);
  auto t = Tree();
  std::vector<SmtUpdate> kv;
  for (int i = 0; i < 200; ++i)
    kv.push_back({Fr::FromLimbsReduced({rng(), rng(), rng(), rng()}), F(i)});
  const Fr root = Commit(t, kv, 1);
  for (int i = 0; i < 20; ++i) {
    const SmtUpdate& u = kv[i];
    auto p = t.Prove(u.key);
    ASSERT_TRUE(p.ok());
    ASSERT_TRUE(p->existence);
    EXPECT_TRUE(VerifyProof(root, u.key, *u.value, *p).ok());
    EXPECT_FALSE(VerifyProof(root, u.key, *u.value + Fr::One(), *p).ok()) << "wrong value";
    EXPECT_FALSE(VerifyProof(root, u.key, std::nullopt, *p).ok()) << "claims absence";
    EXPECT_FALSE(VerifyProof(root + Fr::One(), u.key, *u.value, *p).ok()) << "wrong root";
    // A non-inclusion proof for a present key cannot be made to verify.
    SmtProof forged = *p;
    forged.existence = false;
    EXPECT_FALSE(VerifyProof(root, u.key, std::nullopt, forged).ok());
    // Every single-bit flip of the binary form is refused (checked on a few proofs: each
    // costs thousands of verifications).
    const std::string bin = p->EncodeBinary();
    EXPECT_EQ(*SmtProof::DecodeBinary(bin), *p);
    for (std::size_t bit = 0; i < 2 && bit < bin.size() * 8; ++bit) {
      std::string flipped = bin;
      flipped[bit / 8] ^= static_cast<char>(1 << (bit % 8));
      auto decoded = SmtProof::DecodeBinary(flipped);
      if (!decoded.ok()) continue;
      EXPECT_FALSE(VerifyProof(root, u.key, *u.value, *decoded).ok()) << "bit " << bit;
    }
    EXPECT_EQ(*SmtProof::FromJson(p->ToJson()), *p);
  }
  // Absent keys: non-inclusion proofs, with and without node_aux.
  int with_aux = 0, flipped_aux = 0, flipped_plain = 0;
  for (int i = 0; i < 50; ++i) {
    const Fr k = Fr::FromLimbsReduced({rng(), rng(), rng(), rng()});
    auto p = t.Prove(k);
    ASSERT_TRUE(p.ok());
    EXPECT_FALSE(p->existence);
    with_aux += p->node_aux.has_value();
    EXPECT_TRUE(VerifyProof(root, k, std::nullopt, *p).ok());
    EXPECT_FALSE(VerifyProof(root, k, F(0), *p).ok()) << "claims presence";
    const std::string bin = p->EncodeBinary();
    EXPECT_EQ(*SmtProof::DecodeBinary(bin), *p);
    int& flipped = p->node_aux.has_value() ? flipped_aux : flipped_plain;
    const bool flip_all = flipped++ < 2;
    for (std::size_t bit = 0; flip_all && bit < bin.size() * 8; ++bit) {
      std::string flipped = bin;
      flipped[bit / 8] ^= static_cast<char>(1 << (bit % 8));
      auto decoded = SmtProof::DecodeBinary(flipped);
      if (!decoded.ok()) continue;
      EXPECT_FALSE(VerifyProof(root, k, std::nullopt, *decoded).ok()) << "bit " << bit;
    }
  }
  EXPECT_GT(with_aux, 0);
  EXPECT_GT(flipped_plain, 0) << "no non-inclusion proof without node_aux was bit-flipped";
}

TEST_F(SmtTest, AlteredJsonFieldsAreRejected) {
  auto t = Tree();
  const Fr root = Commit(t, {{F(1), F(2)}, {F(33), F(44)}, {F(1234), F(9876)}}, 1);
  auto p = t.Prove(F(33));
  ASSERT_TRUE(p.ok());
  auto absent = t.Prove(F(5));
  ASSERT_TRUE(absent.ok());
  const std::string json = p->ToJson();
  ASSERT_TRUE(VerifyProof(root, F(33), F(44), *SmtProof::FromJson(json)).ok());
  // Each sibling changed, the existence flag flipped, a sibling added or removed.
  for (std::size_t i = 0; i < p->siblings.size(); ++i) {
    SmtProof q = *p;
    q.siblings[i] += Fr::One();
    EXPECT_FALSE(VerifyProof(root, F(33), F(44), *SmtProof::FromJson(q.ToJson())).ok()) << i;
  }
  SmtProof longer = *p;
  longer.siblings.push_back(F(7));
  EXPECT_FALSE(VerifyProof(root, F(33), F(44), *SmtProof::FromJson(longer.ToJson())).ok());
  SmtProof shorter = *p;
  shorter.siblings.erase(shorter.siblings.begin());
  EXPECT_FALSE(VerifyProof(root, F(33), F(44), *SmtProof::FromJson(shorter.ToJson())).ok());
  SmtProof with_aux = *absent;
  with_aux.node_aux = NodeAux{F(1), F(2)};
  EXPECT_FALSE(VerifyProof(root, F(5), std::nullopt, with_aux).ok());
  // Malformed JSON is refused outright.
  for (const char* bad :
       {"", "[]", "{}", R"({"existence":1,"siblings":[]})", R"({"existence":true,"siblings":[5]})",
        R"({"existence":true,"siblings":["-1"]})",
        R"({"existence":false,"siblings":[],"node_aux":{"key":"1"}})",
        R"({"existence":true,"siblings":[],"extra":0})"}) {
    EXPECT_TRUE(SmtProof::FromJson(bad).status().IsCorruption()) << bad;
  }
}

TEST_F(SmtTest, PersistsAcrossReopenAndProvesOldVersions) {
  std::map<uint64_t, Fr> roots;
  {
    auto t = Tree();
    for (uint64_t v = 1; v <= 10; ++v) roots[v] = Commit(t, {{F(v), F(v * 100)}}, v * 3);
  }
  Reopen();
  auto t = Tree();
  EXPECT_EQ(*t.LatestVersion(), std::optional<uint64_t>(30));
  for (uint64_t v = 1; v <= 10; ++v) {
    EXPECT_EQ(*t.Root(v * 3), roots[v]);
    // At version 3v, key v is present and key v + 1 is not.
    auto in = t.Prove(F(v), v * 3);
    ASSERT_TRUE(in.ok());
    EXPECT_TRUE(VerifyProof(roots[v], F(v), F(v * 100), *in).ok());
    auto out = t.Prove(F(v + 1), v * 3);
    ASSERT_TRUE(out.ok());
    EXPECT_TRUE(VerifyProof(roots[v], F(v + 1), std::nullopt, *out).ok());
  }
  EXPECT_TRUE(t.Root(4).status().IsNotFound()) << "never applied";
  // Versions 3, 6, ..., 30 end batches: an index inside one is answered by its batch's end.
  EXPECT_EQ(*t.VersionCovering(3), 3u);
  EXPECT_EQ(*t.VersionCovering(4), 6u);
  EXPECT_EQ(*t.VersionCovering(5), 6u);
  EXPECT_EQ(*t.VersionCovering(30), 30u);
  EXPECT_TRUE(t.VersionCovering(31).status().IsNotFound()) << "above the newest";
  EXPECT_EQ(*t.VersionCovering(1), 3u) << "the first batch: nothing was pruned yet";
  engine::WriteBatch batch;
  EXPECT_TRUE(
      t.Apply(std::vector<SmtUpdate>{{F(1), F(1)}}, 30, batch).status().IsInvalidArgument());
}

// Large batches are hashed over threads (SmtOptions::hash_threads): the same updates give the
// same roots, proofs and stored records on one thread and on four, built from empty and updated.
TEST_F(SmtTest, ThreadsHashLargeBatchesIntoTheSameTree) {
  auto one = Tree(1, SmtOptions{.hash_threads = 1});
  auto four = Tree(2, SmtOptions{.hash_threads = 4});
  std::mt19937_64 rng(21);
  std::vector<Fr> keys;
  for (int i = 0; i < 4000; ++i) keys.push_back(Fr::FromLimbsReduced({rng(), rng(), rng(), rng()}));
  std::vector<SmtUpdate> build;
  for (const Fr& k : keys) build.push_back({k, F(rng() % 1000)});
  EXPECT_EQ(Commit(one, build, 1), Commit(four, build, 1)) << "built from empty";
  std::vector<SmtUpdate> change;
  for (int i = 0; i < 3000; ++i) {
    const Fr& k = keys[rng() % keys.size()];
    if (rng() % 4 == 0) {
      change.push_back({k, std::nullopt});
    } else {
      change.push_back(
          {rng() % 2 ? k : Fr::FromLimbsReduced({rng(), rng(), rng(), rng()}), F(rng() % 1000)});
    }
  }
  const Fr root = Commit(four, change, 2);
  EXPECT_EQ(Commit(one, change, 2), root) << "updated";
  EXPECT_EQ(one.parallel_splits(), 0u);
  EXPECT_GT(four.parallel_splits(), 0u) << "the large batches were split over threads";
  for (int i = 0; i < 50; ++i) {
    const Fr& k = keys[rng() % keys.size()];
    auto value = four.Get(k);
    auto p = four.Prove(k);
    ASSERT_TRUE(value.ok() && p.ok());
    EXPECT_TRUE(VerifyProof(root, k, *value, *p).ok());
  }
  // The same nodes were stored: each tree's records, keys without the tree's prefix, agree.
  auto records = [&](uint64_t id) {
    engine::IteratorOptions io;
    io.prefix = TreeKeyPrefix(id);
    std::vector<std::pair<std::string, std::string>> out;
    auto it = engine_->NewIterator(ColumnFamily::kIndex, io);
    for (it->SeekToFirst(); it->Valid(); it->Next())
      out.emplace_back(std::string(it->key().substr(io.prefix.size())), std::string(it->value()));
    return out;
  };
  EXPECT_EQ(records(1), records(2));
  EXPECT_TRUE(SparseMerkleTree::Open(engine_.get(), 3, SmtOptions{.hash_threads = 0})
                  .status()
                  .IsInvalidArgument());
}

TEST_F(SmtTest, PruningKeepsExactlyTheConfiguredVersions) {
  auto t = Tree(1, SmtOptions{.max_levels = 64, .keep_versions = 5});
  std::mt19937_64 rng(8);
  std::vector<Fr> keys;
  for (int i = 0; i < 50; ++i) keys.push_back(Fr::FromLimbsReduced({rng(), rng(), rng(), rng()}));
  std::vector<SmtUpdate> initial;
  for (const Fr& k : keys) initial.push_back({k, F(0)});
  std::map<uint64_t, Fr> roots;
  roots[1] = Commit(t, initial, 1);
  for (uint64_t v = 2; v <= 40; ++v) {
    std::vector<SmtUpdate> change;
    for (int j = 0; j < 5; ++j) change.push_back({keys[rng() % keys.size()], F(v * 10 + j)});
    roots[v] = Commit(t, change, v);
  }
  for (uint64_t v = 1; v <= 40; ++v) {
    auto r = t.Root(v);
    if (v > 35) {
      ASSERT_TRUE(r.ok()) << v;
      EXPECT_EQ(*r, roots[v]);
      for (const Fr& k : keys) {
        auto p = t.Prove(k, v);
        ASSERT_TRUE(p.ok()) << "version " << v << ": " << p.status().ToString();
        auto value = t.Get(k, v);
        ASSERT_TRUE(value.ok() && value->has_value());
        EXPECT_TRUE(VerifyProof(roots[v], k, **value, *p).ok());
      }
    } else {
      EXPECT_TRUE(r.status().IsNotFound()) << "version " << v << " should be pruned";
    }
  }
  EXPECT_EQ(CountIndexRecords('r'), 5);
  EXPECT_EQ(*t.VersionCovering(36), 36u) << "the oldest kept version";
  EXPECT_TRUE(t.VersionCovering(35).status().IsNotFound()) << "pruned";
  // Nodes stay bounded: the live tree plus what the 4 older kept versions changed.
  const int nodes = CountIndexRecords('n');
  EXPECT_LT(nodes, 2 * 50 + 4 * 5 * 10 + 10) << "old nodes must be pruned";
}

TEST_F(SmtTest, UnwrittenBatchLeavesThePreviousRoot) {
  Fr r1;
  {
    auto t = Tree();
    r1 = Commit(t, {{F(1), F(2)}}, 1);
    engine::WriteBatch staged;
    ASSERT_TRUE(t.Apply(std::vector<SmtUpdate>{{F(3), F(4)}}, 2, staged).ok());
    EXPECT_GT(staged.Count(), 0u);
    // Crash here: the batch is never written.
  }
  Reopen();
  auto t = Tree();
  EXPECT_EQ(*t.Root(), r1);
  EXPECT_EQ(*t.LatestVersion(), std::optional<uint64_t>(1));
  EXPECT_EQ(*t.Get(F(3)), std::nullopt);
  EXPECT_NE(Commit(t, {{F(3), F(4)}}, 2), r1);
}

// Issue 19: the store-wide node cache. A tree that reads and writes through a small cache (so
// that it evicts) has every root and proof of a tree without one, and uses the cache.
TEST_F(SmtTest, ANodeCacheChangesNoRootOrProof) {
  NodeCache cache(64 << 10);
  auto plain = Tree(1);
  auto cached = Tree(2, SmtOptions{.cache = &cache});
  std::mt19937_64 rng(19);
  std::vector<Fr> keys;
  for (int i = 0; i < 300; ++i) keys.push_back(Fr::FromLimbsReduced({rng(), rng(), rng(), rng()}));
  for (uint64_t v = 1; v <= 80; ++v) {
    std::vector<SmtUpdate> change;
    for (int j = 0; j < 12; ++j) {
      const Fr& k = keys[rng() % keys.size()];
      change.push_back({k, rng() % 4 == 0 ? std::nullopt : std::optional(F(v * 100 + j))});
    }
    ASSERT_EQ(Commit(plain, change, v), Commit(cached, change, v)) << "version " << v;
    if (v % 20 == 0) {
      // A new object over the same tree and cache (a region reopened) goes on from the engine.
      cached = Tree(2, SmtOptions{.cache = &cache});
      for (int j = 0; j < 10; ++j) {
        const Fr& k = keys[rng() % keys.size()];
        auto a = plain.Prove(k), b = cached.Prove(k);
        ASSERT_TRUE(a.ok() && b.ok());
        EXPECT_EQ(a->EncodeBinary(), b->EncodeBinary());
      }
    }
  }
  EXPECT_GT(cache.hits(), 1000u);
  EXPECT_LE(cache.bytes(), cache.capacity());
  EXPECT_GT(cache.entries(), 100u);
}

// A caller that drops a batch after a successful Apply resets the tree: the version it dropped
// is applied again with other updates, and neither the tree nor the cache remembers the first.
TEST_F(SmtTest, ADroppedBatchIsForgottenAfterReset) {
  NodeCache cache(1 << 20);
  auto t = Tree(1, SmtOptions{.cache = &cache});
  std::vector<SmtUpdate> base;
  for (uint64_t i = 1; i <= 20; ++i) base.push_back({F(i * 7919), F(i)});
  Commit(t, base, 1);
  {
    engine::WriteBatch dropped;
    ASSERT_TRUE(
        t.Apply(std::vector<SmtUpdate>{{F(5 * 7919), F(555)}, {F(4242), F(1)}}, 2, dropped).ok());
  }
  t.Reset();
  const std::vector<SmtUpdate> instead{{F(3 * 7919), F(333)}};
  const Fr root = Commit(t, instead, 2);
  auto fresh = Tree(9);
  Commit(fresh, base, 1);
  EXPECT_EQ(root, Commit(fresh, instead, 2));
  EXPECT_EQ(*t.Get(F(5 * 7919)), std::optional(F(5)));
  EXPECT_EQ(*t.Get(F(4242)), std::nullopt);
  auto p = t.Prove(F(3 * 7919));
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(VerifyProof(root, F(3 * 7919), F(333), *p).ok());
}

TEST(NodeCache, EvictsTheLeastRecentlyUsedAndErasesATreesEntries) {
  const std::size_t one = NodeCache::Charge(10, 81);
  NodeCache cache(3 * one);
  const auto key = [](char tree, int i) {
    return std::string(1, tree) + "key-" + std::to_string(i) + "xxxx";
  };
  cache.Put(key('a', 1), std::string(81, '1'));
  cache.Put(key('a', 2), std::string(81, '2'));
  cache.Put(key('b', 3), std::string(81, '3'));
  EXPECT_EQ(cache.entries(), 3u);
  EXPECT_EQ(cache.Get(key('a', 1)), std::string(81, '1'));  // now the most recent
  cache.Put(key('b', 4), std::string(81, '4'));             // evicts a2, the least recent
  EXPECT_EQ(cache.Get(key('a', 2)), std::nullopt);
  EXPECT_TRUE(cache.Get(key('b', 3)).has_value());
  EXPECT_LE(cache.bytes(), cache.capacity());
  cache.ErasePrefix("b");
  EXPECT_EQ(cache.entries(), 1u);
  EXPECT_EQ(cache.bytes(), one);
  EXPECT_TRUE(cache.Get(key('a', 1)).has_value());
  NodeCache off(0);
  off.Put(key('a', 1), "x");
  EXPECT_EQ(off.entries(), 0u);
}

TEST_F(SmtTest, ReadersRunAlongsideOneWriter) {
  auto writer = Tree();
  auto reader = Tree();
  Commit(writer, {{F(1), F(1)}}, 1);
  std::atomic<bool> done{false};
  std::atomic<int> bad{0}, checked{0};
  std::thread r([&] {
    while (!done) {
      auto version = reader.LatestVersion();
      if (!version.ok() || !version->has_value()) continue;
      auto root = reader.Root(**version);
      auto p = reader.Prove(F(1), **version);
      if (!root.ok() || !p.ok()) {
        if (!(root.status().IsNotFound() || p.status().IsNotFound())) ++bad;
        continue;
      }
      auto v = reader.Get(F(1), **version);
      if (!v.ok() || !v->has_value() || !VerifyProof(*root, F(1), **v, *p).ok()) ++bad;
      ++checked;
    }
  });
  for (uint64_t v = 2; v <= 150; ++v) Commit(writer, {{F(1), F(v)}, {F(v), F(v)}}, v);
  done = true;
  r.join();
  EXPECT_GT(checked.load(), 0);
  EXPECT_EQ(bad.load(), 0);
}

TEST_F(SmtTest, BadOptionsAreRefused) {
  EXPECT_TRUE(
      SparseMerkleTree::Open(engine_.get(), 1, {.max_levels = 1}).status().IsInvalidArgument());
  EXPECT_TRUE(
      SparseMerkleTree::Open(engine_.get(), 1, {.max_levels = 242}).status().IsInvalidArgument());
  EXPECT_TRUE(
      SparseMerkleTree::Open(engine_.get(), 1, {.keep_versions = 0}).status().IsInvalidArgument());
  EXPECT_TRUE(SparseMerkleTree::Open(nullptr, 1).status().IsInvalidArgument());
}

}  // namespace
}  // namespace rustorium::proof
