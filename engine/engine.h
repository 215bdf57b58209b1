// Engine: a store's local storage on RocksDB.
//
// One Engine is one RocksDB instance with the column families of column_family.h. It is
// thread-safe: any thread may read, write, iterate and snapshot concurrently. Errors come back
// as Status / Result; nothing throws.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "engine/column_family.h"
#include "engine/iterator.h"
#include "engine/options.h"
#include "engine/write_batch.h"

namespace rustorium::engine {

// Counters for metrics. Byte and hit counters run from the moment the engine was opened.
struct EngineStats {
  uint64_t bytes_written = 0;             // key and value bytes written by Write()
  uint64_t bytes_read = 0;                // key and value bytes returned by point reads
  uint64_t iterator_bytes_read = 0;       // key and value bytes returned by iterators
  uint64_t compaction_bytes_read = 0;     // bytes compactions read from disk
  uint64_t compaction_bytes_written = 0;  // bytes compactions and flushes wrote to SSTs
  uint64_t block_cache_hits = 0;
  uint64_t block_cache_misses = 0;
  // hits / (hits + misses); 0 when the cache has not been consulted.
  double block_cache_hit_rate = 0;
  // Estimated live keys, in all families and per family (indexed by ColumnFamily).
  uint64_t keys = 0;
  std::array<uint64_t, kNumColumnFamilies> keys_per_family{};
  // Uncompressed key+value bytes in SST files, and the bytes their data blocks take on disk.
  uint64_t sst_raw_bytes = 0;
  uint64_t sst_data_bytes = 0;
  // sst_raw_bytes / sst_data_bytes; 1.0 while no SST file exists.
  double compression_ratio = 1.0;
  uint64_t live_sst_bytes = 0;  // size of all live SST files
  uint64_t memtable_bytes = 0;  // size of all memtables
};

class Engine {
 public:
  // Opens (creating it if allowed) the store at options.path. Errors:
  //   InvalidArgument     bad options, malformed key file, path is a file
  //   FailedPrecondition  wrong encryption key, or encryption on/off unlike the store's
  //   NotFound            no store at the path and create_if_missing is false
  //   IOError             the directory cannot be created, read or written
  //   Corruption          the store's files fail RocksDB's checks
  // When the key is wrong, no file of the store is touched.
  [[nodiscard]] static Result<std::unique_ptr<Engine>> Open(const StorageOptions& options);

  // Stops the background sync (syncing the log one last time) and closes the store.
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Applies every change of `batch` or none. InvalidArgument (and nothing written) when the
  // batch holds an empty key, an empty range, or a key or value over the limits. Returns once
  // the batch is as durable as the sync mode promises; in kAsync mode, an error of the
  // background sync is returned by every later Write.
  [[nodiscard]] Status Write(WriteBatch& batch);
  // Write that fsyncs the log before returning, whatever the sync mode (Raft's term and vote,
  // group-committed log appends).
  [[nodiscard]] Status WriteSync(WriteBatch& batch);
  [[nodiscard]] Status Put(ColumnFamily cf, std::string_view key, std::string_view value);
  [[nodiscard]] Status Delete(ColumnFamily cf, std::string_view key);

  // The value of `key`, or nullopt when it has none.
  [[nodiscard]] Result<std::optional<std::string>> Get(ColumnFamily cf, std::string_view key,
                                                       const ReadOptions& options = {}) const;
  // Get into a caller-owned buffer (its capacity is reused across calls): true and the value
  // in `value` when the key has one, false (and `value` cleared) when it has none.
  [[nodiscard]] Result<bool> GetInto(ColumnFamily cf, std::string_view key, std::string& value,
                                     const ReadOptions& options = {}) const;
  // Get of every key at one consistent point; the i-th result answers keys[i].
  [[nodiscard]] std::vector<Result<std::optional<std::string>>> MultiGet(
      ColumnFamily cf, const std::vector<std::string_view>& keys,
      const ReadOptions& options = {}) const;

  // A snapshot of the current state of every family.
  [[nodiscard]] std::unique_ptr<Snapshot> GetSnapshot() const;
  // An iterator over `cf` within `options`' bounds; call a Seek before reading it.
  [[nodiscard]] std::unique_ptr<Iterator> NewIterator(ColumnFamily cf,
                                                      IteratorOptions options = {}) const;

  // Writes a consistent, openable copy of the store to `dir`, which must not exist. SST files
  // are hard-linked where the file system allows. An encrypted store's copy stays encrypted
  // with the same key.
  [[nodiscard]] Status Checkpoint(const std::string& dir) const;

  [[nodiscard]] Result<EngineStats> Stats() const;

  // Flushes every memtable to SST files (and waits).
  [[nodiscard]] Status Flush();
  // Compacts the whole family down to the bottommost level (and waits).
  [[nodiscard]] Status CompactRange(ColumnFamily cf);
  // Fsyncs the write-ahead log now.
  [[nodiscard]] Status SyncWal();

  const StorageOptions& options() const;

 private:
  struct Rep;
  explicit Engine(std::unique_ptr<Rep> rep);
  Status WriteWith(WriteBatch& batch, bool sync);
  std::unique_ptr<Rep> rep_;
};

}  // namespace rustorium::engine
