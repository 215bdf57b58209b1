// Hostile peers against a real cluster (PD and three stores in this process, mutual TLS over
// loopback, certificates from CreateClusterCerts): a client certificate sends Raft messages,
// snapshot chunks and forged PD registrations and heartbeats; node certificates claim other
// stores' ids, a non-member speaks Raft, a follower announces snapshots. Each is refused and
// counted, and afterwards the cluster's leader, term, data, roots and PD's store records are
// as they were.
#include <gtest/gtest.h>

#include <filesystem>
#include <optional>

#include "region/client.h"
#include "region/pd/pd_node.h"
#include "region/raft/raft.pb.h"
#include "region/rpc/certs.h"
#include "region/rpc/channel.h"
#include "region/store/store_node.h"
#include "tests/support/raft_cluster.h"
#include "tests/test_util.h"

namespace rustorium {
namespace {

using namespace std::chrono_literals;
using raft::testing::WaitFor;
using rustorium::testing::TempDir;

raft::MultiRaftOptions FastRaft() {
  raft::MultiRaftOptions o;
  o.tick = 20ms;
  o.heartbeat = 100ms;
  o.election = 3000ms;  // no election from a slow moment: the test compares terms
  return o;
}

rpc::TlsOptions CertFiles(const std::string& certs, const std::string& name) {
  rpc::TlsOptions t;
  t.ca_file = certs + "/ca.crt";
  t.cert_file = certs + "/" + name + ".crt";
  t.key_file = certs + "/" + name + ".key";
  t.require_client_cert = true;
  return t;
}

class SecureCluster {
 public:
  explicit SecureCluster(TempDir& dir) : dir_(dir), certs_(dir.Sub("certs")) {
    rpc::ClusterCertsOptions co;
    co.dir = certs_;
    co.stores = 3;
    co.pd_members = 1;
    co.add_stores = {4};  // a node of the cluster that is a member of no group
    EXPECT_TRUE(rpc::CreateClusterCerts(co).ok());
    pd_address_ = "127.0.0.1:" + std::to_string(raft::testing::PickPort());
    for (int i = 0; i < 3; ++i) {
      store_addresses_.push_back("127.0.0.1:" + std::to_string(raft::testing::PickPort()));
    }
  }
  const std::string& certs() const { return certs_; }

  Status StartPd() {
    pd::PdNodeOptions po;
    po.data_dir = dir_.Sub("pd");
    po.address = pd_address_;
    po.raft = FastRaft();
    ASSIGN_OR_RETURN(po.server_tls, rpc::TlsContext::CreateServer(CertFiles(certs_, "pd-1")));
    ASSIGN_OR_RETURN(po.raft.channel.tls, rpc::TlsContext::CreateClient(CertFiles(certs_, "pd-1")));
    ASSIGN_OR_RETURN(pd_, pd::PdNode::Start(po));
    return Status::OK();
  }
  // Store `id` (1..3) on its own address and data directory, with certificate `cert`.
  Result<std::unique_ptr<store::StoreNode>> StartStore(int id, const std::string& cert,
                                                       const std::string& data_dir) {
    store::StoreNodeOptions so;
    so.data_dir = data_dir;
    so.store_id = static_cast<uint64_t>(id);
    so.address = store_addresses_[static_cast<std::size_t>(id - 1)];
    so.pd = {pd_address_};
    so.labels = {{"region", "local"}, {"zone", "z" + std::to_string(id)}};
    so.raft = FastRaft();
    so.heartbeat = 100ms;
    so.register_timeout = 5s;
    ASSIGN_OR_RETURN(so.server_tls, rpc::TlsContext::CreateServer(CertFiles(certs_, cert)));
    ASSIGN_OR_RETURN(so.channel.tls, rpc::TlsContext::CreateClient(CertFiles(certs_, cert)));
    return store::StoreNode::Start(so);
  }
  Status Start() {
    RETURN_IF_ERROR(StartPd());
    for (int i = 1; i <= 3; ++i) {
      ASSIGN_OR_RETURN(auto node, StartStore(i, "store-" + std::to_string(i), StoreDir(i)));
      stores_.push_back(std::move(node));
    }
    return Status::OK();
  }
  std::string StoreDir(int id) const { return dir_.Sub("store" + std::to_string(id)); }

  std::unique_ptr<client::Client> NewClient(const std::string& cert = "client") {
    client::ClientOptions co;
    co.pd = {pd_address_};
    co.max_attempts = 40;
    co.deadline = 60s;
    co.channel.tls = *rpc::TlsContext::CreateClient(CertFiles(certs_, cert));
    auto c = client::Client::Connect(co);
    EXPECT_TRUE(c.ok());
    return std::move(*c);
  }
  // A channel to `address` that presents certificate `cert`.
  std::unique_ptr<rpc::RpcChannel> Dial(const std::string& address, const std::string& cert) {
    rpc::ChannelOptions co;
    co.tls = *rpc::TlsContext::CreateClient(CertFiles(certs_, cert));
    auto hp = rpc::ParseAddress(address);
    return std::make_unique<rpc::RpcChannel>(loop_, hp->host, hp->port, co);
  }

  store::StoreNode& store(int id) { return *stores_[static_cast<std::size_t>(id - 1)]; }
  std::vector<std::unique_ptr<store::StoreNode>>& stores() { return stores_; }
  pd::PdNode& pd() { return *pd_; }
  const std::string& pd_address() const { return pd_address_; }
  const std::string& store_address(int id) const {
    return store_addresses_[static_cast<std::size_t>(id - 1)];
  }

 private:
  TempDir& dir_;
  std::string certs_;
  std::string pd_address_;
  std::vector<std::string> store_addresses_;
  rpc::EventLoop loop_;
  std::unique_ptr<pd::PdNode> pd_;
  std::vector<std::unique_ptr<store::StoreNode>> stores_;
};

// Region 1's leader and term, once every store agrees on them.
struct Leadership {
  uint64_t leader = 0;
  uint64_t term = 0;
  friend bool operator==(const Leadership&, const Leadership&) = default;
};

std::optional<Leadership> Agreed(SecureCluster& c) {
  std::optional<Leadership> out;
  for (int i = 1; i <= 3; ++i) {
    std::optional<raft::GroupInfo> info = c.store(i).RegionInfo(1);
    if (!info || info->leader_id == 0) return std::nullopt;
    Leadership l{info->leader_id, info->term};
    if (out && !(*out == l)) return std::nullopt;
    out = l;
  }
  return out;
}

// A batch from `from_id` carrying one message of region 1 to `to_id`.
std::string Batch(uint64_t from_id, const std::string& from_address, raft::RaftMessage m) {
  raft::RaftBatch b;
  b.set_from_id(from_id);
  b.set_from_address(from_address);
  *b.add_messages() = std::move(m);
  return b.SerializeAsString();
}

raft::RaftMessage VoteForMe(uint64_t to_id, uint64_t candidate, uint64_t term) {
  raft::RaftMessage m;
  m.set_group_id(1);
  m.set_to_id(to_id);
  raft::RequestVote* v = m.mutable_request_vote();
  v->set_term(term);
  v->set_candidate_id(candidate);
  v->set_last_log_index(1u << 30);
  v->set_last_log_term(term);
  v->set_disrupt_leader(true);
  return m;
}

raft::RaftMessage AnnounceSnapshot(uint64_t to_id, uint64_t term, uint64_t transfer_id) {
  raft::RaftMessage m;
  m.set_group_id(1);
  m.set_to_id(to_id);
  raft::InstallSnapshot* s = m.mutable_install_snapshot();
  s->set_term(term);
  s->set_last_index(1u << 20);
  s->set_last_term(term);
  s->set_transfer_id(transfer_id);
  return m;
}

std::string Chunk(uint64_t from_id) {
  raft::SnapshotChunk c;
  c.set_group_id(1);
  c.set_from_id(from_id);
  c.set_transfer_id(77);
  c.set_seq(0);
  c.set_data("forged region data");
  c.set_last(true);
  c.set_applied_index(1u << 20);
  return c.SerializeAsString();
}

std::string Registration(uint64_t id, const std::string& address, const std::string& key) {
  pd::RegisterStoreRequest r;
  r.mutable_store()->set_id(id);
  r.mutable_store()->set_address(address);
  r.mutable_store()->set_public_key(key);
  return r.SerializeAsString();
}

std::string StoreBeat(uint64_t id) {
  pd::StoreHeartbeatRequest r;
  r.set_store_id(id);
  return r.SerializeAsString();
}

// PD's store records, as a comparable string.
std::string StoreRecords(client::Client& c) {
  auto stores = c.Stores();
  EXPECT_TRUE(stores.ok()) << stores.status().ToString();
  std::string out;
  for (const pd::StoreInfo& s : stores->stores()) {
    out += std::to_string(s.id()) + "@" + s.address() + "#" + s.public_key() + ";";
  }
  return out;
}

TEST(Hostile, ForgedRaftSnapshotAndPdTrafficIsRefusedCountedAndChangesNothing) {
  TempDir dir;
  SecureCluster c(dir);
  ASSERT_TRUE(c.Start().ok());
  auto client = c.NewClient();
  auto put = client->Put("balance", "100");
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  std::optional<Leadership> before;
  ASSERT_TRUE(WaitFor([&] { return (before = Agreed(c)).has_value(); }, 30s));
  const uint64_t leader = before->leader;
  const uint64_t follower = leader % 3 + 1;  // a member that is not the leader
  const uint64_t target = follower % 3 + 1;  // the third store
  auto read_before = client->Get("balance");
  ASSERT_TRUE(read_before.ok());
  const std::string records_before = StoreRecords(*client);
  const uint64_t target_refused =
      c.store(static_cast<int>(target)).raft().stats().messages_refused.load();
  const uint64_t follower_refused =
      c.store(static_cast<int>(follower)).raft().stats().messages_refused.load();

  // 1. A client certificate speaks Raft, streams a snapshot and poses as a store to PD.
  {
    auto to_target = c.Dial(c.store_address(static_cast<int>(target)), "client");
    to_target->Send("raft.Batch", Batch(leader, c.store_address(static_cast<int>(leader)),
                                        VoteForMe(target, leader, before->term + 100)));
    auto chunk = to_target->CallSync("raft.SnapshotChunk", Chunk(leader), 3s);
    EXPECT_TRUE(chunk.status().IsPermissionDenied()) << chunk.status().ToString();
    auto kv_ok = to_target->CallSync("kv.Get", "", 3s);
    EXPECT_FALSE(kv_ok.status().IsPermissionDenied()) << "clients reach kv.*";
    auto to_pd = c.Dial(c.pd_address(), "client");
    for (const auto& [method, payload] : std::vector<std::pair<std::string, std::string>>{
             {"pd.RegisterStore", Registration(leader, "127.0.0.1:1", std::string(32, 'x'))},
             {"pd.StoreHeartbeat", StoreBeat(leader)},
             {"pd.AllocId", ""}}) {
      auto r = to_pd->CallSync(method, payload, 3s);
      EXPECT_TRUE(r.status().IsPermissionDenied()) << method << ": " << r.status().ToString();
    }
    EXPECT_TRUE(to_pd->CallSync("pd.GetStores", "", 3s).ok()) << "clients reach PD's reads";
    store::StoreNode& t = c.store(static_cast<int>(target));
    EXPECT_TRUE(WaitFor([&] { return t.server().denied_calls("raft.Batch") == 1; }, 5s));
    EXPECT_EQ(t.server().denied_calls("raft.SnapshotChunk"), 1u);
    EXPECT_EQ(c.pd().server().denied_calls("pd.RegisterStore"), 1u);
    EXPECT_EQ(c.pd().server().denied_calls("pd.StoreHeartbeat"), 1u);
    EXPECT_EQ(c.pd().server().denied_calls("pd.AllocId"), 1u);
  }

  // 2. A node certificate (the follower's) claims to be the leader.
  {
    const std::string as = "store-" + std::to_string(follower);
    auto to_target = c.Dial(c.store_address(static_cast<int>(target)), as);
    to_target->Send("raft.Batch", Batch(leader, c.store_address(static_cast<int>(leader)),
                                        VoteForMe(target, leader, before->term + 100)));
    auto chunk = to_target->CallSync("raft.SnapshotChunk", Chunk(leader), 3s);
    EXPECT_TRUE(chunk.status().IsPermissionDenied()) << chunk.status().ToString();
    auto kv = to_target->CallSync("kv.Get", "", 3s);
    EXPECT_TRUE(kv.status().IsPermissionDenied()) << "nodes do not reach kv.*";
    auto to_pd = c.Dial(c.pd_address(), as);
    auto reg = to_pd->CallSync("pd.RegisterStore",
                               Registration(leader, "127.0.0.1:1", std::string(32, 'x')), 3s);
    EXPECT_TRUE(reg.status().IsPermissionDenied()) << reg.status().ToString();
    auto beat = to_pd->CallSync("pd.StoreHeartbeat", StoreBeat(leader), 3s);
    EXPECT_TRUE(beat.status().IsPermissionDenied()) << beat.status().ToString();
    pd::RegionHeartbeatRequest rh;
    *rh.mutable_region() = c.store(1).Regions().front();
    rh.mutable_region()->mutable_epoch()->set_version(1000);
    rh.mutable_region()->clear_peers();
    rh.mutable_region()->add_peers()->set_store_id(leader);
    rh.mutable_region()->mutable_peers(0)->set_address("127.0.0.1:1");
    rh.set_leader_store_id(leader);
    auto region_beat = to_pd->CallSync("pd.RegionHeartbeat", rh.SerializeAsString(), 3s);
    EXPECT_TRUE(region_beat.status().IsPermissionDenied()) << region_beat.status().ToString();
    pd::RegionHeartbeatsRequest rhs;
    *rhs.add_regions() = rh.region();
    rhs.set_leader_store_id(leader);
    auto region_beats = to_pd->CallSync("pd.RegionHeartbeats", rhs.SerializeAsString(), 3s);
    EXPECT_TRUE(region_beats.status().IsPermissionDenied()) << region_beats.status().ToString();
    // As itself, it may not take the leader's address, nor change its own key.
    auto address =
        to_pd->CallSync("pd.RegisterStore",
                        Registration(follower, c.store_address(static_cast<int>(leader)),
                                     c.store(static_cast<int>(follower)).key().public_key_bytes()),
                        3s);
    EXPECT_TRUE(address.status().IsInvalidArgument()) << address.status().ToString();
    auto rekey = to_pd->CallSync(
        "pd.RegisterStore",
        Registration(follower, c.store_address(static_cast<int>(follower)), std::string(32, 'k')),
        3s);
    EXPECT_TRUE(rekey.status().IsInvalidArgument()) << rekey.status().ToString();
    EXPECT_NE(rekey.status().message().find("public key"), std::string::npos);
    EXPECT_TRUE(WaitFor(
        [&] {
          return c.store(static_cast<int>(target)).raft().stats().messages_refused.load() >=
                 target_refused + 1;
        },
        5s));
    EXPECT_EQ(c.pd().server().denied_calls("pd.RegionHeartbeat"), 1u);
    EXPECT_EQ(c.pd().server().denied_calls("pd.RegionHeartbeats"), 1u);
  }

  // 3. The follower, as itself, announces a snapshot to the third store: once without a
  // transfer, once naming one; it is not the leader. Its chunks are refused too. And store 4,
  // a node of the cluster that is in no group, asks for votes.
  {
    const std::string as = "store-" + std::to_string(follower);
    auto to_target = c.Dial(c.store_address(static_cast<int>(target)), as);
    const std::string self = c.store_address(static_cast<int>(follower));
    const uint64_t refused =
        c.store(static_cast<int>(target)).raft().stats().messages_refused.load();
    to_target->Send("raft.Batch", Batch(follower, self, AnnounceSnapshot(target, before->term, 0)));
    to_target->Send("raft.Batch",
                    Batch(follower, self, AnnounceSnapshot(target, before->term, 77)));
    auto chunk = to_target->CallSync("raft.SnapshotChunk", Chunk(follower), 3s);
    EXPECT_TRUE(chunk.status().IsPermissionDenied()) << chunk.status().ToString();
    EXPECT_NE(chunk.status().message().find("leader"), std::string::npos);
    auto stranger = c.Dial(c.store_address(static_cast<int>(target)), "store-4");
    stranger->Send("raft.Batch", Batch(4, "127.0.0.1:1", VoteForMe(target, 4, before->term + 100)));
    EXPECT_TRUE(stranger->CallSync("pd.GetStores", "", 3s).status().code() !=
                StatusCode::kTimedOut);  // the messages before it were handled
    // Even the leader's own certificate cannot announce a snapshot it did not stream: libraft
    // would drop the target's log for a snapshot whose data never came.
    const std::string leader_cert = "store-" + std::to_string(leader);
    auto from_leader = c.Dial(c.store_address(static_cast<int>(target)), leader_cert);
    from_leader->Send("raft.Batch", Batch(leader, c.store_address(static_cast<int>(leader)),
                                          AnnounceSnapshot(target, before->term, 0)));
    EXPECT_TRUE(from_leader->CallSync("pd.GetStores", "", 3s).status().code() !=
                StatusCode::kTimedOut);
    EXPECT_TRUE(WaitFor(
        [&] {
          return c.store(static_cast<int>(target)).raft().stats().messages_refused.load() >=
                 refused + 4;
        },
        5s));
    EXPECT_GE(c.store(static_cast<int>(target)).raft().stats().snapshot_chunks_refused.load(), 2u);
  }
  EXPECT_EQ(c.store(static_cast<int>(follower)).raft().stats().messages_refused.load(),
            follower_refused)
      << "only the attacked store saw the forgeries";

  // Nothing changed: the same leader in the same term, the same data and root, the same
  // store records at PD.
  std::this_thread::sleep_for(500ms);
  std::optional<Leadership> after;
  ASSERT_TRUE(WaitFor([&] { return (after = Agreed(c)).has_value(); }, 10s));
  EXPECT_EQ(after->leader, before->leader);
  EXPECT_EQ(after->term, before->term);
  for (int i = 1; i <= 3; ++i) {
    std::optional<raft::GroupInfo> info = c.store(i).RegionInfo(1);
    ASSERT_TRUE(info.has_value());
    EXPECT_LT(info->last_index, 1u << 20) << "store " << i << " took a forged snapshot";
  }
  auto read_after = client->Get("balance");
  ASSERT_TRUE(read_after.ok()) << read_after.status().ToString();
  EXPECT_EQ(read_after->value, "100");
  EXPECT_EQ(read_after->root.root, read_before->root.root);
  EXPECT_TRUE(read_after->root.verified);
  EXPECT_EQ(StoreRecords(*client), records_before);
  // And the cluster still takes writes.
  auto again = client->Put("balance", "101");
  EXPECT_TRUE(again.ok()) << again.status().ToString();
}

// A store whose data directory was wiped comes back fresh under its old id: with a new term
// and vote it could vote twice, so PD refuses it with a clear error. Under a new id (a new
// certificate) the same machine joins as a new store.
TEST(Hostile, AWipedStoreIsRefusedUnderItsOldId) {
  TempDir dir;
  SecureCluster c(dir);
  ASSERT_TRUE(c.Start().ok());
  auto client = c.NewClient();
  ASSERT_TRUE(client->Put("k", "v").ok());
  const std::string records = StoreRecords(*client);
  c.stores()[2].reset();  // store 3 stops
  std::filesystem::remove_all(c.StoreDir(3));
  auto wiped = c.StartStore(3, "store-3", c.StoreDir(3));
  ASSERT_FALSE(wiped.ok());
  EXPECT_NE(wiped.status().message().find("without its data"), std::string::npos)
      << wiped.status().ToString();
  EXPECT_EQ(StoreRecords(*client), records);
  // Another store's certificate cannot take the id either.
  auto mismatched = c.StartStore(3, "store-2", c.StoreDir(3));
  EXPECT_FALSE(mismatched.ok());
  // The two remaining stores serve on (once they elected a leader, if store 3 led).
  Result<client::ReadResult> read = Status::TimedOut("not read");
  EXPECT_TRUE(WaitFor([&] { return (read = client->Get("k")).ok(); }, 60s))
      << read.status().ToString();
}

}  // namespace
}  // namespace rustorium
