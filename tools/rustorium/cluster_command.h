// The cluster commands: `rustorium pd`, `rustorium server`, `rustorium kv ...`,
// `rustorium status check` and `rustorium playground` (docs/operations.md, docs/cli.md).
#pragma once

#include <CLI/CLI.hpp>

namespace rustorium::tools {

void RegisterClusterCommands(CLI::App& app, int& exit_code);

}  // namespace rustorium::tools
