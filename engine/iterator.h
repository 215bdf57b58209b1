// Bounded iterators and snapshots over one column family.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"

namespace rocksdb {
class ColumnFamilyHandle;
class DB;
class Iterator;
class Snapshot;
}  // namespace rocksdb

namespace rustorium::engine {

// A consistent point-in-time view of the whole engine (every column family). Reads given a
// snapshot see exactly the writes acknowledged before it was taken. Released on destruction;
// must not outlive the Engine that made it. Safe to use from several threads.
class Snapshot {
 public:
  Snapshot(rocksdb::DB* db, const rocksdb::Snapshot* snapshot) : db_(db), snapshot_(snapshot) {}
  ~Snapshot();
  Snapshot(const Snapshot&) = delete;
  Snapshot& operator=(const Snapshot&) = delete;

  // RocksDB's sequence number at which the snapshot was taken.
  uint64_t sequence() const;
  const rocksdb::Snapshot* rep() const { return snapshot_; }

 private:
  rocksdb::DB* db_;
  const rocksdb::Snapshot* snapshot_;
};

// Options of one read (Get, MultiGet).
struct ReadOptions {
  const Snapshot* snapshot = nullptr;  // latest state when null
  bool fill_cache = true;              // false for scans that would evict the working set
};

// Bounds of an iterator. The iterator never shows a key outside [lower_bound, upper_bound)
// (an empty bound is unbounded on that side), nor a key that does not start with `prefix`
// when `prefix` is not empty.
struct IteratorOptions {
  std::string lower_bound;  // inclusive
  std::string upper_bound;  // exclusive
  std::string prefix;
  const Snapshot* snapshot = nullptr;
  bool fill_cache = true;
};

// A cursor over one column family, in byte order of keys, within its IteratorOptions. Used by
// one thread at a time; must not outlive its Engine or its snapshot. key() and value() stay
// valid until the next move.
class Iterator {
 public:
  // Made by Engine::NewIterator.
  Iterator(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, IteratorOptions options);
  ~Iterator();
  Iterator(const Iterator&) = delete;
  Iterator& operator=(const Iterator&) = delete;

  void SeekToFirst();
  void SeekToLast();
  // First key >= target (clamped to the bounds).
  void Seek(std::string_view target);
  // Last key <= target (clamped to the bounds).
  void SeekForPrev(std::string_view target);
  void Next();
  void Prev();

  bool Valid() const;
  std::string_view key() const;
  std::string_view value() const;
  // Not OK when the iterator stopped on an error rather than at the end of its range.
  Status status() const;

 private:
  struct State;  // effective bounds, the slices RocksDB points at, and the RocksDB iterator
  std::unique_ptr<State> state_;
};

}  // namespace rustorium::engine
