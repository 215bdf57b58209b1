// A live store under random envelopes: one in-process store (real engine, libraft, RPC server
// on loopback, mutual TLS) hosting a one-member region, sent each input as a call or one-way
// message to one of the methods a store serves (kv.*, raft.Batch, raft.SnapshotChunk,
// store.Split, store.Merge and store.TransferLeader, which only admins may call), or to
// one it does not, over a connection that presents either a client certificate or the node
// certificate of store 2, a store of the cluster that is a member of no group. Raft messages
// from either are decoded and refused (wrong role, or a sender outside the group); a member's
// own certificate is not used: Raft trusts its members (docs/reliability.md). Every call must be
// answered before its deadline (never dropped, never a hang), and every 200 inputs, and at the
// first, a write is acknowledged and then read back with a verified proof (a one-client
// linearizability check: the read after an acknowledged write sees it). Bounded by
// RUSTORIUM_FUZZ_RUNS (CMakeLists.txt).
//
// Input: byte 0 picks the method, byte 1 bit 0 a call or a one-way message and bit 1 the
// certificate (store 2's node certificate when set), the rest is the payload (seeds are valid
// requests of each method).
#include <chrono>
#include <memory>
#include <string>

#include "proof/smt/proof.h"
#include "region/kv.pb.h"
#include "region/raft/raft.pb.h"
#include "region/rpc/certs.h"
#include "region/rpc/channel.h"
#include "region/rpc/tls.h"
#include "region/store/command_limits.h"
#include "region/store/engine_limits.h"
#include "region/store/store.h"
#include "tests/fuzz/fuzz_driver.h"
#include "tests/support/raft_cluster.h"
#include "tests/test_util.h"

namespace {

namespace rs = rustorium::store;
using namespace std::chrono_literals;

constexpr const char* kMethods[] = {
    "kv.Get",  "kv.Write",   "kv.Scan",     "raft.SnapshotChunk", "pd.Tso",
    "no.such", "raft.Batch", "store.Split", "store.Merge",        "store.TransferLeader"};
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

rustorium::rpc::TlsOptions CertFiles(const std::string& certs, const std::string& name) {
  rustorium::rpc::TlsOptions t;
  t.ca_file = certs + "/ca.crt";
  t.cert_file = certs + "/" + name + ".crt";
  t.key_file = certs + "/" + name + ".key";
  t.require_client_cert = true;
  return t;
}

std::shared_ptr<rustorium::rpc::TlsContext> Client(const std::string& certs,
                                                   const std::string& name) {
  auto tls = rustorium::rpc::TlsContext::CreateClient(CertFiles(certs, name));
  FUZZ_CHECK(tls.ok());
  return *tls;
}

rs::StoreServiceOptions ServiceOptions() {
  rs::StoreServiceOptions o;
  o.store_id = 1;
  return o;
}

struct Fixture {
  rustorium::testing::TempDir dir;
  std::string certs = dir.Sub("certs");
  std::unique_ptr<rustorium::raft::testing::TestStore> base;
  rs::StoreKey key = rs::StoreKey::Generate();
  std::unique_ptr<rs::Store> store;
  rustorium::meta::Region region;
  rustorium::rpc::EventLoop client_loop;
  std::unique_ptr<rustorium::rpc::RpcChannel> channel;       // the client certificate
  std::unique_ptr<rustorium::rpc::RpcChannel> node_channel;  // store 2's node certificate
  uint64_t checks = 0;
  uint64_t inputs = 0;
  uint64_t calls = 0;
  uint64_t answered_ok = 0;

  Fixture() {
    rustorium::rpc::ClusterCertsOptions co;
    co.dir = certs;
    co.stores = 2;
    co.pd_members = 1;
    FUZZ_CHECK(rustorium::rpc::CreateClusterCerts(co).ok());
    rustorium::raft::MultiRaftOptions o;
    o.tick = 20ms;
    o.heartbeat = 100ms;
    o.election = 1000ms;
    o.channel.tls = Client(certs, "store-1");
    base = std::make_unique<rustorium::raft::testing::TestStore>(1, dir.Sub("s1"), o);
    auto server_tls = rustorium::rpc::TlsContext::CreateServer(CertFiles(certs, "store-1"));
    FUZZ_CHECK(server_tls.ok());
    base->set_server_tls(*server_tls);
    base->set_engine_options(rs::EngineOptionsFor({}));
    base->set_before_serve(
        [this](rustorium::raft::testing::TestStore& ts, rustorium::rpc::RpcServer& server) {
          store = std::make_unique<rs::Store>(&ts.engine(), ts.raft(), key, ServiceOptions());
          store->RegisterHandlers(server);
        });
    FUZZ_CHECK(base->Start({}, {}).ok());
    region = TheRegion(*base);
    FUZZ_CHECK(base->Sync([&] { return store->AddRegion(region); }).ok());
    const auto hp = *rustorium::rpc::ParseAddress(base->address());
    rustorium::rpc::ChannelOptions client_options;
    client_options.tls = Client(certs, "client");
    channel =
        std::make_unique<rustorium::rpc::RpcChannel>(client_loop, hp.host, hp.port, client_options);
    rustorium::rpc::ChannelOptions node_options;
    node_options.tls = Client(certs, "store-2");
    node_channel =
        std::make_unique<rustorium::rpc::RpcChannel>(client_loop, hp.host, hp.port, node_options);
  }
  ~Fixture() {
    const uint64_t refused = base->raft().stats().messages_refused.load();
    std::fprintf(stderr,
                 "store fuzz: %llu calls, %llu answered ok, %llu serving checks, %llu raft "
                 "messages refused\n",
                 static_cast<unsigned long long>(calls),
                 static_cast<unsigned long long>(answered_ok),
                 static_cast<unsigned long long>(checks), static_cast<unsigned long long>(refused));
    // The seeds alone send Raft messages from a client and from a non-member: each refused.
    FUZZ_CHECK(refused >= 2);
    channel.reset();
    node_channel.reset();
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
  // raft.Batch: a heartbeat-like AppendEntries to store 1 from store 2 (from_id 2, to_id 1,
  // group 1), sent with store 2's node certificate (bit 1), and from store 1 (a forged sender).
  rustorium::raft::RaftBatch b;
  b.set_from_id(2);
  b.set_from_address("127.0.0.1:1");
  rustorium::raft::RaftMessage* rm = b.add_messages();
  rm->set_group_id(1);
  rm->set_to_id(1);
  rm->mutable_append_entries()->set_term(5);
  with(6, false, b.SerializeAsString());
  seeds.back()[1] = 3;  // a call, with the node certificate
  b.set_from_id(1);
  with(6, true, b.SerializeAsString());
  seeds.back()[1] = 2;  // one-way, with the node certificate
  with(6, true, b.SerializeAsString());
  // store.Split: open to admin certificates only, so refused to both of the fuzzer's.
  rustorium::kv::SplitRequest split;
  split.set_region_id(1);
  *split.mutable_epoch() = epoch;
  split.set_split_key("m");
  split.set_new_region_id(2);
  with(7, true, split.SerializeAsString());
  // store.Merge and store.TransferLeader: admins only too.
  rustorium::kv::MergeRequest merge;
  merge.set_region_id(1);
  *merge.mutable_epoch() = epoch;
  merge.set_source_region_id(2);
  with(8, true, merge.SerializeAsString());
  rustorium::kv::TransferLeaderRequest transfer;
  transfer.set_region_id(1);
  *transfer.mutable_epoch() = epoch;
  transfer.set_to_store_id(1);
  with(9, true, transfer.SerializeAsString());
  return seeds;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Fixture& f = F();
  if (f.inputs++ % 200 == 0) f.CheckServes();
  if (size < 2) return 0;
  const char* method = kMethods[data[0] % kMethodCount];
  const bool call = (data[1] & 1) != 0;
  rustorium::rpc::RpcChannel& channel = (data[1] & 2) != 0 ? *f.node_channel : *f.channel;
  std::string payload(reinterpret_cast<const char*>(data) + 2, size - 2);
  if (!call) {
    channel.Send(method, std::move(payload));
    return 0;
  }
  auto r = channel.CallSync(method, std::move(payload), 20s);
  ++f.calls;
  if (r.ok()) ++f.answered_ok;
  // Answered, whatever the answer: a refusal is fine, silence is not.
  FUZZ_CHECK(r.status().code() != rustorium::StatusCode::kTimedOut);
  // Neither certificate is an admin's: no split or merge is ever proposed, no leader moved.
  const std::string_view m(method);
  if (m == "store.Split" || m == "store.Merge" || m == "store.TransferLeader")
    FUZZ_CHECK(r.status().code() == rustorium::StatusCode::kPermissionDenied);
  return 0;
}
