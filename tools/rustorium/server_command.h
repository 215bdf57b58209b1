// `rustorium server --config store.toml`: a store (docs/operations.md).
#pragma once

#include <CLI/CLI.hpp>

namespace rustorium::tools {

void RegisterServerCommand(CLI::App& app, int& exit_code);

}  // namespace rustorium::tools
