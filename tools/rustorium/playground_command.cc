#include "tools/rustorium/playground_command.h"

#include <signal.h>
#include <sys/wait.h>

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
                        "\"\npd = [\"" + pd + "\"]\n\n[labels]\nregion = \"local\"\nzone = \"z" +
                        std::to_string(i) + "\"\nhost = \"store" + std::to_string(i) + "\"\n\n" +
                        tls("store-" + std::to_string(i)));
    }
    if (!s.ok()) {
      exit_code = Fail(s);
      return;
    }
    BlockStopSignals();
    const std::string self = SelfPath();
    std::vector<pid_t> children;
    children.push_back(SpawnChild({self, "pd", "--config", root + "/pd.toml"}, root + "/pd.log"));
    for (int i = 1; i <= *stores; ++i) {
      children.push_back(
          SpawnChild({self, "server", "--config", root + "/store" + std::to_string(i) + ".toml"},
                     root + "/store" + std::to_string(i) + ".log"));
    }
    auto stop_all = [&children] {
      for (pid_t p : children) kill(p, SIGTERM);
      for (pid_t p : children) waitpid(p, nullptr, 0);
    };
    // Serving once a verified read goes through.
    ClientFlags f;
    f.certs = certs;
    f.pd = pd;
    bool serving = false;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
    while (!serving && std::chrono::steady_clock::now() < deadline) {
      auto c = MakeClient(f);
      if (c.ok()) {
        auto r = (*c)->Get("playground");
        serving = r.ok() && r->root.verified;
      }
      if (!serving) std::this_thread::sleep_for(std::chrono::milliseconds(500));
      int status = 0;
      for (pid_t p : children) {
        if (waitpid(p, &status, WNOHANG) == p) {
          std::cerr << "error: a cluster process exited early; see the logs in " << root << "\n";
          stop_all();
          exit_code = kExitFailure;
          return;
        }
      }
    }
    if (!serving) {
      std::cerr << "error: the cluster did not serve within 90 s; see the logs in " << root << "\n";
      stop_all();
      exit_code = kExitFailure;
      return;
    }
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
    WaitForStop();
    std::cout << "stopping..." << std::endl;
    stop_all();
    std::cout << "stopped" << std::endl;
    exit_code = kExitOk;
  });
}

}  // namespace rustorium::tools
