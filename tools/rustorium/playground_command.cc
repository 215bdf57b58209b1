#include "tools/rustorium/playground_command.h"

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <thread>

#include "region/client.h"
#include "region/rpc/certs.h"
#include "tools/rustorium/child_process.h"
#include "tools/rustorium/client_flags.h"
#include "tools/rustorium/exit_code.h"
#include "tools/rustorium/instance_lock.h"
#include "tools/rustorium/stop_signals.h"

namespace rustorium::tools {

namespace {

namespace fs = std::filesystem;

Status WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  return out.good() ? Status::OK() : Status::IOError("cannot write " + path);
}

}  // namespace

void RegisterPlaygroundCommand(CLI::App& app, int& exit_code) {
  auto dir = std::make_shared<std::string>(kDefaultDataDir);
  auto stores = std::make_shared<int>(3);
  auto pd_address = std::make_shared<std::string>(kDefaultPd);
  auto store_port = std::make_shared<int>(20161);
  CLI::App* cmd =
      app.add_subcommand("playground", "Start a local TLS cluster (PD + stores) until Ctrl-C");
  cmd->add_option("--dir", *dir, "Data directory (reused on the next run)")->capture_default_str();
  cmd->add_option("--stores", *stores, "Stores to start (1..7)")
      ->capture_default_str()
      ->check(CLI::Range(1, 7));
  cmd->add_option("--pd", *pd_address, "PD's address")->capture_default_str();
  cmd->add_option("--store-port", *store_port, "First store's port (the others follow)")
      ->capture_default_str()
      ->check(CLI::Range(1, 65528));
  cmd->callback([dir, stores, pd_address, store_port, &exit_code] {
    const std::string pd = *pd_address;
    if (Status s = CheckAddressFlag("--pd", pd); !s.ok()) {
      exit_code = Fail(s);
      return;
    }
    const std::string root = fs::absolute(*dir).lexically_normal().string();
    std::error_code ec;
    fs::create_directories(root, ec);
    if (ec) {
      exit_code = Fail(Status::IOError("cannot create " + root + ": " + ec.message()));
      return;
    }
    // Before anything starts: this directory is ours, and every port is free.
    auto lock = InstanceLock::Acquire(root);
    if (!lock.ok()) {
      exit_code = Fail(lock.status());
      return;
    }
    std::vector<std::string> addresses = {pd};
    for (int i = 0; i < *stores; ++i)
      addresses.push_back("127.0.0.1:" + std::to_string(*store_port + i));
    if (Status s = CheckPortsFree(addresses); !s.ok()) {
      exit_code = Fail(s);
      return;
    }
    const std::string certs = root + "/certs";
    if (!fs::exists(certs + "/ca.key")) {
      rpc::ClusterCertsOptions co;
      co.dir = certs;
      co.stores = 7;
      co.pd_members = 1;
      Status s = rpc::CreateClusterCerts(co);
      if (!s.ok()) {
        exit_code = Fail(s);
        return;
      }
    } else if (!fs::exists(certs + "/pd-1.crt")) {
      exit_code = Fail(Status::FailedPrecondition(
          certs +
          " holds certificates without identities (made before store-N and pd-N "
          "certificates); remove " +
          root + " to start a fresh playground"));
      return;
    }
    auto tls = [&](const std::string& name) {
      return "[tls]\nca_file = \"" + certs + "/ca.crt\"\ncert_file = \"" + certs + "/" + name +
             ".crt\"\nkey_file = \"" + certs + "/" + name + ".key\"\n";
    };
    const int replicas = std::min(3, *stores);
    Status s = WriteFile(root + "/pd.toml", "[pd]\ndata_dir = \"" + root + "/pd\"\naddress = \"" +
                                                pd + "\"\nreplicas = " + std::to_string(replicas) +
                                                "\n\n" + tls("pd-1"));
    for (int i = 1; s.ok() && i <= *stores; ++i) {
      s = WriteFile(root + "/store" + std::to_string(i) + ".toml",
                    "[store]\ndata_dir = \"" + root + "/store" + std::to_string(i) +
                        "\"\naddress = \"127.0.0.1:" + std::to_string(*store_port + i - 1) +
                        "\"\npd = [\"" + pd +
                        "\"]\n# small regions: the playground splits by itself under load\n"
                        "region_split_size_mb = 1\nregion_split_keys = 10000\n"
                        "split_check_interval_ms = 5000\n\n[labels]\nregion = "
                        "\"local\"\nzone = \"z" +
                        std::to_string(i) + "\"\nhost = \"store" + std::to_string(i) + "\"\n\n" +
                        tls("store-" + std::to_string(i)));
    }
    if (!s.ok()) {
      exit_code = Fail(s);
      return;
    }
    BlockStopSignals();
    const std::string self = SelfPath();
    ChildGroup children;
    auto start = [&](const std::string& name, const std::vector<std::string>& argv,
                     const std::string& log) {
      ChildOptions o;
      o.log = log;
      o.stop_with_parent = true;
      o.own_process_group = true;
      Result<pid_t> pid = children.Start(name, argv, o);
      if (!pid.ok()) return pid.status();
      std::cout << name << ": pid " << *pid << ", log " << log << std::endl;
      return Status::OK();
    };
    s = start("pd", {self, "pd", "--config", root + "/pd.toml"}, root + "/pd.log");
    for (int i = 1; s.ok() && i <= *stores; ++i) {
      const std::string n = std::to_string(i);
      s = start("store " + n, {self, "server", "--config", root + "/store" + n + ".toml"},
                root + "/store" + n + ".log");
    }
    if (!s.ok()) {
      children.StopAll();
      exit_code = Fail(s);
      return;
    }
    // Serving once a verified read goes through; probed on a thread of its own so that this
    // one watches the children and Ctrl-C meanwhile.
    ClientFlags f;
    f.certs = certs;
    f.pd = pd;
    std::atomic<bool> serving{false};
    std::atomic<bool> give_up{false};
    std::thread probe([&f, &serving, &give_up] {
      auto options = ClientOptionsFrom(f);
      if (!options.ok()) return;
      options->timeout = std::chrono::milliseconds(1000);
      options->deadline = std::chrono::milliseconds(1000);
      std::unique_ptr<client::Client> client;
      while (!give_up) {
        if (client == nullptr) {
          auto c = client::Client::Connect(*options);
          if (c.ok()) client = std::move(*c);
        }
        if (client != nullptr) {
          auto r = client->Get("playground");
          if (r.ok() && r->root.verified) {
            serving = true;
            return;
          }
        }
        for (int i = 0; i < 5 && !give_up; ++i)
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    });
    // Stops every child, then the probe (which fails fast once they are gone).
    auto stop_all = [&children, &probe, &give_up] {
      std::vector<std::string> killed = children.StopAll();
      give_up = true;
      if (probe.joinable()) probe.join();
      for (const std::string& name : killed)
        std::cerr << "warning: " << name << " did not stop within "
                  << ChildGroup::kStopGrace.count() << " ms of SIGTERM; killed\n";
    };
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
    int stop_signal = 0;
    while (!serving && stop_signal == 0) {
      if (auto exited = children.ReapExited()) {
        std::cerr << "error: " << *exited << "\nerror: the cluster did not start; stopping the "
                  << "other processes (logs in " << root << ")" << std::endl;
        stop_all();
        exit_code = kExitFailure;
        return;
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        std::cerr << "error: the cluster did not serve within 90 s; see the logs in " << root
                  << "\n";
        stop_all();
        exit_code = kExitFailure;
        return;
      }
      stop_signal = WaitForStopFor(std::chrono::milliseconds(100));
    }
    if (stop_signal != 0) {
      std::cout << "stopping..." << std::endl;
      stop_all();
      std::cout << "stopped" << std::endl;
      exit_code = kExitOk;
      return;
    }
    probe.join();
    const std::string flags =
        "--certs " + certs + (pd == kDefaultPd ? std::string() : " --pd " + pd);
    std::cout << "Rustorium playground: PD on " << pd << ", " << *stores
              << " store(s) on 127.0.0.1:" << *store_port << ".." << *store_port + *stores - 1
              << ", TLS with the CA in " << certs << ", data and logs in " << root << "\nTry:\n"
              << "  " << self << " kv put hello world " << flags << "\n"
              << "  " << self << " kv get hello " << flags << "\n"
              << "  " << self << " status check " << flags << "\n"
              << "Ctrl-C stops the cluster; running this again restarts it with the data intact."
              << std::endl;
    while (stop_signal == 0) {
      if (auto exited = children.ReapExited()) {
        std::cerr << "error: " << *exited << "\nerror: stopping the playground" << std::endl;
        stop_all();
        exit_code = kExitFailure;
        return;
      }
      stop_signal = WaitForStopFor(std::chrono::milliseconds(200));
    }
    std::cout << "stopping..." << std::endl;
    stop_all();
    std::cout << "stopped" << std::endl;
    exit_code = kExitOk;
  });
}

}  // namespace rustorium::tools
