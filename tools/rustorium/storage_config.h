// The [storage] section of a TOML config file, mapped onto StorageOptions.
#pragma once

#include <string>

#include "base/status.h"
#include "engine/options.h"

namespace rustorium::tools {

// Reads the [storage] table of the TOML file at `path` into `options`, leaving keys the file
// does not name as they were. Keys: path, sync_mode ("none" | "async" | "full"),
// sync_interval_ms, compression, encryption, encryption_key_file, max_key_size,
// max_value_size, block_cache_size. An unknown key or a wrong type is InvalidArgument.
Status LoadStorageConfig(const std::string& path, engine::StorageOptions& options);

}  // namespace rustorium::tools
