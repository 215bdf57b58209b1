// CommandLimits: how large a region command may be, checked at the door (Store::Write, before
// anything is proposed) and again when the command is applied.
//
// The door refuses what the store is configured to refuse; apply refuses only what exceeds the
// protocol's hard limits below, which no configuration can raise, so every replica refuses
// exactly the same commands whatever its own configuration. The region client refuses what the
// hard limits refuse before sending anything. Part of the wire contract (rustorium_wire); the
// engine's room for these limits is store/engine_limits.h.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "base/status.h"
#include "region/store/command.pb.h"

namespace rustorium::store {

// The hard limits: what a command applied from the log may hold.
inline constexpr std::size_t kMaxKeySize = 8 * 1024;               // bytes per user key
inline constexpr std::size_t kMaxValueSize = 8 * 1024 * 1024;      // bytes per value
inline constexpr std::size_t kMaxMutations = 10000;                // mutations per write
inline constexpr std::size_t kMaxCommandBytes = 12 * 1024 * 1024;  // one serialized command

struct CommandLimits {
  // Largest user key; a key one byte longer is refused.
  std::size_t max_key_size = kMaxKeySize;
  // Largest value of a PUT (and a compare-and-swap's expected value).
  std::size_t max_value_size = kMaxValueSize;
  // Mutations per write batch.
  std::size_t max_mutations = 1000;
  // The serialized command as a whole. It must fit a frame with its request around it: the
  // RPC frame limit is 16 MiB (region/rpc/frame.h).
  std::size_t max_command_bytes = kMaxCommandBytes;

  // InvalidArgument naming the field when a limit is 0 or above the hard limit.
  Status Validate() const;
};

// The hard limits as CommandLimits: what apply checks.
inline constexpr CommandLimits kHardCommandLimits{kMaxKeySize, kMaxValueSize, kMaxMutations,
                                                  kMaxCommandBytes};

// Why `key` breaks `limits` ("empty key", "key of 8193 bytes exceeds max_key_size 8192"), or
// "" when it keeps them: the rule for every key a command writes and a read asks for.
std::string CheckKey(std::string_view key, const CommandLimits& limits);

// Why `command` breaks `limits` ("key of 8193 bytes exceeds max_key_size 8192"), or "" when it
// keeps them. Checks sizes and counts only, not the region's range. `command_bytes` is the
// command's serialized size.
std::string CheckCommand(const Command& command, std::size_t command_bytes,
                         const CommandLimits& limits);

}  // namespace rustorium::store
