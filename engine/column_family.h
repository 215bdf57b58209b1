// The engine's column families: every store keeps all of them in one RocksDB instance.
#pragma once

#include <array>
#include <optional>
#include <string_view>

namespace rustorium::engine {

enum class ColumnFamily : int {
  kDefault = 0,  // user data
  kLock = 1,     // transaction locks
  kWrite = 2,    // transaction commit records
  kRaft = 3,     // Raft logs, terms, votes and snapshot metadata of every group
  kMeta = 4,     // region metadata, applied indexes
  kIndex = 5,    // authenticated-index (sparse Merkle tree) nodes and roots
};

inline constexpr int kNumColumnFamilies = 6;

inline constexpr std::array<ColumnFamily, kNumColumnFamilies> kAllColumnFamilies = {
    ColumnFamily::kDefault, ColumnFamily::kLock, ColumnFamily::kWrite,
    ColumnFamily::kRaft,    ColumnFamily::kMeta, ColumnFamily::kIndex};

// RocksDB's name for the family: "default", "lock", "write", "raft", "meta", "index".
constexpr std::string_view ColumnFamilyName(ColumnFamily cf) {
  constexpr std::array<std::string_view, kNumColumnFamilies> kNames = {"default", "lock", "write",
                                                                       "raft",    "meta", "index"};
  return kNames[static_cast<int>(cf)];
}

// The family called `name`, or nullopt.
constexpr std::optional<ColumnFamily> ColumnFamilyFromName(std::string_view name) {
  for (ColumnFamily cf : kAllColumnFamilies) {
    if (ColumnFamilyName(cf) == name) return cf;
  }
  return std::nullopt;
}

}  // namespace rustorium::engine
