#include "tools/rustorium/storage_config.h"

#include <toml++/toml.h>

#include <set>

namespace rustorium::tools {

namespace {

template <typename T>
Status Read(const toml::table& t, std::string_view key, T& out) {
  const toml::node* node = t.get(key);
  if (node == nullptr) return Status::OK();
  std::optional<T> v = node->value<T>();
  if (!v.has_value()) {
    return Status::InvalidArgument("storage." + std::string(key) + " has the wrong type");
  }
  out = *v;
  return Status::OK();
}

Status ReadSize(const toml::table& t, std::string_view key, std::size_t& out) {
  int64_t v = static_cast<int64_t>(out);
  RETURN_IF_ERROR(Read(t, key, v));
  if (v <= 0) return Status::InvalidArgument("storage." + std::string(key) + " must be positive");
  out = static_cast<std::size_t>(v);
  return Status::OK();
}

}  // namespace

Status LoadStorageConfig(const std::string& path, engine::StorageOptions& options) {
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return Status::InvalidArgument("config " + path + ": " + std::string(e.description()));
  }
  const toml::table* t = root["storage"].as_table();
  if (t == nullptr) return Status::OK();
  static const std::set<std::string, std::less<>> kKnown = {
      "path",         "sync_mode",      "sync_interval_ms",
      "compression",  "encryption",     "encryption_key_file",
      "max_key_size", "max_value_size", "block_cache_size"};
  for (const auto& [key, value] : *t) {
    if (!kKnown.contains(key.str())) {
      return Status::InvalidArgument("config " + path + ": unknown key storage." +
                                     std::string(key.str()));
    }
  }
  Status s = [&]() -> Status {
    RETURN_IF_ERROR(Read(*t, "path", options.path));
    std::string sync = std::string(engine::SyncModeName(options.sync_mode));
    RETURN_IF_ERROR(Read(*t, "sync_mode", sync));
    ASSIGN_OR_RETURN(options.sync_mode, engine::ParseSyncMode(sync));
    int64_t interval_ms = options.sync_interval.count();
    RETURN_IF_ERROR(Read(*t, "sync_interval_ms", interval_ms));
    options.sync_interval = std::chrono::milliseconds(interval_ms);
    RETURN_IF_ERROR(Read(*t, "compression", options.compression));
    RETURN_IF_ERROR(Read(*t, "encryption", options.encryption));
    RETURN_IF_ERROR(Read(*t, "encryption_key_file", options.encryption_key_file));
    RETURN_IF_ERROR(ReadSize(*t, "max_key_size", options.max_key_size));
    RETURN_IF_ERROR(ReadSize(*t, "max_value_size", options.max_value_size));
    RETURN_IF_ERROR(ReadSize(*t, "block_cache_size", options.block_cache_size));
    return Status::OK();
  }();
  return s.WithContext("config " + path);
}

}  // namespace rustorium::tools
