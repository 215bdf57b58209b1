// The region client refuses answers that do not check: a fake PD and a fake store (real RPC
// servers) answer from a real region state machine, signed with a real store key, and then
// tamper with the answer in one way at a time.
#include "region/client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <vector>

#include "region/rpc/server.h"
#include "region/store/command_limits.h"
#include "region/store/engine_limits.h"
#include "region/store/region_fsm.h"
#include "region/store/root_statement.h"
#include "region/store/store_key.h"
#include "tests/engine_util.h"
#include "tests/test_util.h"

namespace rustorium::client {
namespace {

using rustorium::testing::TempDir;

// kNonReplica: a correct signature by a store PD knows (store 2) that holds no replica of
// the region; kOtherEpoch: store 1's correct signature at an epoch PD does not know.
enum class Tamper {
  kNone,
  kValue,
  kProof,
  kRoot,
  kSignature,
  kUnknownStore,
  kOtherKey,
  kNonReplica,
  kOtherEpoch
};

class FakeCluster {
 public:
  FakeCluster() {
    engine_ = rustorium::testing::OpenScratchEngine(dir_.Sub("db"), store::EngineOptionsFor({}));
    fsm_ = std::move(*store::RegionFsm::Open(engine_.get(), {1, "", ""}));
    store::Command c;
    for (const char* k : {"apple", "pear", "plum"}) {
      store::Mutation* m = c.mutable_write()->add_mutations();
      m->set_key(k);
      m->set_value(std::string(k) + "-value");
    }
    EXPECT_TRUE(fsm_->Apply(7, c.SerializeAsString()).ok());

    store_server_ = std::make_unique<rpc::RpcServer>(loop_, rpc::ServerOptions{});
    store_server_->Handle("kv.Get",
                          [this](const rpc::Envelope& e, rpc::RpcServer::Responder respond) {
                            kv::GetRequest req;
                            req.ParseFromString(e.payload());
                            respond(Answer(req).SerializeAsString());
                          });
    // A store that takes every write and never answers (it crashed, or the link broke).
    store_server_->Handle("kv.Write", [this](const rpc::Envelope& e, rpc::RpcServer::Responder) {
      kv::WriteRequest req;
      req.ParseFromString(e.payload());
      const store::WriteSession& s = req.command().session();
      std::lock_guard<std::mutex> lock(sessions_mu);
      sessions_seen.push_back({s.client_id(), s.seq(), s.retry()});
      writes_seen++;
    });
    EXPECT_TRUE(store_server_->Start().ok());

    pd_server_ = std::make_unique<rpc::RpcServer>(loop_, rpc::ServerOptions{});
    pd_server_->Handle("pd.GetRegion",
                       [this](const rpc::Envelope&, rpc::RpcServer::Responder respond) {
                         pd::GetRegionResponse r;
                         r.set_found(true);
                         *r.mutable_region() = Region();
                         r.set_leader_store_id(1);
                         respond(r.SerializeAsString());
                       });
    pd_server_->Handle("pd.GetStores",
                       [this](const rpc::Envelope&, rpc::RpcServer::Responder respond) {
                         pd::GetStoresResponse r;
                         pd::StoreInfo* s = r.add_stores();
                         s->set_id(1);
                         s->set_address("127.0.0.1:" + std::to_string(store_server_->port()));
                         s->set_public_key(key_.public_key_bytes());
                         r.add_up(true);
                         pd::StoreInfo* other = r.add_stores();
                         other->set_id(2);
                         other->set_address("127.0.0.1:1");
                         other->set_public_key(other_key_.public_key_bytes());
                         r.add_up(true);
                         respond(r.SerializeAsString());
                       });
    EXPECT_TRUE(pd_server_->Start().ok());
  }
  ~FakeCluster() {
    pd_server_.reset();
    store_server_.reset();
  }

  meta::Region Region() const {
    meta::Region r;
    r.set_id(1);
    r.mutable_epoch()->set_conf_ver(1);
    r.mutable_epoch()->set_version(1);
    meta::Peer* p = r.add_peers();
    p->set_store_id(1);
    p->set_address("127.0.0.1:" + std::to_string(store_server_->port()));
    return r;
  }

  std::unique_ptr<Client> NewClient(bool write_sessions = true) {
    ClientOptions o;
    o.write_sessions = write_sessions;
    o.pd = {"127.0.0.1:" + std::to_string(pd_server_->port())};
    o.max_attempts = 2;
    o.timeout = std::chrono::milliseconds(500);
    return std::move(*Client::Connect(o));
  }

  Tamper tamper = Tamper::kNone;
  std::atomic<int> writes_seen{0};
  struct SeenSession {
    uint64_t client_id, seq;
    bool retry;
  };
  std::mutex sessions_mu;
  std::vector<SeenSession> sessions_seen;  // guarded by sessions_mu

 private:
  kv::GetResponse Answer(const kv::GetRequest& req) {
    kv::GetResponse out;
    auto read = fsm_->Read(tamper == Tamper::kOtherKey ? "pear" : req.key());
    EXPECT_TRUE(read.ok());
    kv::KvProof* kv = out.mutable_kv();
    kv->set_key(req.key());
    kv->set_found(read->value.has_value());
    if (read->value) kv->set_value(tamper == Tamper::kValue ? "forged" : *read->value);
    std::string proof = read->proof.EncodeBinary();
    if (tamper == Tamper::kProof) proof[proof.size() - 1] ^= 1;
    kv->set_proof(proof);
    proof::Fr root = read->root;
    kv::SignedRoot* s = out.mutable_root();
    const uint64_t version = tamper == Tamper::kOtherEpoch ? 2 : 1;
    s->set_region_id(1);
    s->mutable_epoch()->set_conf_ver(1);
    s->mutable_epoch()->set_version(version);
    s->set_applied_index(read->applied_index);
    s->set_store_id(tamper == Tamper::kUnknownStore ? 9 : tamper == Tamper::kNonReplica ? 2 : 1);
    const std::string statement = store::RootStatement(1, 1, version, read->applied_index, root);
    s->set_signature(tamper == Tamper::kSignature    ? store::StoreKey::Generate().Sign(statement)
                     : tamper == Tamper::kNonReplica ? other_key_.Sign(statement)
                                                     : key_.Sign(statement));
    if (tamper == Tamper::kRoot) root = proof::Fr::FromUint64(12345);
    s->set_root(store::RootToBytes(root));
    return out;
  }

  TempDir dir_;
  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<store::RegionFsm> fsm_;
  store::StoreKey key_ = store::StoreKey::Generate();
  store::StoreKey other_key_ = store::StoreKey::Generate();
  rpc::EventLoop loop_;
  std::unique_ptr<rpc::RpcServer> store_server_;
  std::unique_ptr<rpc::RpcServer> pd_server_;
};

TEST(Client, AcceptsAnHonestAnswerAndRefusesEveryTamperedOne) {
  FakeCluster cluster;
  auto client = cluster.NewClient();
  auto ok = client->Get("apple");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->value, "apple-value");
  EXPECT_TRUE(ok->root.verified);
  auto absent = client->Get("fig");
  ASSERT_TRUE(absent.ok()) << absent.status().ToString();
  EXPECT_FALSE(absent->value.has_value());
  EXPECT_EQ(client->signatures_verified(), 1u) << "one root, one signature check";

  for (Tamper t :
       {Tamper::kValue, Tamper::kProof, Tamper::kRoot, Tamper::kSignature, Tamper::kUnknownStore,
        Tamper::kOtherKey, Tamper::kNonReplica, Tamper::kOtherEpoch}) {
    cluster.tamper = t;
    auto r = client->Get("apple");
    ASSERT_FALSE(r.ok()) << "tamper mode " << static_cast<int>(t) << " was accepted";
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << r.status().ToString();
  }
}

// Sending a write again after it went unanswered could apply it twice (a compare-and-swap
// would then report failure although it swapped): the caller hears "outcome unknown" instead.
TEST(Client, AWriteThatGotNoAnswerIsNotSentAgainAndItsOutcomeIsUnknown) {
  FakeCluster cluster;
  auto client = cluster.NewClient(/*write_sessions=*/false);
  auto put = client->Put("apple", "new");
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.status().code(), StatusCode::kTimedOut) << put.status().ToString();
  EXPECT_NE(put.status().message().find("outcome unknown"), std::string::npos)
      << put.status().ToString();
  auto cas = client->CompareAndSwap("apple", std::string("apple-value"), std::string("newer"));
  EXPECT_EQ(cas.status().code(), StatusCode::kTimedOut) << cas.status().ToString();
  EXPECT_EQ(cluster.writes_seen.load(), 2);
  // Reads have no effect to repeat: they still go through.
  EXPECT_TRUE(client->Get("apple").ok());
}

// With a write session, an unanswered write is sent again as a retry of the same sequence
// number (the region applies it at most once); when no attempt is answered its outcome stays
// unknown.
TEST(Client, AnUnansweredWriteIsRetriedUnderItsSessionAndItsOutcomeStaysUnknown) {
  FakeCluster cluster;
  auto client = cluster.NewClient();
  auto put = client->Put("apple", "new");
  EXPECT_EQ(put.status().code(), StatusCode::kTimedOut) << put.status().ToString();
  EXPECT_NE(put.status().message().find("outcome unknown"), std::string::npos)
      << put.status().ToString();
  auto again = client->Put("apple", "newer");
  EXPECT_EQ(again.status().code(), StatusCode::kTimedOut) << again.status().ToString();
  std::lock_guard<std::mutex> lock(cluster.sessions_mu);
  const auto& seen = cluster.sessions_seen;
  ASSERT_EQ(seen.size(), 4u);  // two attempts each (max_attempts 2)
  for (const auto& s : seen) EXPECT_EQ(s.client_id, client->client_id());
  EXPECT_NE(client->client_id(), 0u);
  EXPECT_EQ(seen[0].seq, seen[1].seq);
  EXPECT_EQ(seen[2].seq, seen[3].seq);
  EXPECT_LT(seen[1].seq, seen[2].seq);
  EXPECT_FALSE(seen[0].retry);
  EXPECT_TRUE(seen[1].retry);
  EXPECT_FALSE(seen[2].retry);
  EXPECT_TRUE(seen[3].retry);
}

// An error names the key it is about, cut to a readable length with its size.
TEST(Client, AnErrorShowsALongKeyCutWithItsLength) {
  FakeCluster cluster;
  auto client = cluster.NewClient();
  auto put = client->Put(std::string(8192, 'k'), "v");
  ASSERT_FALSE(put.ok());
  EXPECT_NE(put.status().message().find("(8192 bytes)"), std::string::npos)
      << put.status().ToString();
  EXPECT_LT(put.status().message().size(), 300u) << put.status().ToString();
}

TEST(Client, RefusesBadAddresses) {
  EXPECT_EQ(Client::Connect({}).status().code(), StatusCode::kInvalidArgument);
  ClientOptions o;
  o.pd = {"not-an-address"};
  EXPECT_EQ(Client::Connect(o).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace rustorium::client
