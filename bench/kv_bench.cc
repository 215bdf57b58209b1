// The store against etcd: the same put/get load (tools/rustorium/kv_load.h) on a three-store
// Rustorium cluster and on a three-member etcd 3.4 cluster, both started here on loopback, in
// one run; prints ops/s and p50/p99/p999 latency of each, the CPU time per operation of the
// cluster's processes and of the clients (this process), and the ratios.
//
// Like against like: each side's native protocol (our RPC through region/client.h; etcd's gRPC
// KV service, Put and linearizable Range), plain TCP on both (our cluster runs with
// `[tls] plain = true` here, as etcd runs without TLS), fsync on both (our Raft log's group
// commit, etcd's WAL by default), the same client threads with one client connection each
// (one region client per thread; one gRPC channel per thread with its own subchannel), 16-byte
// keys and 256-byte values. Our cluster runs twice on the same data: proofs on (every answer's
// signature and proof checked by the client), then proofs off (no verification; see
// docs/benchmarks.md for what the store still does).
//
// With --sweep 1,4,16,64 one run measures each client count on both systems: our cluster is
// started once and serves every count (proofs on, then off, at each count, counts ascending),
// then etcd is started once and serves every count; it prints ops/s and p99 per count and,
// with --chart FILE.png, draws them with gnuplot (the figures also go to FILE.dat).
//
// Every child process gets SIGTERM when this process ends (PR_SET_PDEATHSIG), and is stopped
// and waited for on every return path.
#include <grpcpp/grpcpp.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_children.h"
#include "bench/etcd_kv.grpc.pb.h"
#include "tools/rustorium/child_process.h"
#include "tools/rustorium/kv_load.h"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using rustorium::Result;
using rustorium::Status;
namespace rt = rustorium::tools;
using namespace rustorium::bench;  // Children, FreePorts, WriteFile, FindProgram, WaitUntil

namespace {

struct Config {
  rt::KvLoadOptions load;
  std::string etcd_endpoints = "leader";  // or "all": thread i dials member i % 3
  std::string dir;                        // parent of the run's directory; default $TMPDIR or /tmp
  std::string rustorium;                  // default: ../tools/rustorium next to this binary
  std::string etcd = "etcd";
  bool keep = false;       // keep data and logs
  std::vector<int> sweep;  // client counts, ascending; empty: one run of load.threads
  std::string chart;       // FILE.png drawn with gnuplot from the sweep; empty: none
  std::string gnuplot;     // gnuplot's path, found when chart is set
};

// ---- our cluster ----

// Starts PD and three stores (plain TCP) under `dir`; returns PD's address once a verified read
// goes through.
Result<std::string> StartOurs(const Config& c, const std::string& dir, Children& children) {
  ASSIGN_OR_RETURN(std::vector<int> ports, FreePorts(4));
  const std::string pd = "127.0.0.1:" + std::to_string(ports[0]);
  // Elections after 3-6 s rather than the default 10-20 s, only so that the cluster starts sooner.
  const std::string raft = "[raft]\nelection_ms = 3000\n\n[tls]\nplain = true\n";
  RETURN_IF_ERROR(WriteFile(dir + "/pd.toml", "[pd]\ndata_dir = \"" + dir + "/pd\"\naddress = \"" +
                                                  pd + "\"\nreplicas = 3\n\n" + raft));
  for (int i = 1; i <= 3; ++i) {
    const std::string n = std::to_string(i);
    RETURN_IF_ERROR(WriteFile(
        dir + "/store" + n + ".toml",
        "[store]\ndata_dir = \"" + dir + "/store" + n +
            "\"\naddress = \"127.0.0.1:" + std::to_string(ports[static_cast<std::size_t>(i)]) +
            "\"\npd = [\"" + pd + "\"]\n\n[labels]\nregion = \"local\"\nzone = \"z" + n +
            "\"\nhost = \"store" + n + "\"\n\n" + raft));
  }
  RETURN_IF_ERROR(
      children.Start({c.rustorium, "pd", "--config", dir + "/pd.toml"}, dir + "/pd.log"));
  for (int i = 1; i <= 3; ++i) {
    const std::string n = std::to_string(i);
    RETURN_IF_ERROR(
        children.Start({c.rustorium, "server", "--config", dir + "/store" + n + ".toml"},
                       dir + "/store" + n + ".log"));
  }
  rustorium::client::ClientOptions o;
  o.pd = {pd};
  o.timeout = 2s;
  o.deadline = 4s;
  ASSIGN_OR_RETURN(std::unique_ptr<rustorium::client::Client> probe,
                   rustorium::client::Client::Connect(o));
  RETURN_IF_ERROR(WaitUntil(children, 90s, "our cluster", [&]() -> Status {
    Result<rustorium::client::ReadResult> r = probe->Get(rt::KvKey(0));
    if (!r.ok()) return r.status();
    return r->root.verified ? Status::OK() : Status::Corruption("read not verified");
  }));
  return pd;
}

// ---- etcd ----

std::unique_ptr<etcdserverpb::KV::Stub> EtcdStub(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // a connection of its own
  return etcdserverpb::KV::NewStub(
      grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args));
}

Status FromGrpc(const grpc::Status& s) {
  if (s.ok()) return Status::OK();
  return Status(s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED
                    ? rustorium::StatusCode::kTimedOut
                    : rustorium::StatusCode::kIOError,
                "etcd: " + s.error_message());
}

class EtcdTarget : public rt::KvTarget {
 public:
  explicit EtcdTarget(const std::string& address) : stub_(EtcdStub(address)) {}

  Status Put(const std::string& key, const std::string& value) override {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 10s);
    etcdserverpb::PutRequest req;
    req.set_key(key);
    req.set_value(value);
    etcdserverpb::PutResponse resp;
    return FromGrpc(stub_->Put(&ctx, req, &resp));
  }

  Status Get(const std::string& key) override {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 10s);
    etcdserverpb::RangeRequest req;
    req.set_key(key);  // serializable = false: linearizable, like our ReadIndex reads
    etcdserverpb::RangeResponse resp;
    return FromGrpc(stub_->Range(&ctx, req, &resp));
  }

 private:
  std::unique_ptr<etcdserverpb::KV::Stub> stub_;
};

struct EtcdCluster {
  std::vector<std::string> clients;  // client addresses, "127.0.0.1:port"
  std::string leader;                // the leader's client address
  std::string version;
};

// Starts three etcd members under `dir` (fsync on: etcd's default) and waits until they agree
// on a leader and a put reads back.
Result<EtcdCluster> StartEtcd(const Config& c, const std::string& dir, Children& children) {
  ASSIGN_OR_RETURN(std::vector<int> ports, FreePorts(6));
  auto url = [](int port) { return "http://127.0.0.1:" + std::to_string(port); };
  std::string initial;
  for (int i = 0; i < 3; ++i) {
    initial +=
        (i > 0 ? "," : "") + std::string("m") + std::to_string(i + 1) + "=" + url(ports[3 + i]);
  }
  EtcdCluster cluster;
  for (int i = 0; i < 3; ++i) {
    const std::string name = "m" + std::to_string(i + 1);
    const int client = ports[static_cast<std::size_t>(i)];
    const int peer = ports[static_cast<std::size_t>(3 + i)];
    cluster.clients.push_back("127.0.0.1:" + std::to_string(client));
    RETURN_IF_ERROR(children.Start({c.etcd,
                                    "--name",
                                    name,
                                    "--data-dir",
                                    dir + "/" + name,
                                    "--listen-client-urls",
                                    url(client),
                                    "--advertise-client-urls",
                                    url(client),
                                    "--listen-peer-urls",
                                    url(peer),
                                    "--initial-advertise-peer-urls",
                                    url(peer),
                                    "--initial-cluster",
                                    initial,
                                    "--initial-cluster-state",
                                    "new",
                                    "--initial-cluster-token",
                                    "kv-bench",
                                    "--logger",
                                    "zap"},
                                   dir + "/" + name + ".log"));
  }
  RETURN_IF_ERROR(WaitUntil(children, 60s, "etcd", [&]() -> Status {
    uint64_t leader = 0;
    for (const std::string& address : cluster.clients) {
      auto stub = etcdserverpb::Maintenance::NewStub(
          grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + 1s);
      etcdserverpb::StatusResponse resp;
      RETURN_IF_ERROR(FromGrpc(stub->Status(&ctx, etcdserverpb::StatusRequest(), &resp)));
      if (resp.leader() == 0 || (leader != 0 && resp.leader() != leader))
        return Status::Busy("no agreed leader yet");
      leader = resp.leader();
      if (resp.header().member_id() == leader) cluster.leader = address;
      cluster.version = resp.version();
    }
    return cluster.leader.empty() ? Status::Busy("the leader has not answered") : Status::OK();
  }));
  // A put that reads back shows that the cluster serves and that our field numbers are etcd's.
  EtcdTarget check(cluster.leader);
  RETURN_IF_ERROR(check.Put("kv-bench-check", "checked"));
  auto stub = EtcdStub(cluster.leader);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 10s);
  etcdserverpb::RangeRequest req;
  req.set_key("kv-bench-check");
  etcdserverpb::RangeResponse resp;
  RETURN_IF_ERROR(FromGrpc(stub->Range(&ctx, req, &resp)));
  if (resp.kvs_size() != 1 || resp.kvs(0).key() != "kv-bench-check" ||
      resp.kvs(0).value() != "checked" || resp.header().revision() <= 0) {
    return Status::Corruption(
        "etcd's Range did not return the key just put: bench/etcd_kv.proto disagrees with etcd");
  }
  return cluster;
}

// ---- the run ----

struct Row {
  std::string name;
  rt::KvLoadReport report;
  double server_cpu_us = 0;  // CPU time of the cluster's processes per operation, measured time
  double client_cpu_us = 0;  // CPU time of this process (the clients) per operation
};

double SelfCpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// Runs `load` on `targets` and samples the CPU time of `cluster` and of this process over the
// measured time.
Result<Row> Measure(const std::string& name, rt::KvLoadOptions load,
                    const rt::KvTargetFactory& targets, const Children& cluster) {
  double servers = 0, client = 0;
  load.at_measure_start = [&] {
    servers = cluster.CpuSeconds();
    client = SelfCpuSeconds();
  };
  load.at_measure_end = [&] {
    servers = cluster.CpuSeconds() - servers;
    client = SelfCpuSeconds() - client;
  };
  ASSIGN_OR_RETURN(rt::KvLoadReport r, rt::RunKvLoad(load, targets));
  const double ops = static_cast<double>(std::max<uint64_t>(1, r.all.ops + r.all.errors));
  return Row{name, r, servers * 1e6 / ops, client * 1e6 / ops};
}

void PrintTable(const std::vector<Row>& rows) {
  std::cout << "\n"
            << std::left << std::setw(22) << "system" << std::right << std::setw(10) << "ops/s"
            << std::setw(11) << "put ops/s" << std::setw(11) << "get ops/s" << std::setw(9)
            << "p50 ms" << std::setw(9) << "p99 ms" << std::setw(10) << "p999 ms" << std::setw(9)
            << "put p99" << std::setw(9) << "get p99" << std::setw(8) << "errors" << std::setw(15)
            << "server CPU/op" << std::setw(15) << "client CPU/op"
            << "\n";
  for (const Row& r : rows) {
    const rt::KvLoadReport& k = r.report;
    std::cout << std::left << std::setw(22) << r.name << std::right << std::fixed
              << std::setprecision(0) << std::setw(10) << k.all.ops_per_second << std::setw(11)
              << k.put.ops_per_second << std::setw(11) << k.get.ops_per_second
              << std::setprecision(2) << std::setw(9) << k.all.p50_ms << std::setw(9)
              << k.all.p99_ms << std::setw(10) << k.all.p999_ms << std::setw(9) << k.put.p99_ms
              << std::setw(9) << k.get.p99_ms << std::setw(8) << k.all.errors
              << std::setprecision(0) << std::setw(12) << r.server_cpu_us << " us" << std::setw(12)
              << r.client_cpu_us << " us\n";
  }
  for (const Row& r : rows) {
    if (!r.report.first_error.empty())
      std::cout << r.name << ": first error: " << r.report.first_error << "\n";
  }
}

// The summary lines; `heading` (say "16 clients: ") goes before the first.
void PrintRatios(const Row& on, const Row& off, const Row& etcd, const std::string& heading = "") {
  auto ratio = [](double a, double b) { return b > 0 ? a / b : 0.0; };
  std::cout << std::fixed << std::setprecision(2) << "\n"
            << heading << "ours / etcd, ops/s: proofs on "
            << ratio(on.report.all.ops_per_second, etcd.report.all.ops_per_second)
            << ", proofs off "
            << ratio(off.report.all.ops_per_second, etcd.report.all.ops_per_second)
            << "\np99 ms: ours proofs on " << on.report.all.p99_ms << ", ours proofs off "
            << off.report.all.p99_ms << ", etcd " << etcd.report.all.p99_ms << "\nproofs cost "
            << std::setprecision(1)
            << 100 * (1 - ratio(on.report.all.ops_per_second, off.report.all.ops_per_second))
            << "% of our throughput (proofs on against off)\n";
}

// "1 client", "16 clients".
std::string Clients(int threads) {
  return std::to_string(threads) + (threads == 1 ? " client" : " clients");
}

// The rows of one client count: ours with proofs on and off, then etcd.
struct Round {
  int threads = 0;
  Row on, off, etcd;
};

// Runs every count of `counts` on our cluster, then on etcd: one cluster per system serves all
// counts, and only the first run on each writes the key space first (when the load reads).
Result<std::vector<Round>> Run(const Config& c, const std::string& dir,
                               const std::vector<int>& counts) {
  std::vector<Round> rounds(counts.size());
  // In the sweep, each progress line names its count; the single run's lines stay as they were.
  auto clients = [&](int threads) {
    return c.sweep.empty() ? std::string() : ", " + Clients(threads);
  };
  {
    std::cout << "starting our cluster (PD and 3 stores, plain TCP) in " << dir << "/ours ..."
              << std::endl;
    fs::create_directories(dir + "/ours");
    Children ours;
    ASSIGN_OR_RETURN(std::string pd, StartOurs(c, dir + "/ours", ours));
    rustorium::client::ClientOptions o;
    o.pd = {pd};
    for (std::size_t i = 0; i < counts.size(); ++i) {
      rounds[i].threads = counts[i];
      for (const bool verify : {true, false}) {
        o.verify = verify;
        rt::KvLoadOptions load = c.load;
        load.threads = counts[i];
        load.preload = verify && i == 0;  // later runs find the keys written
        std::cout << "loading it, proofs " << (verify ? "on" : "off") << clients(counts[i])
                  << " ..." << std::endl;
        ASSIGN_OR_RETURN(Row row, Measure(verify ? "rustorium, proofs on" : "rustorium, proofs off",
                                          load, rt::ClusterTargets(o), ours));
        (verify ? rounds[i].on : rounds[i].off) = std::move(row);
      }
      RETURN_IF_ERROR(ours.CheckRunning());
    }
  }
  {
    std::cout << "starting etcd (3 members) in " << dir << "/etcd ..." << std::endl;
    fs::create_directories(dir + "/etcd");
    Children etcd;
    ASSIGN_OR_RETURN(EtcdCluster cluster, StartEtcd(c, dir + "/etcd", etcd));
    const rt::KvTargetFactory targets = [&](int thread) -> Result<std::unique_ptr<rt::KvTarget>> {
      const std::string& address = c.etcd_endpoints == "all"
                                       ? cluster.clients[static_cast<std::size_t>(thread) % 3]
                                       : cluster.leader;
      return std::unique_ptr<rt::KvTarget>(std::make_unique<EtcdTarget>(address));
    };
    for (std::size_t i = 0; i < counts.size(); ++i) {
      std::cout << "loading etcd " << cluster.version << " (requests to "
                << (c.etcd_endpoints == "all" ? "all members in turn" : "the leader") << ")"
                << clients(counts[i]) << " ..." << std::endl;
      rt::KvLoadOptions load = c.load;
      load.threads = counts[i];
      load.preload = i == 0;
      ASSIGN_OR_RETURN(rounds[i].etcd, Measure("etcd " + cluster.version, load, targets, etcd));
      RETURN_IF_ERROR(etcd.CheckRunning());
    }
  }
  return rounds;
}

// The sweep's summary: ops/s and p99 of each system per client count, and the ratios.
void PrintSweep(const std::vector<Round>& rounds) {
  auto ratio = [](double a, double b) { return b > 0 ? a / b : 0.0; };
  std::cout << "\nsweep (on, off: rustorium with proofs on and off; " << rounds[0].etcd.name
            << "; p99 in ms; on/etcd, off/etcd: ratios of ops/s)\n"
            << std::right << std::setw(7) << "clients" << std::setw(10) << "on ops/s"
            << std::setw(9) << "on p99" << std::setw(11) << "off ops/s" << std::setw(9) << "off p99"
            << std::setw(12) << "etcd ops/s" << std::setw(10) << "etcd p99" << std::setw(9)
            << "on/etcd" << std::setw(10) << "off/etcd"
            << "\n";
  for (const Round& r : rounds) {
    const double etcd = r.etcd.report.all.ops_per_second;
    std::cout << std::setw(7) << r.threads << std::fixed << std::setprecision(0) << std::setw(10)
              << r.on.report.all.ops_per_second << std::setprecision(2) << std::setw(9)
              << r.on.report.all.p99_ms << std::setprecision(0) << std::setw(11)
              << r.off.report.all.ops_per_second << std::setprecision(2) << std::setw(9)
              << r.off.report.all.p99_ms << std::setprecision(0) << std::setw(12) << etcd
              << std::setprecision(2) << std::setw(10) << r.etcd.report.all.p99_ms << std::setw(9)
              << ratio(r.on.report.all.ops_per_second, etcd) << std::setw(10)
              << ratio(r.off.report.all.ops_per_second, etcd) << "\n";
  }
}

// `text` inside a gnuplot single-quoted string (a quote is doubled).
std::string GnuplotQuoted(const std::string& text) {
  std::string quoted = "'";
  for (const char ch : text) quoted += ch == '\'' ? std::string("''") : std::string(1, ch);
  return quoted + "'";
}

// Writes the sweep's figures to the chart's path with .dat for .png, and draws ops/s and p99
// against the client count from them with gnuplot into c.chart (the script and gnuplot's output
// go to `dir`). IOError when a file cannot be written or gnuplot fails (with its output).
Status DrawChart(const Config& c, const std::vector<Round>& rounds, const std::string& dir) {
  const std::string data = fs::path(c.chart).replace_extension(".dat").string();
  std::ostringstream table;
  table << "# kv_bench --sweep: " << c.load.read_percent << "% gets, " << c.load.seconds
        << " s measured per point, " << c.load.keys << " keys, values of " << c.load.value_size
        << " B; " << rounds[0].etcd.name << "\n"
        << "# clients on_ops_s on_p99_ms off_ops_s off_p99_ms etcd_ops_s etcd_p99_ms\n"
        << std::fixed << std::setprecision(2);
  std::string xtics;
  for (const Round& r : rounds) {
    table << r.threads << " " << r.on.report.all.ops_per_second << " " << r.on.report.all.p99_ms
          << " " << r.off.report.all.ops_per_second << " " << r.off.report.all.p99_ms << " "
          << r.etcd.report.all.ops_per_second << " " << r.etcd.report.all.p99_ms << "\n";
    xtics += (xtics.empty() ? "" : ", ") + std::to_string(r.threads);
  }
  RETURN_IF_ERROR(WriteFile(data, table.str()));
  // A margin of 1.4x on either side of the counts, so that the end points and their tics show.
  const std::string xrange = std::to_string(rounds.front().threads / 1.4) + ":" +
                             std::to_string(rounds.back().threads * 1.4);

  std::ostringstream title;
  title << c.load.read_percent << "% gets, " << c.load.keys << " keys, " << c.load.value_size
        << " B values, " << c.load.seconds << " s per point; 3 replicas, fsync on, loopback";
  const std::string d = GnuplotQuoted(data);
  auto lines = [&](int ops_column) {
    return d + " using 1:" + std::to_string(ops_column) +
           " with linespoints lw 2 pt 7 title 'rustorium, proofs on', " + d +
           " using 1:" + std::to_string(ops_column + 2) +
           " with linespoints lw 2 pt 5 title 'rustorium, proofs off', " + d +
           " using 1:" + std::to_string(ops_column + 4) + " with linespoints lw 2 pt 9 title " +
           GnuplotQuoted(rounds[0].etcd.name) + "\n";
  };
  const std::string script = dir + "/chart.gp";
  RETURN_IF_ERROR(WriteFile(
      script, "set terminal pngcairo size 1200,500\nset output " + GnuplotQuoted(c.chart) +
                  "\nset multiplot layout 1,2 title " + GnuplotQuoted(title.str()) +
                  "\nset logscale x 2\nset xrange [" + xrange + "]\nset xtics (" + xtics +
                  ")\nset xlabel 'client threads (one connection each)'\nset grid\n"
                  "set key top left\nset yrange [0:*]\nset offsets 0, 0, graph 0.25, 0\n"
                  "set ylabel 'ops/s'\nplot " +
                  lines(2) + "set ylabel 'p99 latency (ms)'\nplot " + lines(3) +
                  "unset multiplot\n"));
  const std::string log = dir + "/gnuplot.log";
  const pid_t pid = rt::SpawnChild({c.gnuplot, script}, log);
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid) return Status::IOError("cannot run gnuplot");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Status::IOError("gnuplot " + rt::DescribeExit(status) + " on " + script + ":\n" +
                           rt::LogTail(log));
  }
  std::cout << "chart: " << c.chart << " (figures in " << data << ")\n";
  return Status::OK();
}

}  // namespace

int main(int argc, char** argv) {
  Config c;
  CLI::App app{
      "Rustorium against etcd: the same put/get load on both, in one run (docs/benchmarks.md)"};
  app.add_option("--threads", c.load.threads, "Client threads, one connection each")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  CLI::Option* sweep =
      app.add_option("--sweep", c.sweep,
                     "Client counts, comma-separated (1,4,16,64), instead of --threads: one run "
                     "measures each on both systems, one cluster per system serving all counts "
                     "(ours: proofs on, then off, at each count), and prints ops/s and p99 per "
                     "count; counts run in ascending order")
          ->delimiter(',')
          ->check(CLI::Range(1, 1024))
          ->excludes("--threads");
  app.add_option("--chart", c.chart,
                 "With --sweep: draw ops/s and p99 against the client count into FILE.png with "
                 "gnuplot (Debian's gnuplot-nox); the figures also go to FILE.dat")
      ->needs(sweep)
      ->check(
          [](const std::string& path) -> std::string {
            return path.size() > 4 && path.ends_with(".png") ? "" : "must end in .png";
          },
          "FILE.png");
  app.add_option("--seconds", c.load.seconds, "Measured time per run (after a 1 s warm-up)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--read-percent", c.load.read_percent, "Share of gets; the rest are puts")
      ->capture_default_str()
      ->check(CLI::Range(0, 100));
  app.add_option("--keys", c.load.keys,
                 "Key space (16-byte keys), written once first when the load reads")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{1}, uint64_t{1000000000}));
  app.add_option("--value-size", c.load.value_size, "Value size in bytes")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 20));
  app.add_option("--etcd-endpoints", c.etcd_endpoints,
                 "leader: every thread dials etcd's leader; all: members in turn")
      ->capture_default_str()
      ->check(CLI::IsMember({"leader", "all"}));
  app.add_option("--dir", c.dir, "Where the run's data and logs go (default: $TMPDIR or /tmp)");
  app.add_option("--rustorium", c.rustorium,
                 "The rustorium binary (default: ../tools/rustorium beside this one)");
  app.add_option("--etcd", c.etcd, "The etcd binary (Debian's etcd-server)")->capture_default_str();
  app.add_flag("--keep", c.keep, "Keep the data and logs");
  CLI11_PARSE(app, argc, argv);

  if (c.rustorium.empty()) {
    std::error_code ec;
    const fs::path self = fs::read_symlink("/proc/self/exe", ec);
    c.rustorium = (self.parent_path().parent_path() / "tools" / "rustorium").string();
  }
  if (access(c.rustorium.c_str(), X_OK) != 0) {
    std::cerr << "error: no rustorium binary at " << c.rustorium
              << " (build the rustorium target or give --rustorium)\n";
    return 1;
  }
  const std::string etcd = FindProgram(c.etcd);
  if (etcd.empty()) {
    std::cerr << "error: etcd not found ('" << c.etcd
              << "'): install Debian's etcd-server (tools/install-deps does) or give --etcd PATH\n";
    return 1;
  }
  c.etcd = etcd;
  if (!c.chart.empty()) {
    c.gnuplot = FindProgram("gnuplot");
    if (c.gnuplot.empty()) {
      std::cerr << "error: --chart needs gnuplot, not found on $PATH: install Debian's "
                   "gnuplot-nox (tools/install-deps does) or leave out --chart\n";
      return 1;
    }
  }
  std::sort(c.sweep.begin(), c.sweep.end());
  c.sweep.erase(std::unique(c.sweep.begin(), c.sweep.end()), c.sweep.end());

  std::string parent = c.dir;
  if (parent.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    parent = tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
  }
  std::string pattern = parent + "/rustorium-kv-bench-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) {
    std::cerr << "error: cannot create a directory under " << parent << "\n";
    return 1;
  }
  const std::string dir = pattern;

  const rt::KvLoadOptions& o = c.load;
  std::string clients = std::to_string(o.threads) + " client threads";
  if (!c.sweep.empty()) {
    clients = "client threads";
    for (std::size_t i = 0; i < c.sweep.size(); ++i)
      clients += (i == 0 ? " " : ", ") + std::to_string(c.sweep[i]);
    clients += " in turn";
  }
  std::cout << "kv_bench: " << clients << " (one connection each), " << o.seconds
            << " s measured after a " << o.warmup_seconds << " s warm-up, " << o.read_percent
            << "% gets, " << o.keys << " keys of 16 B, values of " << o.value_size
            << " B; 3 replicas, fsync on, plain TCP on loopback" << std::endl;
  Result<std::vector<Round>> rounds =
      Run(c, dir, c.sweep.empty() ? std::vector<int>{o.threads} : c.sweep);
  if (!rounds.ok()) {
    std::cerr << "error: " << rounds.status().ToString() << "\nthe data and logs are in " << dir
              << "\n";
    return 1;
  }
  for (const Round& r : *rounds) {
    if (!c.sweep.empty()) std::cout << "\n" << Clients(r.threads) << ":";
    PrintTable({r.on, r.off, r.etcd});
  }
  if (c.sweep.empty()) {
    PrintRatios(rounds->front().on, rounds->front().off, rounds->front().etcd);
  } else {
    PrintSweep(*rounds);
    for (const Round& r : *rounds) PrintRatios(r.on, r.off, r.etcd, Clients(r.threads) + ": ");
  }
  if (!c.chart.empty()) {
    const Status drawn = DrawChart(c, *rounds, dir);
    if (!drawn.ok()) {
      std::cerr << "error: " << drawn.ToString() << "\nthe data and logs are in " << dir << "\n";
      return 1;
    }
  }
  if (c.keep) {
    std::cout << "data and logs kept in " << dir << "\n";
  } else {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  return 0;
}
