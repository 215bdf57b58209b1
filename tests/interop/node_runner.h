// Runs a Node.js reference script of tests/interop/ as a child process. The interop tests
// fail (not skip) when Node or the pinned npm packages are missing.
#pragma once

#include <string>

#include "base/status.h"

#ifndef RUSTORIUM_TESTS_DIR
#error "RUSTORIUM_TESTS_DIR must name the tests/ directory"
#endif

namespace rustorium::testing {

// Runs `node tests/interop/<script>` with `input` on stdin; returns its stdout, or an error
// with its stderr when it exits non-zero.
Result<std::string> RunNodeScript(const std::string& script, const std::string& input);

}  // namespace rustorium::testing
