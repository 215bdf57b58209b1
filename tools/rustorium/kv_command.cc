#include "tools/rustorium/kv_command.h"

#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "base/quote.h"
#include "region/client.h"
#include "region/store/command_limits.h"
#include "region/store/root_statement.h"
#include "tools/rustorium/byte_format.h"
#include "tools/rustorium/client_flags.h"
#include "tools/rustorium/exit_code.h"
#include "tools/rustorium/topology_command.h"

namespace rustorium::tools {

namespace {

using json = nlohmann::json;

// Flags of the kv commands beyond the client's.
struct KvFlags {
  ClientFlags client;
  bool hex = false;  // keys and values as hex, in and out
  std::string value_file;
  bool if_absent = false;
  bool print_value_only = false;
  std::string prefix;
};

std::string RootHex(const proof::Fr& root) { return root.ToHex(); }

json RootJson(const client::VerifiedRoot& r) {
  return {{"region_id", r.region_id},
          {"applied_index", r.applied_index},
          {"root", RootHex(r.root)},
          {"store_id", r.store_id},
          {"verified", r.verified}};
}

// Bytes for people: the text form, or hex with --hex.
std::string Show(const KvFlags& f, std::string_view bytes) {
  return f.hex ? ToHex(bytes) : EscapeBytes(bytes);
}

std::string RootLines(const client::VerifiedRoot& r) {
  return "root: " + RootHex(r.root) + "\napplied index: " + std::to_string(r.applied_index) +
         "\nregion: " + std::to_string(r.region_id) + " (signed by store " +
         std::to_string(r.store_id) + ")\n";
}

Status WriteProof(const std::string& path, const std::string& proof) {
  if (path.empty()) return Status::OK();
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(proof.data(), static_cast<std::streamsize>(proof.size()));
  return out.good() ? Status::OK() : Status::IOError("cannot write " + path);
}

// The value of `kv put --value-file FILE` ("-": standard input), read as is. A file over the
// hard value limit is refused before it is read whole.
Result<std::string> ReadValueFile(const std::string& path) {
  std::ifstream file;
  std::istream* in = &std::cin;
  if (path != "-") {
    file.open(path, std::ios::binary);
    if (!file) return Status::InvalidArgument("--value-file: cannot open " + QuoteInput(path));
    in = &file;
  }
  std::string value(store::kMaxValueSize + 1, '\0');
  in->read(value.data(), static_cast<std::streamsize>(value.size()));
  if (in->bad()) return Status::IOError("--value-file: cannot read " + QuoteInput(path));
  value.resize(static_cast<std::size_t>(in->gcount()));
  if (value.size() > store::kMaxValueSize) {
    return Status::InvalidArgument("--value-file: " + QuoteInput(path) +
                                   " holds more than max_value_size " +
                                   std::to_string(store::kMaxValueSize) + " bytes");
  }
  return value;
}

// The smallest key above every key that starts with `prefix`; empty (the end of the key
// space) when there is none (the prefix is all 0xff bytes).
std::string PrefixEnd(std::string prefix) {
  while (!prefix.empty()) {
    auto last = static_cast<unsigned char>(prefix.back());
    if (last != 0xff) {
      prefix.back() = static_cast<char>(last + 1);
      return prefix;
    }
    prefix.pop_back();
  }
  return prefix;
}

// A finished write: `op` names it; for a compare-and-swap (or put --if-absent) that did not
// swap, the key's current value is shown instead of "ok" and the exit code is 1.
int PrintWrite(const KvFlags& f, const std::string& op, const client::WriteResult& w,
               bool conditional) {
  const bool swapped = !conditional || w.result.cas_succeeded();
  const std::optional<std::string> current =
      w.result.cas_found() ? std::optional<std::string>(w.result.cas_previous()) : std::nullopt;
  if (f.client.json) {
    json j = RootJson(w.root);
    j["op"] = op;
    json proofs = json::array();
    for (const kv::KvProof& p : w.proofs) {
      json item = {{"found", p.found()},
                   {"proof", ToHex(p.proof())},
                   {"tree_key", store::TreeKey(p.key()).ToDecimal()}};
      SetJsonBytes(item, "key", p.key(), f.hex);
      proofs.push_back(std::move(item));
    }
    j["proofs"] = proofs;
    if (conditional) {
      j["cas_succeeded"] = swapped;
      if (!swapped) {
        j["current_found"] = current.has_value();
        if (current) SetJsonBytes(j, "current", *current, f.hex);
      }
    }
    std::cout << j.dump() << "\n";
  } else {
    if (swapped) {
      std::cout << op << ": ok\n";
    } else {
      std::cout << (op == "cas" ? "not swapped: " : "not put: ")
                << (current ? "current value " + Show(f, *current) : std::string("key absent"))
                << "\n";
    }
    std::cout << RootLines(w.root) << "proof: " << (w.root.verified ? "verified" : "not checked")
              << "\n";
  }
  return swapped ? kExitOk : kExitFailure;
}

// Runs one write with a client made from the flags and prints its answer; the exit code.
int RunWrite(const KvFlags& f, const std::string& op, bool conditional,
             const std::function<Result<client::WriteResult>(client::Client&)>& write) {
  auto c = MakeClient(f.client);
  if (!c.ok()) return FailClient(f.client, c.status());
  auto w = write(**c);
  if (!w.ok()) return FailClient(f.client, w.status());
  return PrintWrite(f, op, *w, conditional);
}

int RunGet(const KvFlags& f, const std::string& key) {
  auto c = MakeClient(f.client);
  if (!c.ok()) return FailClient(f.client, c.status());
  auto r = (*c)->Get(key);
  if (!r.ok()) return FailClient(f.client, r.status());
  if (Status s = WriteProof(f.client.proof_out, r->proof); !s.ok()) return Fail(s);
  if (f.print_value_only) {
    if (r->value) std::cout << (f.hex ? ToHex(*r->value) : *r->value) << "\n";
  } else if (f.client.json) {
    json j = RootJson(r->root);
    SetJsonBytes(j, "key", key, f.hex);
    j["found"] = r->value.has_value();
    if (r->value) {
      SetJsonBytes(j, "value", *r->value, f.hex);
      j["tree_value"] = store::TreeValue(*r->value).ToDecimal();
    }
    j["tree_key"] = store::TreeKey(key).ToDecimal();
    j["proof"] = ToHex(r->proof);
    std::cout << j.dump() << "\n";
  } else {
    std::cout << (r->value ? Show(f, *r->value) : std::string("not found")) << "\n"
              << RootLines(r->root) << "proof: "
              << (r->root.verified ? (r->value ? "verified" : "verified (non-inclusion)")
                                   : "not checked")
              << "\n";
  }
  return r->value ? kExitOk : kExitFailure;
}

int RunScan(const KvFlags& f, const std::string& start, const std::string& end, uint32_t limit) {
  auto c = MakeClient(f.client);
  if (!c.ok()) return FailClient(f.client, c.status());
  auto scan = (*c)->Scan(start, end, limit);
  if (!scan.ok()) return FailClient(f.client, scan.status());
  if (f.client.json) {
    json items = json::array();
    for (const client::ScanItem& it : scan->items) {
      json item = {{"proof", ToHex(it.proof)}, {"root", it.root}};
      SetJsonBytes(item, "key", it.key, f.hex);
      SetJsonBytes(item, "value", it.value, f.hex);
      items.push_back(std::move(item));
    }
    json roots = json::array();
    for (const client::VerifiedRoot& r : scan->roots) roots.push_back(RootJson(r));
    json j = {{"items", items}, {"roots", roots}, {"more", scan->more}, {"verified", true}};
    if (scan->more) SetJsonBytes(j, "next_key", scan->next_key, f.hex);
    SetJsonBytes(j, "end_key", end, f.hex);
    std::cout << j.dump() << "\n";
    return kExitOk;
  }
  for (const client::ScanItem& it : scan->items)
    std::cout << Show(f, it.key) << " = " << Show(f, it.value) << "\n";
  std::cout << scan->items.size() << " keys, every proof verified\n";
  if (scan->more) {
    // The next page, in a form the command takes back.
    std::cout << "more: yes; next page: START " << Show(f, scan->next_key) << " END "
              << (end.empty() ? std::string("\"\" (the end of the key space)") : Show(f, end))
              << "\n";
  } else {
    std::cout << "more: no\n";
  }
  return kExitOk;
}

}  // namespace

void RegisterKvCommands(CLI::App& app, int& exit_code) {
  auto f = std::make_shared<KvFlags>();
  auto key = std::make_shared<std::string>();
  auto value = std::make_shared<std::string>();
  auto end = std::make_shared<std::string>();
  auto expected = std::make_shared<std::string>();
  auto limit = std::make_shared<uint32_t>(100);
  CLI::App* kv = app.add_subcommand("kv", "Read and write the cluster, with verified proofs");
  kv->require_subcommand(1);
  auto common = [&](CLI::App* c) {
    AddClientFlags(c, f->client);
    c->add_flag("--json", f->client.json, "Machine-readable output (docs/cli.md)");
    c->add_flag("--hex", f->hex,
                "Keys and values as hex, in arguments and output (else the text form: "
                "printable UTF-8 as is, other bytes \\xNN, a backslash \\\\)");
  };
  // An argument in the text form (or hex) as bytes; sets exit_code and returns nullopt when
  // it is malformed.
  auto bytes = [f, &exit_code](std::string_view what,
                               const std::string& text) -> std::optional<std::string> {
    auto b = ParseBytesArg(what, text, f->hex);
    if (!b.ok()) {
      exit_code = Fail(b.status());
      return std::nullopt;
    }
    return *b;
  };

  CLI::App* put = kv->add_subcommand("put", "Set KEY to VALUE (or the bytes of --value-file)");
  put->add_option("KEY", *key)->required();
  CLI::Option* value_arg = put->add_option("VALUE", *value);
  put->add_option("--value-file", f->value_file,
                  "Read the value from FILE as is (\"-\": standard input), up to 8 MiB")
      ->excludes(value_arg);
  put->add_flag("--if-absent", f->if_absent,
                "Only when KEY holds no value (exit 1, printing the current value, otherwise)");
  common(put);
  put->callback([=, &exit_code] {
    auto k = bytes("KEY", *key);
    if (!k) return;
    std::optional<std::string> v;
    if (!f->value_file.empty()) {
      auto file = ReadValueFile(f->value_file);
      if (!file.ok()) {
        exit_code = Fail(file.status());
        return;
      }
      v = std::move(*file);
    } else if (value_arg->count() == 0) {
      exit_code = Fail(Status::InvalidArgument("kv put needs VALUE or --value-file FILE"));
      return;
    } else if (!(v = bytes("VALUE", *value))) {
      return;
    }
    exit_code = RunWrite(*f, "put", f->if_absent, [&](client::Client& c) {
      return f->if_absent ? c.CompareAndSwap(*k, std::nullopt, *v) : c.Put(*k, *v);
    });
  });

  CLI::App* del = kv->add_subcommand("delete", "Delete KEY");
  del->add_option("KEY", *key)->required();
  common(del);
  del->callback([=, &exit_code] {
    auto k = bytes("KEY", *key);
    if (!k) return;
    exit_code = RunWrite(*f, "delete", false, [&](client::Client& c) { return c.Delete(*k); });
  });

  CLI::App* get = kv->add_subcommand("get", "Read KEY with its proof (exit 1 when absent)");
  get->add_option("KEY", *key)->required();
  get->add_option("--proof-out", f->client.proof_out,
                  "Write the key's binary proof to FILE (for `rustorium proof verify`)");
  get->add_flag("--print-value-only", f->print_value_only,
                "Print only the value's bytes as stored (hex with --hex), nothing when absent");
  common(get);
  get->callback([=, &exit_code] {
    auto k = bytes("KEY", *key);
    if (!k) return;
    exit_code = RunGet(*f, *k);
  });

  CLI::App* scan = kv->add_subcommand(
      "scan",
      "Keys in [START, END) (or starting with --prefix) with their proofs, a page at a time");
  CLI::Option* start_arg = scan->add_option("START", *key, "First key (inclusive)");
  CLI::Option* end_arg =
      scan->add_option("END", *end, "Exclusive end; \"\" or none for the end of the key space");
  scan->add_option("--prefix", f->prefix, "Every key that starts with PREFIX")
      ->excludes(start_arg)
      ->excludes(end_arg);
  scan->add_option("--limit", *limit, "At most this many keys (1..10000)")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000));
  common(scan);
  scan->callback([=, &exit_code] {
    std::string from, to;
    if (scan->get_option("--prefix")->count() > 0) {
      auto p = bytes("--prefix", f->prefix);
      if (!p) return;
      from = *p;
      to = PrefixEnd(*p);
    } else if (start_arg->count() == 0) {
      exit_code = Fail(Status::InvalidArgument("kv scan needs START [END] or --prefix PREFIX"));
      return;
    } else {
      auto s = bytes("START", *key);
      if (!s) return;
      auto e = bytes("END", *end);
      if (!e) return;
      from = *s;
      to = *e;
    }
    exit_code = RunScan(*f, from, to, *limit);
  });

  CLI::App* cas = kv->add_subcommand(
      "cas", "Set KEY to NEW if it holds EXPECTED (exit 1, printing the current value, if not)");
  cas->add_option("KEY", *key)->required();
  cas->add_option("EXPECTED", *expected)->required();
  cas->add_option("NEW", *value)->required();
  common(cas);
  cas->callback([=, &exit_code] {
    auto k = bytes("KEY", *key);
    if (!k) return;
    auto e = bytes("EXPECTED", *expected);
    if (!e) return;
    auto v = bytes("NEW", *value);
    if (!v) return;
    exit_code =
        RunWrite(*f, "cas", true, [&](client::Client& c) { return c.CompareAndSwap(*k, *e, *v); });
  });
}

namespace {

std::string Seconds(uint64_t ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", static_cast<double>(ms) / 1000.0);
  return buf;
}

std::string Mebibytes(uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return buf;
}

// The line of a store's memory and signing figures (store.Stats) under its state line, and
// the same as JSON.
std::string StatsLine(const kv::StoreStatsResponse& s) {
  const uint64_t lookups = s.index_cache_hits() + s.index_cache_misses();
  char hits[32];
  std::snprintf(hits, sizeof hits, "%.0f%%",
                lookups == 0 ? 0.0
                             : 100.0 * static_cast<double>(s.index_cache_hits()) /
                                   static_cast<double>(lookups));
  return "  memory: resident " + Mebibytes(s.rss_bytes()) + ", memtables " +
         Mebibytes(s.engine_memtable_bytes()) + ", index cache " +
         Mebibytes(s.index_cache_bytes()) + " of " + Mebibytes(s.index_cache_capacity_bytes()) +
         " (" + std::to_string(s.index_cache_entries()) + " nodes, " + hits +
         " hits); roots signed " + std::to_string(s.roots_signed()) + ", reused " +
         std::to_string(s.roots_reused()) + "\n";
}
json StatsJson(const kv::StoreStatsResponse& s) {
  return {{"regions", s.regions()},
          {"rss_bytes", s.rss_bytes()},
          {"engine_memtable_bytes", s.engine_memtable_bytes()},
          {"index_cache_bytes", s.index_cache_bytes()},
          {"index_cache_capacity_bytes", s.index_cache_capacity_bytes()},
          {"index_cache_entries", s.index_cache_entries()},
          {"index_cache_hits", s.index_cache_hits()},
          {"index_cache_misses", s.index_cache_misses()},
          {"roots_signed", s.roots_signed()},
          {"roots_reused", s.roots_reused()}};
}

// A key inside region `r` to probe it with: its start key, or "\x00" for the first region.
std::string ProbeKey(const meta::Region& r) {
  return r.start_key().empty() ? std::string(1, '\0') : r.start_key();
}

// `status check`: prints PD's members, each store's state and each region's health, each
// region probed with a linearizable read; the exit code (0 when all is healthy).
int RunStatusCheck(const ClientFlags& f) {
  auto c = MakeClient(f);
  if (!c.ok()) return FailClient(f, c.status());
  json out;
  bool healthy = true;
  auto stores = (*c)->Stores();
  if (!stores.ok()) {
    const Status why = Explain(f, stores.status());
    if (f.json) {
      std::cout
          << json{{"pd", {{"ok", false}, {"error", why.ToString()}}}, {"healthy", false}}.dump()
          << "\n";
    } else {
      std::cout << "pd: " << why.message() << "\n";
    }
    return kExitFailure;
  }
  std::ostringstream text;
  text << "pd: ok\n";
  json members = json::array();
  for (const pd::PdMember& m : stores->pd_members()) {
    members.push_back({{"id", m.id()}, {"address", m.address()}, {"leader", m.leader()}});
    text << "pd member " << m.id() << " at " << m.address()
         << (m.leader() ? ": leader" : ": follower") << "\n";
  }
  out["pd"] = {{"ok", true}, {"members", members}};
  std::map<uint64_t, bool> up;
  json store_list = json::array();
  if (stores->stores_size() == 0) healthy = false;
  for (int i = 0; i < stores->stores_size(); ++i) {
    const pd::StoreInfo& s = stores->stores(i);
    const auto state = i < stores->state_size() ? stores->state(i) : pd::STORE_STATE_UNKNOWN;
    const uint64_t age = i < stores->heartbeat_age_ms_size() ? stores->heartbeat_age_ms(i) : 0;
    up[s.id()] = state == pd::STORE_UP;
    healthy = healthy && state == pd::STORE_UP;
    json labels = json::object();
    for (const auto& [k, v] : s.labels()) labels[k] = v;
    json item = {{"id", s.id()},
                 {"address", s.address()},
                 {"state", StoreStateName(state)},
                 {"heartbeat_age_ms", age},
                 {"labels", labels}};
    text << "store " << s.id() << " at " << s.address() << ": " << StoreStateName(state)
         << (state == pd::STORE_UP ? " (last heartbeat " + Seconds(age) + " ago)"
                                   : " (no heartbeat for " + Seconds(age) + ")")
         << "\n";
    if (state == pd::STORE_UP) {
      // Figures only: a store that does not answer is reported by the region probes below.
      auto stats = (*c)->StoreStats(s.address());
      if (stats.ok()) {
        item["stats"] = StatsJson(*stats);
        text << StatsLine(*stats);
      } else {
        text << "  memory: unknown (" << stats.status().ToString() << ")\n";
      }
    }
    store_list.push_back(std::move(item));
  }
  out["stores"] = store_list;
  auto regions = (*c)->Regions();
  json region_list = json::array();
  bool serving = true;
  if (!regions.ok()) {
    text << "regions: unknown (" << regions.status().ToString() << ")\n";
    out["regions_error"] = regions.status().ToString();
    healthy = serving = false;
  } else {
    if (regions->regions_size() == 0) {
      text << "regions: none yet (the cluster bootstraps once " << regions->replicas()
           << " stores exist)\n";
      healthy = serving = false;
    }
    for (int i = 0; i < regions->regions_size(); ++i) {
      const meta::Region& r = regions->regions(i);
      const uint64_t leader =
          i < regions->leader_store_ids_size() ? regions->leader_store_ids(i) : 0;
      int live = 0;
      for (const meta::Peer& p : r.peers()) live += up[p.store_id()] ? 1 : 0;
      std::vector<std::string> problems;
      if (leader == 0) problems.push_back("no leader reported");
      if (r.peers_size() < static_cast<int>(regions->replicas()))
        problems.push_back("under-replicated");
      if (live < r.peers_size()) {
        problems.push_back(std::to_string(r.peers_size() - live) +
                           " replica(s) on stores that are not up");
      }
      // A linearizable read inside the region shows that it serves.
      auto probe = (*c)->Get(ProbeKey(r));
      if (!probe.ok()) {
        problems.push_back("not serving (" + probe.status().ToString() + ")");
        serving = false;
      }
      json item = {{"id", r.id()},
                   {"replicas", r.peers_size()},
                   {"leader_store_id", leader},
                   {"serving", probe.ok()},
                   {"problems", problems}};
      SetJsonBytes(item, "start_key", r.start_key(), false);
      SetJsonBytes(item, "end_key", r.end_key(), false);
      region_list.push_back(std::move(item));
      text << "region " << r.id() << " [" << EscapeBytes(r.start_key()) << ", "
           << EscapeBytes(r.end_key()) << "): " << r.peers_size() << " replicas, leader store "
           << leader;
      if (problems.empty()) {
        text << ", ok\n";
      } else {
        for (std::size_t p = 0; p < problems.size(); ++p)
          text << (p == 0 ? ", " : "; ") << problems[p];
        text << "\n";
      }
      healthy = healthy && problems.empty();
    }
    text << "regions: " << (serving ? "serving" : "not serving") << "\n";
  }
  out["regions"] = region_list;
  out["serving"] = serving;
  out["healthy"] = healthy && serving;
  if (f.json) {
    std::cout << out.dump() << "\n";
  } else {
    std::cout << text.str();
  }
  return healthy && serving ? kExitOk : kExitFailure;
}

}  // namespace

void RegisterStatusCommand(CLI::App& app, int& exit_code) {
  auto f = std::make_shared<ClientFlags>();
  CLI::App* status = app.add_subcommand("status", "Cluster health");
  status->require_subcommand(1);
  CLI::App* check = status->add_subcommand(
      "check",
      "PD members, stores up, disconnected or down, regions without a leader, under-replicated "
      "or not serving (exit 0 when healthy)");
  AddClientFlags(check, *f);
  check->add_flag("--json", f->json, "Machine-readable output (docs/cli.md)");
  check->callback([f, &exit_code] { exit_code = RunStatusCheck(*f); });
}

}  // namespace rustorium::tools
