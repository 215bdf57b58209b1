#include "tools/rustorium/engine_command.h"

#include <array>
#include <cstdio>
#include <iostream>
#include <memory>

#include "base/quote.h"
#include "engine/engine.h"
#include "tools/rustorium/byte_format.h"
#include "tools/rustorium/exit_code.h"
#include "tools/rustorium/storage_config.h"

namespace rustorium::tools {

namespace {

struct EngineFlags {
  std::string config;
  std::string data_dir = "./rustorium-data/engine";
  std::string cf = "default";
  std::string encryption_key_file;
  std::string sync_mode;
  bool no_compression = false;
  bool hex = false;
  // put / get / delete
  std::string key;
  std::string value;
  // scan
  std::string start;
  std::string end;
  std::string prefix;
  int64_t limit = 100;
  bool reverse = false;
  // checkpoint
  std::string checkpoint_dir;
};

Result<engine::StorageOptions> MakeOptions(const EngineFlags& f, bool create) {
  engine::StorageOptions options;
  if (!f.config.empty()) RETURN_IF_ERROR(LoadStorageConfig(f.config, options));
  options.path = f.data_dir;
  if (!f.encryption_key_file.empty()) {
    options.encryption = true;
    options.encryption_key_file = f.encryption_key_file;
  }
  if (!f.sync_mode.empty()) {
    Result<engine::SyncMode> mode = engine::ParseSyncMode(f.sync_mode);
    if (!mode.ok()) {
      return Status::InvalidArgument("--sync-mode must be none, async or full, not " +
                                     QuoteInput(f.sync_mode));
    }
    options.sync_mode = *mode;
  }
  if (f.no_compression) options.compression = false;
  options.create_if_missing = create;
  return options;
}

// An argument as bytes: hex with --hex, else the text form (what Show prints is taken back).
Result<std::string> Decode(const EngineFlags& f, const std::string& text) {
  return f.hex ? FromHex(text) : UnescapeBytes(text);
}

std::string Show(const EngineFlags& f, std::string_view bytes) {
  return f.hex ? ToHex(bytes) : EscapeBytes(bytes);
}

struct Opened {
  std::unique_ptr<engine::Engine> engine;
  engine::ColumnFamily cf;
  std::string key;  // the command's KEY argument, decoded (empty for commands without one)
};

// Checks the arguments, then opens the store: bad input never creates or touches a store.
Result<Opened> OpenFor(const EngineFlags& f, bool create) {
  std::optional<engine::ColumnFamily> cf = engine::ColumnFamilyFromName(f.cf);
  if (!cf.has_value()) {
    return Status::InvalidArgument("unknown column family " + QuoteInput(f.cf) +
                                   " (default, lock, write, raft, meta, index)");
  }
  ASSIGN_OR_RETURN(std::string key, Decode(f, f.key));
  ASSIGN_OR_RETURN(engine::StorageOptions options, MakeOptions(f, create));
  ASSIGN_OR_RETURN(std::unique_ptr<engine::Engine> e, engine::Engine::Open(options));
  return Opened{std::move(e), *cf, std::move(key)};
}

int RunPut(const EngineFlags& f) {
  Result<std::string> value = Decode(f, f.value);
  if (!value.ok()) return Fail(value.status());
  Result<Opened> db = OpenFor(f, /*create=*/true);
  if (!db.ok()) return Fail(db.status());
  Status s = db->engine->Put(db->cf, db->key, *value);
  if (!s.ok()) return Fail(s);
  std::cout << "OK\n";
  return kExitOk;
}

int RunGet(const EngineFlags& f) {
  Result<Opened> db = OpenFor(f, /*create=*/false);
  if (!db.ok()) return Fail(db.status());
  Result<std::optional<std::string>> value = db->engine->Get(db->cf, db->key);
  if (!value.ok()) return Fail(value.status());
  if (!value->has_value()) {
    std::cerr << "not found: " << QuoteInput(f.key) << "\n";
    return kExitFailure;
  }
  std::cout << Show(f, **value) << "\n";
  return kExitOk;
}

int RunDelete(const EngineFlags& f) {
  Result<Opened> db = OpenFor(f, /*create=*/false);
  if (!db.ok()) return Fail(db.status());
  Status s = db->engine->Delete(db->cf, db->key);
  if (!s.ok()) return Fail(s);
  std::cout << "OK\n";
  return kExitOk;
}

int RunScan(const EngineFlags& f) {
  Result<Opened> db = OpenFor(f, /*create=*/false);
  if (!db.ok()) return Fail(db.status());
  engine::IteratorOptions io;
  for (auto [in, out] : {std::pair{&f.start, &io.lower_bound}, std::pair{&f.end, &io.upper_bound},
                         std::pair{&f.prefix, &io.prefix}}) {
    Result<std::string> decoded = Decode(f, *in);
    if (!decoded.ok()) return Fail(decoded.status());
    *out = std::move(*decoded);
  }
  io.fill_cache = false;
  std::unique_ptr<engine::Iterator> it = db->engine->NewIterator(db->cf, std::move(io));
  int64_t n = 0;
  if (f.reverse) {
    for (it->SeekToLast(); it->Valid() && n < f.limit; it->Prev(), ++n) {
      std::cout << Show(f, it->key()) << "\t" << Show(f, it->value()) << "\n";
    }
  } else {
    for (it->SeekToFirst(); it->Valid() && n < f.limit; it->Next(), ++n) {
      std::cout << Show(f, it->key()) << "\t" << Show(f, it->value()) << "\n";
    }
  }
  if (Status s = it->status(); !s.ok()) return Fail(s);
  std::cerr << "(" << n << " keys)\n";
  return kExitOk;
}

int RunStats(const EngineFlags& f) {
  Result<Opened> db = OpenFor(f, /*create=*/false);
  if (!db.ok()) return Fail(db.status());
  Result<engine::EngineStats> st = db->engine->Stats();
  if (!st.ok()) return Fail(st.status());
  // Exact counts, by reading every family (the tool runs offline). RocksDB's own figure is an
  // estimate (entries minus deletes) that overwrites and deletes drive far off: it showed
  // `keys.index 0` for a store with 1,746 index keys. It is printed as keys_estimated.
  std::array<uint64_t, engine::kNumColumnFamilies> counted{};
  uint64_t total = 0;
  for (engine::ColumnFamily cf : engine::kAllColumnFamilies) {
    engine::IteratorOptions io;
    io.fill_cache = false;
    std::unique_ptr<engine::Iterator> it = db->engine->NewIterator(cf, std::move(io));
    uint64_t n = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
    if (Status s = it->status(); !s.ok()) return Fail(s);
    counted[static_cast<int>(cf)] = n;
    total += n;
  }
  std::printf("keys\t%llu\n", static_cast<unsigned long long>(total));
  for (engine::ColumnFamily cf : engine::kAllColumnFamilies) {
    std::printf("keys.%s\t%llu\n", std::string(engine::ColumnFamilyName(cf)).c_str(),
                static_cast<unsigned long long>(counted[static_cast<int>(cf)]));
  }
  std::printf("keys_estimated\t%llu\n", static_cast<unsigned long long>(st->keys));
  std::printf("live_sst_bytes\t%llu\n", static_cast<unsigned long long>(st->live_sst_bytes));
  std::printf("memtable_bytes\t%llu\n", static_cast<unsigned long long>(st->memtable_bytes));
  std::printf("sst_raw_bytes\t%llu\n", static_cast<unsigned long long>(st->sst_raw_bytes));
  std::printf("sst_data_bytes\t%llu\n", static_cast<unsigned long long>(st->sst_data_bytes));
  std::printf("compression_ratio\t%.3f\n", st->compression_ratio);
  return kExitOk;
}

int RunCheckpoint(const EngineFlags& f) {
  Result<Opened> db = OpenFor(f, /*create=*/false);
  if (!db.ok()) return Fail(db.status());
  Status s = db->engine->Checkpoint(f.checkpoint_dir);
  if (!s.ok()) return Fail(s);
  std::cout << "checkpoint written to " << f.checkpoint_dir << "\n";
  return kExitOk;
}

}  // namespace

void RegisterEngineCommand(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<EngineFlags>();
  CLI::App* cmd = app.add_subcommand(
      "engine", "Offline storage tool: read and write a store's engine directly (server stopped)");
  cmd->require_subcommand(1);
  cmd->add_option("--config", flags->config, "TOML config file; its [storage] section is read");
  cmd->add_option("--data-dir", flags->data_dir, "Directory of the store")->capture_default_str();
  cmd->add_option("--cf", flags->cf, "Column family: default, lock, write, raft, meta, index")
      ->capture_default_str();
  cmd->add_option("--encryption-key-file", flags->encryption_key_file,
                  "Key file of an encrypted store (64 hex characters)");
  cmd->add_option("--sync-mode", flags->sync_mode, "none | async | full");
  cmd->add_flag("--no-compression", flags->no_compression, "Write new files uncompressed");
  cmd->add_flag("--hex", flags->hex, "Keys and values are given and shown in hex");

  CLI::App* put = cmd->add_subcommand("put", "Write KEY = VALUE");
  put->add_option("key", flags->key)->required();
  put->add_option("value", flags->value)->required();
  put->fallthrough();
  put->callback([flags, &exit_code] { exit_code = RunPut(*flags); });

  CLI::App* get = cmd->add_subcommand("get", "Print the value of KEY (exit 1 when absent)");
  get->add_option("key", flags->key)->required();
  get->fallthrough();
  get->callback([flags, &exit_code] { exit_code = RunGet(*flags); });

  CLI::App* del = cmd->add_subcommand("delete", "Delete KEY");
  del->add_option("key", flags->key)->required();
  del->fallthrough();
  del->callback([flags, &exit_code] { exit_code = RunDelete(*flags); });

  CLI::App* scan = cmd->add_subcommand("scan", "Print keys and values in [start, end), in order");
  scan->add_option("--start", flags->start, "First key (inclusive)");
  scan->add_option("--end", flags->end, "Last key (exclusive)");
  scan->add_option("--prefix", flags->prefix, "Only keys with this prefix");
  scan->add_option("--limit", flags->limit, "At most this many keys")->capture_default_str();
  scan->add_flag("--reverse", flags->reverse, "From the last key down");
  scan->fallthrough();
  scan->callback([flags, &exit_code] { exit_code = RunScan(*flags); });

  CLI::App* stats = cmd->add_subcommand("stats", "Print key counts, sizes and compression");
  stats->fallthrough();
  stats->callback([flags, &exit_code] { exit_code = RunStats(*flags); });

  CLI::App* checkpoint = cmd->add_subcommand("checkpoint", "Write a consistent copy to DIR");
  checkpoint->add_option("dir", flags->checkpoint_dir)->required();
  checkpoint->fallthrough();
  checkpoint->callback([flags, &exit_code] { exit_code = RunCheckpoint(*flags); });
}

}  // namespace rustorium::tools
