// `rustorium pd --config pd.toml`: a placement driver member (docs/operations.md).
#pragma once

#include <CLI/CLI.hpp>

namespace rustorium::tools {

void RegisterPdCommand(CLI::App& app, int& exit_code);

}  // namespace rustorium::tools
