// Options of the local storage engine, with their defaults.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace rustorium::engine {

// When an acknowledged write reaches stable storage.
enum class SyncMode {
  kNone,   // the write-ahead log is written to the OS but never fsynced by us
  kAsync,  // a background thread fsyncs the log every `sync_interval`
  kFull,   // every write batch is fsynced before Write() returns
};

// Parses "none" | "async" | "full".
Result<SyncMode> ParseSyncMode(std::string_view text);
std::string_view SyncModeName(SyncMode mode);

struct StorageOptions {
  // Directory of the store; created when missing. Must not be an existing regular file.
  std::string path;

  // Largest key and value accepted by Write(); larger ones are refused with InvalidArgument.
  std::size_t max_key_size = 8 * 1024;
  std::size_t max_value_size = 8 * 1024 * 1024;

  // lz4 on the upper levels and zstd on the bottommost level when true; no compression otherwise.
  bool compression = true;

  // File-level AES-256-CTR encryption at rest. `encryption_key_file` holds 64 hex characters
  // (a 256-bit key), optionally followed by one newline. Required when `encryption` is true.
  bool encryption = false;
  std::string encryption_key_file;

  SyncMode sync_mode = SyncMode::kFull;
  // Period of the background fsync in SyncMode::kAsync.
  std::chrono::milliseconds sync_interval{100};

  // Size of the shared LRU block cache of uncompressed blocks.
  std::size_t block_cache_size = 128 * 1024 * 1024;
  // Bloom filter bits per key for point lookups (0 turns filters off).
  int bloom_bits_per_key = 10;
  // Memtable size per column family before it is flushed.
  std::size_t write_buffer_size = 64 * 1024 * 1024;
  // Background flush and compaction threads.
  int max_background_jobs = 2;

  // Creates the store when `path` holds none; when false a missing store is NotFound.
  bool create_if_missing = true;
};

}  // namespace rustorium::engine
