// The chain's local benchmark, in the shape of the Narwhal/Bullshark reference implementation's
// (`fab local`): a committee of validators as real processes (`rustorium chain node`) on
// loopback, clients sending transactions of a fixed size at an offered rate to every worker of
// every running validator, for a measured period after a warm-up. Reported per run: committed
// transactions per second, consensus latency (a header proposed → its certificate committed)
// and end-to-end latency (a sample transaction sent → executed), p50 and p99.
//
// Runs (--runs): "base" (every validator, 1 worker each), "crash" (the last validator never
// started, like the reference's faults), "workers2" (2 workers per validator).
//
// The peer: the reference implementation is Rust and cannot be built on this machine (no
// crates registry), so the ratio printed is against its published local-benchmark figure
// (docs/benchmarks.md names the source): 46,000 tx/s, 464 ms consensus, 557 ms end-to-end.
#include <signal.h>
#include <sys/wait.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "base/codec.h"
#include "chain/narwhal/committee.h"
#include "chain/narwhal/crypto.h"
#include "chain/narwhal/messages.h"
#include "chain/net/chain_node.h"
#include "chain/net/node_config.h"
#include "chain/net/rpc_transport.h"
#include "region/rpc/channel.h"
#include "region/rpc/event_loop.h"
#include "tests/support/ports.h"
#include "tools/rustorium/child_process.h"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
namespace ch = rustorium::chain;
namespace rpc = rustorium::rpc;

namespace {

// The reference local benchmark (ANCHORS.md): 4 nodes, 1 worker, 512 B, 50,000 tx/s offered.
constexpr double kReferenceTps = 46'000;
constexpr double kReferenceConsensusMs = 464;
constexpr double kReferenceEndToEndMs = 557;

struct Config {
  int validators = 4;
  std::vector<std::string> runs = {"base", "crash", "workers2"};
  double rate = 50'000;
  size_t size = 512;
  double seconds = 20;
  double warmup = 5;
  uint64_t batch_size = 500'000;
  uint64_t max_batch_delay_ms = 200;
  uint64_t header_size = 1'000;
  uint64_t max_header_delay_ms = 200;
  uint64_t gc_depth = 50;
  uint64_t retry_delay_ms = 1'000;
  std::string dir = "/tmp/rustorium-chain-bench";
};

struct Validator {
  std::string primary;
  std::vector<std::string> workers;
  pid_t pid = -1;
};

rustorium::Result<std::string> Call(rpc::EventLoop& loop, const std::string& address,
                                    const std::string& payload) {
  auto hp = rpc::ParseAddress(address);
  if (!hp.ok()) return hp.status();
  auto channel = std::make_unique<rpc::RpcChannel>(loop, hp->host, hp->port);
  auto answer = channel->CallSync(ch::kStatusMethod, payload, 5s);
  channel.reset();
  return answer;
}

double Value(const std::string& status, const std::string& key) {
  const size_t at = status.find(key + ": ");
  return at == std::string::npos ? -1 : std::stod(status.substr(at + key.size() + 2));
}

double Median(std::vector<double> v) {
  if (v.empty()) return -1;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// One client: a thread sending bursts every 10 ms to one worker, the first transaction of each
// burst a latency sample. One-way messages, as the reference clients write to a socket.
class Client {
 public:
  Client(const std::string& address, uint32_t worker_id, double rate, size_t size, uint32_t id)
      : worker_id_(worker_id), rate_(rate), size_(size), id_(id) {
    auto hp = rpc::ParseAddress(address);
    channel_ = std::make_unique<rpc::RpcChannel>(loop_, hp->host, hp->port);
    thread_ = std::thread([this] { Run(); });
  }
  ~Client() {
    stop_ = true;
    thread_.join();
    channel_.reset();
  }
  uint64_t sent() const { return sent_; }

 private:
  void Run() {
    constexpr auto kTick = 10ms;
    const double per_tick = rate_ * std::chrono::duration<double>(kTick).count();
    double owed = 0;
    uint64_t counter = 0;
    auto next = std::chrono::steady_clock::now();
    while (!stop_) {
      owed += per_tick;
      const auto burst = static_cast<uint64_t>(owed);
      owed -= static_cast<double>(burst);
      for (uint64_t i = 0; i < burst; ++i) {
        std::string tx;
        if (i == 0) {
          tx = ch::MakeSampleTransaction(ch::UnixMicros(), (uint64_t{id_} << 40) | counter, size_);
        } else {
          tx.assign(1, 'T');
          rustorium::PutFixed64BE(tx, (uint64_t{id_} << 40) | counter);
          tx.resize(size_, 'x');
        }
        ++counter;
        channel_->Send(ch::kWorkerMethod, ch::EncodeMessage(ch::TransactionMessage{std::move(tx)}),
                       worker_id_);
      }
      sent_ += burst;
      next += kTick;
      std::this_thread::sleep_until(next);
    }
  }

  rpc::EventLoop loop_;
  std::unique_ptr<rpc::RpcChannel> channel_;
  uint32_t worker_id_;
  double rate_;
  size_t size_;
  uint32_t id_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> sent_{0};
  std::thread thread_;
};

struct Report {
  std::string name;
  int running = 0;
  int workers = 0;
  double offered = 0;
  double tps = 0;
  double consensus_p50 = -1, consensus_p99 = -1, e2e_p50 = -1, e2e_p99 = -1;
};

Report RunOne(const Config& config, const std::string& name, int workers, int crashed) {
  Report report;
  report.name = name;
  report.workers = workers;
  const std::string dir = config.dir + "/" + name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::vector<ch::Authority> authorities;
  std::vector<Validator> validators(config.validators);
  for (int i = 0; i < config.validators; ++i) {
    const ch::KeyPair key = ch::KeyPair::Generate();
    ch::Authority a;
    a.name = key.public_key();
    a.primary_address = "127.0.0.1:" + std::to_string(rustorium::testing::PickPort());
    for (int w = 0; w < workers; ++w) {
      a.worker_addresses.push_back("127.0.0.1:" + std::to_string(rustorium::testing::PickPort()));
    }
    validators[i].primary = a.primary_address;
    validators[i].workers = a.worker_addresses;
    authorities.push_back(a);
    const std::string n = std::to_string(i);
    std::ofstream(dir + "/v" + n + ".key") << key.SeedHex() << "\n";
    std::ofstream(dir + "/v" + n + ".toml")
        << "key_file = \"v" << n << ".key\"\ncommittee = \"committee.toml\"\ndata_dir = \"v"
        << n
        // Plain TCP, as the benchmark's earlier numbers were measured (validator.toml needs
        // [tls] files or plain = true).
        << "\"\n[tls]\nplain = true\n[parameters]\nbatch_size = " << config.batch_size
        << "\nmax_batch_delay_ms = " << config.max_batch_delay_ms
        << "\nheader_size = " << config.header_size
        << "\nmax_header_delay_ms = " << config.max_header_delay_ms
        << "\ngc_depth = " << config.gc_depth << "\nretry_delay_ms = " << config.retry_delay_ms
        << "\n";
  }
  auto committee = ch::Committee::Create(authorities);
  if (!committee.ok()) {
    std::fprintf(stderr, "committee: %s\n", committee.status().ToString().c_str());
    std::exit(1);
  }
  std::ofstream(dir + "/committee.toml") << ch::CommitteeToToml(*committee);

  const int running = config.validators - crashed;
  report.running = running;
  for (int i = 0; i < running; ++i) {
    const std::string n = std::to_string(i);
    validators[i].pid = rustorium::tools::SpawnChild(
        {RUSTORIUM_BINARY, "chain", "node", "--config", dir + "/v" + n + ".toml"},
        dir + "/v" + n + ".log");
  }
  rpc::EventLoop loop;
  for (int i = 0; i < running; ++i) {
    bool up = false;
    for (int attempt = 0; attempt < 100 && !up; ++attempt) {
      up = Call(loop, validators[i].primary, "").ok();
      if (!up) std::this_thread::sleep_for(100ms);
    }
    if (!up) {
      std::fprintf(stderr, "validator %d did not start; see %s/v%d.log\n", i, dir.c_str(), i);
      std::exit(1);
    }
  }

  const int clients = running * workers;
  report.offered = config.rate;
  std::vector<std::unique_ptr<Client>> load;
  for (int i = 0; i < running; ++i) {
    for (int w = 0; w < workers; ++w) {
      load.push_back(std::make_unique<Client>(validators[i].workers[w], static_cast<uint32_t>(w),
                                              config.rate / clients, config.size,
                                              static_cast<uint32_t>(load.size())));
    }
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(config.warmup));
  auto committed = [&](int i) {
    auto s = Call(loop, validators[i].primary, "");
    return s.ok() ? Value(*s, "\ncommitted") : -1;
  };
  const uint64_t start_ms = ch::UnixMicros() / 1000;
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<double> before(running);
  for (int i = 0; i < running; ++i) before[i] = committed(i);
  std::this_thread::sleep_for(std::chrono::duration<double>(config.seconds));
  std::vector<double> tps, c50, c99, e50, e99;
  for (int i = 0; i < running; ++i) {
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    auto s = Call(loop, validators[i].primary, "since_ms=" + std::to_string(start_ms));
    if (!s.ok()) continue;
    tps.push_back((Value(*s, "\ncommitted") - before[i]) / elapsed);
    c50.push_back(Value(*s, "consensus_latency_ms_p50"));
    c99.push_back(Value(*s, "consensus_latency_ms_p99"));
    e50.push_back(Value(*s, "end_to_end_latency_ms_p50"));
    e99.push_back(Value(*s, "end_to_end_latency_ms_p99"));
  }
  load.clear();
  for (int i = 0; i < running; ++i) ::kill(validators[i].pid, SIGTERM);
  for (int i = 0; i < running; ++i) ::waitpid(validators[i].pid, nullptr, 0);
  report.tps = Median(tps);
  report.consensus_p50 = Median(c50);
  report.consensus_p99 = Median(c99);
  report.e2e_p50 = Median(e50);
  report.e2e_p99 = Median(e99);
  fs::remove_all(dir);
  return report;
}

}  // namespace

int main(int argc, char** argv) {
  Config config;
  CLI::App app{"Chain benchmark: a local committee of validator processes under an offered load"};
  app.add_option("--validators", config.validators, "committee size")->check(CLI::Range(1, 16));
  app.add_option("--runs", config.runs, "base, crash (last validator down), workers2")
      ->delimiter(',');
  app.add_option("--rate", config.rate, "offered transactions per second, over all clients");
  app.add_option("--size", config.size, "transaction size in bytes")->check(CLI::Range(24, 65536));
  app.add_option("--seconds", config.seconds, "measured period");
  app.add_option("--warmup", config.warmup, "seconds of load before measuring");
  app.add_option("--batch-size", config.batch_size);
  app.add_option("--max-batch-delay-ms", config.max_batch_delay_ms);
  app.add_option("--header-size", config.header_size);
  app.add_option("--max-header-delay-ms", config.max_header_delay_ms);
  app.add_option("--gc-depth", config.gc_depth);
  app.add_option("--retry-delay-ms", config.retry_delay_ms, "resend and fetch retry period");
  app.add_option("--dir", config.dir, "scratch directory (emptied per run)");
  CLI11_PARSE(app, argc, argv);

  std::printf(
      "chain benchmark: %d validators, %zu B transactions, %.0f tx/s offered, %.0f s measured "
      "after %.0f s\n",
      config.validators, config.size, config.rate, config.seconds, config.warmup);
  std::printf(
      "parameters: batch %llu B / %llu ms, header %llu B / %llu ms, gc depth %llu, retry %llu ms\n",
      static_cast<unsigned long long>(config.batch_size),
      static_cast<unsigned long long>(config.max_batch_delay_ms),
      static_cast<unsigned long long>(config.header_size),
      static_cast<unsigned long long>(config.max_header_delay_ms),
      static_cast<unsigned long long>(config.gc_depth),
      static_cast<unsigned long long>(config.retry_delay_ms));
  std::printf("%-9s %8s %8s %12s %14s %14s %14s %14s\n", "run", "running", "workers", "tx/s",
              "consensus p50", "consensus p99", "e2e p50", "e2e p99");
  std::vector<Report> reports;
  for (const std::string& run : config.runs) {
    int workers = 1, crashed = 0;
    if (run == "crash") {
      crashed = 1;
    } else if (run == "workers2") {
      workers = 2;
    } else if (run != "base") {
      std::fprintf(stderr, "unknown run %s\n", run.c_str());
      return 2;
    }
    const Report r = RunOne(config, run, workers, crashed);
    std::printf("%-9s %8d %8d %12.0f %11.0f ms %11.0f ms %11.0f ms %11.0f ms\n", r.name.c_str(),
                r.running, r.workers, r.tps, r.consensus_p50, r.consensus_p99, r.e2e_p50,
                r.e2e_p99);
    std::fflush(stdout);
    reports.push_back(r);
  }
  std::printf(
      "\nreference (published, not run here: Narwhal/Bullshark local benchmark, 4 nodes, 1 worker, "
      "512 B,\n"
      "50,000 tx/s offered): %.0f tx/s, consensus %.0f ms, end-to-end %.0f ms (mean latencies)\n",
      kReferenceTps, kReferenceConsensusMs, kReferenceEndToEndMs);
  for (const Report& r : reports) {
    std::printf("ratio %-9s ours / reference: throughput %.2fx, end-to-end p50 latency %.2fx\n",
                r.name.c_str(), r.tps / kReferenceTps, r.e2e_p50 / kReferenceEndToEndMs);
  }
  return 0;
}
