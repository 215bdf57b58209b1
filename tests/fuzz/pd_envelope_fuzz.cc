// A live PD under random envelopes: one in-process PD member (real engine, libraft, RPC server
// on loopback, plain TCP so that every caller reaches every handler's own checks) is sent each
// input as a call or one-way message to one of its methods, or to one it does not serve. Every
// call must be answered before its deadline (never dropped, never a hang), and every 100
// inputs, and at the first, PD must still serve: a region lookup answers, and two timestamps
// come in increasing order. Bounded by RUSTORIUM_FUZZ_RUNS (CMakeLists.txt).
//
// Input: byte 0 picks the method, byte 1 bit 0 a call or a one-way message, the rest is the
// payload (seeds are valid requests of each method).
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "region/pd/pd.pb.h"
#include "region/pd/pd_node.h"
#include "region/rpc/channel.h"
#include "tests/fuzz/fuzz_driver.h"
#include "tests/support/raft_cluster.h"
#include "tests/test_util.h"

namespace {

namespace pd = rustorium::pd;
using namespace std::chrono_literals;

constexpr const char* kMethods[] = {"pd.RegisterStore",
                                    "pd.AllocId",
                                    "pd.GetRegion",
                                    "pd.GetStoreRegions",
                                    "pd.GetStores",
                                    "pd.GetRegions",
                                    "pd.StoreHeartbeat",
                                    "pd.RegionHeartbeat",
                                    "pd.RegionHeartbeats",
                                    "pd.Tso",
                                    "no.such"};
constexpr std::size_t kMethodCount = sizeof(kMethods) / sizeof(kMethods[0]);

struct Fixture {
  rustorium::testing::TempDir dir;
  std::unique_ptr<pd::PdNode> node;
  rustorium::rpc::EventLoop client_loop;
  std::unique_ptr<rustorium::rpc::RpcChannel> channel;
  uint64_t checks = 0;
  uint64_t inputs = 0;
  uint64_t calls = 0;
  uint64_t answered_ok = 0;
  uint64_t last_tso = 0;

  Fixture() {
    pd::PdNodeOptions o;
    o.data_dir = dir.Sub("pd");
    o.address = "127.0.0.1:" + std::to_string(rustorium::raft::testing::PickPort());
    o.raft.tick = 20ms;
    o.raft.heartbeat = 100ms;
    o.raft.election = 1000ms;
    auto started = pd::PdNode::Start(o);
    FUZZ_CHECK(started.ok());
    node = std::move(*started);
    const auto hp = *rustorium::rpc::ParseAddress(node->address());
    channel = std::make_unique<rustorium::rpc::RpcChannel>(client_loop, hp.host, hp.port);
  }
  ~Fixture() {
    std::fprintf(stderr,
                 "pd fuzz: %llu calls, %llu answered ok, %llu serving checks, %llu region records "
                 "heard\n",
                 static_cast<unsigned long long>(calls),
                 static_cast<unsigned long long>(answered_ok),
                 static_cast<unsigned long long>(checks),
                 static_cast<unsigned long long>(node->service().region_records_heard()));
    channel.reset();
    node.reset();
  }

  // PD still answers a region lookup and hands out increasing timestamps (retried for up to
  // 20 s while it re-elects itself).
  void CheckServes() {
    ++checks;
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    bool served = false;
    while (!served && std::chrono::steady_clock::now() < deadline) {
      pd::GetRegionRequest where;
      where.set_key("any");
      auto region = channel->CallSync("pd.GetRegion", where.SerializeAsString(), 5s);
      pd::TsoRequest t;
      t.set_count(1);
      auto a = channel->CallSync("pd.Tso", t.SerializeAsString(), 5s);
      auto b = channel->CallSync("pd.Tso", t.SerializeAsString(), 5s);
      pd::TsoResponse ta, tb;
      if (region.ok() && a.ok() && b.ok() && ta.ParseFromString(*a) && tb.ParseFromString(*b)) {
        const uint64_t first = (ta.physical() << 18) | ta.logical();
        const uint64_t second = (tb.physical() << 18) | tb.logical();
        FUZZ_CHECK(first > last_tso && second > first);
        last_tso = second;
        served = true;
      } else {
        std::this_thread::sleep_for(50ms);
      }
    }
    FUZZ_CHECK(served);
  }
};

Fixture& F() {
  static Fixture f;
  return f;
}

rustorium::meta::Region ARegion(uint64_t id, uint64_t version) {
  rustorium::meta::Region r;
  r.set_id(id);
  r.mutable_epoch()->set_conf_ver(1);
  r.mutable_epoch()->set_version(version);
  for (uint64_t s = 1; s <= 3; ++s) {
    rustorium::meta::Peer* p = r.add_peers();
    p->set_store_id(s);
    p->set_address("127.0.0.1:" + std::to_string(20160 + s));
  }
  return r;
}

}  // namespace

std::vector<std::string> FuzzSeeds() {
  std::vector<std::string> seeds;
  auto with = [&](std::size_t method, const std::string& payload) {
    seeds.push_back(std::string(1, static_cast<char>(method)) + std::string(1, '\x01') + payload);
  };
  for (uint64_t s = 1; s <= 3; ++s) {
    pd::RegisterStoreRequest reg;
    reg.mutable_store()->set_id(s);
    reg.mutable_store()->set_address("127.0.0.1:" + std::to_string(20160 + s));
    reg.mutable_store()->set_public_key(std::string(32, static_cast<char>('a' + s)));
    (*reg.mutable_store()->mutable_labels())["zone"] = "z" + std::to_string(s);
    with(0, reg.SerializeAsString());
  }
  pd::AllocIdRequest alloc;
  alloc.set_count(3);
  with(1, alloc.SerializeAsString());
  pd::GetRegionRequest where;
  where.set_key("k");
  with(2, where.SerializeAsString());
  pd::GetStoreRegionsRequest mine;
  mine.set_store_id(1);
  with(3, mine.SerializeAsString());
  with(4, "");
  with(5, "");
  pd::StoreHeartbeatRequest hb;
  hb.set_store_id(1);
  with(6, hb.SerializeAsString());
  pd::RegionHeartbeatRequest rh;
  *rh.mutable_region() = ARegion(1, 2);
  rh.set_leader_store_id(1);
  with(7, rh.SerializeAsString());
  pd::RegionHeartbeatsRequest rhs;
  rhs.set_leader_store_id(2);
  *rhs.add_regions() = ARegion(1, 3);
  rustorium::meta::Region right = ARegion(2, 3);
  right.set_start_key("m");
  *rhs.add_regions() = right;
  with(8, rhs.SerializeAsString());
  pd::TsoRequest t;
  t.set_count(10);
  with(9, t.SerializeAsString());
  with(10, "x");
  return seeds;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Fixture& f = F();
  if (f.inputs++ % 100 == 0) f.CheckServes();
  if (size < 2) return 0;
  const char* method = kMethods[data[0] % kMethodCount];
  const bool call = (data[1] & 1) != 0;
  std::string payload(reinterpret_cast<const char*>(data) + 2, size - 2);
  if (!call) {
    f.channel->Send(method, std::move(payload));
    return 0;
  }
  auto r = f.channel->CallSync(method, std::move(payload), 20s);
  ++f.calls;
  if (r.ok()) ++f.answered_ok;
  // Answered, whatever the answer: a refusal is fine, silence is not.
  FUZZ_CHECK(r.status().code() != rustorium::StatusCode::kTimedOut);
  return 0;
}
