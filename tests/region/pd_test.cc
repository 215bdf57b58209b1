// The placement driver over real sockets: registration, ids, bootstrap of the first region,
// routing, heartbeats and the timestamp oracle, on one PD member and on three.
#include <gtest/gtest.h>

#include <algorithm>
#include <future>

#include "region/pd/pd_client.h"
#include "region/pd/pd_fsm.h"
#include "region/pd/pd_service.h"
#include "region/rpc/channel.h"
#include "tests/support/raft_cluster.h"
#include "tests/test_util.h"

namespace rustorium::pd {
namespace {

using namespace std::chrono_literals;
using rustorium::testing::TempDir;

struct PdNode {
  std::unique_ptr<raft::testing::TestStore> base;
  std::unique_ptr<PdService> service;
};

class PdCluster {
 public:
  PdCluster(TempDir& dir, int members, PdServiceOptions service = {}) {
    raft::MultiRaftOptions o;
    o.tick = 20ms;
    o.heartbeat = 100ms;
    o.election = 1000ms;
    for (int i = 1; i <= members; ++i) {
      auto n = std::make_unique<PdNode>();
      n->base = std::make_unique<raft::testing::TestStore>(i, dir.Sub("pd" + std::to_string(i)), o);
      n->base->set_machine_factory(
          [](engine::Engine* e, raft::GroupId) -> std::unique_ptr<raft::StateMachine> {
            auto fsm = PdFsm::Open(e);
            return fsm.ok() ? std::move(*fsm) : nullptr;
          });
      PdNode* raw = n.get();
      n->base->set_before_serve(
          [raw, service](raft::testing::TestStore& ts, rpc::RpcServer& server) {
            raw->service = std::make_unique<PdService>(ts.raft(), service);
            raw->service->RegisterHandlers(server);
          });
      nodes_.push_back(std::move(n));
    }
    for (auto& n : nodes_) peers_.push_back(n->base->member());
  }
  ~PdCluster() {
    channels_.clear();
    for (auto& n : nodes_) n->base->Stop();
  }
  Status Start(int i) { return nodes_[i]->base->Start({1}, peers_); }
  // Member i's saved TSO high-water mark.
  uint64_t HighWater(int i) {
    auto& b = *nodes_[i]->base;
    return b.Sync([&] {
      return static_cast<PdFsm*>(b.raft().state_machine(1))->state().timestamp_high_water();
    });
  }
  void Stop(int i) { nodes_[i]->base->Stop(); }
  const PdService& service(int i) const { return *nodes_[i]->service; }
  PdNode* Leader() {
    for (auto& n : nodes_) {
      if (!n->base->running()) continue;
      auto info = n->base->Info(1);
      if (info && info->role == raft::Role::kLeader) return n.get();
    }
    return nullptr;
  }
  PdNode* WaitLeader() {
    PdNode* l = nullptr;
    raft::testing::WaitFor([&] { return (l = Leader()) != nullptr; }, 30s);
    return l;
  }
  template <typename Response>
  Result<Response> Call(const std::string& method, const google::protobuf::Message& req) {
    PdNode* l = WaitLeader();
    if (l == nullptr) return Status::TimedOut("no PD leader");
    ASSIGN_OR_RETURN(std::string bytes,
                     Channel(l->base->address()).CallSync(method, req.SerializeAsString(), 10s));
    return Parse<Response>(bytes);
  }
  template <typename Response>
  static Result<Response> Parse(const Result<std::string>& bytes) {
    if (!bytes.ok()) return bytes.status();
    Response out;
    if (!out.ParseFromString(*bytes)) return Status::Corruption("response does not parse");
    return out;
  }
  // Blocks the leader's loop until the returned function runs: requests sent meanwhile wait
  // in its socket and are then read and dispatched in one loop turn, before any of their
  // proposals or reads can finish.
  std::function<void()> HoldLeader() {
    PdNode* l = WaitLeader();
    held_address_ = l->base->address();
    Channel(held_address_);
    auto gate = std::make_shared<std::promise<void>>();
    auto entered = std::make_shared<std::promise<void>>();
    auto in = entered->get_future();
    l->base->loop().Post([gate, entered] {
      entered->set_value();
      gate->get_future().wait();
    });
    in.wait();
    return [gate] { gate->set_value(); };
  }
  // Sends a call to the held leader (HoldLeader) without waiting.
  std::future<Result<std::string>> Send(const std::string& method,
                                        const google::protobuf::Message& req) {
    auto p = std::make_shared<std::promise<Result<std::string>>>();
    auto f = p->get_future();
    Channel(held_address_).Call(method, req.SerializeAsString(), 10s, [p](Result<std::string> r) {
      p->set_value(std::move(r));
    });
    return f;
  }
  // Returns once every call sent so far has been written to its socket.
  void Flush() {
    client_loop_.RunSync([] {});  // the posted calls ran; their frames go at the turn's end
    client_loop_.RunSync([] {});
  }
  // Sends `n` copies of a call while the leader is held, then lets it go: their answers, in
  // order.
  template <typename Response>
  std::vector<Result<Response>> SendHeld(const std::string& method,
                                         const google::protobuf::Message& req, int n) {
    auto release = HoldLeader();
    std::vector<std::future<Result<std::string>>> calls;
    for (int i = 0; i < n; ++i) calls.push_back(Send(method, req));
    Flush();
    release();
    std::vector<Result<Response>> out;
    for (auto& c : calls) out.push_back(Parse<Response>(c.get()));
    return out;
  }
  Result<std::pair<uint64_t, uint64_t>> Tso(uint32_t count = 1) {
    TsoRequest req;
    req.set_count(count);
    ASSIGN_OR_RETURN(TsoResponse r, Call<TsoResponse>("pd.Tso", req));
    return std::make_pair(r.physical(), r.logical());
  }

 private:
  std::vector<std::unique_ptr<PdNode>> nodes_;
  std::vector<raft::Member> peers_;
  rpc::EventLoop client_loop_;
  std::map<std::string, std::unique_ptr<rpc::RpcChannel>> channels_;
  std::string held_address_;

  rpc::RpcChannel& Channel(const std::string& address) {
    auto& c = channels_[address];
    if (!c) {
      const rpc::HostPort hp = *rpc::ParseAddress(address);
      c = std::make_unique<rpc::RpcChannel>(client_loop_, hp.host, hp.port);
    }
    return *c;
  }
};

StoreInfo MakeStore(const std::string& address, const std::string& zone) {
  StoreInfo s;
  s.set_address(address);
  s.set_public_key(std::string(32, 'k'));
  (*s.mutable_labels())["region"] = "asia-northeast";
  (*s.mutable_labels())["zone"] = zone;
  return s;
}

meta::Region Shape(uint64_t id, const std::string& start, const std::string& end,
                   uint64_t version) {
  meta::Region r;
  r.set_id(id);
  r.set_start_key(start);
  r.set_end_key(end);
  r.mutable_epoch()->set_conf_ver(1);
  r.mutable_epoch()->set_version(version);
  meta::Peer* p = r.add_peers();
  p->set_store_id(1);
  p->set_address("127.0.0.1:20161");
  return r;
}

// Issue 20: after a split, the halves' reports replace the region's old shape in PD (TiKV's
// region tree): a newer report drops the shapes it overlaps, an older one is ignored.
TEST(PdFsm, ANewerRegionReplacesTheShapesItOverlapsAndAStaleReportIsIgnored) {
  TempDir dir;
  engine::StorageOptions o;
  o.path = dir.Sub("db");
  auto engine = engine::Engine::Open(o);
  ASSERT_TRUE(engine.ok());
  auto fsm = PdFsm::Open(engine->get());
  ASSERT_TRUE(fsm.ok());
  uint64_t index = 0;
  auto put = [&](const meta::Region& r) {
    PdCommand c;
    *c.mutable_put_region() = r;
    auto out = (*fsm)->Apply(++index, c.SerializeAsString());
    EXPECT_TRUE(out.ok());
    PdResult result;
    EXPECT_TRUE(result.ParseFromString(*out));
    return result;
  };
  auto ids = [&] {
    std::vector<uint64_t> out;
    for (const meta::Region& r : (*fsm)->state().regions()) out.push_back(r.id());
    std::sort(out.begin(), out.end());
    return out;
  };
  EXPECT_TRUE(put(Shape(1, "", "", 1)).error().empty());
  // The upper half is heard of first: the old shape goes, the lower keys wait for their report.
  EXPECT_TRUE(put(Shape(2, "m", "", 2)).error().empty());
  EXPECT_EQ(ids(), (std::vector<uint64_t>{2}));
  EXPECT_EQ((*fsm)->RegionFor("a"), nullptr);
  EXPECT_EQ((*fsm)->RegionFor("q")->id(), 2u);
  // A late heartbeat of the old shape is stale now.
  put(Shape(1, "", "", 1));
  EXPECT_EQ(ids(), (std::vector<uint64_t>{2}));
  EXPECT_TRUE(put(Shape(1, "", "m", 2)).error().empty());
  EXPECT_EQ(ids(), (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ((*fsm)->RegionFor("a")->id(), 1u);
  EXPECT_EQ((*fsm)->RegionFor("m")->id(), 2u);
  // The same report again changes nothing; an older version of a region is refused.
  EXPECT_TRUE(put(Shape(1, "", "m", 2)).error().empty());
  EXPECT_EQ(ids(), (std::vector<uint64_t>{1, 2}));
  EXPECT_FALSE(put(Shape(3, "", "z", 1)).error().empty()) << "older than what it overlaps";
  EXPECT_EQ(ids(), (std::vector<uint64_t>{1, 2}));
}

TEST(Pd, RegistersStoresAllocatesIdsAndBootstrapsTheFirstRegion) {
  TempDir dir;
  PdCluster pd(dir, 1);
  ASSERT_TRUE(pd.Start(0).ok());
  std::vector<uint64_t> ids;
  for (int i = 0; i < 3; ++i) {
    RegisterStoreRequest req;
    *req.mutable_store() =
        MakeStore("127.0.0.1:" + std::to_string(20161 + i), "z" + std::to_string(i));
    auto r = pd.Call<RegisterStoreResponse>("pd.RegisterStore", req);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ids.push_back(r->store_id());
    // Not bootstrapped while fewer than 3 stores exist.
    StoreHeartbeatRequest hb;
    hb.set_store_id(r->store_id());
    auto h = pd.Call<StoreHeartbeatResponse>("pd.StoreHeartbeat", hb);
    ASSERT_TRUE(h.ok());
    if (i < 2) {
      EXPECT_FALSE(h->bootstrapped());
    }
  }
  EXPECT_EQ(std::set<uint64_t>(ids.begin(), ids.end()).size(), 3u);
  // The same address again keeps its id.
  RegisterStoreRequest again;
  *again.mutable_store() = MakeStore("127.0.0.1:20162", "z9");
  EXPECT_EQ(pd.Call<RegisterStoreResponse>("pd.RegisterStore", again)->store_id(), ids[1]);
  RegisterStoreRequest bad;
  bad.mutable_store()->set_address("127.0.0.1:1");
  EXPECT_EQ(pd.Call<RegisterStoreResponse>("pd.RegisterStore", bad).status().code(),
            StatusCode::kInvalidArgument);

  GetRegionRequest where;
  where.set_key("any key at all");
  Result<GetRegionResponse> region = Status::NotFound("");
  ASSERT_TRUE(raft::testing::WaitFor(
      [&] {
        region = pd.Call<GetRegionResponse>("pd.GetRegion", where);
        return region.ok() && region->found();
      },
      10s));
  EXPECT_EQ(region->region().peers_size(), 3);
  EXPECT_TRUE(region->region().start_key().empty() && region->region().end_key().empty());

  GetStoreRegionsRequest mine;
  mine.set_store_id(ids[2]);
  EXPECT_EQ(pd.Call<GetStoreRegionsResponse>("pd.GetStoreRegions", mine)->regions_size(), 1);

  RegionHeartbeatRequest rh;
  *rh.mutable_region() = region->region();
  rh.set_leader_store_id(ids[1]);
  ASSERT_TRUE(pd.Call<RegionHeartbeatResponse>("pd.RegionHeartbeat", rh).ok());
  EXPECT_EQ(pd.Call<GetRegionResponse>("pd.GetRegion", where)->leader_store_id(), ids[1]);

  // Batched: a store's regions in one message, at most kMaxRegionsPerHeartbeat of them.
  RegionHeartbeatsRequest batch;
  batch.set_leader_store_id(ids[2]);
  EXPECT_TRUE(pd.Call<RegionHeartbeatsResponse>("pd.RegionHeartbeats", batch).ok());  // none
  for (int i = 0; i < kMaxRegionsPerHeartbeat - 1; ++i) *batch.add_regions() = region->region();
  EXPECT_TRUE(pd.Call<RegionHeartbeatsResponse>("pd.RegionHeartbeats", batch).ok());
  *batch.add_regions() = region->region();  // the limit
  EXPECT_TRUE(pd.Call<RegionHeartbeatsResponse>("pd.RegionHeartbeats", batch).ok());
  EXPECT_EQ(pd.Call<GetRegionResponse>("pd.GetRegion", where)->leader_store_id(), ids[2]);
  *batch.add_regions() = region->region();  // one more
  auto over = pd.Call<RegionHeartbeatsResponse>("pd.RegionHeartbeats", batch);
  EXPECT_EQ(over.status().code(), StatusCode::kInvalidArgument) << over.status().ToString();
  // One bad region refuses the whole message: the newer record beside it is not recorded.
  RegionHeartbeatsRequest mixed;
  mixed.set_leader_store_id(ids[0]);
  meta::Region newer = region->region();
  newer.mutable_epoch()->set_version(7);
  *mixed.add_regions() = newer;
  meta::Region bad_region = region->region();
  const meta::Peer twin = bad_region.peers(0);
  *bad_region.add_peers() = twin;  // one store twice
  *mixed.add_regions() = bad_region;
  auto refused = pd.Call<RegionHeartbeatsResponse>("pd.RegionHeartbeats", mixed);
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("region #1"), std::string::npos)
      << refused.status().ToString();
  auto unchanged = pd.Call<GetRegionResponse>("pd.GetRegion", where);
  EXPECT_EQ(unchanged->region().epoch().version(), 1u);
  EXPECT_EQ(unchanged->leader_store_id(), ids[2]);
  // The store heartbeat names the PD leader's term: a store tells a new term its regions again.
  StoreHeartbeatRequest beat;
  beat.set_store_id(ids[0]);
  auto term = pd.Call<StoreHeartbeatResponse>("pd.StoreHeartbeat", beat);
  ASSERT_TRUE(term.ok()) << term.status().ToString();
  EXPECT_GT(term->pd_term(), 0u);

  AllocIdRequest alloc;
  alloc.set_count(10);
  auto a = pd.Call<AllocIdResponse>("pd.AllocId", alloc);
  auto b = pd.Call<AllocIdResponse>("pd.AllocId", alloc);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_GE(b->first_id(), a->first_id() + 10);
  EXPECT_GT(a->first_id(), 1u) << "region ids never repeat a region's id (region 1 exists)";

  auto stores = pd.Call<GetStoresResponse>("pd.GetStores", GetStoresRequest());
  ASSERT_TRUE(stores.ok());
  EXPECT_EQ(stores->stores_size(), 3);
  EXPECT_EQ(stores->stores(0).labels().at("region"), "asia-northeast");

  // Everything survives a PD restart.
  pd.Stop(0);
  ASSERT_TRUE(pd.Start(0).ok());
  EXPECT_TRUE(pd.Call<GetRegionResponse>("pd.GetRegion", where)->found());
  EXPECT_GE(pd.Call<AllocIdResponse>("pd.AllocId", alloc)->first_id(), b->first_id() + 10);
}

// What PD stores is bounded (labels, addresses, region records), a known store keeps its key
// and its address, a fresh store under a known id is refused, and region ids have a counter
// of their own that store ids (from certificates) do not move.
TEST(Pd, BoundsKnownStoresWipedStoresAndTheRegionIdCounter) {
  TempDir dir;
  PdCluster pd(dir, 1);
  ASSERT_TRUE(pd.Start(0).ok());
  auto reg = [&](StoreInfo s, bool fresh = false) {
    RegisterStoreRequest r;
    *r.mutable_store() = std::move(s);
    r.set_fresh(fresh);
    return pd.Call<RegisterStoreResponse>("pd.RegisterStore", r);
  };
  auto store = [](uint64_t id, const std::string& address) {
    StoreInfo s = MakeStore(address, "z");
    s.set_id(id);
    return s;
  };
  // Labels: 16 (the limit) with 64-byte names and 256-byte values pass; one more of each
  // fails.
  StoreInfo s = store(7, "127.0.0.1:7");
  s.mutable_labels()->clear();
  for (int i = 0; i < kMaxStoreLabels; ++i) {
    (*s.mutable_labels())[std::string(kMaxLabelNameBytes - 2, 'n') + std::to_string(10 + i)] =
        std::string(kMaxLabelValueBytes, 'v');
  }
  auto ok = reg(s);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->store_id(), 7u);
  StoreInfo more = s;
  (*more.mutable_labels())["one-more"] = "v";
  EXPECT_TRUE(reg(more).status().IsInvalidArgument());
  StoreInfo long_value = s;
  long_value.mutable_labels()->begin()->second += "v";
  EXPECT_TRUE(reg(long_value).status().IsInvalidArgument());
  StoreInfo long_name = store(7, "127.0.0.1:7");
  (*long_name.mutable_labels())[std::string(kMaxLabelNameBytes + 1, 'n')] = "v";
  EXPECT_TRUE(reg(long_name).status().IsInvalidArgument());
  EXPECT_TRUE(
      reg(store(8, std::string(kMaxStoreAddressBytes + 1, '1'))).status().IsInvalidArgument());
  EXPECT_TRUE(reg(store(8, std::string(kMaxStoreAddressBytes, '1'))).ok());

  // Store 7 keeps its key; its address cannot be taken by store 9; a fresh store 7 is refused.
  StoreInfo rekeyed = store(7, "127.0.0.1:7");
  rekeyed.set_public_key(std::string(32, 'o'));
  auto r = reg(rekeyed);
  EXPECT_TRUE(r.status().IsInvalidArgument());
  EXPECT_NE(r.status().message().find("public key"), std::string::npos) << r.status().ToString();
  r = reg(store(9, "127.0.0.1:7"));
  EXPECT_TRUE(r.status().IsInvalidArgument());
  EXPECT_NE(r.status().message().find("belongs to store 7"), std::string::npos)
      << r.status().ToString();
  r = reg(store(7, "127.0.0.1:7"), /*fresh=*/true);
  EXPECT_TRUE(r.status().IsInvalidArgument());
  EXPECT_NE(r.status().message().find("without its data"), std::string::npos)
      << r.status().ToString();
  EXPECT_TRUE(reg(store(7, "127.0.0.1:7")).ok()) << "store 7 itself, with its state, is welcome";
  EXPECT_TRUE(reg(store(10, "127.0.0.1:10"), /*fresh=*/true).ok()) << "a new id may be fresh";
  auto stores = pd.Call<GetStoresResponse>("pd.GetStores", GetStoresRequest());
  ASSERT_TRUE(stores.ok());
  for (const StoreInfo& known : stores->stores()) {
    if (known.id() == 7) {
      EXPECT_EQ(known.address(), "127.0.0.1:7");
      EXPECT_EQ(known.public_key(), std::string(32, 'k'));
    }
  }

  // Region ids: their own counter, unmoved by store ids 7..10.
  AllocIdRequest alloc;
  alloc.set_count(1);
  auto first = pd.Call<AllocIdResponse>("pd.AllocId", alloc);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->first_id(), 2u) << "region 1 is the bootstrap region's";

  // Region records: 16 distinct peers and 8192-byte keys pass; 17 peers, a repeated peer, an
  // 8193-byte key, no peers, or a leader that is no peer are refused.
  meta::Region region;
  region.set_id(5);
  region.mutable_epoch()->set_version(1);
  region.set_start_key(std::string(kMaxRegionKeyBytes, 'a'));
  for (int i = 1; i <= kMaxRegionPeers; ++i) {
    meta::Peer* p = region.add_peers();
    p->set_store_id(static_cast<uint64_t>(i));
    p->set_address("127.0.0.1:" + std::to_string(i));
  }
  auto beat = [&](const meta::Region& rg, uint64_t leader) {
    RegionHeartbeatRequest rh;
    *rh.mutable_region() = rg;
    rh.set_leader_store_id(leader);
    return pd.Call<RegionHeartbeatResponse>("pd.RegionHeartbeat", rh).status();
  };
  EXPECT_TRUE(beat(region, 1).ok());
  meta::Region bad = region;
  bad.add_peers()->set_store_id(99);
  EXPECT_TRUE(beat(bad, 1).IsInvalidArgument()) << "17 peers";
  bad = region;
  bad.mutable_peers(1)->set_store_id(1);
  EXPECT_TRUE(beat(bad, 1).IsInvalidArgument()) << "a store twice";
  bad = region;
  bad.set_start_key(std::string(kMaxRegionKeyBytes + 1, 'a'));
  EXPECT_TRUE(beat(bad, 1).IsInvalidArgument()) << "a key over the bound";
  bad = region;
  bad.clear_peers();
  EXPECT_TRUE(beat(bad, 1).IsInvalidArgument()) << "no peers";
  EXPECT_TRUE(beat(region, 99).IsInvalidArgument()) << "a leader that is no peer";
  auto next = pd.Call<AllocIdResponse>("pd.AllocId", alloc);
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->first_id(), 6u) << "after region 5";
}

bool Before(std::pair<uint64_t, uint64_t> a, std::pair<uint64_t, uint64_t> b) { return a < b; }

TEST(Pd, TimestampsOnlyGoForwardAcrossRestartsAndLeaderChanges) {
  TempDir dir;
  PdCluster pd(dir, 3);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(pd.Start(i).ok());
  std::pair<uint64_t, uint64_t> last{0, 0};
  for (int i = 0; i < 200; ++i) {
    auto t = pd.Tso(1 + i % 50);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    EXPECT_TRUE(Before(last, *t)) << i;
    EXPECT_LT(t->second, uint64_t{1} << 18);
    last = *t;
  }
  // The leader goes away; its successor starts above everything handed out.
  PdNode* leader = pd.WaitLeader();
  ASSERT_NE(leader, nullptr);
  for (int i = 0; i < 3; ++i) {
    if (pd.Leader() == leader) {
      leader->base->Stop();
      break;
    }
  }
  auto t = pd.Tso();
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_TRUE(Before(last, *t));
  last = *t;
  EXPECT_EQ(pd.Tso(0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(pd.Tso(1 << 18).status().code(), StatusCode::kInvalidArgument);
}

TEST(Pd, OneMemberTimestampsSurviveARestart) {
  TempDir dir;
  PdCluster pd(dir, 1);
  ASSERT_TRUE(pd.Start(0).ok());
  std::pair<uint64_t, uint64_t> last{0, 0};
  for (int i = 0; i < 20; ++i) last = *pd.Tso(1000);
  // Served timestamps stay below a mark saved ahead of them.
  const uint64_t mark = pd.HighWater(0);
  EXPECT_GT(mark, last.first);
  pd.Stop(0);
  ASSERT_TRUE(pd.Start(0).ok());
  auto t = pd.Tso();
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(Before(last, *t)) << last.first << "." << last.second << " then " << t->first << "."
                                << t->second;
  EXPECT_GT(t->first, mark)
      << "a restarted oracle starts above the saved mark, whatever the clock says";
}

// Issue 18: what PD holds for callers is bounded; one request over a bound is answered Busy
// at once. Each bound is 2 here: two requests dispatched in one loop turn (limit - 1, limit)
// wait, the third (limit + 1) is refused.
TEST(Pd, PendingProposalsAreBounded) {
  TempDir dir;
  PdServiceOptions o;
  o.max_pending_proposals = 2;
  PdCluster pd(dir, 1, o);
  ASSERT_TRUE(pd.Start(0).ok());
  AllocIdRequest alloc;
  ASSERT_TRUE(pd.Call<AllocIdResponse>("pd.AllocId", alloc).ok());
  auto r = pd.SendHeld<AllocIdResponse>("pd.AllocId", alloc, 3);
  EXPECT_TRUE(r[0].ok()) << r[0].status().ToString();
  EXPECT_TRUE(r[1].ok()) << r[1].status().ToString();
  EXPECT_EQ(r[2].status().code(), StatusCode::kBusy) << r[2].status().ToString();
  EXPECT_NE(r[2].status().message().find("max_pending_proposals"), std::string::npos);
  EXPECT_EQ(pd.service(0).busy_proposals(), 1u);
  // Nothing stays taken: the next proposals go through.
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(pd.Call<AllocIdResponse>("pd.AllocId", alloc).ok());
}

TEST(Pd, PendingReadsAreBounded) {
  TempDir dir;
  PdServiceOptions o;
  o.max_pending_reads = 2;
  PdCluster pd(dir, 1, o);
  ASSERT_TRUE(pd.Start(0).ok());
  ASSERT_TRUE(pd.Call<GetStoresResponse>("pd.GetStores", GetStoresRequest()).ok());
  auto r = pd.SendHeld<GetStoresResponse>("pd.GetStores", GetStoresRequest(), 3);
  EXPECT_TRUE(r[0].ok()) << r[0].status().ToString();
  EXPECT_TRUE(r[1].ok()) << r[1].status().ToString();
  EXPECT_EQ(r[2].status().code(), StatusCode::kBusy) << r[2].status().ToString();
  EXPECT_NE(r[2].status().message().find("max_pending_reads"), std::string::npos);
  EXPECT_EQ(pd.service(0).busy_reads(), 1u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(pd.Call<GetStoresResponse>("pd.GetStores", GetStoresRequest()).ok());
  }
}

TEST(Pd, WaitingTimestampRequestsAreBounded) {
  TempDir dir;
  PdServiceOptions o;
  o.max_waiting_tso = 2;
  PdCluster pd(dir, 1, o);
  ASSERT_TRUE(pd.Start(0).ok());
  ASSERT_TRUE(pd.Call<GetStoresResponse>("pd.GetStores", GetStoresRequest()).ok());
  // The term's first timestamp request makes the oracle find its start (a read point), and
  // requests wait for it.
  TsoRequest one;
  one.set_count(1);
  auto r = pd.SendHeld<TsoResponse>("pd.Tso", one, 3);
  ASSERT_TRUE(r[0].ok()) << r[0].status().ToString();
  ASSERT_TRUE(r[1].ok()) << r[1].status().ToString();
  EXPECT_LT(std::make_pair(r[0]->physical(), r[0]->logical()),
            std::make_pair(r[1]->physical(), r[1]->logical()));
  EXPECT_EQ(r[2].status().code(), StatusCode::kBusy) << r[2].status().ToString();
  EXPECT_NE(r[2].status().message().find("max_waiting_tso"), std::string::npos);
  EXPECT_EQ(pd.service(0).busy_tso(), 1u);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(pd.Tso().ok());
}

TEST(Pd, OneRegionRecordProposalInFlightPerRegion) {
  TempDir dir;
  PdServiceOptions o;
  o.replicas = 1;
  o.max_pending_proposals = 1;
  PdCluster pd(dir, 1, o);
  ASSERT_TRUE(pd.Start(0).ok());
  RegisterStoreRequest reg;
  *reg.mutable_store() = MakeStore("127.0.0.1:20161", "z1");
  auto store = pd.Call<RegisterStoreResponse>("pd.RegisterStore", reg);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  StoreHeartbeatRequest hb;
  hb.set_store_id(store->store_id());
  GetRegionRequest where;
  Result<GetRegionResponse> region = Status::NotFound("");
  ASSERT_TRUE(raft::testing::WaitFor(
      [&] {
        pd.Call<StoreHeartbeatResponse>("pd.StoreHeartbeat", hb).status().IgnoreError();  // polls
        region = pd.Call<GetRegionResponse>("pd.GetRegion", where);
        return region.ok() && region->found();
      },
      10s));
  auto heartbeat = [&](uint64_t version) {
    RegionHeartbeatRequest rh;
    *rh.mutable_region() = region->region();
    rh.mutable_region()->mutable_epoch()->set_version(version);
    rh.set_leader_store_id(store->store_id());
    return rh;
  };
  auto release = pd.HoldLeader();
  auto first = pd.Send("pd.RegionHeartbeat", heartbeat(2));
  auto second = pd.Send("pd.RegionHeartbeat", heartbeat(3));  // same region, first in flight
  auto alloc = pd.Send("pd.AllocId", AllocIdRequest());       // the one slot is taken
  pd.Flush();
  release();
  EXPECT_TRUE(first.get().ok());
  Result<std::string> s = second.get();
  EXPECT_TRUE(s.ok()) << "answered without a proposal of its own: " << s.status().ToString();
  EXPECT_EQ(alloc.get().status().code(), StatusCode::kBusy);
  auto now = pd.Call<GetRegionResponse>("pd.GetRegion", where);
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(now->region().epoch().version(), 2u) << "the second record was not proposed";
  EXPECT_EQ(now->leader_store_id(), store->store_id());
  // The region's next heartbeat brings the newer record.
  ASSERT_TRUE(pd.Call<RegionHeartbeatResponse>("pd.RegionHeartbeat", heartbeat(3)).ok());
  EXPECT_EQ(pd.Call<GetRegionResponse>("pd.GetRegion", where)->region().epoch().version(), 3u);
}

}  // namespace
}  // namespace rustorium::pd
