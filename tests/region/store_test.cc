// The store's kv service over real sockets: three in-process stores host two regions; a
// client writes and reads through the RPC and checks every proof and root signature.
#include "region/store/store.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>
#include <tuple>

#include "base/fault_point.h"
#include "proof/smt/proof.h"
#include "region/rpc/channel.h"
#include "region/store/engine_limits.h"
#include "tests/support/raft_cluster.h"
#include "tests/test_util.h"

namespace rustorium::store {
namespace {

using namespace std::chrono_literals;
using rustorium::testing::TempDir;

struct StoreNode {
  std::unique_ptr<raft::testing::TestStore> base;
  StoreKey key = StoreKey::Generate();
  std::unique_ptr<Store> store;
};

class StoreTest : public ::testing::Test {
 protected:
  StoreTest() {
    raft_options_.tick = 20ms;
    raft_options_.heartbeat = 100ms;
    raft_options_.election = 1000ms;
  }
  void SetUp() override {
    const raft::MultiRaftOptions o = raft_options_;
    for (int i = 1; i <= 3; ++i) {
      auto n = std::make_unique<StoreNode>();
      n->base = std::make_unique<raft::testing::TestStore>(i, dir_.Sub("s" + std::to_string(i)), o);
      StoreNode* raw = n.get();
      n->base->set_engine_options(EngineOptionsFor({}));
      StoreServiceOptions service = service_;
      service.store_id = static_cast<uint64_t>(i);
      n->base->set_before_serve(
          [raw, service](raft::testing::TestStore& ts, rpc::RpcServer& server) {
            raw->store = std::make_unique<Store>(&ts.engine(), ts.raft(), raw->key, service);
            raw->store->RegisterHandlers(server);
          });
      nodes_.push_back(std::move(n));
    }
    for (auto& n : nodes_) ASSERT_TRUE(n->base->Start({}, {}).ok());
    for (uint64_t id : {1, 2}) {
      meta::Region r;
      r.set_id(id);
      if (id == 1) r.set_end_key("m");
      if (id == 2) r.set_start_key("m");
      r.mutable_epoch()->set_conf_ver(1);
      r.mutable_epoch()->set_version(1);
      for (auto& n : nodes_) {
        meta::Peer* p = r.add_peers();
        p->set_store_id(n->base->id());
        p->set_address(n->base->address());
      }
      regions_[id] = r;
      for (auto& n : nodes_) {
        ASSERT_TRUE(n->base->Sync([&] { return n->store->AddRegion(r); }).ok());
      }
    }
    ASSERT_TRUE(
        raft::testing::WaitFor([&] { return Leader(1) != nullptr && Leader(2) != nullptr; }, 30s));
  }
  void TearDown() override {
    channels_.clear();
    for (auto& n : nodes_) n->base->Stop();
  }

  StoreNode* Leader(uint64_t region) {
    for (auto& n : nodes_) {
      if (!n->base->running()) continue;
      auto info = n->base->Info(region);
      if (info && info->role == raft::Role::kLeader) return n.get();
    }
    return nullptr;
  }
  // The leader of `region` once one is elected (nullptr after 30 s).
  StoreNode* WaitLeader(uint64_t region) {
    raft::testing::WaitFor([&] { return Leader(region) != nullptr; }, 30s);
    return Leader(region);
  }
  StoreNode* Follower(uint64_t region) {
    for (auto& n : nodes_) {
      if (n->base->running() && n.get() != Leader(region)) return n.get();
    }
    return nullptr;
  }
  rpc::RpcChannel& ChannelTo(StoreNode* n) {
    auto& c = channels_[n->base->id()];
    if (!c) {
      const rpc::HostPort hp = *rpc::ParseAddress(n->base->address());
      c = std::make_unique<rpc::RpcChannel>(client_loop_, hp.host, hp.port);
    }
    return *c;
  }
  template <typename Response>
  Response Call(StoreNode* n, const std::string& method, const google::protobuf::Message& request) {
    auto r = ChannelTo(n).CallSync(method, request.SerializeAsString(), 10s);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    Response out;
    if (r.ok()) {
      EXPECT_TRUE(out.ParseFromString(*r));
    }
    return out;
  }
  kv::WriteResponse Put(StoreNode* n, uint64_t region, const std::string& k, const std::string& v) {
    kv::WriteRequest req;
    req.set_region_id(region);
    *req.mutable_epoch() = regions_[region].epoch();
    Mutation* m = req.mutable_command()->mutable_write()->add_mutations();
    m->set_key(k);
    m->set_value(v);
    return Call<kv::WriteResponse>(n, "kv.Write", req);
  }
  // Put at the region's leader, following leader changes (up to 30 s): the answer without a
  // region error.
  kv::WriteResponse PutAt(uint64_t region, const std::string& k, const std::string& v) {
    kv::WriteResponse w;
    const auto give_up = std::chrono::steady_clock::now() + 30s;
    do {
      StoreNode* leader = WaitLeader(region);
      if (leader == nullptr) break;
      w = Put(leader, region, k, v);
      if (!w.has_region_error()) return w;
      std::this_thread::sleep_for(50ms);
    } while (std::chrono::steady_clock::now() < give_up);
    ADD_FAILURE() << "no leader of region " << region << " took the write of " << k;
    return w;
  }
  kv::GetResponse Get(StoreNode* n, uint64_t region, const std::string& k) {
    kv::GetRequest req;
    req.set_region_id(region);
    *req.mutable_epoch() = regions_[region].epoch();
    req.set_key(k);
    return Call<kv::GetResponse>(n, "kv.Get", req);
  }
  // Checks the root's signature by the store's key and the proof of `kv` against it.
  static ::testing::AssertionResult Verified(const StoreNode& n, const kv::SignedRoot& root,
                                             const kv::KvProof& kv) {
    auto parsed = RootFromBytes(root.root());
    if (!parsed.ok()) return ::testing::AssertionFailure() << parsed.status().ToString();
    const proof::Fr r = *parsed;
    if (!VerifySignature(n.key.public_key_bytes(),
                         RootStatement(root.region_id(), root.epoch().conf_ver(),
                                       root.epoch().version(), root.applied_index(), r),
                         root.signature())) {
      return ::testing::AssertionFailure() << "signature does not verify";
    }
    auto p = proof::SmtProof::DecodeBinary(kv.proof());
    if (!p.ok()) return ::testing::AssertionFailure() << p.status().ToString();
    std::optional<proof::Fr> value;
    if (kv.found()) value = TreeValue(kv.value());
    Status s = proof::VerifyProof(r, TreeKey(kv.key()), value, *p);
    if (!s.ok()) return ::testing::AssertionFailure() << s.ToString();
    return ::testing::AssertionSuccess();
  }

  // The state machine of `region` at `n` (nullptr when it does not host it).
  static RegionFsm* Fsm(StoreNode& n, uint64_t region) {
    return n.base->Sync([&] {
      RegionFsm* out = nullptr;
      n.store
          ->WithRegion(region,
                       [&](RegionFsm* fsm) {
                         out = fsm;
                         return Status::OK();
                       })
          .IgnoreError();
      return out;
    });
  }
  // (applied index, root) of `region` at `n`, and whether its root is the one its data implies.
  static std::tuple<uint64_t, std::string, bool> RegionState(StoreNode& n, uint64_t region) {
    RegionFsm* fsm = Fsm(n, region);
    return n.base->Sync([&] {
      if (fsm == nullptr) return std::make_tuple(uint64_t{0}, std::string(), false);
      const std::string root = fsm->Root()->ToHex();
      return std::make_tuple(fsm->AppliedIndex(), root, fsm->RootFromData()->ToHex() == root);
    });
  }
  // Every store holds `region` at the same applied index and root, each its data's root.
  bool Converged(uint64_t region) {
    const auto first = RegionState(*nodes_[0], region);
    for (auto& n : nodes_) {
      const auto s = RegionState(*n, region);
      if (s != first || !std::get<2>(s)) return false;
    }
    return true;
  }
  kv::SplitResponse SplitAt(uint64_t region, const std::string& key, uint64_t new_id) {
    kv::SplitRequest req;
    req.set_region_id(region);
    *req.mutable_epoch() = regions_[region].epoch();
    req.set_split_key(key);
    req.set_new_region_id(new_id);
    kv::SplitResponse out;
    EXPECT_TRUE(raft::testing::WaitFor([&] { return Leader(region) != nullptr; }, 30s));
    out = Call<kv::SplitResponse>(Leader(region), "store.Split", req);
    if (out.regions_size() == 2) {
      regions_[region] = out.regions(0);
      regions_[new_id] = out.regions(1);
    }
    return out;
  }

  // Hands `region`'s leadership to `to` (store.TransferLeader at its leader): true once `to`
  // leads it (within 30 s).
  bool MoveLeader(uint64_t region, StoreNode* to) {
    return raft::testing::WaitFor(
        [&] {
          StoreNode* now = Leader(region);
          if (now == to) return true;
          if (now == nullptr) return false;
          kv::TransferLeaderRequest req;
          req.set_region_id(region);
          *req.mutable_epoch() = regions_[region].epoch();
          req.set_to_store_id(to->base->id());
          const auto moved = Call<kv::TransferLeaderResponse>(now, "store.TransferLeader", req);
          EXPECT_TRUE(moved.error().empty()) << moved.error();
          return Leader(region) == to;
        },
        30s);
  }

  // The stores' Raft and kv options (store_id set per store); a derived fixture changes them.
  raft::MultiRaftOptions raft_options_;
  StoreServiceOptions service_;
  TempDir dir_;
  std::vector<std::unique_ptr<StoreNode>> nodes_;
  std::map<uint64_t, meta::Region> regions_;
  rpc::EventLoop client_loop_;
  std::map<uint64_t, std::unique_ptr<rpc::RpcChannel>> channels_;
};

TEST_F(StoreTest, WritesAndReadsCarrySignedVerifiedProofs) {
  StoreNode* leader = Leader(1);
  kv::WriteResponse w = Put(leader, 1, "apple", "red");
  ASSERT_FALSE(w.has_region_error()) << w.region_error().message();
  ASSERT_TRUE(w.result().error().empty()) << w.result().error();
  ASSERT_EQ(w.proofs_size(), 1);
  kv::KvProof written = w.proofs(0);
  written.set_value("red");
  EXPECT_TRUE(written.found());
  EXPECT_TRUE(Verified(*leader, w.root(), written));

  kv::GetResponse g = Get(leader, 1, "apple");
  ASSERT_FALSE(g.has_region_error()) << g.region_error().message();
  EXPECT_EQ(g.kv().value(), "red");
  EXPECT_GE(g.root().applied_index(), w.root().applied_index());
  EXPECT_TRUE(Verified(*leader, g.root(), g.kv()));

  // Tampering is caught: another value, another key's proof, another store's key.
  kv::KvProof tampered = g.kv();
  tampered.set_value("green");
  EXPECT_FALSE(Verified(*leader, g.root(), tampered));
  kv::SignedRoot forged = g.root();
  forged.set_applied_index(forged.applied_index() + 1);
  EXPECT_FALSE(Verified(*leader, forged, g.kv()));
  EXPECT_FALSE(Verified(*Follower(1), g.root(), g.kv())) << "signed by an unknown key";

  // A missing key comes with a verified non-inclusion proof.
  kv::GetResponse missing = Get(leader, 1, "banana");
  EXPECT_FALSE(missing.kv().found());
  EXPECT_TRUE(Verified(*leader, missing.root(), missing.kv()));
}

// store.Stats: one signature per root statement (an apply run's answers and the reads at the
// same applied index share it), and hashing finds the tree's nodes in the store's cache.
TEST_F(StoreTest, OneSignaturePerRootStatementAndTheIndexCacheServesHashing) {
  StoreNode* leader = Leader(1);
  auto stats = [&] {
    return Call<kv::StoreStatsResponse>(leader, "store.Stats", kv::StoreStatsRequest());
  };
  const kv::StoreStatsResponse before = stats();
  EXPECT_EQ(before.store_id(), leader->base->id());
  EXPECT_EQ(before.regions(), 2u);
  EXPECT_GT(before.rss_bytes(), 0u);
  EXPECT_EQ(before.index_cache_capacity_bytes(), service_.index_cache_bytes);

  // Concurrent writes: each distinct (applied index, root) of their answers is signed once.
  constexpr int kWrites = 32;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<kv::WriteResponse> answers;
  int failed = 0;
  for (int i = 0; i < kWrites; ++i) {
    kv::WriteRequest req;
    req.set_region_id(1);
    *req.mutable_epoch() = regions_[1].epoch();
    Mutation* m = req.mutable_command()->mutable_write()->add_mutations();
    m->set_key("k" + std::to_string(i));
    m->set_value("v");
    ChannelTo(leader).Call("kv.Write", req.SerializeAsString(), 10s, [&](Result<std::string> r) {
      std::lock_guard<std::mutex> lock(mu);
      kv::WriteResponse w;
      if (r.ok() && w.ParseFromString(*r) && !w.has_region_error()) {
        answers.push_back(std::move(w));
      } else {
        ++failed;
      }
      cv.notify_all();
    });
  }
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 30s,
                            [&] { return static_cast<int>(answers.size()) + failed == kWrites; }));
  }
  ASSERT_EQ(failed, 0);
  std::set<std::pair<uint64_t, std::string>> statements;
  for (const kv::WriteResponse& w : answers) {
    statements.insert({w.root().applied_index(), w.root().root()});
    ASSERT_EQ(w.proofs_size(), 1);
    kv::KvProof written = w.proofs(0);
    written.set_value("v");  // a write's proof names the key; the client knows the value
    EXPECT_TRUE(Verified(*leader, w.root(), written));
  }
  const kv::StoreStatsResponse written = stats();
  EXPECT_EQ(written.roots_signed() - before.roots_signed(), statements.size());
  EXPECT_EQ(written.roots_reused() - before.roots_reused(), kWrites - statements.size());

  // Reads with no write between them answer the last statement: no new signature.
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(Get(leader, 1, "k" + std::to_string(i)).kv().found());
  const kv::StoreStatsResponse read = stats();
  EXPECT_LE(read.roots_signed() - written.roots_signed(), 1u) << "the first read may sign";
  EXPECT_GE(read.roots_reused() - written.roots_reused(), 4u);

  // The writes put their nodes in the cache and found their paths there.
  EXPECT_GT(read.index_cache_entries(), 0u);
  EXPECT_GT(read.index_cache_bytes(), 0u);
  EXPECT_LE(read.index_cache_bytes(), read.index_cache_capacity_bytes());
  EXPECT_GT(read.index_cache_hits(), before.index_cache_hits());
}

TEST_F(StoreTest, SkipProofsLeavesOutProofsButKeepsTheSignedRoot) {
  StoreNode* leader = Leader(1);
  kv::WriteRequest put;
  put.set_region_id(1);
  *put.mutable_epoch() = regions_[1].epoch();
  put.set_skip_proofs(true);
  Mutation* m = put.mutable_command()->mutable_write()->add_mutations();
  m->set_key("cherry");
  m->set_value("dark");
  kv::WriteResponse w = Call<kv::WriteResponse>(leader, "kv.Write", put);
  ASSERT_FALSE(w.has_region_error()) << w.region_error().message();
  ASSERT_TRUE(w.result().error().empty()) << w.result().error();
  EXPECT_EQ(w.proofs_size(), 0);
  EXPECT_EQ(w.root().root(), w.result().root());
  EXPECT_FALSE(w.root().signature().empty());

  kv::GetRequest get;
  get.set_region_id(1);
  *get.mutable_epoch() = regions_[1].epoch();
  get.set_key("cherry");
  get.set_skip_proofs(true);
  kv::GetResponse g = Call<kv::GetResponse>(leader, "kv.Get", get);
  ASSERT_FALSE(g.has_region_error()) << g.region_error().message();
  EXPECT_TRUE(g.kv().found());
  EXPECT_EQ(g.kv().value(), "dark");
  EXPECT_TRUE(g.kv().proof().empty());

  // The tree was updated all the same: a read with proofs verifies at the root it names.
  kv::GetResponse proven = Get(leader, 1, "cherry");
  EXPECT_EQ(proven.kv().value(), "dark");
  EXPECT_TRUE(Verified(*leader, proven.root(), proven.kv()));
}

TEST_F(StoreTest, ClientErrorsNameWhatToDo) {
  StoreNode* follower = Follower(1);
  StoreNode* leader = Leader(1);
  kv::WriteResponse w = Put(follower, 1, "a", "1");
  ASSERT_TRUE(w.region_error().has_not_leader()) << w.region_error().message();
  EXPECT_EQ(w.region_error().not_leader().leader_store_id(), leader->base->id());
  EXPECT_EQ(w.region_error().not_leader().leader_address(), leader->base->address());
  kv::GetResponse g = Get(follower, 1, "a");
  EXPECT_TRUE(g.region_error().has_not_leader());

  w = Put(leader, 1, "zebra", "out of range");
  ASSERT_TRUE(w.region_error().has_key_not_in_region());
  EXPECT_EQ(w.region_error().key_not_in_region().end_key(), "m");

  kv::WriteRequest stale;
  stale.set_region_id(1);
  stale.mutable_epoch()->set_conf_ver(0);
  Mutation* m = stale.mutable_command()->mutable_write()->add_mutations();
  m->set_key("a");
  m->set_value("v");
  w = Call<kv::WriteResponse>(leader, "kv.Write", stale);
  ASSERT_TRUE(w.region_error().has_epoch_not_match());
  EXPECT_EQ(w.region_error().epoch_not_match().current_regions_size(), 2);

  stale.set_region_id(99);
  w = Call<kv::WriteResponse>(leader, "kv.Write", stale);
  EXPECT_TRUE(w.region_error().has_region_not_found());

  auto garbage = ChannelTo(leader).CallSync("kv.Write", "\xff\xff\xff", 10s);
  EXPECT_EQ(garbage.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(StoreTest, CompareAndSwapAndScanWithProofs) {
  StoreNode* leader = Leader(2);
  for (int i = 0; i < 12; ++i) {
    ASSERT_FALSE(
        Put(leader, 2, "n" + std::to_string(10 + i), "v" + std::to_string(i)).has_region_error());
  }
  kv::WriteRequest cas;
  cas.set_region_id(2);
  *cas.mutable_epoch() = regions_[2].epoch();
  CompareAndSwap* c = cas.mutable_command()->mutable_cas();
  c->set_key("n10");
  c->set_expect_exists(true);
  c->set_expected("wrong");
  c->mutable_set()->set_key("n10");
  c->mutable_set()->set_value("swapped");
  kv::WriteResponse r = Call<kv::WriteResponse>(leader, "kv.Write", cas);
  EXPECT_FALSE(r.result().cas_succeeded());
  EXPECT_EQ(r.result().cas_previous(), "v0");
  c->set_expected("v0");
  r = Call<kv::WriteResponse>(leader, "kv.Write", cas);
  EXPECT_TRUE(r.result().cas_succeeded());
  EXPECT_EQ(Get(leader, 2, "n10").kv().value(), "swapped");

  kv::ScanRequest scan;
  scan.set_region_id(2);
  *scan.mutable_epoch() = regions_[2].epoch();
  scan.set_start_key("n12");
  scan.set_end_key("n20");
  scan.set_limit(5);
  kv::ScanResponse s = Call<kv::ScanResponse>(leader, "kv.Scan", scan);
  ASSERT_EQ(s.kvs_size(), 5);
  EXPECT_TRUE(s.more());
  EXPECT_EQ(s.kvs(0).key(), "n12");
  for (const kv::KvProof& kv : s.kvs()) EXPECT_TRUE(Verified(*leader, s.root(), kv)) << kv.key();
  scan.set_start_key(s.next_key());
  s = Call<kv::ScanResponse>(leader, "kv.Scan", scan);
  ASSERT_EQ(s.kvs_size(), 3);  // n17, n18, n19: the end is exclusive
  EXPECT_FALSE(s.more());
  EXPECT_EQ(s.kvs(2).key(), "n19");
  scan.set_limit(0);
  EXPECT_EQ(ChannelTo(leader).CallSync("kv.Scan", scan.SerializeAsString(), 10s).status().code(),
            StatusCode::kInvalidArgument);
}

// The scenario of issue 18: a key of exactly max_key_size (8 KiB) once froze the region (the
// engine refused the data key with its prefix, and libraft retried the entry forever).
TEST_F(StoreTest, AKeyOfTheMaximumSizeIsStoredAndOneByteMoreIsRefusedAtTheDoor) {
  StoreNode* leader = Leader(2);
  const std::string at_limit = "n" + std::string(kMaxKeySize - 1, 'k');
  kv::WriteResponse w = Put(leader, 2, at_limit, "v");
  ASSERT_FALSE(w.has_region_error()) << w.region_error().message();
  EXPECT_TRUE(w.result().error().empty()) << w.result().error();
  EXPECT_EQ(Get(leader, 2, at_limit).kv().value(), "v");
  // One byte more: refused before it is proposed, naming the limit.
  kv::WriteRequest req;
  req.set_region_id(2);
  *req.mutable_epoch() = regions_[2].epoch();
  Mutation* m = req.mutable_command()->mutable_write()->add_mutations();
  m->set_key(at_limit + "k");
  m->set_value("v");
  const uint64_t applied = leader->base->Info(2)->last_applied;
  auto r = ChannelTo(leader).CallSync("kv.Write", req.SerializeAsString(), 10s);
  ASSERT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
  EXPECT_NE(r.status().message().find("max_key_size 8192"), std::string::npos)
      << r.status().message();
  EXPECT_EQ(leader->base->Info(2)->last_applied, applied) << "nothing was proposed";
  // The region keeps serving.
  EXPECT_TRUE(Put(leader, 2, "n-after", "ok").result().error().empty());
  EXPECT_EQ(Get(leader, 2, "n-after").kv().value(), "ok");
}

TEST_F(StoreTest, ASplitMakesANewRegionOnEveryStoreThatServesVerifiedProofs) {
  const std::vector<std::string> keys = {"n1", "p2", "s3", "u4", "w5", "y6"};
  for (const std::string& k : keys) ASSERT_TRUE(PutAt(2, k, "v-" + k).result().error().empty());
  const meta::Region before = regions_[2];
  ASSERT_TRUE(raft::testing::WaitFor([&] { return Converged(2); }, 30s));
  const std::string root_before = std::get<1>(RegionState(*nodes_[0], 2));
  const kv::SplitResponse split = SplitAt(2, "t", 3);
  ASSERT_FALSE(split.has_region_error()) << split.region_error().message();
  ASSERT_TRUE(split.error().empty()) << split.error();
  ASSERT_EQ(split.regions_size(), 2);
  EXPECT_EQ(regions_[2].end_key(), "t");
  EXPECT_EQ(regions_[3].start_key(), "t");
  EXPECT_EQ(regions_[3].end_key(), "");
  EXPECT_EQ(regions_[3].epoch().version(), 2u);

  // Every store starts the new region, which elects a leader.
  ASSERT_TRUE(WaitLeader(3) != nullptr);
  for (auto& n : nodes_) {
    ASSERT_TRUE(raft::testing::WaitFor([&] { return Fsm(*n, 3) != nullptr; }, 30s));
  }
  // Every replica recorded the same statement of what the split changed: the old root, and
  // each half's first root; each store signs it where it reports the halves.
  ASSERT_TRUE(raft::testing::WaitFor([&] { return Converged(2) && Converged(3); }, 30s));
  const std::string statement = Fsm(*nodes_[0], 3)->region().origin_statement();
  auto facts = ParseSplitStatement(statement);
  ASSERT_TRUE(facts.ok()) << facts.status().ToString();
  EXPECT_EQ(facts->parent_id, 2u);
  EXPECT_EQ(facts->parent_version, 1u);
  EXPECT_EQ(facts->split_key, "t");
  EXPECT_EQ(facts->parent_root.ToHex(), root_before);
  EXPECT_EQ(facts->left_id, 2u);
  EXPECT_EQ(facts->left_root.ToHex(), std::get<1>(RegionState(*nodes_[0], 2)));
  EXPECT_EQ(facts->right_id, 3u);
  EXPECT_EQ(facts->right_root.ToHex(), std::get<1>(RegionState(*nodes_[0], 3)));
  for (auto& n : nodes_) {
    EXPECT_EQ(Fsm(*n, 2)->region().origin_statement(), statement);
    EXPECT_EQ(Fsm(*n, 3)->region().origin_statement(), statement);
    for (const meta::Region& r : n->base->Sync([&] { return n->store->Regions(); })) {
      if (r.id() == 1) continue;
      EXPECT_EQ(r.origin_signer(), n->base->id());
      EXPECT_TRUE(VerifySignature(n->key.public_key_bytes(), statement, r.origin_signature()));
    }
  }
  // The moved keys are read from the new region, with proofs at its root.
  for (const std::string& k : {std::string("u4"), std::string("y6")}) {
    kv::GetResponse g = Get(WaitLeader(3), 3, k);
    ASSERT_FALSE(g.has_region_error()) << g.region_error().message();
    EXPECT_EQ(g.kv().value(), "v-" + k);
    EXPECT_TRUE(Verified(*WaitLeader(3), g.root(), g.kv()));
  }
  kv::GetResponse kept = Get(WaitLeader(2), 2, "p2");
  ASSERT_FALSE(kept.has_region_error());
  EXPECT_EQ(kept.kv().value(), "v-p2");
  EXPECT_TRUE(Verified(*WaitLeader(2), kept.root(), kept.kv()));
  EXPECT_EQ(kept.root().epoch().version(), 2u);
  // The old region no longer answers for them.
  EXPECT_TRUE(Get(WaitLeader(2), 2, "u4").region_error().has_key_not_in_region());
  // A request at the old epoch is told the regions as they are now.
  kv::GetRequest stale;
  stale.set_region_id(2);
  *stale.mutable_epoch() = before.epoch();
  stale.set_key("p2");
  kv::GetResponse refused = Call<kv::GetResponse>(WaitLeader(2), "kv.Get", stale);
  ASSERT_TRUE(refused.region_error().has_epoch_not_match());
  std::set<uint64_t> listed;
  for (const meta::Region& r : refused.region_error().epoch_not_match().current_regions())
    listed.insert(r.id());
  EXPECT_TRUE(listed.count(2) == 1 && listed.count(3) == 1);
  // A split of the new region at its own start is done already.
  EXPECT_EQ(SplitAt(3, "t", 4).regions_size(), 1);

  // Both halves take writes; every replica agrees and each index matches its data.
  kv::WriteResponse w = PutAt(3, "z9", "new");
  ASSERT_TRUE(w.result().error().empty()) << w.result().error();
  ASSERT_EQ(w.proofs_size(), 1);
  kv::KvProof written = w.proofs(0);
  written.set_value("new");
  EXPECT_TRUE(Verified(*WaitLeader(3), w.root(), written));
  ASSERT_TRUE(PutAt(2, "o7", "left").result().error().empty());
  for (uint64_t r : {2, 3})
    EXPECT_TRUE(raft::testing::WaitFor([&] { return Converged(r); }, 30s)) << "region " << r;

  // A restarted store opens both halves from what it recorded.
  StoreNode& restarted = *nodes_[2];
  restarted.base->Stop();
  ASSERT_TRUE(restarted.base->Start({}, {}).ok());
  ASSERT_TRUE(restarted.base->Sync([&] { return restarted.store->OpenRecordedRegions(); }).ok());
  EXPECT_EQ(Fsm(restarted, 2)->range().end, "t");
  EXPECT_EQ(Fsm(restarted, 3)->range().start, "t");
  ASSERT_TRUE(PutAt(3, "z10", "after restart").result().error().empty());
  for (uint64_t r : {2, 3})
    EXPECT_TRUE(raft::testing::WaitFor([&] { return Converged(r); }, 30s)) << "region " << r;
}

// PD lists a new region on a store as soon as the split is done somewhere; a heartbeat may ask
// the store to host it while the store's own apply of the split has narrowed the old region but
// not yet written the new one's records. Opened then, the new region would start empty beside
// the records the split writes (a fault run lost acknowledged writes that way): the store says
// busy until the split is written, then opens it from its records.
TEST_F(StoreTest, ANewRegionIsNotOpenedWhileTheSplitThatMakesItIsBeingWritten) {
  for (const std::string& k : {"n1", "p2", "u4", "y6"})
    ASSERT_TRUE(PutAt(2, k, "v-" + k).result().error().empty());
  ASSERT_TRUE(raft::testing::WaitFor([&] { return Converged(2); }, 30s));
  meta::Region right = regions_[2];
  right.set_id(3);
  right.set_start_key("t");
  right.mutable_epoch()->set_version(2);
  std::mutex mu;
  std::vector<Status> inside;  // what AddRegion said inside a split's window
  SetTestHookForTest("store.split_narrowed", [&] {
    for (auto& n : nodes_) {
      RegionFsm* fsm = Fsm(*n, 2);
      if (fsm == nullptr || !fsm->splitting()) continue;
      Status s = n->base->Sync([&] { return n->store->AddRegion(right); });
      std::lock_guard<std::mutex> lock(mu);
      inside.push_back(s);
    }
  });
  const kv::SplitResponse split = SplitAt(2, "t", 3);
  SetTestHookForTest("store.split_narrowed", nullptr);
  ASSERT_TRUE(split.error().empty()) << split.error();
  ASSERT_FALSE(inside.empty());
  for (const Status& s : inside) EXPECT_EQ(s.code(), StatusCode::kBusy) << s.ToString();
  // Every store opens the new region from the split's records: same root, the moved keys.
  for (auto& n : nodes_) {
    ASSERT_TRUE(raft::testing::WaitFor([&] { return Fsm(*n, 3) != nullptr; }, 30s));
  }
  ASSERT_TRUE(PutAt(3, "z9", "new").result().error().empty());
  EXPECT_TRUE(raft::testing::WaitFor([&] { return Converged(3); }, 30s));
  for (auto& n : nodes_) {
    EXPECT_EQ(Fsm(*n, 3)->AppliedIndex(), Fsm(*nodes_[0], 3)->AppliedIndex());
    EXPECT_EQ(Fsm(*n, 3)->range().start, "t");
  }
  kv::GetResponse g = Get(WaitLeader(3), 3, "u4");
  ASSERT_FALSE(g.has_region_error()) << g.region_error().message();
  EXPECT_EQ(g.kv().value(), "v-u4");
  EXPECT_TRUE(Verified(*WaitLeader(3), g.root(), g.kv()));
}

TEST_F(StoreTest, AMergeTakesTheRightNeighbourInOnEveryStoreAndProofsKeepVerifying) {
  for (const std::string& k : {"a1", "c2"})
    ASSERT_TRUE(PutAt(1, k, "v-" + k).result().error().empty());
  for (const std::string& k : {"n1", "p2"})
    ASSERT_TRUE(PutAt(2, k, "v-" + k).result().error().empty());
  for (uint64_t r : {1, 2}) ASSERT_TRUE(raft::testing::WaitFor([&] { return Converged(r); }, 30s));
  const std::string target_root = std::get<1>(RegionState(*nodes_[0], 1));
  const std::string source_root = std::get<1>(RegionState(*nodes_[0], 2));

  // The store that leads the source must lead the target: a merge asked elsewhere is refused.
  StoreNode* leader = WaitLeader(2);
  ASSERT_NE(leader, nullptr);
  ASSERT_TRUE(MoveLeader(1, leader));
  kv::MergeRequest req;
  req.set_region_id(1);
  *req.mutable_epoch() = regions_[1].epoch();
  req.set_source_region_id(2);
  kv::MergeResponse elsewhere = Call<kv::MergeResponse>(Follower(2), "store.Merge", req);
  EXPECT_TRUE(elsewhere.region_error().has_not_leader());
  kv::MergeRequest backwards = req;
  backwards.set_region_id(2);
  *backwards.mutable_epoch() = regions_[2].epoch();
  backwards.set_source_region_id(1);
  EXPECT_NE(Call<kv::MergeResponse>(leader, "store.Merge", backwards).error(), "")
      << "region 1 is not region 2's right neighbour";

  const kv::MergeResponse merged = Call<kv::MergeResponse>(leader, "store.Merge", req);
  ASSERT_FALSE(merged.has_region_error()) << merged.region_error().message();
  ASSERT_TRUE(merged.error().empty()) << merged.error();
  EXPECT_EQ(merged.region().id(), 1u);
  EXPECT_EQ(merged.region().start_key(), "");
  EXPECT_EQ(merged.region().end_key(), "");
  EXPECT_EQ(merged.region().epoch().version(), 3u) << "max(1, the prepared source's 2) + 1";
  regions_[1] = merged.region();

  // Every store takes the source in and lets it go.
  for (auto& n : nodes_) {
    EXPECT_TRUE(raft::testing::WaitFor(
        [&] { return Fsm(*n, 2) == nullptr && Fsm(*n, 1)->range().end.empty(); }, 30s))
        << "store " << n->base->id();
  }
  ASSERT_TRUE(raft::testing::WaitFor([&] { return Converged(1); }, 30s));
  // Every replica recorded the same statement: the two roots it ends and the one it starts.
  const std::string statement = Fsm(*nodes_[0], 1)->region().origin_statement();
  auto facts = ParseMergeStatement(statement);
  ASSERT_TRUE(facts.ok()) << facts.status().ToString();
  EXPECT_EQ(facts->target_root.ToHex(), target_root);
  EXPECT_EQ(facts->source_root.ToHex(), source_root);
  EXPECT_EQ(facts->merged_root.ToHex(), std::get<1>(RegionState(*nodes_[0], 1)));
  for (auto& n : nodes_) {
    EXPECT_EQ(Fsm(*n, 1)->region().origin_statement(), statement);
    for (const meta::Region& r : n->base->Sync([&] { return n->store->Regions(); })) {
      EXPECT_EQ(r.id(), 1u);
      EXPECT_TRUE(VerifySignature(n->key.public_key_bytes(), statement, r.origin_signature()));
    }
  }
  // The source's keys are read from the target with proofs at its root; the source is gone.
  for (const std::string& k : {std::string("a1"), std::string("p2")}) {
    kv::GetResponse g = Get(WaitLeader(1), 1, k);
    ASSERT_FALSE(g.has_region_error()) << g.region_error().message();
    EXPECT_EQ(g.kv().value(), "v-" + k);
    EXPECT_TRUE(Verified(*WaitLeader(1), g.root(), g.kv()));
  }
  EXPECT_TRUE(Get(WaitLeader(1), 2, "p2").region_error().has_region_not_found());
  // The merged region takes writes over both ranges; a restarted store opens it alone.
  ASSERT_TRUE(PutAt(1, "q3", "after").result().error().empty());
  StoreNode& restarted = *nodes_[2];
  restarted.base->Stop();
  ASSERT_TRUE(restarted.base->Start({}, {}).ok());
  ASSERT_TRUE(restarted.base->Sync([&] { return restarted.store->OpenRecordedRegions(); }).ok());
  EXPECT_EQ(Fsm(restarted, 2), nullptr);
  EXPECT_TRUE(Fsm(restarted, 1)->range().end.empty());
  ASSERT_TRUE(PutAt(1, "z4", "after restart").result().error().empty());
  EXPECT_TRUE(raft::testing::WaitFor([&] { return Converged(1); }, 30s));
}

TEST_F(StoreTest, AMergeWaitsForEveryReplicaOfTheSourceThenResumes) {
  ASSERT_TRUE(PutAt(2, "n1", "v").result().error().empty());
  StoreNode* leader = WaitLeader(2);
  ASSERT_NE(leader, nullptr);
  ASSERT_TRUE(MoveLeader(1, leader));
  StoreNode* down = Follower(2);
  down->base->Stop();
  kv::MergeRequest req;
  req.set_region_id(1);
  *req.mutable_epoch() = regions_[1].epoch();
  req.set_source_region_id(2);
  // The prepare commits without the stopped store, which lacks it: the commit waits (about
  // 10 s) and the answer says to come again.
  auto waited = ChannelTo(leader).CallSync("store.Merge", req.SerializeAsString(), 30s);
  ASSERT_FALSE(waited.ok());
  EXPECT_TRUE(waited.status().code() == StatusCode::kBusy) << waited.status().ToString();
  EXPECT_TRUE(Fsm(*leader, 2)->region().has_merging());
  // The source takes no writes meanwhile: a region error tells the client to wait.
  kv::WriteResponse refused = Put(leader, 2, "n2", "v");
  EXPECT_TRUE(refused.region_error().has_server_busy() ||
              refused.region_error().has_epoch_not_match())
      << refused.region_error().message();
  ASSERT_TRUE(down->base->Start({}, {}).ok());
  ASSERT_TRUE(down->base->Sync([&] { return down->store->OpenRecordedRegions(); }).ok());
  kv::MergeResponse merged;
  ASSERT_TRUE(raft::testing::WaitFor(
      [&] {
        auto r = ChannelTo(leader).CallSync("store.Merge", req.SerializeAsString(), 30s);
        return r.ok() && merged.ParseFromString(*r) && !merged.has_region_error() &&
               merged.error().empty();
      },
      60s));
  regions_[1] = merged.region();
  for (auto& n : nodes_) {
    EXPECT_TRUE(raft::testing::WaitFor([&] { return Fsm(*n, 2) == nullptr; }, 30s))
        << "store " << n->base->id();
  }
  EXPECT_TRUE(raft::testing::WaitFor([&] { return Converged(1); }, 30s));
  kv::GetResponse g = Get(WaitLeader(1), 1, "n1");
  EXPECT_EQ(g.kv().value(), "v");
}

// Logs compacted often, so that a store that was down catches up by snapshot.
class StoreSnapshotTest : public StoreTest {
 protected:
  StoreSnapshotTest() {
    raft_options_.snapshot_threshold = 16;
    raft_options_.snapshot_trailing = 4;
  }
};

TEST_F(StoreSnapshotTest, AStoreThatMissedASplitGetsBothHalvesBySnapshot) {
  for (int i = 0; i < 10; ++i)
    ASSERT_TRUE(PutAt(2, "r" + std::to_string(i), "v").result().error().empty());
  ASSERT_TRUE(raft::testing::WaitFor([&] { return Converged(2); }, 30s));
  StoreNode* down = Follower(2);
  const meta::Region wide = regions_[2];
  down->base->Stop();
  ASSERT_TRUE(WaitLeader(2) != nullptr);
  const kv::SplitResponse split = SplitAt(2, "t", 3);
  ASSERT_TRUE(split.error().empty() && split.regions_size() == 2) << split.error();
  ASSERT_TRUE(WaitLeader(3) != nullptr);
  // Enough writes on both halves that their logs no longer hold the split.
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE(PutAt(2, "p" + std::to_string(i), "l").result().error().empty());
    ASSERT_TRUE(PutAt(3, "w" + std::to_string(i), "r").result().error().empty());
  }
  ASSERT_TRUE(down->base->Start({}, {}).ok());
  ASSERT_TRUE(down->base->Sync([&] { return down->store->OpenRecordedRegions(); }).ok());
  // Until the old region's snapshot narrows it here, PD's placement of the new region waits.
  Status placed = down->base->Sync([&] { return down->store->AddRegion(regions_[3]); });
  if (!placed.ok()) {
    EXPECT_EQ(placed.code(), StatusCode::kBusy) << placed.ToString();
    ASSERT_TRUE(raft::testing::WaitFor(
        [&] { return down->base->Sync([&] { return down->store->AddRegion(regions_[3]); }).ok(); },
        30s));
  }
  EXPECT_NE(wide.end_key(), Fsm(*down, 2)->range().end);
  for (uint64_t r : {2, 3})
    EXPECT_TRUE(raft::testing::WaitFor([&] { return Converged(r); }, 60s)) << "region " << r;
  kv::GetResponse g = Get(WaitLeader(3), 3, "w7");
  EXPECT_EQ(g.kv().value(), "r");
}

class StoreLimitsTest : public StoreTest {
 protected:
  StoreLimitsTest() {
    service_.limits.max_key_size = 100;
    service_.limits.max_value_size = 1000;
    service_.limits.max_mutations = 10;
    service_.limits.max_command_bytes = 4000;
    service_.max_scan_bytes = 5000;
  }
  // kv.Write of `command` to region 2's leader: the status of the call.
  Status Write(const Command& command) {
    kv::WriteRequest req;
    req.set_region_id(2);
    *req.mutable_epoch() = regions_[2].epoch();
    *req.mutable_command() = command;
    auto r = ChannelTo(Leader(2)).CallSync("kv.Write", req.SerializeAsString(), 10s);
    if (!r.ok()) return r.status();
    kv::WriteResponse w;
    if (!w.ParseFromString(*r)) return Status::Corruption("answer");
    if (w.has_region_error()) return Status::Aborted(w.region_error().message());
    if (!w.result().error().empty()) return Status::Internal("refused in apply");
    return Status::OK();
  }
  static Command Puts(std::size_t n, std::size_t key_size, std::size_t value_size) {
    Command c;
    for (std::size_t i = 0; i < n; ++i) {
      Mutation* m = c.mutable_write()->add_mutations();
      m->set_key("n" + std::to_string(i) +
                 std::string(key_size - 1 - std::to_string(i).size(), 'k'));
      m->set_value(std::string(value_size, 'v'));
    }
    return c;
  }
  static void ExpectRefused(const Status& s, const std::string& limit) {
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
    EXPECT_NE(s.message().find(limit), std::string::npos) << s.ToString();
  }
};

TEST_F(StoreLimitsTest, KeysValuesMutationsAndCommandsAtTheirLimits) {
  // Keys: limit - 1, limit, limit + 1.
  EXPECT_TRUE(Write(Puts(1, 99, 1)).ok());
  EXPECT_TRUE(Write(Puts(1, 100, 1)).ok());
  ExpectRefused(Write(Puts(1, 101, 1)), "max_key_size 100");
  // Values.
  EXPECT_TRUE(Write(Puts(1, 10, 999)).ok());
  EXPECT_TRUE(Write(Puts(1, 10, 1000)).ok());
  ExpectRefused(Write(Puts(1, 10, 1001)), "max_value_size 1000");
  // Mutations per write.
  EXPECT_TRUE(Write(Puts(9, 10, 1)).ok());
  EXPECT_TRUE(Write(Puts(10, 10, 1)).ok());
  ExpectRefused(Write(Puts(11, 10, 1)), "max_mutations 10");
  // The command as a whole: six values, one grown so the command is exactly the limit.
  Command c = Puts(6, 10, 600);
  const std::size_t base = c.ByteSizeLong();
  ASSERT_LT(base, 4000u);
  const std::size_t grow = 4000 - base;
  ASSERT_LE(600 + grow, 1000u) << "every value stays within max_value_size";
  c.mutable_write()->mutable_mutations(0)->mutable_value()->append(grow - 1, 'v');
  ASSERT_EQ(c.ByteSizeLong(), 3999u);
  EXPECT_TRUE(Write(c).ok());
  c.mutable_write()->mutable_mutations(0)->mutable_value()->append(1, 'v');
  ASSERT_EQ(c.ByteSizeLong(), 4000u);
  EXPECT_TRUE(Write(c).ok());
  c.mutable_write()->mutable_mutations(0)->mutable_value()->append(1, 'v');
  ExpectRefused(Write(c), "max_command_bytes 4000");
  // A compare-and-swap's expected value is a value too.
  Command cas;
  cas.mutable_cas()->set_key("n1");
  cas.mutable_cas()->set_expect_exists(true);
  cas.mutable_cas()->set_expected(std::string(1001, 'x'));
  cas.mutable_cas()->mutable_set()->set_key("n1");
  ExpectRefused(Write(cas), "max_value_size 1000");
  ExpectRefused(Write(Command()), "without a body");
}

TEST_F(StoreLimitsTest, ScansStopAtTheByteBudgetAndContinueFromNextKey) {
  // 12 values of 900 bytes: with proofs, a 5000-byte budget holds a few per page.
  for (int i = 0; i < 12; ++i) {
    Command c = Puts(1, 10, 900);
    c.mutable_write()->mutable_mutations(0)->set_key("p" + std::to_string(10 + i));
    ASSERT_TRUE(Write(c).ok());
  }
  kv::ScanRequest scan;
  scan.set_region_id(2);
  *scan.mutable_epoch() = regions_[2].epoch();
  scan.set_start_key("p");
  scan.set_end_key("q");
  scan.set_limit(100);
  std::vector<std::string> seen;
  for (int page = 0; page < 20; ++page) {
    kv::ScanResponse s = Call<kv::ScanResponse>(Leader(2), "kv.Scan", scan);
    ASSERT_GT(s.kvs_size(), 0);
    std::size_t bytes = 0;
    for (const kv::KvProof& kv : s.kvs()) {
      bytes += kv.key().size() + kv.value().size() + kv.proof().size();
      seen.push_back(kv.key());
    }
    EXPECT_LE(bytes, 5000u);
    if (!s.more()) break;
    EXPECT_LT(s.kvs_size(), 12) << "the budget cut the page";
    scan.set_start_key(s.next_key());
  }
  ASSERT_EQ(seen.size(), 12u);
  for (int i = 0; i < 12; ++i) EXPECT_EQ(seen[i], "p" + std::to_string(10 + i));
}

}  // namespace
}  // namespace rustorium::store
