// The cluster's topology: `rustorium shard list`, `rustorium shard split KEY` (a shard is a
// region) and `rustorium node list` (docs/operations.md, "Shards" and "Nodes").
#pragma once

#include <CLI/CLI.hpp>

#include "region/pd/pd.pb.h"

namespace rustorium::tools {

void RegisterShardCommands(CLI::App& app, int& exit_code);
void RegisterNodeCommands(CLI::App& app, int& exit_code);

// "up", "disconnected", "down" or "unknown" (docs/operations.md, `status check`).
const char* StoreStateName(pd::StoreState state);

}  // namespace rustorium::tools
