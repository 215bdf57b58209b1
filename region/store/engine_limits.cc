#include "region/store/engine_limits.h"

#include <algorithm>

#include "region/store/command_limits.h"

namespace rustorium::store {

namespace {

// Room for what the engine adds to a user key (the data prefix, region/keys.h) and to a
// command (the Raft log record's term and type header, region/raft/raft_log_store.h), with
// margin for records of other kinds.
constexpr std::size_t kKeyRoom = 64;
constexpr std::size_t kRecordRoom = 64;

}  // namespace

engine::StorageOptions EngineOptionsFor(engine::StorageOptions options) {
  options.max_key_size = std::max(options.max_key_size, kMaxKeySize + kKeyRoom);
  options.max_value_size = std::max(options.max_value_size, kMaxCommandBytes + kRecordRoom);
  return options;
}

}  // namespace rustorium::store
