// The room a store's engine needs for the largest command the hard limits allow
// (store/command_limits.h): its data keys carry a prefix and its Raft log records a header, so an
// engine limit equal to the user limit would refuse a command that apply accepted.
#pragma once

#include "engine/options.h"

namespace rustorium::store {

// `options` with key and value limits that fit every command the hard limits allow: data keys
// (prefix + user key) and Raft log records (header + command).
engine::StorageOptions EngineOptionsFor(engine::StorageOptions options);

}  // namespace rustorium::store
