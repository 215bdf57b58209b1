// The client commands: `rustorium kv put|get|delete|scan|cas` and `rustorium status check`
// (docs/operations.md, docs/cli.md).
#pragma once

#include <CLI/CLI.hpp>

namespace rustorium::tools {

void RegisterKvCommands(CLI::App& app, int& exit_code);
void RegisterStatusCommand(CLI::App& app, int& exit_code);

}  // namespace rustorium::tools
