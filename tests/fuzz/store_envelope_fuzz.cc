// A live store under random envelopes: one in-process store (real engine, libraft, RPC server
// on loopback) hosting a one-member region, sent each input as a call or one-way message to
// one of the methods a store serves (kv.*, raft.SnapshotChunk), or to one it does not.
// raft.Batch is left out: over plain TCP a store trusts its peers' Raft messages (a forged
// AppendEntries is a forged write); raft_decoders_fuzz covers its decoding, and identities
// from certificates are what refuse it (issue 18). Every call must be
// answered before its deadline (never dropped, never a hang), and every 200 inputs, and at the
// first, a write is acknowledged and then read back with a verified proof (a one-client
// linearizability check: the read after an acknowledged write sees it). Bounded by
// RUSTORIUM_FUZZ_RUNS (CMakeLists.txt).
//
// Input: byte 0 picks the method, byte 1 bit 0 a call or a one-way message, the rest is the
// payload (seeds are valid requests of each method).
#include <chrono>
#include <memory>
#include <string>

#include "proof/smt/proof.h"
#include "region/kv.pb.h"
#include "region/rpc/channel.h"
#include "region/store/command_limits.h"
#include "region/store/store.h"
#include "tests/fuzz/fuzz_driver.h"
#include "tests/support/raft_cluster.h"
#include "tests/test_util.h"

namespace {

namespace rs = rustorium::store;
using namespace std::chrono_literals;

constexpr const char* kMethods[] = {"kv.Get", "kv.Write", "kv.Scan", "raft.SnapshotChunk",
                                    "pd.Tso", "no.such"};
constexpr std::size_t kMethodCount = sizeof(kMethods) / sizeof(kMethods[0]);

rustorium::meta::Region TheRegion(const rustorium::raft::testing::TestStore& s) {
  rustorium::meta::Region r;
  r.set_id(1);
  r.mutable_epoch()->set_conf_ver(1);
  r.mutable_epoch()->set_version(1);
  rustorium::meta::Peer* p = r.add_peers();
  p->set_store_id(s.id());
  p->set_address(s.address());
  return r;
}

struct Fixture {
  rustorium::testing::TempDir dir;
  std::unique_ptr<rustorium::raft::testing::TestStore> base;
  rs::StoreKey key = rs::StoreKey::Generate();
  std::unique_ptr<rs::Store> store;
  rustorium::meta::Region region;
  rustorium::rpc::EventLoop client_loop;
  std::unique_ptr<rustorium::rpc::RpcChannel> channel;
  uint64_t checks = 0;
  uint64_t inputs = 0;
  uint64_t calls = 0;
  uint64_t answered_ok = 0;

  Fixture() {
    rustorium::raft::MultiRaftOptions o;
    o.tick = 20ms;
    o.heartbeat = 100ms;
    o.election = 1000ms;
    base = std::make_unique<rustorium::raft::testing::TestStore>(1, dir.Sub("s1"), o);
    base->set_engine_options(rs::EngineOptionsFor({}));
    base->set_before_serve([this](rustorium::raft::testing::TestStore& ts,
                                  rustorium::rpc::RpcServer& server) {
      store = std::make_unique<rs::Store>(&ts.engine(), ts.raft(), key, rs::StoreServiceOptions{1});
      store->RegisterHandlers(server);
    });
    FUZZ_CHECK(base->Start({}, {}).ok());
    region = TheRegion(*base);
    FUZZ_CHECK(base->Sync([&] { return store->AddRegion(region); }).ok());
    const auto hp = *rustorium::rpc::ParseAddress(base->address());
    channel = std::make_unique<rustorium::rpc::RpcChannel>(client_loop, hp.host, hp.port);
  }
  ~Fixture() {
    std::fprintf(stderr, "store fuzz: %llu calls, %llu answered ok, %llu serving checks\n",
                 static_cast<unsigned long long>(calls),
                 static_cast<unsigned long long>(answered_ok),
                 static_cast<unsigned long long>(checks));
    channel.reset();
    base->Stop();
  }

  // Writes a fresh value and reads it back with a proof that verifies; retries for up to 20 s
  // while the store re-elects itself (a forged vote may have made it step down).
  void CheckServes() {
    const std::string k = "check";
    const std::string v = "v" + std::to_string(++checks);
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    bool written = false;
    while (!written && std::chrono::steady_clock::now() < deadline) {
      rustorium::kv::WriteRequest w;
      w.set_region_id(1);
      *w.mutable_epoch() = region.epoch();
      rs::Mutation* m = w.mutable_command()->mutable_write()->add_mutations();
      m->set_key(k);
      m->set_value(v);
      auto r = channel->CallSync("kv.Write", w.SerializeAsString(), 5s);
      rustorium::kv::WriteResponse resp;
      written = r.ok() && resp.ParseFromString(*r) && !resp.has_region_error() &&
                resp.result().error().empty();
      if (!written) std::this_thread::sleep_for(50ms);
    }
    FUZZ_CHECK(written);
    rustorium::kv::GetRequest g;
    g.set_region_id(1);
    *g.mutable_epoch() = region.epoch();
    g.set_key(k);
    bool read = false;
    while (!read && std::chrono::steady_clock::now() < deadline) {
      auto r = channel->CallSync("kv.Get", g.SerializeAsString(), 5s);
      rustorium::kv::GetResponse resp;
      if (r.ok() && resp.ParseFromString(*r) && !resp.has_region_error()) {
        FUZZ_CHECK(resp.kv().value() == v);  // the acknowledged write is seen
        auto root = rs::RootFromBytes(resp.root().root());
        auto proof = rustorium::proof::SmtProof::DecodeBinary(resp.kv().proof());
        FUZZ_CHECK(root.ok() && proof.ok());
        FUZZ_CHECK(
            rustorium::proof::VerifyProof(*root, rs::TreeKey(k), rs::TreeValue(v), *proof).ok());
        read = true;
      } else {
        std::this_thread::sleep_for(50ms);
      }
    }
    FUZZ_CHECK(read);
  }
};

Fixture& F() {
  static Fixture f;
  return f;
}

}  // namespace

std::vector<std::string> FuzzSeeds() {
  std::vector<std::string> seeds;
  auto with = [&](std::size_t method, bool call, const std::string& payload) {
    seeds.push_back(std::string(1, static_cast<char>(method)) +
                    std::string(1, static_cast<char>(call ? 1 : 0)) + payload);
  };
  rustorium::meta::RegionEpoch epoch;
  epoch.set_conf_ver(1);
  epoch.set_version(1);
  rustorium::kv::WriteRequest w;
  w.set_region_id(1);
  *w.mutable_epoch() = epoch;
  rs::Mutation* m = w.mutable_command()->mutable_write()->add_mutations();
  m->set_key("k");
  m->set_value("v");
  with(1, true, w.SerializeAsString());
  rustorium::kv::GetRequest g;
  g.set_region_id(1);
  *g.mutable_epoch() = epoch;
  g.set_key("k");
  with(0, true, g.SerializeAsString());
  rustorium::kv::ScanRequest s;
  s.set_region_id(1);
  *s.mutable_epoch() = epoch;
  s.set_limit(10);
  with(2, true, s.SerializeAsString());
  with(3, true, std::string("\x08\x01\x10\x02", 4));
  with(4, true, "");
  with(5, true, "x");
  return seeds;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Fixture& f = F();
  if (f.inputs++ % 200 == 0) f.CheckServes();
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
