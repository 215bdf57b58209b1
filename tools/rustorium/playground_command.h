// `rustorium playground`: a local TLS cluster, PD and stores as child processes, until Ctrl-C
// (docs/operations.md).
#pragma once

#include <CLI/CLI.hpp>

namespace rustorium::tools {

void RegisterPlaygroundCommand(CLI::App& app, int& exit_code);

}  // namespace rustorium::tools
