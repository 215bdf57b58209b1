#include "tools/rustorium/kv_command.h"

#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "region/client.h"
#include "region/store/root_statement.h"
#include "tools/rustorium/byte_format.h"
#include "tools/rustorium/client_flags.h"
#include "tools/rustorium/exit_code.h"

namespace rustorium::tools {

namespace {

using json = nlohmann::json;

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

// Runs one write with a client made from `f` and prints its answer.
Result<client::WriteResult> RunWrite(
    const ClientFlags& f, const std::string& what,
    const std::function<Result<client::WriteResult>(client::Client&)>& write) {
  ASSIGN_OR_RETURN(auto c, MakeClient(f));
  ASSIGN_OR_RETURN(client::WriteResult w, write(*c));
  PrintWrite(f, what, w);
  return w;
}

}  // namespace

void RegisterKvCommands(CLI::App& app, int& exit_code) {
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
    auto w = RunWrite(*f, "put", [&](client::Client& c) { return c.Put(*key, *value); });
    exit_code = w.ok() ? kExitOk : Fail(w.status());
  });

  CLI::App* del = kv->add_subcommand("delete", "Delete KEY");
  del->add_option("KEY", *key)->required();
  common(del);
  del->callback([=, &exit_code] {
    auto w = RunWrite(*f, "delete", [&](client::Client& c) { return c.Delete(*key); });
    exit_code = w.ok() ? kExitOk : Fail(w.status());
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
    exit_code = r->value ? kExitOk : kExitFailure;
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
    exit_code = kExitOk;
  });

  CLI::App* cas =
      kv->add_subcommand("cas", "Set KEY to NEW if it holds EXPECTED (exit 1 when it does not)");
  cas->add_option("KEY", *key)->required();
  cas->add_option("EXPECTED", *expected)->required();
  cas->add_option("NEW", *value)->required();
  common(cas);
  cas->callback([=, &exit_code] {
    auto w = RunWrite(*f, "cas",
                      [&](client::Client& c) { return c.CompareAndSwap(*key, *expected, *value); });
    if (!w.ok()) {
      exit_code = Fail(w.status());
      return;
    }
    if (!f->json && !w->result.cas_succeeded()) {
      std::cout << "not swapped: "
                << (w->result.cas_found() ? EscapeBytes(w->result.cas_previous()) : "absent")
                << "\n";
    }
    exit_code = w->result.cas_succeeded() ? kExitOk : kExitFailure;
  });
}

void RegisterStatusCommand(CLI::App& app, int& exit_code) {
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
      exit_code = kExitFailure;
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
    exit_code = healthy && serving ? kExitOk : kExitFailure;
  });
}

}  // namespace rustorium::tools
