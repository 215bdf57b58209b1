#include "engine/engine.h"

#include <fcntl.h>
#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/perf_level.h>
#include <rocksdb/statistics.h>
#include <rocksdb/table.h>
#include <rocksdb/table_properties.h>
#include <rocksdb/utilities/checkpoint.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "engine/cf_handles.h"
#include "engine/encryption/aes_ctr_provider.h"
#include "engine/encryption/encryption_key.h"

namespace rustorium::engine {

namespace fs = std::filesystem;

Status FromRocks(const rocksdb::Status& s, std::string_view context) {
  if (s.ok()) return Status::OK();
  std::string msg;
  if (!context.empty()) {
    msg.assign(context);
    msg += ": ";
  }
  msg += s.ToString();
  switch (s.code()) {
    case rocksdb::Status::kNotFound:
      return Status::NotFound(std::move(msg));
    case rocksdb::Status::kCorruption:
      return Status::Corruption(std::move(msg));
    case rocksdb::Status::kNotSupported:
      return Status::NotSupported(std::move(msg));
    case rocksdb::Status::kInvalidArgument:
      return Status::InvalidArgument(std::move(msg));
    case rocksdb::Status::kIOError:
      return Status::IOError(std::move(msg));
    case rocksdb::Status::kBusy:
    case rocksdb::Status::kTryAgain:
      return Status::Busy(std::move(msg));
    case rocksdb::Status::kTimedOut:
      return Status::TimedOut(std::move(msg));
    case rocksdb::Status::kAborted:
    case rocksdb::Status::kShutdownInProgress:
      return Status::Aborted(std::move(msg));
    default:
      return Status::Internal(std::move(msg));
  }
}

namespace {

// RocksDB counts per-operation perf-context events on every thread unless told otherwise
// (its thread-local default is kEnableCount), which costs a dynamic-TLS lookup per counter.
// We read none of them, so each thread that calls in turns them off once.
void DisablePerfCountersOnThisThread() {
  thread_local bool done = false;
  if (!done) {
    rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);
    done = true;
  }
}

std::string ErrnoText(int err) { return std::strerror(err); }

// Reads a whole small file.
Result<std::string> ReadSmallFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError("cannot read " + path.string() + ": " + ErrnoText(errno));
  std::string contents(4096, '\0');
  in.read(contents.data(), static_cast<std::streamsize>(contents.size()));
  contents.resize(static_cast<std::size_t>(in.gcount()));
  return contents;
}

Status FsyncPath(const fs::path& path, int flags) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return Status::IOError("cannot open " + path.string() + ": " + ErrnoText(errno));
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return Status::IOError("fsync " + path.string() + ": " + ErrnoText(err));
  return Status::OK();
}

// Writes `contents` to dir/name durably: a temporary file, fsync, rename, fsync of dir.
Status WriteFileDurably(const fs::path& dir, std::string_view name, std::string_view contents) {
  const fs::path tmp = dir / (std::string(name) + ".tmp");
  const fs::path dst = dir / name;
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return Status::IOError("cannot create " + tmp.string() + ": " + ErrnoText(errno));
    out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
    out.flush();
    if (!out) return Status::IOError("cannot write " + tmp.string() + ": " + ErrnoText(errno));
  }
  RETURN_IF_ERROR(FsyncPath(tmp, O_RDONLY));
  std::error_code ec;
  fs::rename(tmp, dst, ec);
  if (ec) return Status::IOError("cannot rename " + tmp.string() + ": " + ec.message());
  return FsyncPath(dir, O_RDONLY | O_DIRECTORY);
}

Status ValidateOptions(const StorageOptions& o) {
  if (o.path.empty()) return Status::InvalidArgument("storage path is empty");
  if (o.max_key_size == 0) return Status::InvalidArgument("max_key_size must be positive");
  if (o.max_value_size == 0) return Status::InvalidArgument("max_value_size must be positive");
  if (o.sync_mode == SyncMode::kAsync && o.sync_interval.count() <= 0) {
    return Status::InvalidArgument("sync_interval must be positive in async sync mode");
  }
  if (o.max_background_jobs <= 0) {
    return Status::InvalidArgument("max_background_jobs must be positive");
  }
  if (o.bloom_bits_per_key < 0) return Status::InvalidArgument("bloom_bits_per_key is negative");
  return Status::OK();
}

// Makes sure `path` is a directory that holds (or may hold) a store. Returns whether a store
// already exists there.
Result<bool> PrepareDirectory(const StorageOptions& o) {
  const fs::path path(o.path);
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (ec && ec != std::errc::no_such_file_or_directory) {
    return Status::IOError("cannot inspect data path " + o.path + ": " + ec.message());
  }
  if (fs::exists(st)) {
    if (!fs::is_directory(st)) {
      return Status::InvalidArgument("data path " + o.path + " exists and is not a directory");
    }
    return fs::exists(path / "CURRENT", ec);
  }
  if (!o.create_if_missing) return Status::NotFound("no store at " + o.path);
  fs::create_directories(path, ec);
  if (ec) return Status::IOError("cannot create data directory " + o.path + ": " + ec.message());
  return false;
}

// Checks the key against the store's key-check record before RocksDB opens any file, and
// writes the record when the store is new.
Status CheckEncryptionKey(const StorageOptions& o, bool store_exists,
                          const std::optional<EncryptionKey>& key) {
  const fs::path dir(o.path);
  const fs::path record = dir / kKeyCheckFileName;
  std::error_code ec;
  const bool has_record = fs::exists(record, ec);
  if (!key.has_value()) {
    if (has_record) {
      return Status::FailedPrecondition("store at " + o.path +
                                        " is encrypted: set encryption and encryption_key_file");
    }
    return Status::OK();
  }
  if (store_exists && !has_record) {
    return Status::FailedPrecondition("store at " + o.path +
                                      " was created without encryption and cannot be opened "
                                      "with a key");
  }
  if (has_record) {
    ASSIGN_OR_RETURN(std::string text, ReadSmallFile(record));
    Result<KeyCheck> check = KeyCheck::Decode(text);
    if (!check.ok()) return check.status().WithContext(record.string());
    if (!check->Matches(*key)) {
      return Status::FailedPrecondition("wrong encryption key for store at " + o.path +
                                        " (the key-check record does not match)");
    }
    return Status::OK();
  }
  ASSIGN_OR_RETURN(KeyCheck fresh, KeyCheck::Create(*key));
  return WriteFileDurably(dir, kKeyCheckFileName, fresh.Encode());
}

}  // namespace

struct Engine::Rep {
  StorageOptions options;
  std::unique_ptr<rocksdb::Env> encrypted_env;  // null when not encrypted; outlives db
  std::shared_ptr<rocksdb::Statistics> statistics;
  std::shared_ptr<rocksdb::Cache> block_cache;
  rocksdb::DB* db = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;  // indexed by ColumnFamily

  // Background WAL sync (SyncMode::kAsync).
  std::thread sync_thread;
  std::mutex mu;
  std::condition_variable cv;
  bool stopping = false;    // guarded by mu
  Status background_error;  // guarded by mu

  rocksdb::ColumnFamilyHandle* handle(ColumnFamily cf) const {
    return handles[static_cast<int>(cf)];
  }

  void SyncLoop() {
    std::unique_lock<std::mutex> lock(mu);
    while (!stopping) {
      cv.wait_for(lock, options.sync_interval, [this] { return stopping; });
      lock.unlock();
      Status s = FromRocks(db->SyncWAL(), "background sync of the write-ahead log");
      lock.lock();
      if (!s.ok() && background_error.ok()) background_error = s;
    }
  }

  Status BackgroundError() {
    std::lock_guard<std::mutex> lock(mu);
    return background_error;
  }

  ~Rep() {
    if (sync_thread.joinable()) {
      {
        std::lock_guard<std::mutex> lock(mu);
        stopping = true;
      }
      cv.notify_all();
      sync_thread.join();
    }
    if (db != nullptr) {
      if (options.sync_mode == SyncMode::kAsync) {
        db->SyncWAL().PermitUncheckedError();  // best effort on close; errors were reported
      }
      for (rocksdb::ColumnFamilyHandle* h : handles) {
        db->DestroyColumnFamilyHandle(h).PermitUncheckedError();  // only fails on default
      }
      db->Close().PermitUncheckedError();  // nothing left to report to at close
      delete db;
    }
  }
};

Engine::Engine(std::unique_ptr<Rep> rep) : rep_(std::move(rep)) {}

Engine::~Engine() = default;

Result<std::unique_ptr<Engine>> Engine::Open(const StorageOptions& options) {
  RETURN_IF_ERROR(ValidateOptions(options));

  // The key is read and checked before anything of the store is touched.
  std::optional<EncryptionKey> key;
  if (options.encryption) {
    ASSIGN_OR_RETURN(key, ReadEncryptionKeyFile(options.encryption_key_file));
  }
  ASSIGN_OR_RETURN(bool store_exists, PrepareDirectory(options));
  RETURN_IF_ERROR(CheckEncryptionKey(options, store_exists, key));

  auto rep = std::make_unique<Rep>();
  rep->options = options;

  rocksdb::DBOptions db_options;
  db_options.create_if_missing = options.create_if_missing;
  db_options.create_missing_column_families = true;
  db_options.max_background_jobs = options.max_background_jobs;
  db_options.bytes_per_sync = 1 << 20;
  db_options.keep_log_file_num = 10;
  rep->statistics = rocksdb::CreateDBStatistics();
  rep->statistics->set_stats_level(rocksdb::StatsLevel::kExceptHistogramOrTimers);
  db_options.statistics = rep->statistics;
  if (key.has_value()) {
    rep->encrypted_env.reset(rocksdb::NewEncryptedEnv(
        rocksdb::Env::Default(), std::make_shared<AesCtrEncryptionProvider>(*key)));
    db_options.env = rep->encrypted_env.get();
  }

  rep->block_cache = rocksdb::NewLRUCache(options.block_cache_size);
  rocksdb::BlockBasedTableOptions table_options;
  table_options.block_cache = rep->block_cache;
  if (options.bloom_bits_per_key > 0) {
    table_options.filter_policy.reset(
        rocksdb::NewBloomFilterPolicy(static_cast<double>(options.bloom_bits_per_key), false));
  }
  rocksdb::ColumnFamilyOptions cf_options;
  cf_options.write_buffer_size = options.write_buffer_size;
  cf_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table_options));
  if (options.compression) {
    cf_options.compression = rocksdb::kLZ4Compression;
    cf_options.bottommost_compression = rocksdb::kZSTD;
  } else {
    cf_options.compression = rocksdb::kNoCompression;
    cf_options.bottommost_compression = rocksdb::kNoCompression;
  }

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (ColumnFamily cf : kAllColumnFamilies) {
    descriptors.emplace_back(std::string(ColumnFamilyName(cf)), cf_options);
  }
  rocksdb::Status s =
      rocksdb::DB::Open(db_options, options.path, descriptors, &rep->handles, &rep->db);
  if (!s.ok()) return FromRocks(s, "opening store at " + options.path);

  // Batches are staged against column-family ids (cf_handles.h); they must match.
  for (ColumnFamily cf : kAllColumnFamilies) {
    if (rep->handle(cf)->GetID() != static_cast<uint32_t>(cf)) {
      return Status::Corruption("store at " + options.path + ": column family " +
                                std::string(ColumnFamilyName(cf)) + " has id " +
                                std::to_string(rep->handle(cf)->GetID()) + ", expected " +
                                std::to_string(static_cast<int>(cf)));
    }
  }

  if (options.sync_mode == SyncMode::kAsync) {
    Rep* r = rep.get();
    rep->sync_thread = std::thread([r] { r->SyncLoop(); });
  }
  return std::unique_ptr<Engine>(new Engine(std::move(rep)));
}

const StorageOptions& Engine::options() const { return rep_->options; }

Status Engine::Write(WriteBatch& batch) {
  return WriteWith(batch, rep_->options.sync_mode == SyncMode::kFull);
}

Status Engine::WriteSync(WriteBatch& batch) { return WriteWith(batch, true); }

Status Engine::WriteWith(WriteBatch& batch, bool sync) {
  const StorageOptions& o = rep_->options;
  if (batch.has_invalid_key()) {
    return Status::InvalidArgument("batch holds an empty key or an empty key range");
  }
  if (batch.max_key_size() > o.max_key_size) {
    return Status::InvalidArgument("key of " + std::to_string(batch.max_key_size()) +
                                   " bytes exceeds max_key_size " + std::to_string(o.max_key_size));
  }
  if (batch.max_value_size() > o.max_value_size) {
    return Status::InvalidArgument("value of " + std::to_string(batch.max_value_size()) +
                                   " bytes exceeds max_value_size " +
                                   std::to_string(o.max_value_size));
  }
  if (batch.Empty()) return Status::OK();
  if (o.sync_mode == SyncMode::kAsync) RETURN_IF_ERROR(rep_->BackgroundError());
  DisablePerfCountersOnThisThread();
  rocksdb::WriteOptions wo;
  wo.sync = sync;
  return FromRocks(rep_->db->Write(wo, batch.rep()), "write");
}

// Room for the batch header and one record's tags and lengths besides key and value.
constexpr std::size_t kRecordOverhead = 32;

Status Engine::Put(ColumnFamily cf, std::string_view key, std::string_view value) {
  WriteBatch batch(key.size() + value.size() + kRecordOverhead);
  batch.Put(cf, key, value);
  return Write(batch);
}

Status Engine::Delete(ColumnFamily cf, std::string_view key) {
  WriteBatch batch(key.size() + kRecordOverhead);
  batch.Delete(cf, key);
  return Write(batch);
}

namespace {

rocksdb::ReadOptions ToRocks(const ReadOptions& options) {
  DisablePerfCountersOnThisThread();
  rocksdb::ReadOptions ro;
  ro.fill_cache = options.fill_cache;
  if (options.snapshot != nullptr) ro.snapshot = options.snapshot->rep();
  return ro;
}

}  // namespace

Result<std::optional<std::string>> Engine::Get(ColumnFamily cf, std::string_view key,
                                               const ReadOptions& options) const {
  if (key.empty()) return Status::InvalidArgument("key is empty");
  std::string value;
  rocksdb::Status s = rep_->db->Get(ToRocks(options), rep_->handle(cf), ToSlice(key), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return FromRocks(s, "get");
  return std::optional<std::string>(std::move(value));
}

Result<bool> Engine::GetInto(ColumnFamily cf, std::string_view key, std::string& value,
                             const ReadOptions& options) const {
  value.clear();
  if (key.empty()) return Status::InvalidArgument("key is empty");
  rocksdb::Status s = rep_->db->Get(ToRocks(options), rep_->handle(cf), ToSlice(key), &value);
  if (s.IsNotFound()) return false;
  if (!s.ok()) return FromRocks(s, "get");
  return true;
}

std::vector<Result<std::optional<std::string>>> Engine::MultiGet(
    ColumnFamily cf, const std::vector<std::string_view>& keys, const ReadOptions& options) const {
  std::vector<rocksdb::Slice> slices;
  slices.reserve(keys.size());
  for (std::string_view k : keys) slices.push_back(ToSlice(k));
  std::vector<rocksdb::PinnableSlice> values(keys.size());
  std::vector<rocksdb::Status> statuses(keys.size());
  rocksdb::ReadOptions ro = ToRocks(options);
  // Without an explicit snapshot, MultiGet already reads every key at one sequence number.
  rep_->db->MultiGet(ro, rep_->handle(cf), keys.size(), slices.data(), values.data(),
                     statuses.data());
  std::vector<Result<std::optional<std::string>>> out;
  out.reserve(keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (keys[i].empty()) {
      out.emplace_back(Status::InvalidArgument("key is empty"));
    } else if (statuses[i].IsNotFound()) {
      out.emplace_back(std::optional<std::string>());
    } else if (!statuses[i].ok()) {
      out.emplace_back(FromRocks(statuses[i], "multiget"));
    } else {
      out.emplace_back(std::optional<std::string>(values[i].ToString()));
    }
  }
  return out;
}

std::unique_ptr<Snapshot> Engine::GetSnapshot() const {
  return std::make_unique<Snapshot>(rep_->db, rep_->db->GetSnapshot());
}

std::unique_ptr<Iterator> Engine::NewIterator(ColumnFamily cf, IteratorOptions options) const {
  DisablePerfCountersOnThisThread();
  return std::make_unique<Iterator>(rep_->db, rep_->handle(cf), std::move(options));
}

Status Engine::Checkpoint(const std::string& dir) const {
  if (dir.empty()) return Status::InvalidArgument("checkpoint directory is empty");
  std::error_code ec;
  if (fs::exists(dir, ec)) {
    return Status::InvalidArgument("checkpoint directory " + dir + " already exists");
  }
  rocksdb::Checkpoint* raw = nullptr;
  RETURN_IF_ERROR(FromRocks(rocksdb::Checkpoint::Create(rep_->db, &raw), "checkpoint"));
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  RETURN_IF_ERROR(FromRocks(checkpoint->CreateCheckpoint(dir), "checkpoint to " + dir));
  if (rep_->options.encryption) {
    // The copy is encrypted with the same key; it needs the same key-check record.
    ASSIGN_OR_RETURN(std::string record,
                     ReadSmallFile(fs::path(rep_->options.path) / kKeyCheckFileName));
    RETURN_IF_ERROR(WriteFileDurably(dir, kKeyCheckFileName, record));
  }
  return Status::OK();
}

Result<EngineStats> Engine::Stats() const {
  EngineStats st;
  rocksdb::Statistics& t = *rep_->statistics;
  st.bytes_written = t.getTickerCount(rocksdb::BYTES_WRITTEN);
  st.bytes_read =
      t.getTickerCount(rocksdb::BYTES_READ) + t.getTickerCount(rocksdb::NUMBER_MULTIGET_BYTES_READ);
  st.iterator_bytes_read = t.getTickerCount(rocksdb::ITER_BYTES_READ);
  st.compaction_bytes_read = t.getTickerCount(rocksdb::COMPACT_READ_BYTES);
  st.compaction_bytes_written =
      t.getTickerCount(rocksdb::COMPACT_WRITE_BYTES) + t.getTickerCount(rocksdb::FLUSH_WRITE_BYTES);
  st.block_cache_hits = t.getTickerCount(rocksdb::BLOCK_CACHE_HIT);
  st.block_cache_misses = t.getTickerCount(rocksdb::BLOCK_CACHE_MISS);
  const uint64_t lookups = st.block_cache_hits + st.block_cache_misses;
  if (lookups > 0) st.block_cache_hit_rate = static_cast<double>(st.block_cache_hits) / lookups;

  for (ColumnFamily cf : kAllColumnFamilies) {
    rocksdb::ColumnFamilyHandle* h = rep_->handle(cf);
    uint64_t n = 0;
    if (rep_->db->GetIntProperty(h, rocksdb::DB::Properties::kEstimateNumKeys, &n)) {
      st.keys_per_family[static_cast<int>(cf)] = n;
      st.keys += n;
    }
    uint64_t v = 0;
    if (rep_->db->GetIntProperty(h, rocksdb::DB::Properties::kLiveSstFilesSize, &v)) {
      st.live_sst_bytes += v;
    }
    if (rep_->db->GetIntProperty(h, rocksdb::DB::Properties::kCurSizeAllMemTables, &v)) {
      st.memtable_bytes += v;
    }
    rocksdb::TablePropertiesCollection tables;
    RETURN_IF_ERROR(
        FromRocks(rep_->db->GetPropertiesOfAllTables(h, &tables), "reading table properties"));
    for (const auto& [name, props] : tables) {
      st.sst_raw_bytes += props->raw_key_size + props->raw_value_size;
      st.sst_data_bytes += props->data_size;
    }
  }
  if (st.sst_data_bytes > 0) {
    st.compression_ratio = static_cast<double>(st.sst_raw_bytes) / st.sst_data_bytes;
  }
  return st;
}

Status Engine::Flush() {
  rocksdb::FlushOptions fo;
  fo.wait = true;
  return FromRocks(rep_->db->Flush(fo, rep_->handles), "flush");
}

Status Engine::CompactRange(ColumnFamily cf) {
  rocksdb::CompactRangeOptions co;
  co.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  return FromRocks(rep_->db->CompactRange(co, rep_->handle(cf), nullptr, nullptr), "compact");
}

Status Engine::SyncWal() { return FromRocks(rep_->db->SyncWAL(), "sync of the write-ahead log"); }

}  // namespace rustorium::engine
