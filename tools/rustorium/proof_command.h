// `rustorium hash poseidon ...` and `rustorium proof root|prove|verify ...`: the
// authenticated index's hash and proofs from the command line (docs/proofs.md).
// Exit codes: 0 success (or a valid proof), 1 an invalid proof or a failure, 2 malformed
// arguments (with a usage message).
#pragma once

#include <CLI/CLI.hpp>

namespace rustorium::tools {

void RegisterProofCommands(CLI::App& app, int& exit_code);

}  // namespace rustorium::tools
