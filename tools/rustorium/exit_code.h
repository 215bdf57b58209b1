// The exit codes of every `rustorium` command, decided in one place (docs/decisions.md,
// docs/cli.md): 0 done, 1 a failure, 2 malformed input.
#pragma once

#include <string>

#include "base/status.h"

namespace rustorium::tools {

inline constexpr int kExitOk = 0;
// A failure: unreachable, refused, an I/O error, a store or key that is not there, a proof or
// check that does not verify.
inline constexpr int kExitFailure = 1;
// Malformed input: bad flags or arguments, a file that does not parse or holds a bad value.
inline constexpr int kExitMalformed = 2;

// kExitOk for OK, kExitMalformed for InvalidArgument (the input is wrong: running the same
// command again cannot help), kExitFailure for every other error.
int ExitCode(const Status& s);

// Prints "error: <s>" on stderr; returns ExitCode(s). `s` is not OK.
int Fail(const Status& s);

// Fail(Status::InvalidArgument(message)): kExitMalformed.
int Malformed(const std::string& message);

}  // namespace rustorium::tools
