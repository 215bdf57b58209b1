// A whole cluster in one process over loopback: PD, three stores registered with it, and the
// region client writing and reading with verified proofs, across a restart of everything.
#include <gtest/gtest.h>

#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "base/fault_point.h"
#include "region/client.h"
#include "region/pd/pd_node.h"
#include "region/store/store_node.h"
#include "tests/support/raft_cluster.h"
#include "tests/test_util.h"

namespace rustorium {
namespace {

using namespace std::chrono_literals;
using rustorium::testing::TempDir;

raft::MultiRaftOptions FastRaft() {
  raft::MultiRaftOptions o;
  o.tick = 20ms;
  o.heartbeat = 100ms;
  o.election = 1000ms;
  return o;
}

class LocalCluster {
 public:
  // PD and the second store go by a host name (localhost): PD and that store listen on what it
  // resolves to, the store registers the name, and peers and clients dial it by name.
  explicit LocalCluster(TempDir& dir) : dir_(dir) {
    pd_address_ = "localhost:" + std::to_string(raft::testing::PickPort());
    for (int i = 0; i < 3; ++i) {
      store_addresses_.push_back((i == 1 ? "localhost:" : "127.0.0.1:") +
                                 std::to_string(raft::testing::PickPort()));
    }
  }
  Status Start() {
    pd::PdNodeOptions po;
    po.data_dir = dir_.Sub("pd");
    po.address = pd_address_;
    po.raft = FastRaft();
    ASSIGN_OR_RETURN(pd_, pd::PdNode::Start(po));
    for (int i = 0; i < 3; ++i) {
      store::StoreNodeOptions so;
      so.data_dir = dir_.Sub("store" + std::to_string(i + 1));
      so.address = store_addresses_[static_cast<std::size_t>(i)];
      so.pd = {pd_address_};
      so.labels = {{"region", "local"}, {"zone", "z" + std::to_string(i)}};
      so.raft = FastRaft();
      so.heartbeat = 100ms;
      so.split_check_interval = 0ms;  // size splits only where a test asks for them
      if (tweak_) tweak_(so);
      ASSIGN_OR_RETURN(auto node, store::StoreNode::Start(so));
      stores_.push_back(std::move(node));
    }
    return Status::OK();
  }
  void Stop() {
    stores_.clear();
    pd_.reset();
  }
  std::unique_ptr<client::Client> NewClient(client::ClientOptions co = {}) {
    co.pd = {pd_address_};
    co.max_attempts = 40;
    auto c = client::Client::Connect(co);
    EXPECT_TRUE(c.ok());
    return std::move(*c);
  }
  std::vector<std::unique_ptr<store::StoreNode>>& stores() { return stores_; }
  pd::PdNode& pd() { return *pd_; }
  // Changes each store's options before it starts.
  void set_tweak(std::function<void(store::StoreNodeOptions&)> f) { tweak_ = std::move(f); }

 private:
  std::function<void(store::StoreNodeOptions&)> tweak_;
  TempDir& dir_;
  std::string pd_address_;
  std::vector<std::string> store_addresses_;
  std::unique_ptr<pd::PdNode> pd_;
  std::vector<std::unique_ptr<store::StoreNode>> stores_;
};

// Puts 300 keys spread over the key space ("c…" to "u…") from its own client while a test
// reshapes the regions; records each acknowledged write, and stops at the first failure.
class AckedWriter {
 public:
  explicit AckedWriter(LocalCluster& cluster)
      : thread_([this, &cluster] {
          auto w = cluster.NewClient();
          for (int i = 0; i < 300; ++i) {
            const std::string key = std::string(1, "cgkpu"[i % 5]) + std::to_string(1000 + i);
            const std::string value = "v" + std::to_string(i);
            auto r = w->Put(key, value);
            std::lock_guard<std::mutex> lock(mu_);
            if (!r.ok() || !r->root.verified) {
              error_ = r.ok() ? Status::Corruption("unverified root") : r.status();
              return;
            }
            acked_.emplace_back(key, value);
          }
        }) {}
  ~AckedWriter() {
    if (thread_.joinable()) thread_.join();
  }
  // Waits (up to 60 s) until `n` writes are acknowledged or one failed.
  bool WaitWritten(std::size_t n) {
    return raft::testing::WaitFor(
        [&] {
          std::lock_guard<std::mutex> lock(mu_);
          return acked_.size() >= n || !error_.ok();
        },
        60s);
  }
  // Waits for the end; the first failure, or OK.
  Status Join() {
    thread_.join();
    return error_;
  }
  const std::vector<std::pair<std::string, std::string>>& acked() const { return acked_; }

 private:
  std::mutex mu_;
  std::vector<std::pair<std::string, std::string>> acked_;  // guarded by mu_
  Status error_;                                            // guarded by mu_
  std::thread thread_;
};

TEST(LocalCluster, ClientWritesAndReadsWithVerifiedProofsAcrossARestart) {
  TempDir dir;
  LocalCluster cluster(dir);
  ASSERT_TRUE(cluster.Start().ok());
  auto client = cluster.NewClient();

  // The first region appears once PD has three stores; the client waits through that.
  auto put = client->Put("hello", "world");
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_TRUE(put->root.verified);
  ASSERT_EQ(put->proofs.size(), 1u);
  for (auto& s : cluster.stores()) {
    ASSERT_TRUE(raft::testing::WaitFor([&] { return s->Regions().size() == 1; }, 10s))
        << "store " << s->store_id();
  }
  auto regions = client->Regions();
  ASSERT_TRUE(regions.ok()) << regions.status().ToString();
  int by_name = 0;
  for (const auto& r : regions->regions()) {
    for (const auto& p : r.peers()) by_name += p.address().rfind("localhost:", 0) == 0 ? 1 : 0;
  }
  EXPECT_EQ(by_name, 1) << "the store registered under its name, and PD hands the name out";

  auto got = client->Get("hello");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->value, "world");
  EXPECT_TRUE(got->root.verified);
  auto missing = client->Get("nobody");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->value.has_value());
  EXPECT_TRUE(missing->root.verified) << "absence is proven too";

  for (int i = 0; i < 20; ++i)
    ASSERT_TRUE(client->Put("k" + std::to_string(10 + i), "v" + std::to_string(i)).ok());
  auto scan = client->Scan("k15", "k25", 100);
  ASSERT_TRUE(scan.ok()) << scan.status().ToString();
  ASSERT_EQ(scan->items.size(), 10u);
  EXPECT_EQ(scan->items.front().key, "k15");
  EXPECT_EQ(scan->items.back().key, "k24");
  EXPECT_FALSE(scan->more);
  ASSERT_EQ(scan->roots.size(), 1u);
  EXPECT_TRUE(scan->roots[0].verified);
  // Paging: a limit that stops inside the range says so and where to go on; going on returns
  // the rest, no key twice.
  auto first = client->Scan("k15", "k25", 4);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->items.size(), 4u);
  EXPECT_TRUE(first->more);
  EXPECT_EQ(first->next_key, std::string("k18") + '\0');
  auto rest = client->Scan(first->next_key, "k25", 6);
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->items.size(), 6u);
  EXPECT_EQ(rest->items.front().key, "k19");
  EXPECT_FALSE(rest->more) << "exactly the rest: nothing remains";
  EXPECT_TRUE(client->Scan("k15", "k25", 0).status().IsInvalidArgument());

  auto cas = client->CompareAndSwap("hello", std::string("world"), std::string("there"));
  ASSERT_TRUE(cas.ok()) << cas.status().ToString();
  EXPECT_TRUE(cas->result.cas_succeeded());
  cas = client->CompareAndSwap("hello", std::string("world"), std::string("again"));
  ASSERT_TRUE(cas.ok());
  EXPECT_FALSE(cas->result.cas_succeeded());
  EXPECT_EQ(cas->result.cas_previous(), "there");
  ASSERT_TRUE(client->Delete("k10").ok());
  EXPECT_FALSE(client->Get("k10")->value.has_value());

  // The asynchronous API: calls return at once, callbacks bring the same results.
  std::promise<Status> put_done;
  client->PutAsync("async", "yes",
                   [&](Result<client::WriteResult> r) { put_done.set_value(r.status()); });
  ASSERT_TRUE(put_done.get_future().get().ok());
  std::promise<std::optional<std::string>> got_async;
  client->GetAsync("async", [&](Result<client::ReadResult> r) {
    got_async.set_value(r.ok() && r->root.verified ? r->value : std::nullopt);
  });
  EXPECT_EQ(got_async.get_future().get(), "yes");

  // PD's view: one region with three replicas and a reported leader.
  ASSERT_TRUE(raft::testing::WaitFor(
      [&] {
        auto regions = client->Regions();
        return regions.ok() && regions->regions_size() == 1 && regions->leader_store_ids(0) != 0 &&
               regions->regions(0).peers_size() == 3;
      },
      10s));

  const auto before = client->Get("hello");
  ASSERT_TRUE(before.ok());
  client.reset();

  // Everything stops and starts again on the same directories.
  cluster.Stop();
  ASSERT_TRUE(cluster.Start().ok());
  client = cluster.NewClient();
  auto after = client->Get("hello");
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(after->value, "there");
  EXPECT_EQ(after->root.root, before->root.root) << "the same data has the same root";
  EXPECT_EQ(client->Get("k29")->value, "v19");
  EXPECT_TRUE(client->Put("after", "restart").ok());

  auto stores = client->Stores();
  ASSERT_TRUE(stores.ok());
  EXPECT_EQ(stores->stores_size(), 3) << "stores keep their ids across the restart";
}

// Issue 20: a region that grows past region_split_keys splits by itself at its middle key, and
// the halves go on splitting as they grow; every key stays readable with its proof.
TEST(LocalCluster, ARegionThatGrowsPastTheKeysLimitSplitsByItself) {
  TempDir dir;
  LocalCluster cluster(dir);
  cluster.set_tweak([](store::StoreNodeOptions& o) {
    o.region_split_keys = 40;
    o.split_check_interval = 200ms;
  });
  ASSERT_TRUE(cluster.Start().ok());
  auto client = cluster.NewClient();
  for (int i = 0; i < 100; ++i) {
    auto put = client->Put("key" + std::to_string(1000 + i), std::to_string(i));
    ASSERT_TRUE(put.ok()) << put.status().ToString();
  }
  // 100 keys over a limit of 40: at least three regions once the checks have run.
  ASSERT_TRUE(raft::testing::WaitFor(
      [&] {
        auto regions = client->Regions();
        return regions.ok() && regions->regions_size() >= 3;
      },
      60s));
  for (int i = 0; i < 100; ++i) {
    auto got = client->Get("key" + std::to_string(1000 + i));
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(got->value, std::to_string(i));
    EXPECT_TRUE(got->root.verified);
  }
  auto scan = client->Scan("", "", 1000);
  ASSERT_TRUE(scan.ok()) << scan.status().ToString();
  EXPECT_EQ(scan->items.size(), 100u);
  EXPECT_GE(scan->roots.size(), 3u) << "the scan crossed the regions the splits made";
}

// Region heartbeats are batched per store and carry what changed: an idle cluster tells PD
// nothing between the once-a-minute reports, a split tells it both halves at once.
TEST(LocalCluster, RegionHeartbeatsCarryWhatChanged) {
  TempDir dir;
  LocalCluster cluster(dir);
  ASSERT_TRUE(cluster.Start().ok());
  auto client = cluster.NewClient();
  ASSERT_TRUE(client->Put("k1", "v1").ok());
  const pd::PdService& pd = cluster.pd().service();
  // Leaders settle; then two seconds of 100 ms heartbeats, nothing to tell.
  std::this_thread::sleep_for(2s);
  const uint64_t idle_from = pd.region_records_heard();
  std::this_thread::sleep_for(2s);
  EXPECT_LE(pd.region_records_heard() - idle_from, 1u)
      << "a region record per heartbeat (20 in 2 s) where nothing changed";
  const uint64_t before_split = pd.region_records_heard();
  auto split = client->SplitRegion("m");
  ASSERT_TRUE(split.ok()) << split.status().ToString();
  EXPECT_TRUE(
      raft::testing::WaitFor([&] { return pd.region_records_heard() >= before_split + 2; }, 10s));
  auto regions = client->Regions();
  ASSERT_TRUE(regions.ok());
  EXPECT_EQ(regions->regions_size(), 2);
  cluster.Stop();
}

// Issue 20: a region that splits and then loses most of its keys merges back with its
// neighbour by itself, once both are small and settled; every key stays readable.
TEST(LocalCluster, AnEmptiedRangeMergesBackByItself) {
  TempDir dir;
  LocalCluster cluster(dir);
  cluster.set_tweak([](store::StoreNodeOptions& o) {
    o.region_split_keys = 40;
    o.split_check_interval = 200ms;
    o.region_merge_keys = 10;
    o.region_merge_bytes = 1 << 20;
    o.split_merge_interval = 1s;
  });
  ASSERT_TRUE(cluster.Start().ok());
  auto client = cluster.NewClient();
  for (int i = 0; i < 60; ++i) {
    auto put = client->Put("key" + std::to_string(1000 + i), std::to_string(i));
    ASSERT_TRUE(put.ok()) << put.status().ToString();
  }
  ASSERT_TRUE(raft::testing::WaitFor(
      [&] {
        auto regions = client->Regions();
        return regions.ok() && regions->regions_size() >= 2;
      },
      60s));
  // All but every tenth key go: each region holds a few keys, and they merge back into one.
  for (int i = 0; i < 60; ++i) {
    if (i % 10 == 0) continue;
    auto del = client->Delete("key" + std::to_string(1000 + i));
    ASSERT_TRUE(del.ok()) << del.status().ToString();
  }
  ASSERT_TRUE(raft::testing::WaitFor(
      [&] {
        auto regions = client->Regions();
        return regions.ok() && regions->regions_size() == 1 &&
               regions->regions(0).end_key().empty();
      },
      60s));
  for (int i = 0; i < 60; i += 10) {
    auto got = client->Get("key" + std::to_string(1000 + i));
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(got->value, std::to_string(i));
    EXPECT_TRUE(got->root.verified);
  }
  auto scan = client->Scan("", "", 1000);
  ASSERT_TRUE(scan.ok()) << scan.status().ToString();
  EXPECT_EQ(scan->items.size(), 6u);
  EXPECT_EQ(scan->roots.size(), 1u);
}

// Issue 20: the region splits twice while a client writes; nothing acknowledged is lost, every
// answer verifies, PD and the client follow the new ranges, and a restart keeps them.
TEST(LocalCluster, SplitsUnderWritesLoseNothingAndProofsKeepVerifying) {
  TempDir dir;
  LocalCluster cluster(dir);
  ASSERT_TRUE(cluster.Start().ok());
  auto client = cluster.NewClient();
  ASSERT_TRUE(client->Put("a0", "first").ok());

  AckedWriter writer(cluster);
  ASSERT_TRUE(writer.WaitWritten(20));
  auto first = client->SplitRegion("h");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_EQ(first->size(), 2u);
  EXPECT_EQ((*first)[0].end_key(), "h");
  EXPECT_EQ((*first)[1].start_key(), "h");
  ASSERT_TRUE(writer.WaitWritten(80));
  auto second = client->SplitRegion("p");
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  ASSERT_EQ(second->size(), 2u);
  EXPECT_EQ((*second)[0].start_key(), "h");
  EXPECT_EQ((*second)[1].start_key(), "p");
  auto again = client->SplitRegion("p");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->size(), 1u) << "p starts a region already";
  const Status written = writer.Join();
  ASSERT_TRUE(written.ok()) << written.ToString();
  const auto& acked = writer.acked();
  ASSERT_EQ(acked.size(), 300u);

  for (const auto& [key, value] : acked) {
    auto got = client->Get(key);
    ASSERT_TRUE(got.ok()) << key << ": " << got.status().ToString();
    EXPECT_EQ(got->value, value) << key;
    EXPECT_TRUE(got->root.verified);
  }
  // One scan over the three regions: every key once, in order, each page proven.
  auto scan = client->Scan("", "", 1000);
  ASSERT_TRUE(scan.ok()) << scan.status().ToString();
  EXPECT_EQ(scan->items.size(), acked.size() + 1);
  std::set<uint64_t> regions_seen;
  for (const auto& root : scan->roots) {
    EXPECT_TRUE(root.verified);
    regions_seen.insert(root.region_id);
  }
  EXPECT_EQ(regions_seen.size(), 3u);
  ASSERT_TRUE(raft::testing::WaitFor(
      [&] {
        auto regions = client->Regions();
        if (!regions.ok() || regions->regions_size() != 3) return false;
        for (uint64_t leader : regions->leader_store_ids())
          if (leader == 0) return false;
        return true;
      },
      30s));

  // PD has each split's statement as a leader reported it, signed; it names the halves.
  auto regions = client->Regions();
  ASSERT_TRUE(regions.ok());
  int checked = 0;
  for (const meta::Region& r : regions->regions()) {
    auto origin = client->VerifyOrigin(r);
    if (origin.status().IsNotFound()) continue;
    ASSERT_TRUE(origin.ok()) << origin.status().ToString();
    ASSERT_TRUE(origin->split.has_value());
    const store::SplitFacts* facts = &*origin->split;
    EXPECT_TRUE(facts->left_id == r.id() || facts->right_id == r.id());
    EXPECT_EQ(facts->split_key, facts->right_id == r.id() ? r.start_key() : r.end_key());
    checked++;
  }
  EXPECT_EQ(checked, 3) << "the three regions a split made or narrowed";
  meta::Region forged = regions->regions(0);
  for (const meta::Region& r : regions->regions()) {
    if (!r.origin_statement().empty()) forged = r;
  }
  forged.mutable_origin_statement()->back() ^= 1;
  EXPECT_FALSE(client->VerifyOrigin(forged).ok()) << "a changed statement does not verify";

  // Everything stops and starts again: the stores open the three regions they recorded.
  client.reset();
  cluster.Stop();
  ASSERT_TRUE(cluster.Start().ok());
  client = cluster.NewClient();
  for (std::size_t i = 0; i < acked.size(); i += 37) {
    auto got = client->Get(acked[i].first);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(got->value, acked[i].second);
  }
  for (auto& s : cluster.stores()) EXPECT_EQ(s->Regions().size(), 3u);
}

TEST(LocalCluster, MergesUnderWritesLoseNothingAndProofsKeepVerifying) {
  TempDir dir;
  LocalCluster cluster(dir);
  ASSERT_TRUE(cluster.Start().ok());
  auto client = cluster.NewClient();
  ASSERT_TRUE(client->Put("a0", "first").ok());
  auto h = client->SplitRegion("h");
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  auto p = client->SplitRegion("p");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  const uint64_t first = (*h)[0].id(), middle = (*p)[0].id(), last = (*p)[1].id();

  AckedWriter writer(cluster);
  ASSERT_TRUE(writer.WaitWritten(40));
  // [h, p) takes [p, ) in, then [, h) takes the rest: one region again.
  auto merged = client->MergeRegions(middle);
  ASSERT_TRUE(merged.ok()) << merged.status().ToString();
  EXPECT_EQ(merged->id(), middle);
  EXPECT_EQ(merged->start_key(), "h");
  EXPECT_EQ(merged->end_key(), "");
  ASSERT_TRUE(writer.WaitWritten(120));
  auto whole = client->MergeRegions(first);
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();
  EXPECT_EQ(whole->start_key(), "");
  EXPECT_EQ(whole->end_key(), "");
  ASSERT_TRUE(raft::testing::WaitFor(
      [&] {
        auto regions = client->Regions();
        return regions.ok() && regions->regions_size() == 1;
      },
      30s));
  const auto no_neighbour = client->MergeRegions(first);
  EXPECT_EQ(no_neighbour.status().code(), StatusCode::kInvalidArgument)
      << "the last region has no right neighbour: " << no_neighbour.status().ToString();
  const Status written = writer.Join();
  ASSERT_TRUE(written.ok()) << written.ToString();
  const auto& acked = writer.acked();
  ASSERT_EQ(acked.size(), 300u);

  for (const auto& [key, value] : acked) {
    auto got = client->Get(key);
    ASSERT_TRUE(got.ok()) << key << ": " << got.status().ToString();
    EXPECT_EQ(got->value, value) << key;
    EXPECT_TRUE(got->root.verified);
    EXPECT_EQ(got->root.region_id, first);
  }
  auto scan = client->Scan("", "", 1000);
  ASSERT_TRUE(scan.ok()) << scan.status().ToString();
  EXPECT_EQ(scan->items.size(), acked.size() + 1);
  // PD holds the one region, with the statement of its last merge, signed.
  ASSERT_TRUE(raft::testing::WaitFor(
      [&] {
        auto regions = client->Regions();
        return regions.ok() && regions->regions_size() == 1 &&
               regions->regions(0).epoch().version() == whole->epoch().version() &&
               regions->leader_store_ids(0) != 0;
      },
      30s));
  auto regions = client->Regions();
  auto origin = client->VerifyOrigin(regions->regions(0));
  ASSERT_TRUE(origin.ok()) << origin.status().ToString();
  ASSERT_TRUE(origin->merge.has_value());
  EXPECT_EQ(origin->merge->target_id, first);
  EXPECT_EQ(origin->merge->source_id, middle);
  EXPECT_NE(last, middle);

  client.reset();
  cluster.Stop();
  ASSERT_TRUE(cluster.Start().ok());
  client = cluster.NewClient();
  for (std::size_t i = 0; i < acked.size(); i += 37) {
    auto got = client->Get(acked[i].first);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(got->value, acked[i].second);
  }
  for (auto& s : cluster.stores()) EXPECT_EQ(s->Regions().size(), 1u);
}

}  // namespace
}  // namespace rustorium

namespace rustorium {
namespace {

// Issue 18: a write whose answer was lost failed with "outcome unknown" although it had been
// applied. Now the client sends it again as a retry, and the region answers the stored result
// instead of applying it twice (a compare-and-swap would fail the second time).
TEST(LocalCluster, AWriteWhoseAnswerIsLostIsRetriedAndAppliedOnce) {
  TempDir dir;
  LocalCluster cluster(dir);
  ASSERT_TRUE(cluster.Start().ok());
  client::ClientOptions co;
  co.timeout = 1500ms;
  auto client = cluster.NewClient(co);
  ASSERT_TRUE(client->Put("warm", "up").ok());  // a leader, and the client knows it
  SetFaultsForTest("store.write_answer@1");
  auto swapped = client->CompareAndSwap("k", std::nullopt, "1");
  SetFaultsForTest("");
  ASSERT_TRUE(swapped.ok()) << swapped.status().ToString();
  EXPECT_TRUE(swapped->result.replayed());
  EXPECT_TRUE(swapped->result.cas_succeeded());
  EXPECT_TRUE(swapped->root.verified);
  EXPECT_EQ(client->Get("k")->value, "1");

  // Without sessions the same loss is an unknown outcome, as before.
  co.write_sessions = false;
  auto plain = cluster.NewClient(co);
  ASSERT_TRUE(plain->Put("warm", "again").ok());
  SetFaultsForTest("store.write_answer@1");
  auto lost = plain->Put("k2", "v");
  SetFaultsForTest("");
  EXPECT_EQ(lost.status().code(), StatusCode::kTimedOut) << lost.status().ToString();
  cluster.Stop();
}

}  // namespace
}  // namespace rustorium
