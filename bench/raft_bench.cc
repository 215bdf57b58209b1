// Multi-raft backend throughput, latency, group commit and per-group cost, side by side with
// libraft's stock libuv backend (raft/uv.h) in one run; with --regions, the same for whole
// regions (each group a region: the store's state machine, index tree and write sessions on
// top of the group), so that the region layer's share of the cost shows beside the raft layer's.
//
// Three stores in this process, each with its own event loop and engine (sync on: every
// acknowledged append is fsynced), replicate G groups of three replicas over loopback TCP.
// A closed loop keeps W proposals (16-byte key, 128-byte value) in flight across all groups
// for S seconds, each sent to its group's leader. Reported per G: committed proposals/s,
// commit latency p50/p99, log entries appended and synced writes (fsyncs) per second across the
// three stores, idle CPU and memory per replica.
//
// The peer, for the group counts it can carry (--stock-max-groups, default 10): the same load
// on libraft's own uv backend, which needs a directory, a segment file and a TCP listener per
// replica. The ratio printed is ours / stock in committed proposals per second.
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

extern "C" {
#include <raft/uv.h>
}

#include "region/raft/multi_raft.h"
#include "region/rpc/uv_loop.h"
#include "region/store/engine_limits.h"
#include "region/store/store.h"
#include "tests/support/raft_cluster.h"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
namespace rr = rustorium::raft;

namespace {

struct Config {
  std::vector<int> groups = {1, 100, 1000};
  double seconds = 5;
  int window = 256;
  double idle_seconds = 5;
  int stock_max_groups = 10;
  bool regions = false;
  bool regions_only = false;
  std::string dir = "/tmp/rustorium-raft-bench";
};

uint64_t RssKiB() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6));
  }
  return 0;
}

double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// What a load run needs from a replicated system: 3 stores, each with a loop.
class System {
 public:
  virtual ~System() = default;
  // Creates the groups (the stores exist already, so their base memory is not counted).
  virtual void Start(int groups) = 0;
  virtual rustorium::rpc::EventLoop& loop(int store) = 0;
  // Loop thread of `store`.
  virtual bool IsLeader(int store, uint64_t group) = 0;
  virtual void Propose(int store, uint64_t group, std::string command,
                       std::function<void(bool)> done) = 0;
  // Entries appended and synced writes so far, summed over the stores (-1 when unknown).
  virtual std::pair<int64_t, int64_t> Counters() = 0;
};

struct LoadResult {
  double seconds = 0;
  uint64_t ok = 0;
  uint64_t failed = 0;
  std::vector<uint32_t> latency_us;
  int64_t entries = -1;
  int64_t syncs = -1;
};

// Keeps `window` proposals in flight, spread over the groups in proportion to each store's
// leaders, until `seconds` pass.
LoadResult RunLoad(System& sys, int groups, int window, double seconds) {
  struct Driver {
    std::vector<uint64_t> led;
    std::size_t next = 0;
    uint64_t ok = 0, failed = 0;
    std::vector<uint32_t> latency_us;
    int active = 0;
    std::promise<void> done;
  };
  std::vector<std::unique_ptr<Driver>> drivers;
  for (int s = 0; s < 3; ++s) {
    auto d = std::make_unique<Driver>();
    sys.loop(s).RunSync([&] {
      for (int g = 1; g <= groups; ++g) {
        if (sys.IsLeader(s, g)) d->led.push_back(g);
      }
    });
    drivers.push_back(std::move(d));
  }
  const auto [entries0, syncs0] = sys.Counters();
  const auto start = std::chrono::steady_clock::now();
  const auto end = start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                               std::chrono::duration<double>(seconds));
  for (int s = 0; s < 3; ++s) {
    Driver* d = drivers[s].get();
    const int slots =
        d->led.empty() ? 0 : std::max(1, window * static_cast<int>(d->led.size()) / groups);
    if (slots == 0) {
      d->done.set_value();
      continue;
    }
    sys.loop(s).Post([&sys, d, s, slots, end] {
      auto one = std::make_shared<std::function<void()>>();
      *one = [&sys, d, s, end, one]() {
        const uint64_t g = d->led[d->next++ % d->led.size()];
        char key[17];
        std::snprintf(key, sizeof(key), "%016llx", static_cast<unsigned long long>(d->next));
        const auto t0 = std::chrono::steady_clock::now();
        sys.Propose(
            s, g, std::string(key) + "=" + std::string(128, 'v'), [d, t0, end, one](bool ok) {
              const auto t1 = std::chrono::steady_clock::now();
              if (ok) {
                ++d->ok;
                d->latency_us.push_back(static_cast<uint32_t>(
                    std::chrono::duration_cast<std::chrono::microseconds>(t1 - t0).count()));
              } else {
                ++d->failed;
              }
              if (t1 < end) {
                (*one)();
              } else if (--d->active == 0) {
                d->done.set_value();
              }
            });
      };
      d->active = slots;
      for (int i = 0; i < slots; ++i) (*one)();
    });
  }
  for (auto& d : drivers) d->done.get_future().wait();
  LoadResult r;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (auto& d : drivers) {
    r.ok += d->ok;
    r.failed += d->failed;
    r.latency_us.insert(r.latency_us.end(), d->latency_us.begin(), d->latency_us.end());
  }
  const auto [entries1, syncs1] = sys.Counters();
  if (entries0 >= 0) {
    r.entries = entries1 - entries0;
    r.syncs = syncs1 - syncs0;
  }
  std::sort(r.latency_us.begin(), r.latency_us.end());
  return r;
}

double Percentile(const std::vector<uint32_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  return sorted[std::min(sorted.size() - 1,
                         static_cast<std::size_t>(p * static_cast<double>(sorted.size())))] /
         1000.0;
}

// ---- ours ----

// Our backend's timers in every run: tick 100 ms, heartbeat 1 s (the default), election 3 s
// (shorter than the default 10 s only so that the bench starts sooner).
rr::MultiRaftOptions BenchRaftOptions() {
  rr::MultiRaftOptions o;
  o.tick = 100ms;
  o.heartbeat = 1000ms;
  o.election = 3000ms;
  return o;
}

class Ours : public System {
 public:
  explicit Ours(const std::string& dir) {
    const rr::MultiRaftOptions o = BenchRaftOptions();
    for (int i = 1; i <= 3; ++i) {
      stores_.push_back(
          std::make_unique<rr::testing::TestStore>(i, dir + "/ours-" + std::to_string(i), o));
    }
    for (auto& s : stores_) peers_.push_back(s->member());
    for (auto& s : stores_) Check(s->Start({}, peers_));
  }
  void Start(int groups) override {
    for (auto& s : stores_) {
      s->Sync([&] {
        for (int g = 1; g <= groups; ++g) {
          Check(s->raft().CreateGroup(
              g, std::make_unique<rr::testing::TestStateMachine>(&s->engine(), g), peers_));
        }
      });
    }
  }
  rustorium::rpc::EventLoop& loop(int s) override { return stores_[s]->loop(); }
  bool IsLeader(int s, uint64_t g) override {
    auto info = stores_[s]->raft().Info(g);
    return info && info->role == rr::Role::kLeader;
  }
  void Propose(int s, uint64_t g, std::string command, std::function<void(bool)> done) override {
    stores_[s]->raft().Propose(
        g, std::move(command),
        [done = std::move(done)](rustorium::Result<rr::ProposeResult> r) { done(r.ok()); });
  }
  std::pair<int64_t, int64_t> Counters() override {
    int64_t entries = 0, syncs = 0;
    for (auto& s : stores_) {
      const auto& st = s->raft().stats();
      entries += static_cast<int64_t>(st.entries_appended.load());
      syncs += static_cast<int64_t>(st.log_writes.load() + st.hard_state_writes.load());
    }
    return {entries, syncs};
  }

 private:
  static void Check(const rustorium::Status& st) {
    if (!st.ok()) {
      std::fprintf(stderr, "start: %s\n", st.ToString().c_str());
      std::exit(1);
    }
  }
  std::vector<std::unique_ptr<rr::testing::TestStore>> stores_;
  std::vector<rr::Member> peers_;
};

// ---- whole regions ----

// Three stores as the store process runs them (store::Store over the multi-raft backend), each
// group a region of the key space: a proposal is a one-key write command applied by the region's
// state machine (engine write, index tree, session-free), as kv.Write proposes after its checks.
class Regions : public System {
 public:
  explicit Regions(const std::string& dir) {
    const rr::MultiRaftOptions o = BenchRaftOptions();
    for (int i = 1; i <= 3; ++i) {
      auto n = std::make_unique<Node>();
      n->base =
          std::make_unique<rr::testing::TestStore>(i, dir + "/regions-" + std::to_string(i), o);
      n->base->set_engine_options(rustorium::store::EngineOptionsFor({}));
      Node* raw = n.get();
      rustorium::store::StoreServiceOptions service;
      service.store_id = static_cast<uint64_t>(i);
      n->base->set_before_serve([raw, service](rr::testing::TestStore& ts,
                                               rustorium::rpc::RpcServer& server) {
        raw->store =
            std::make_unique<rustorium::store::Store>(&ts.engine(), ts.raft(), raw->key, service);
        raw->store->RegisterHandlers(server);
      });
      nodes_.push_back(std::move(n));
    }
    for (auto& n : nodes_) Check(n->base->Start({}, {}));
  }
  ~Regions() override {
    for (auto& n : nodes_) {
      n->base->Sync([&] { n->store->Stop(); });
      n->base->Stop();
    }
  }
  // Region g holds the keys from StartKey(g) (none for the first) to StartKey(g + 1).
  static std::string StartKey(uint64_t g) {
    char key[16];
    std::snprintf(key, sizeof(key), "r%07llu", static_cast<unsigned long long>(g));
    return key;
  }
  void Start(int groups) override {
    for (int g = 1; g <= groups; ++g) {
      rustorium::meta::Region r;
      r.set_id(static_cast<uint64_t>(g));
      if (g > 1) r.set_start_key(StartKey(g));
      if (g < groups) r.set_end_key(StartKey(g + 1));
      r.mutable_epoch()->set_conf_ver(1);
      r.mutable_epoch()->set_version(1);
      for (auto& n : nodes_) {
        rustorium::meta::Peer* p = r.add_peers();
        p->set_store_id(n->base->id());
        p->set_address(n->base->address());
      }
      for (auto& n : nodes_) Check(n->base->Sync([&] { return n->store->AddRegion(r); }));
    }
  }
  rustorium::rpc::EventLoop& loop(int s) override { return nodes_[s]->base->loop(); }
  bool IsLeader(int s, uint64_t g) override {
    auto info = nodes_[s]->base->raft().Info(g);
    return info && info->role == rr::Role::kLeader;
  }
  void Propose(int s, uint64_t g, std::string command, std::function<void(bool)> done) override {
    const std::size_t eq = command.find('=');
    rustorium::store::Command c;
    rustorium::store::Mutation* m = c.mutable_write()->add_mutations();
    m->set_key(StartKey(g) + "/" + command.substr(0, eq));
    m->set_value(command.substr(eq + 1));
    nodes_[s]->base->raft().Propose(
        g, c.SerializeAsString(), [done = std::move(done)](rustorium::Result<rr::ProposeResult> r) {
          rustorium::store::ApplyResult applied;
          done(r.ok() && applied.ParseFromString(r->result) && applied.error().empty());
        });
  }
  std::pair<int64_t, int64_t> Counters() override {
    int64_t entries = 0, syncs = 0;
    for (auto& n : nodes_) {
      const auto& st = n->base->raft().stats();
      entries += static_cast<int64_t>(st.entries_appended.load());
      syncs += static_cast<int64_t>(st.log_writes.load() + st.hard_state_writes.load());
    }
    return {entries, syncs};
  }

 private:
  struct Node {
    std::unique_ptr<rr::testing::TestStore> base;
    rustorium::store::StoreKey key = rustorium::store::StoreKey::Generate();
    std::unique_ptr<rustorium::store::Store> store;
  };
  static void Check(const rustorium::Status& st) {
    if (!st.ok()) {
      std::fprintf(stderr, "regions: %s\n", st.ToString().c_str());
      std::exit(1);
    }
  }
  std::vector<std::unique_ptr<Node>> nodes_;
};

// ---- libraft's stock uv backend ----

// A FSM that counts what it applies (the data volume is the same as ours').
int StockApply(raft_fsm* fsm, const raft_buffer*, void** result) {
  ++*static_cast<uint64_t*>(fsm->data);
  *result = nullptr;
  return 0;
}
int StockSnapshot(raft_fsm*, raft_buffer* bufs[], unsigned* n) {
  *bufs = static_cast<raft_buffer*>(raft_malloc(sizeof(raft_buffer)));
  (*bufs)[0].base = raft_malloc(8);
  (*bufs)[0].len = 8;
  *n = 1;
  return 0;
}
int StockRestore(raft_fsm*, raft_buffer* buf) {
  raft_free(buf->base);
  return 0;
}

class Stock : public System {
 public:
  explicit Stock(std::string dir) : dir_(std::move(dir)) {
    for (int s = 0; s < 3; ++s) loops_.push_back(std::make_unique<rustorium::rpc::EventLoop>());
  }
  void Start(int groups) override {
    const std::string& dir = dir_;
    // One address per replica: the stock backend listens per raft instance.
    std::vector<std::vector<std::string>> address(3, std::vector<std::string>(groups + 1));
    for (int s = 0; s < 3; ++s) {
      for (int g = 1; g <= groups; ++g) {
        address[s][g] = "127.0.0.1:" + std::to_string(rr::testing::PickPort());
      }
    }
    for (int s = 0; s < 3; ++s) {
      loops_[s]->RunSync([&] {
        for (int g = 1; g <= groups; ++g) {
          auto n = std::make_unique<Node>();
          const std::string path = dir + "/stock-" + std::to_string(s) + "-" + std::to_string(g);
          fs::create_directories(path);
          n->fsm.version = 1;
          n->fsm.data = &n->applied;
          n->fsm.apply = StockApply;
          n->fsm.snapshot = StockSnapshot;
          n->fsm.restore = StockRestore;
          Check(raft_uv_tcp_init(&n->transport, rustorium::rpc::UvLoop(*loops_[s])), "tcp init");
          Check(
              raft_uv_init(&n->io, rustorium::rpc::UvLoop(*loops_[s]), path.c_str(), &n->transport),
              "uv init");
          raft_uv_set_segment_size(&n->io, 1 << 20);
          Check(raft_init(&n->raft, &n->io, &n->fsm, static_cast<raft_id>(s + 1),
                          address[s][g].c_str()),
                "init");
          raft_set_election_timeout(&n->raft, 3000);
          raft_set_heartbeat_timeout(&n->raft, 1000);
          raft_set_pre_vote(&n->raft, true);
          raft_configuration conf;
          raft_configuration_init(&conf);
          for (int p = 0; p < 3; ++p)
            raft_configuration_add(&conf, p + 1, address[p][g].c_str(), RAFT_VOTER);
          Check(raft_bootstrap(&n->raft, &conf), "bootstrap");
          raft_configuration_close(&conf);
          Check(raft_start(&n->raft), "start");
          nodes_[s][g] = std::move(n);
        }
      });
    }
  }
  ~Stock() override {
    for (int s = 0; s < 3; ++s) {
      std::promise<void> closed;
      auto left = std::make_shared<int>(static_cast<int>(nodes_[s].size()));
      loops_[s]->RunSync([&] {
        if (*left == 0) closed.set_value();
        for (auto& [g, n] : nodes_[s]) {
          n->raft.data = new std::function<void()>([&, left] {
            if (--*left == 0) closed.set_value();
          });
          raft_close(&n->raft, [](struct raft* r) {
            auto* fn = static_cast<std::function<void()>*>(r->data);
            (*fn)();
            delete fn;
          });
        }
      });
      closed.get_future().wait();
      loops_[s]->RunSync([&] {
        for (auto& [g, n] : nodes_[s]) {
          raft_uv_close(&n->io);
          raft_uv_tcp_close(&n->transport);
        }
      });
      loops_[s]->RunSync([] {});
    }
    for (int s = 0; s < 3; ++s) {
      loops_[s].reset();
      nodes_[s].clear();
    }
  }
  rustorium::rpc::EventLoop& loop(int s) override { return *loops_[s]; }
  bool IsLeader(int s, uint64_t g) override {
    return raft_state(&nodes_[s][g]->raft) == RAFT_LEADER;
  }
  void Propose(int s, uint64_t g, std::string command, std::function<void(bool)> done) override {
    struct Req {
      struct raft_apply req;
      std::function<void(bool)> done;
    };
    auto* r = new Req{{}, std::move(done)};
    r->req.data = r;
    raft_buffer buf{raft_malloc(command.size()), command.size()};
    std::memcpy(buf.base, command.data(), command.size());
    if (raft_apply(&nodes_[s][g]->raft, &r->req, &buf, 1,
                   [](struct raft_apply* req, int status, void*) {
                     std::unique_ptr<Req> r(static_cast<Req*>(req->data));
                     r->done(status == 0);
                   }) != 0) {
      raft_free(buf.base);
      std::unique_ptr<Req> owned(r);
      owned->done(false);
    }
  }
  std::pair<int64_t, int64_t> Counters() override { return {-1, -1}; }

 private:
  struct Node {
    struct raft raft {};
    raft_io io{};
    raft_uv_transport transport{};
    raft_fsm fsm{};
    uint64_t applied = 0;
  };
  static void Check(int rv, const char* what) {
    if (rv != 0) {
      std::fprintf(stderr, "stock libraft %s: %s\n", what, raft_strerror(rv));
      std::exit(1);
    }
  }
  std::string dir_;
  std::vector<std::unique_ptr<rustorium::rpc::EventLoop>> loops_;
  std::map<uint64_t, std::unique_ptr<Node>> nodes_[3];
};

// Waits until every group has a leader somewhere; false after `timeout`.
bool WaitLeaders(System& sys, int groups, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int led = 0;
    for (int s = 0; s < 3; ++s) {
      sys.loop(s).RunSync([&] {
        for (int g = 1; g <= groups; ++g) led += sys.IsLeader(s, g) ? 1 : 0;
      });
    }
    if (led >= groups) return true;
    std::this_thread::sleep_for(200ms);
  }
  return false;
}

struct Row {
  std::string name;
  int groups;
  LoadResult load;
  double idle_cpu_percent;
  double kib_per_replica_idle;    // resident memory added per replica, after the election
  double kib_per_replica_loaded;  // and after the load (libraft caches the log up to a snapshot)
};

Row Measure(const std::string& name, int groups, const Config& c,
            const std::function<std::unique_ptr<System>()>& make) {
  std::unique_ptr<System> sys = make();
  const uint64_t rss0 = RssKiB();
  sys->Start(groups);
  // Elections of thousands of groups on a small machine take a while: 120 s, or 30 ms a group.
  const auto patience = std::chrono::seconds(std::max(120, groups * 30 / 1000));
  if (!WaitLeaders(*sys, groups, patience)) {
    std::fprintf(stderr, "%s: not every group of %d elected a leader in %lld s\n", name.c_str(),
                 groups, static_cast<long long>(patience.count()));
    std::exit(1);
  }
  const uint64_t rss1 = RssKiB();
  // Idle: every group has a leader and nothing to do but heartbeats.
  const double cpu0 = CpuSeconds();
  std::this_thread::sleep_for(std::chrono::duration<double>(c.idle_seconds));
  const double idle = (CpuSeconds() - cpu0) / c.idle_seconds * 100;
  LoadResult load = RunLoad(*sys, groups, c.window, c.seconds);
  const uint64_t rss2 = RssKiB();
  auto per_replica = [&](uint64_t rss) {
    return static_cast<double>(rss - std::min(rss0, rss)) / (3.0 * groups);
  };
  Row row{name, groups, std::move(load), idle, per_replica(rss1), per_replica(rss2)};
  sys.reset();
  return row;
}

double CommitsPerSecond(const Row& r) {
  return r.load.seconds > 0 ? static_cast<double>(r.load.ok) / r.load.seconds : 0.0;
}

// Empties the scratch directory before a system starts in it.
void Fresh(const std::string& dir) {
  fs::remove_all(dir);
  fs::create_directories(dir);
}

void Print(const Row& r) {
  const double tput = CommitsPerSecond(r);
  std::printf("%-6s %6d groups: %9.0f commits/s  p50 %7.2f ms  p99 %7.2f ms  failed %llu",
              r.name.c_str(), r.groups, tput, Percentile(r.load.latency_us, 0.50),
              Percentile(r.load.latency_us, 0.99), static_cast<unsigned long long>(r.load.failed));
  if (r.load.entries >= 0) {
    std::printf("  appends %9.0f/s  fsyncs %7.0f/s (%.1f appends per fsync)",
                r.load.entries / r.load.seconds, r.load.syncs / r.load.seconds,
                r.load.syncs > 0
                    ? static_cast<double>(r.load.entries) / static_cast<double>(r.load.syncs)
                    : 0.0);
  }
  std::printf(
      "\n       idle: %.2f%% of a core in all (%.1f us/s per replica); memory per replica %.1f KiB "
      "idle, "
      "%.1f KiB after the load (with the engine's memtables)\n",
      r.idle_cpu_percent, r.idle_cpu_percent / 100 * 1e6 / (3.0 * r.groups), r.kib_per_replica_idle,
      r.kib_per_replica_loaded);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  // Thousands of groups elect leaders: their info lines ("raft leader: …") would bury the figures.
  spdlog::set_level(spdlog::level::warn);
  Config c;
  CLI::App app{"Multi-raft backend against libraft's stock uv backend"};
  app.add_option("--groups", c.groups, "group counts to run")->delimiter(',');
  app.add_option("--seconds", c.seconds, "load duration per run");
  app.add_option("--window", c.window, "proposals in flight across all groups");
  app.add_option("--idle-seconds", c.idle_seconds, "idle measurement per run");
  app.add_option("--stock-max-groups", c.stock_max_groups,
                 "largest group count run on the stock backend (0: none)");
  app.add_option("--dir", c.dir, "scratch directory (emptied)");
  app.add_flag("--regions", c.regions,
               "also run whole regions (the store's state machine on each group) per count");
  app.add_flag("--regions-only", c.regions_only,
               "run whole regions only (memory per replica without an earlier run's freed pages)");
  CLI11_PARSE(app, argc, argv);
  // The stock backend holds several files and sockets per replica.
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }
  std::printf(
      "3 stores in one process on loopback, 3 replicas per group, fsync on; %d proposals in "
      "flight, "
      "%.0f s per run; 16-byte keys, 128-byte values; heartbeat 1 s, election 3 s\n",
      c.window, c.seconds);
  for (int groups : c.groups) {
    Fresh(c.dir);
    if (c.regions_only) {
      Print(Measure("region", groups, c, [&] { return std::make_unique<Regions>(c.dir); }));
      continue;
    }
    Row ours = Measure("ours", groups, c, [&] { return std::make_unique<Ours>(c.dir); });
    Print(ours);
    const double b = CommitsPerSecond(ours);
    if (c.regions) {
      Fresh(c.dir);
      Row regions = Measure("region", groups, c, [&] { return std::make_unique<Regions>(c.dir); });
      Print(regions);
      std::printf(
          "       regions / raft groups alone: commits/s %.2f, idle CPU %.2f, memory per replica "
          "%.1f KiB more\n",
          b > 0 ? CommitsPerSecond(regions) / b : 0.0,
          ours.idle_cpu_percent > 0 ? regions.idle_cpu_percent / ours.idle_cpu_percent : 0.0,
          regions.kib_per_replica_idle - ours.kib_per_replica_idle);
    }
    if (groups <= c.stock_max_groups) {
      Fresh(c.dir);
      Row stock = Measure("stock", groups, c, [&] { return std::make_unique<Stock>(c.dir); });
      Print(stock);
      const double s = CommitsPerSecond(stock);
      std::printf("       ratio ours / stock (commits/s): %.2f\n", s > 0 ? b / s : 0.0);
    }
  }
  fs::remove_all(c.dir);
  return 0;
}
