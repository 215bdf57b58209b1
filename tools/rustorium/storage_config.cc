#include "tools/rustorium/storage_config.h"

#include "base/config_file.h"
#include "base/quote.h"

namespace rustorium::tools {

namespace {

// A size in bytes: a positive integer.
Status ReadSize(const ConfigTable& t, std::string_view key, std::size_t& out) {
  return t.Read<std::size_t>(key, out, 1);
}

}  // namespace

Status LoadStorageConfig(const std::string& path, engine::StorageOptions& options) {
  ASSIGN_OR_RETURN(ConfigTable root, ConfigTable::Open(path));
  // Other sections belong to whoever else reads this file.
  ASSIGN_OR_RETURN(ConfigTable t, root.Section("storage"));
  RETURN_IF_ERROR(
      t.AllowOnly({"path", "sync_mode", "sync_interval_ms", "compression", "encryption",
                   "encryption_key_file", "max_key_size", "max_value_size", "block_cache_size"}));
  RETURN_IF_ERROR(t.Read("path", options.path));
  std::string sync = std::string(engine::SyncModeName(options.sync_mode));
  RETURN_IF_ERROR(t.Read("sync_mode", sync));
  Result<engine::SyncMode> mode = engine::ParseSyncMode(sync);
  if (!mode.ok()) return t.Bad("sync_mode", "must be none, async or full, not " + QuoteInput(sync));
  options.sync_mode = *mode;
  int64_t interval_ms = options.sync_interval.count();
  RETURN_IF_ERROR(t.Read<int64_t>("sync_interval_ms", interval_ms, 1));
  options.sync_interval = std::chrono::milliseconds(interval_ms);
  RETURN_IF_ERROR(t.Read("compression", options.compression));
  RETURN_IF_ERROR(t.Read("encryption", options.encryption));
  RETURN_IF_ERROR(t.Read("encryption_key_file", options.encryption_key_file));
  RETURN_IF_ERROR(ReadSize(t, "max_key_size", options.max_key_size));
  RETURN_IF_ERROR(ReadSize(t, "max_value_size", options.max_value_size));
  RETURN_IF_ERROR(ReadSize(t, "block_cache_size", options.block_cache_size));
  return Status::OK();
}

}  // namespace rustorium::tools
