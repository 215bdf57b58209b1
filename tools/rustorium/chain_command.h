// `rustorium chain keygen|node|local|submit|status`: validators of the Narwhal + Bullshark
// chain as processes (docs/operations.md). Exit codes: 0 success, 1 failure, 2 malformed
// arguments or files.
#pragma once

#include <CLI/CLI.hpp>

namespace rustorium::tools {

void RegisterChainCommands(CLI::App& app, int& exit_code);

}  // namespace rustorium::tools
