// Runs the `rustorium` binary built by this tree as a child process.
#pragma once

#include <string>

#include "tests/test_util.h"

#ifndef RUSTORIUM_BINARY
#error "RUSTORIUM_BINARY must name the rustorium binary"
#endif

namespace rustorium::tools {

using CliRun = rustorium::testing::CommandResult;

// `rustorium ARGS` through the shell: its exit code and output (stdout and stderr together).
inline CliRun Rustorium(const std::string& args) {
  return rustorium::testing::RunCommand(std::string(RUSTORIUM_BINARY) + " " + args);
}

}  // namespace rustorium::tools
