// Internal to engine/: RocksDB glue shared by the engine's .cc files.
#pragma once

#include <rocksdb/comparator.h>
#include <rocksdb/db.h>
#include <rocksdb/slice.h>
#include <rocksdb/status.h>

#include <string>
#include <string_view>

#include "base/status.h"
#include "engine/column_family.h"

namespace rustorium::engine {

inline rocksdb::Slice ToSlice(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }
inline std::string_view ToView(const rocksdb::Slice& s) { return {s.data(), s.size()}; }

// A handle that carries only a column family's id. Batches are staged against these before
// they meet an engine; Engine::Open checks that every family's RocksDB id equals the enum's
// value, so a staged id always names the right family.
class ColumnFamilyIdOnlyHandle final : public rocksdb::ColumnFamilyHandle {
 public:
  explicit ColumnFamilyIdOnlyHandle(ColumnFamily cf) : name_(ColumnFamilyName(cf)), cf_(cf) {}
  const std::string& GetName() const override { return name_; }
  uint32_t GetID() const override { return static_cast<uint32_t>(cf_); }
  rocksdb::Status GetDescriptor(rocksdb::ColumnFamilyDescriptor*) override {
    return rocksdb::Status::NotSupported("id-only column family handle");
  }
  const rocksdb::Comparator* GetComparator() const override {
    return rocksdb::BytewiseComparator();
  }

 private:
  std::string name_;
  ColumnFamily cf_;
};

inline rocksdb::ColumnFamilyHandle* ColumnFamilyIdHandle(ColumnFamily cf) {
  static ColumnFamilyIdOnlyHandle handles[kNumColumnFamilies] = {
      ColumnFamilyIdOnlyHandle(ColumnFamily::kDefault),
      ColumnFamilyIdOnlyHandle(ColumnFamily::kLock),
      ColumnFamilyIdOnlyHandle(ColumnFamily::kWrite),
      ColumnFamilyIdOnlyHandle(ColumnFamily::kRaft),
      ColumnFamilyIdOnlyHandle(ColumnFamily::kMeta),
      ColumnFamilyIdOnlyHandle(ColumnFamily::kIndex)};
  return &handles[static_cast<int>(cf)];
}

// Converts a RocksDB status, keeping the distinctions our callers act on.
Status FromRocks(const rocksdb::Status& s, std::string_view context = {});

}  // namespace rustorium::engine
