// Every key a store (or PD) writes to its engine, with the reasons, in one place (TiKV's
// components/keys is the model). Keys embed integers big-endian so that they sort
// numerically. Within one column family every kind of record has its own prefix, and no
// prefix is a prefix of another (tests/region/keys_test.cc checks it), so a scan or a range
// deletion of one kind never touches another.
//
//   default  'z' user-key                  the data; global, regions partition the key space
//            'y' region user-key           a snapshot being received, staged until installed
//   raft     'g' group 'h'                 a Raft group's term and vote
//            'g' group 'e' index           a log entry (term, type, data)
//            'g' group 's'                 snapshot metadata
//   meta     'r' region 'a'                a region's applied index and index-rebuild state
//            'r' region 'm'                a region's metadata (range, epoch, peers)
//            'r' region 'c' client         a client's write session in the region
//            'r' region 'd' client seq     a session's stored result of one write
//            'r' region 'y' ('c'|'d') ...  a snapshot's session records, staged until installed
//            's' 'i'                       this store's id, as PD assigned it
//            'p' 's'                       PD's replicated state (one record)
//   index    'T' tree                      a region's authenticated index, tree id = region id
//                                          (proof/smt/sparse_merkle_tree.h: TreeKeyPrefix)
//
// The meta family's convention: a one-byte owner tag ('r' region, 's' store, 'p' PD), then the
// owner's id (8 bytes) where there can be several, then a one-byte field tag.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/codec.h"

namespace rustorium::keys {

// ---- default: data ----
inline constexpr char kDataPrefix = 'z';

// The engine key of a user key.
inline std::string DataKey(std::string_view user_key) {
  std::string k(1, kDataPrefix);
  k.append(user_key);
  return k;
}
// The user key of an engine data key (which must start with kDataPrefix).
inline std::string_view UserKey(std::string_view data_key) { return data_key.substr(1); }
// The exclusive end of a region's data: DataKey(end), or just past every data key when the
// region is unbounded (`end` empty).
inline std::string DataEnd(std::string_view end) {
  return end.empty() ? std::string(1, static_cast<char>(kDataPrefix + 1)) : DataKey(end);
}

// ---- default: a region's incoming snapshot, staged chunk by chunk ----
inline constexpr char kSnapshotStagingPrefix = 'y';

inline std::string SnapshotStagingPrefix(uint64_t region_id) {
  std::string k(1, kSnapshotStagingPrefix);
  PutFixed64BE(k, region_id);
  return k;
}
inline std::string SnapshotStagingKey(uint64_t region_id, std::string_view user_key) {
  std::string k = SnapshotStagingPrefix(region_id);
  k.append(user_key);
  return k;
}
// The exclusive end of a region's staged snapshot.
inline std::string SnapshotStagingEnd(uint64_t region_id) {
  if (region_id == UINT64_MAX) return std::string(1, static_cast<char>(kSnapshotStagingPrefix + 1));
  return SnapshotStagingPrefix(region_id + 1);
}

// ---- raft: every group's log, term, vote and snapshot metadata ----
inline constexpr char kRaftGroupPrefix = 'g';
inline constexpr char kRaftHardStateTag = 'h';
inline constexpr char kRaftEntryTag = 'e';
inline constexpr char kRaftSnapshotTag = 's';

inline std::string RaftGroupPrefix(uint64_t group) {
  std::string k(1, kRaftGroupPrefix);
  PutFixed64BE(k, group);
  return k;
}
// The exclusive end of everything of `group` (the next group's prefix, or past every group).
inline std::string RaftGroupEnd(uint64_t group) {
  if (group == UINT64_MAX) return std::string(1, static_cast<char>(kRaftGroupPrefix + 1));
  return RaftGroupPrefix(group + 1);
}
inline std::string RaftHardStateKey(uint64_t group) {
  return RaftGroupPrefix(group) + kRaftHardStateTag;
}
inline std::string RaftSnapshotKey(uint64_t group) {
  return RaftGroupPrefix(group) + kRaftSnapshotTag;
}
inline std::string RaftEntryPrefix(uint64_t group) {
  return RaftGroupPrefix(group) + kRaftEntryTag;
}
inline std::string RaftEntryKey(uint64_t group, uint64_t index) {
  std::string k = RaftEntryPrefix(group);
  PutFixed64BE(k, index);
  return k;
}
// The exclusive end of a group's entries.
inline std::string RaftEntryEnd(uint64_t group) {
  return RaftGroupPrefix(group) + static_cast<char>(kRaftEntryTag + 1);
}

// ---- meta: region, store and PD records ----
inline constexpr char kRegionMetaTag = 'r';
inline constexpr char kStoreMetaTag = 's';
inline constexpr char kPdMetaTag = 'p';

// Every record of one region: the tag, then its id.
inline std::string RegionMetaPrefix(uint64_t region_id) {
  std::string k(1, kRegionMetaTag);
  PutFixed64BE(k, region_id);
  return k;
}
// A region's applied index and state (0 ready, 1 index rebuilding, 2 snapshot installing from
// its staged records).
inline std::string RegionApplyStateKey(uint64_t region_id) {
  return RegionMetaPrefix(region_id) + 'a';
}
// A region's metadata as this replica last applied it (meta.proto's Region: range, epoch,
// peers): what the store opens its regions from, changed by splits and snapshots.
inline std::string RegionLocalStateKey(uint64_t region_id) {
  return RegionMetaPrefix(region_id) + 'm';
}
// A client's write session in a region (region/store/sessions.h), and one stored result of it.
inline constexpr char kRegionSessionTag = 'c';
inline constexpr char kRegionSessionResultTag = 'd';
inline constexpr char kRegionSessionStagingTag = 'y';

inline std::string RegionSessionKey(uint64_t region_id, uint64_t client_id) {
  std::string k = RegionMetaPrefix(region_id) + kRegionSessionTag;
  PutFixed64BE(k, client_id);
  return k;
}
inline std::string RegionSessionResultKey(uint64_t region_id, uint64_t client_id, uint64_t seq) {
  std::string k = RegionMetaPrefix(region_id) + kRegionSessionResultTag;
  PutFixed64BE(k, client_id);
  PutFixed64BE(k, seq);
  return k;
}
// Every session record of a region (sessions, then results): [begin, end).
inline std::string RegionSessionsBegin(uint64_t region_id) {
  return RegionMetaPrefix(region_id) + kRegionSessionTag;
}
inline std::string RegionSessionsEnd(uint64_t region_id) {
  return RegionMetaPrefix(region_id) + static_cast<char>(kRegionSessionResultTag + 1);
}
// A session record staged from a snapshot: the staging prefix, then the record's key past
// RegionMetaPrefix (its tag onwards).
inline std::string RegionSessionStagingPrefix(uint64_t region_id) {
  return RegionMetaPrefix(region_id) + kRegionSessionStagingTag;
}
inline std::string RegionSessionStagingEnd(uint64_t region_id) {
  return RegionMetaPrefix(region_id) + static_cast<char>(kRegionSessionStagingTag + 1);
}

// This store's id.
inline std::string StoreIdKey() { return {kStoreMetaTag, 'i'}; }
// PD's whole replicated state.
inline std::string PdStateKey() { return {kPdMetaTag, 's'}; }

// Where stores and PD kept their records before the meta family had one convention; read
// once when the new key is absent and moved on the next write.
inline constexpr std::string_view kLegacyStoreIdKey = "store/id";
inline constexpr std::string_view kLegacyPdStateKey = "pd/state";

}  // namespace rustorium::keys
