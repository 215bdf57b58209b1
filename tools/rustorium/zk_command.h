// `rustorium zk setup|prove|verify`: Groth16 proofs of sparse-Merkle-tree update batches in
// snarkjs's file formats (docs/proofs.md).
// Exit codes: 0 success (or a valid proof), 1 an invalid proof or a failure, 2 malformed
// arguments or input files (with a message).
#pragma once

#include <CLI/CLI.hpp>

namespace rustorium::tools {

void RegisterZkCommands(CLI::App& app, int& exit_code);

}  // namespace rustorium::tools
