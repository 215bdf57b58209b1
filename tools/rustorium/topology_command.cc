#include "tools/rustorium/topology_command.h"

#include <algorithm>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "base/quote.h"
#include "region/client.h"
#include "tools/rustorium/byte_format.h"
#include "tools/rustorium/client_flags.h"
#include "tools/rustorium/exit_code.h"

namespace rustorium::tools {

namespace {

using json = nlohmann::json;

struct ShardFlags {
  ClientFlags client;
  bool hex = false;  // keys as hex, in and out
};

std::string Show(const ShardFlags& f, std::string_view bytes) {
  return f.hex ? ToHex(bytes) : EscapeBytes(bytes);
}

std::string Epoch(const meta::Region& r) {
  return std::to_string(r.epoch().conf_ver()) + "." + std::to_string(r.epoch().version());
}

// The split or merge that made `r`, checked (Client::VerifyOrigin): null for a region none made.
json OriginJson(const ShardFlags& f, client::Client& c, const meta::Region& r) {
  if (r.origin_statement().empty()) return nullptr;
  json out = {{"statement_hex", ToHex(r.origin_statement())}, {"signer", r.origin_signer()}};
  auto origin = c.VerifyOrigin(r);
  out["verified"] = origin.ok();
  if (!origin.ok()) {
    out["error"] = origin.status().ToString();
    return out;
  }
  if (origin->merge) {
    const store::MergeFacts& m = *origin->merge;
    out["kind"] = "merge";
    out["merge_index"] = m.merge_index;
    out["target_id"] = m.target_id;
    out["target_version"] = m.target_version;
    out["target_applied_index"] = m.target_applied_index;
    out["target_root"] = m.target_root.ToHex();
    out["source_id"] = m.source_id;
    out["source_version"] = m.source_version;
    out["source_prepare_index"] = m.source_prepare_index;
    out["source_root"] = m.source_root.ToHex();
    out["merged_version"] = m.merged_version;
    out["merged_root"] = m.merged_root.ToHex();
    return out;
  }
  const store::SplitFacts& facts = *origin->split;
  out["kind"] = "split";
  out["split_index"] = facts.split_index;
  out["parent_id"] = facts.parent_id;
  out["parent_version"] = facts.parent_version;
  out["parent_applied_index"] = facts.parent_applied_index;
  out["parent_root"] = facts.parent_root.ToHex();
  SetJsonBytes(out, "split_key", facts.split_key, f.hex);
  out["left_id"] = facts.left_id;
  out["left_root"] = facts.left_root.ToHex();
  out["right_id"] = facts.right_id;
  out["right_root"] = facts.right_root.ToHex();
  return out;
}

json ShardJson(const ShardFlags& f, const meta::Region& r, uint64_t leader,
               const std::map<uint64_t, pd::StoreInfo>& stores) {
  json replicas = json::array();
  for (const meta::Peer& p : r.peers()) {
    json labels = json::object();
    auto it = stores.find(p.store_id());
    if (it != stores.end()) {
      for (const auto& [k, v] : it->second.labels()) labels[k] = v;
    }
    replicas.push_back({{"store_id", p.store_id()}, {"address", p.address()}, {"labels", labels}});
  }
  json item = {{"id", r.id()},
               {"epoch", {{"conf_ver", r.epoch().conf_ver()}, {"version", r.epoch().version()}}},
               {"leader_store_id", leader},
               {"replicas", replicas}};
  SetJsonBytes(item, "start_key", r.start_key(), f.hex);
  SetJsonBytes(item, "end_key", r.end_key(), f.hex);
  item["merging"] = nullptr;
  if (r.has_merging()) {
    item["merging"] = {{"target_id", r.merging().target_id()},
                       {"prepare_index", r.merging().prepare_index()}};
  }
  return item;
}

// "7 [a, m) epoch 1.2, leader store 1, replicas 1 (region=local) 2 (...) 3 (...)".
std::string ShardLine(const ShardFlags& f, const meta::Region& r, uint64_t leader,
                      const std::map<uint64_t, pd::StoreInfo>& stores) {
  std::ostringstream line;
  line << r.id() << " [" << Show(f, r.start_key()) << ", " << Show(f, r.end_key()) << ") epoch "
       << Epoch(r) << ", leader store " << (leader == 0 ? "unknown" : std::to_string(leader))
       << ", replicas";
  for (const meta::Peer& p : r.peers()) {
    line << " " << p.store_id();
    auto it = stores.find(p.store_id());
    if (it == stores.end() || it->second.labels().empty()) continue;
    std::map<std::string, std::string> sorted(it->second.labels().begin(),
                                              it->second.labels().end());
    std::string labels;
    for (const auto& [k, v] : sorted) labels += (labels.empty() ? "" : ",") + k + "=" + v;
    line << " (" << labels << ")";
  }
  if (r.has_merging()) line << ", merging into " << r.merging().target_id();
  return line.str();
}

int RunList(const ShardFlags& f) {
  auto c = MakeClient(f.client);
  if (!c.ok()) return FailClient(f.client, c.status());
  auto regions = (*c)->Regions();
  if (!regions.ok()) return FailClient(f.client, regions.status());
  auto stores = (*c)->Stores();
  if (!stores.ok()) return FailClient(f.client, stores.status());
  std::map<uint64_t, pd::StoreInfo> by_id;
  for (const pd::StoreInfo& s : stores->stores()) by_id[s.id()] = s;
  // In key order: the order of the ranges.
  std::vector<int> order(static_cast<std::size_t>(regions->regions_size()));
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
  std::sort(order.begin(), order.end(), [&](int a, int b) {
    return regions->regions(a).start_key() < regions->regions(b).start_key();
  });
  json list = json::array();
  for (int i : order) {
    const meta::Region& r = regions->regions(i);
    const uint64_t leader = i < regions->leader_store_ids_size() ? regions->leader_store_ids(i) : 0;
    if (f.client.json) {
      json item = ShardJson(f, r, leader, by_id);
      item["origin"] = OriginJson(f, **c, r);
      list.push_back(std::move(item));
    } else {
      std::cout << ShardLine(f, r, leader, by_id) << "\n";
    }
  }
  if (f.client.json) std::cout << json{{"shards", list}}.dump() << "\n";
  return kExitOk;
}

int RunSplit(const ShardFlags& f, const std::string& key) {
  auto c = MakeClient(f.client);
  if (!c.ok()) return FailClient(f.client, c.status());
  auto regions = (*c)->SplitRegion(key);
  if (!regions.ok()) return FailClient(f.client, regions.status());
  const std::map<uint64_t, pd::StoreInfo> no_labels;
  if (f.client.json) {
    json list = json::array();
    for (const meta::Region& r : *regions) list.push_back(ShardJson(f, r, 0, no_labels));
    std::cout << json{{"split", regions->size() == 2}, {"shards", list}}.dump() << "\n";
    return kExitOk;
  }
  if (regions->size() == 1) {
    std::cout << "shard " << regions->front().id() << " starts at " << Show(f, key)
              << " already: nothing to split\n";
    return kExitOk;
  }
  std::cout << "split shard " << regions->front().id() << " at " << Show(f, key) << "\n";
  for (const meta::Region& r : *regions) {
    std::cout << r.id() << " [" << Show(f, r.start_key()) << ", " << Show(f, r.end_key())
              << ") epoch " << Epoch(r) << "\n";
  }
  return kExitOk;
}

int RunMerge(const ShardFlags& f, uint64_t id) {
  auto c = MakeClient(f.client);
  if (!c.ok()) return FailClient(f.client, c.status());
  auto merged = (*c)->MergeRegions(id);
  if (!merged.ok()) return FailClient(f.client, merged.status());
  const std::map<uint64_t, pd::StoreInfo> no_labels;
  if (f.client.json) {
    std::cout << json{{"merged", ShardJson(f, *merged, 0, no_labels)}}.dump() << "\n";
    return kExitOk;
  }
  std::cout << "merged into shard " << merged->id() << "\n"
            << merged->id() << " [" << Show(f, merged->start_key()) << ", "
            << Show(f, merged->end_key()) << ") epoch " << Epoch(*merged) << "\n";
  return kExitOk;
}

int RunNodeList(const ShardFlags& f) {
  auto c = MakeClient(f.client);
  if (!c.ok()) return FailClient(f.client, c.status());
  auto stores = (*c)->Stores();
  if (!stores.ok()) return FailClient(f.client, stores.status());
  auto regions = (*c)->Regions();
  if (!regions.ok()) return FailClient(f.client, regions.status());
  std::map<uint64_t, int> replicas, leaders;
  for (int i = 0; i < regions->regions_size(); ++i) {
    for (const meta::Peer& p : regions->regions(i).peers()) replicas[p.store_id()]++;
    if (i < regions->leader_store_ids_size()) leaders[regions->leader_store_ids(i)]++;
  }
  json list = json::array();
  for (int i = 0; i < stores->stores_size(); ++i) {
    const pd::StoreInfo& s = stores->stores(i);
    const auto state = i < stores->state_size() ? stores->state(i) : pd::STORE_STATE_UNKNOWN;
    std::map<std::string, std::string> labels(s.labels().begin(), s.labels().end());
    if (f.client.json) {
      list.push_back({{"id", s.id()},
                      {"address", s.address()},
                      {"state", StoreStateName(state)},
                      {"labels", labels},
                      {"replicas", replicas[s.id()]},
                      {"leaders", leaders[s.id()]}});
      continue;
    }
    std::string shown;
    for (const auto& [k, v] : labels) shown += (shown.empty() ? "" : ",") + k + "=" + v;
    std::cout << s.id() << " " << s.address() << " " << StoreStateName(state) << ", "
              << replicas[s.id()] << " replicas, " << leaders[s.id()] << " leaders"
              << (shown.empty() ? "" : " (" + shown + ")") << "\n";
  }
  if (f.client.json) std::cout << json{{"nodes", list}}.dump() << "\n";
  return kExitOk;
}

}  // namespace

const char* StoreStateName(pd::StoreState state) {
  switch (state) {
    case pd::STORE_UP:
      return "up";
    case pd::STORE_DISCONNECTED:
      return "disconnected";
    case pd::STORE_DOWN:
      return "down";
    default:
      return "unknown";
  }
}

void RegisterNodeCommands(CLI::App& app, int& exit_code) {
  auto f = std::make_shared<ShardFlags>();
  CLI::App* node = app.add_subcommand("node", "The cluster's stores");
  node->require_subcommand(1);
  CLI::App* list = node->add_subcommand(
      "list", "One line per store: id, address, state, replicas and leaders it holds, labels");
  AddClientFlags(list, f->client);
  list->add_flag("--json", f->client.json, "Machine-readable output (docs/cli.md)");
  list->callback([f, &exit_code] { exit_code = RunNodeList(*f); });
}

void RegisterShardCommands(CLI::App& app, int& exit_code) {
  auto f = std::make_shared<ShardFlags>();
  f->client.admin = true;
  auto key = std::make_shared<std::string>();
  CLI::App* shard =
      app.add_subcommand("shard", "List, split and merge the cluster's shards (regions)");
  shard->require_subcommand(1);
  auto common = [&](CLI::App* c) {
    AddClientFlags(c, f->client);
    c->add_flag("--json", f->client.json, "Machine-readable output (docs/cli.md)");
    c->add_flag("--hex", f->hex, "Keys as hex, in arguments and output");
  };
  CLI::App* list = shard->add_subcommand(
      "list", "One line per shard: id, range, epoch, leader, replicas with their stores' labels");
  common(list);
  list->callback([f, &exit_code] { exit_code = RunList(*f); });

  CLI::App* split = shard->add_subcommand(
      "split", "Split the shard holding KEY at KEY (admin): a new shard takes KEY and above");
  split->add_option("KEY", *key)->required();
  common(split);
  split->callback([f, key, &exit_code] {
    auto k = ParseBytesArg("KEY", *key, f->hex);
    if (!k.ok()) {
      exit_code = Fail(k.status());
      return;
    }
    exit_code = RunSplit(*f, *k);
  });

  auto id = std::make_shared<uint64_t>(0);
  CLI::App* merge = shard->add_subcommand(
      "merge", "Merge shard ID with its right neighbour (admin): ID then spans both ranges");
  merge->add_option("ID", *id)->required();
  common(merge);
  merge->callback([f, id, &exit_code] { exit_code = RunMerge(*f, *id); });
}

}  // namespace rustorium::tools
