// `rustorium engine put|get|delete|scan|stats|checkpoint --data-dir DIR`: the offline storage
// tool (tikv-ctl's offline mode). The store must not be open in a running server.
#pragma once

#include <CLI/CLI.hpp>

namespace rustorium::tools {

// Adds the `engine` subcommand to `app`. The subcommand's callback sets `exit_code`.
void RegisterEngineCommand(CLI::App& app, int& exit_code);

}  // namespace rustorium::tools
