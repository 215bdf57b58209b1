// Fatal: stops the process when continuing could lose or corrupt acknowledged data (a write
// to the engine or the Raft log failed). It logs one critical line naming what failed, flushes
// the logs and exits with kFatalExitCode without running destructors (which could write more
// from a state we no longer trust). On restart the store reloads everything from disk.
#pragma once

#include <string_view>

namespace rustorium {

// The exit code of a process stopped by Fatal (EX_SOFTWARE in sysexits.h).
inline constexpr int kFatalExitCode = 70;

[[noreturn]] void Fatal(std::string_view what);

}  // namespace rustorium
