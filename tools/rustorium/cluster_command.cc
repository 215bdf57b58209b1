#include "tools/rustorium/cluster_command.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "region/client.h"
#include "region/pd/pd_node.h"
#include "region/rpc/certs.h"
#include "region/store/root_statement.h"
#include "tools/rustorium/byte_format.h"
#include "tools/rustorium/child_process.h"
#include "tools/rustorium/client_flags.h"
#include "tools/rustorium/cluster_config.h"
#include "tools/rustorium/stop_signals.h"

namespace rustorium::tools {

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

int Fail(const Status& s) {
  std::cerr << "error: " << s.ToString() << "\n";
  return s.IsInvalidArgument() ? 2 : 1;
}

// ---- pd and server ----

void RegisterPd(CLI::App& app, int& exit_code) {
  auto config = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("pd", "Run a placement driver member until SIGINT or SIGTERM");
  cmd->add_option("--config", *config, "pd.toml (docs/operations.md)")->required();
  cmd->callback([config, &exit_code] {
    pd::PdNodeOptions o;
    Status s = LoadPdConfig(*config, o);
    if (!s.ok()) {
      exit_code = Fail(s);
      return;
    }
    BlockStopSignals();
    auto node = pd::PdNode::Start(o);
    if (!node.ok()) {
      exit_code = Fail(node.status());
      return;
    }
    std::cout << "pd serving on " << o.address << " (data in " << o.data_dir << ")" << std::endl;
    WaitForStop();
    node->reset();
    std::cout << "pd stopped" << std::endl;
    exit_code = 0;
  });
}

void RegisterServer(CLI::App& app, int& exit_code) {
  auto config = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("server", "Run a store until SIGINT or SIGTERM");
  cmd->add_option("--config", *config, "store.toml (docs/operations.md)")->required();
  cmd->callback([config, &exit_code] {
    store::StoreNodeOptions o;
    Status s = LoadStoreConfig(*config, o);
    if (!s.ok()) {
      exit_code = Fail(s);
      return;
    }
    // For the fault harness (tests/faults/) only: drop or delay what this store sends to
    // chosen addresses, by rules read from a file (region/rpc/link_filter.h).
    if (const char* faults = std::getenv("RUSTORIUM_LINK_FAULTS");
        faults != nullptr && *faults != '\0') {
      o.channel.filter = std::make_shared<rpc::LinkFilter>();
      o.channel.filter->Watch(faults);
      std::cout << "link faults from " << faults << " (testing only)" << std::endl;
    }
    BlockStopSignals();
    auto node = store::StoreNode::Start(o);
    if (!node.ok()) {
      exit_code = Fail(node.status());
      return;
    }
    std::cout << "store " << (*node)->store_id() << " serving on " << o.address << " (data in "
              << o.data_dir << ")" << std::endl;
    WaitForStop();
    node->reset();
    std::cout << "store stopped" << std::endl;
    exit_code = 0;
  });
}

// ---- kv and status: clients ----

std::string RootHex(const proof::Fr& root) { return root.ToHex(); }

json RootJson(const client::VerifiedRoot& r) {
  return {{"region_id", r.region_id},
          {"applied_index", r.applied_index},
          {"root", RootHex(r.root)},
          {"store_id", r.store_id},
          {"verified", r.verified}};
}

Status WriteProof(const std::string& path, const std::string& proof) {
  if (path.empty()) return Status::OK();
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(proof.data(), static_cast<std::streamsize>(proof.size()));
  return out.good() ? Status::OK() : Status::IOError("cannot write " + path);
}

void PrintWrite(const ClientFlags& f, const std::string& what, const client::WriteResult& w) {
  if (f.json) {
    json j = RootJson(w.root);
    j["op"] = what;
    json proofs = json::array();
    for (const kv::KvProof& p : w.proofs) {
      proofs.push_back({{"key", EscapeBytes(p.key())},
                        {"found", p.found()},
                        {"proof", ToHex(p.proof())},
                        {"tree_key", store::TreeKey(p.key()).ToDecimal()}});
    }
    j["proofs"] = proofs;
    if (what == "cas") j["cas_succeeded"] = w.result.cas_succeeded();
    std::cout << j.dump() << "\n";
    return;
  }
  std::cout << what << ": ok\nroot: " << RootHex(w.root.root)
            << "\napplied index: " << w.root.applied_index << "\nregion: " << w.root.region_id
            << " (signed by store " << w.root.store_id << ")\n"
            << "proof: " << (w.root.verified ? "verified" : "not checked") << "\n";
}

void RegisterKv(CLI::App& app, int& exit_code) {
  auto f = std::make_shared<ClientFlags>();
  auto key = std::make_shared<std::string>();
  auto value = std::make_shared<std::string>();
  auto end = std::make_shared<std::string>();
  auto expected = std::make_shared<std::string>();
  auto limit = std::make_shared<uint32_t>(100);
  CLI::App* kv = app.add_subcommand("kv", "Read and write the cluster, with verified proofs");
  kv->require_subcommand(1);
  auto common = [&](CLI::App* c) {
    AddClientFlags(c, *f);
    c->add_flag("--json", f->json, "Machine-readable output (docs/cli.md)");
  };

  CLI::App* put = kv->add_subcommand("put", "Set KEY to VALUE");
  put->add_option("KEY", *key)->required();
  put->add_option("VALUE", *value)->required();
  common(put);
  put->callback([=, &exit_code] {
    auto c = MakeClient(*f);
    if (!c.ok()) {
      exit_code = Fail(c.status());
      return;
    }
    auto w = (*c)->Put(*key, *value);
    if (!w.ok()) {
      exit_code = Fail(w.status());
      return;
    }
    PrintWrite(*f, "put", *w);
    exit_code = 0;
  });

  CLI::App* del = kv->add_subcommand("delete", "Delete KEY");
  del->add_option("KEY", *key)->required();
  common(del);
  del->callback([=, &exit_code] {
    auto c = MakeClient(*f);
    if (!c.ok()) {
      exit_code = Fail(c.status());
      return;
    }
    auto w = (*c)->Delete(*key);
    if (!w.ok()) {
      exit_code = Fail(w.status());
      return;
    }
    PrintWrite(*f, "delete", *w);
    exit_code = 0;
  });

  CLI::App* get = kv->add_subcommand("get", "Read KEY with its proof (exit 1 when absent)");
  get->add_option("KEY", *key)->required();
  get->add_option("--proof-out", f->proof_out,
                  "Write the key's binary proof to FILE (for `rustorium proof verify`)");
  common(get);
  get->callback([=, &exit_code] {
    auto c = MakeClient(*f);
    if (!c.ok()) {
      exit_code = Fail(c.status());
      return;
    }
    auto r = (*c)->Get(*key);
    if (!r.ok()) {
      exit_code = Fail(r.status());
      return;
    }
    Status s = WriteProof(f->proof_out, r->proof);
    if (!s.ok()) {
      exit_code = Fail(s);
      return;
    }
    if (f->json) {
      json j = RootJson(r->root);
      j["key"] = EscapeBytes(*key);
      j["found"] = r->value.has_value();
      if (r->value) {
        j["value"] = EscapeBytes(*r->value);
        j["tree_value"] = store::TreeValue(*r->value).ToDecimal();
      }
      j["tree_key"] = store::TreeKey(*key).ToDecimal();
      j["proof"] = ToHex(r->proof);
      std::cout << j.dump() << "\n";
    } else {
      std::cout << (r->value ? EscapeBytes(*r->value) : std::string("not found"))
                << "\nroot: " << RootHex(r->root.root)
                << "\napplied index: " << r->root.applied_index << "\nregion: " << r->root.region_id
                << " (signed by store " << r->root.store_id << ")\nproof: "
                << (r->root.verified ? (r->value ? "verified" : "verified (non-inclusion)")
                                     : "not checked")
                << "\n";
    }
    exit_code = r->value ? 0 : 1;
  });

  CLI::App* scan = kv->add_subcommand("scan", "Keys in [START, END) with their proofs");
  scan->add_option("START", *key)->required();
  scan->add_option("END", *end, "Exclusive end; \"\" for the end of the key space")->required();
  scan->add_option("--limit", *limit, "At most this many keys")->capture_default_str();
  common(scan);
  scan->callback([=, &exit_code] {
    auto c = MakeClient(*f);
    if (!c.ok()) {
      exit_code = Fail(c.status());
      return;
    }
    auto items = (*c)->Scan(*key, *end, *limit);
    if (!items.ok()) {
      exit_code = Fail(items.status());
      return;
    }
    if (f->json) {
      json arr = json::array();
      for (const auto& it : *items) {
        arr.push_back({{"key", EscapeBytes(it.key)},
                       {"value", EscapeBytes(it.value)},
                       {"proof", ToHex(it.proof)}});
      }
      std::cout << json{{"items", arr}, {"verified", true}}.dump() << "\n";
    } else {
      for (const auto& it : *items)
        std::cout << EscapeBytes(it.key) << " = " << EscapeBytes(it.value) << "\n";
      std::cout << items->size() << " keys, every proof verified\n";
    }
    exit_code = 0;
  });

  CLI::App* cas =
      kv->add_subcommand("cas", "Set KEY to NEW if it holds EXPECTED (exit 1 when it does not)");
  cas->add_option("KEY", *key)->required();
  cas->add_option("EXPECTED", *expected)->required();
  cas->add_option("NEW", *value)->required();
  common(cas);
  cas->callback([=, &exit_code] {
    auto c = MakeClient(*f);
    if (!c.ok()) {
      exit_code = Fail(c.status());
      return;
    }
    auto w = (*c)->CompareAndSwap(*key, *expected, *value);
    if (!w.ok()) {
      exit_code = Fail(w.status());
      return;
    }
    PrintWrite(*f, "cas", *w);
    if (!f->json && !w->result.cas_succeeded()) {
      std::cout << "not swapped: "
                << (w->result.cas_found() ? EscapeBytes(w->result.cas_previous()) : "absent")
                << "\n";
    }
    exit_code = w->result.cas_succeeded() ? 0 : 1;
  });
}

void RegisterStatus(CLI::App& app, int& exit_code) {
  auto f = std::make_shared<ClientFlags>();
  CLI::App* status = app.add_subcommand("status", "Cluster health");
  status->require_subcommand(1);
  CLI::App* check = status->add_subcommand(
      "check",
      "PD, stores up or down, regions without a leader or under-replicated (exit 0 when healthy)");
  AddClientFlags(check, *f);
  check->callback([f, &exit_code] {
    auto c = MakeClient(*f);
    if (!c.ok()) {
      exit_code = Fail(c.status());
      return;
    }
    auto stores = (*c)->Stores();
    if (!stores.ok()) {
      std::cout << "pd: unreachable (" << stores.status().ToString() << ")\n";
      exit_code = 1;
      return;
    }
    std::cout << "pd: ok\n";
    bool healthy = stores->stores_size() > 0;
    for (int i = 0; i < stores->stores_size(); ++i) {
      const bool up = i < stores->up_size() && stores->up(i);
      healthy = healthy && up;
      std::cout << "store " << stores->stores(i).id() << " at " << stores->stores(i).address()
                << ": " << (up ? "up" : "down") << "\n";
    }
    std::map<uint64_t, bool> up;
    for (int i = 0; i < stores->stores_size(); ++i)
      up[stores->stores(i).id()] = i < stores->up_size() && stores->up(i);
    auto regions = (*c)->Regions();
    if (!regions.ok()) {
      std::cout << "regions: unknown (" << regions.status().ToString() << ")\n";
      healthy = false;
    } else {
      if (regions->regions_size() == 0) {
        std::cout << "regions: none yet (the cluster bootstraps once " << regions->replicas()
                  << " stores exist)\n";
        healthy = false;
      }
      for (int i = 0; i < regions->regions_size(); ++i) {
        const meta::Region& r = regions->regions(i);
        const uint64_t leader =
            i < regions->leader_store_ids_size() ? regions->leader_store_ids(i) : 0;
        int live = 0;
        for (const meta::Peer& p : r.peers()) live += up[p.store_id()] ? 1 : 0;
        std::string problems;
        if (leader == 0) problems += " no leader reported;";
        if (r.peers_size() < static_cast<int>(regions->replicas()))
          problems += " under-replicated;";
        if (live < r.peers_size())
          problems +=
              " " + std::to_string(r.peers_size() - live) + " replica(s) on stores that are down;";
        std::cout << "region " << r.id() << " [" << EscapeBytes(r.start_key()) << ", "
                  << EscapeBytes(r.end_key()) << "): " << r.peers_size()
                  << " replicas, leader store " << leader
                  << (problems.empty() ? ", ok" : "," + problems) << "\n";
        healthy = healthy && problems.empty();
      }
    }
    // A read through the region client shows that the regions serve.
    auto probe = (*c)->Get("");
    const bool serving = probe.ok() || probe.status().IsInvalidArgument();
    std::cout << "regions: "
              << (serving ? "serving" : "not serving (" + probe.status().ToString() + ")") << "\n";
    exit_code = healthy && serving ? 0 : 1;
  });
}

// ---- playground ----

std::string Self() {
  std::error_code ec;
  fs::path p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("rustorium") : p.string();
}

Status WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  return out.good() ? Status::OK() : Status::IOError("cannot write " + path);
}

void RegisterPlayground(CLI::App& app, int& exit_code) {
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
    if (!rpc::ParseAddress(pd).ok()) {
      exit_code = Fail(Status::InvalidArgument("--pd '" + pd + "' is not ip:port"));
      return;
    }
    const std::string root = fs::absolute(*dir).lexically_normal().string();
    std::error_code ec;
    fs::create_directories(root, ec);
    const std::string certs = root + "/certs";
    if (!fs::exists(certs + "/ca.key")) {
      rpc::ClusterCertsOptions co;
      co.dir = certs;
      co.nodes = 8;
      Status s = rpc::CreateClusterCerts(co);
      if (!s.ok()) {
        exit_code = Fail(s);
        return;
      }
    }
    auto tls = [&](int node) {
      return "[tls]\nca_file = \"" + certs + "/ca.crt\"\ncert_file = \"" + certs + "/node-" +
             std::to_string(node) + ".crt\"\nkey_file = \"" + certs + "/node-" +
             std::to_string(node) + ".key\"\n";
    };
    const int replicas = std::min(3, *stores);
    Status s = WriteFile(root + "/pd.toml", "[pd]\ndata_dir = \"" + root + "/pd\"\naddress = \"" +
                                                pd + "\"\nreplicas = " + std::to_string(replicas) +
                                                "\n\n" + tls(8));
    for (int i = 1; s.ok() && i <= *stores; ++i) {
      s = WriteFile(root + "/store" + std::to_string(i) + ".toml",
                    "[store]\ndata_dir = \"" + root + "/store" + std::to_string(i) +
                        "\"\naddress = \"127.0.0.1:" + std::to_string(*store_port + i - 1) +
                        "\"\npd = [\"" + pd + "\"]\n\n[labels]\nregion = \"local\"\nzone = \"z" +
                        std::to_string(i) + "\"\nhost = \"store" + std::to_string(i) + "\"\n\n" +
                        tls(i));
    }
    if (!s.ok()) {
      exit_code = Fail(s);
      return;
    }
    BlockStopSignals();
    const std::string self = Self();
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
          exit_code = 1;
          return;
        }
      }
    }
    if (!serving) {
      std::cerr << "error: the cluster did not serve within 90 s; see the logs in " << root << "\n";
      stop_all();
      exit_code = 1;
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
    exit_code = 0;
  });
}

}  // namespace

void RegisterClusterCommands(CLI::App& app, int& exit_code) {
  RegisterPd(app, exit_code);
  RegisterServer(app, exit_code);
  RegisterKv(app, exit_code);
  RegisterStatus(app, exit_code);
  RegisterPlayground(app, exit_code);
}

}  // namespace rustorium::tools
