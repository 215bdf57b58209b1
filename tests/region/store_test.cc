// The store's kv service over real sockets: three in-process stores host two regions; a
// client writes and reads through the RPC and checks every proof and root signature.
#include "region/store/store.h"

#include <gtest/gtest.h>

#include "proof/smt/proof.h"
#include "region/rpc/channel.h"
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
  void SetUp() override {
    raft::MultiRaftOptions o;
    o.tick = 20ms;
    o.heartbeat = 100ms;
    o.election = 1000ms;
    for (int i = 1; i <= 3; ++i) {
      auto n = std::make_unique<StoreNode>();
      n->base = std::make_unique<raft::testing::TestStore>(i, dir_.Sub("s" + std::to_string(i)), o);
      StoreNode* raw = n.get();
      n->base->set_before_serve([raw, i](raft::testing::TestStore& ts, rpc::RpcServer& server) {
        raw->store = std::make_unique<Store>(&ts.engine(), ts.raft(), raw->key,
                                             StoreServiceOptions{static_cast<uint64_t>(i)});
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
      auto info = n->base->Info(region);
      if (info && info->role == raft::Role::kLeader) return n.get();
    }
    return nullptr;
  }
  StoreNode* Follower(uint64_t region) {
    for (auto& n : nodes_) {
      if (n.get() != Leader(region)) return n.get();
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

}  // namespace
}  // namespace rustorium::store
