// Waiting for Ctrl-C or SIGTERM in a process that runs threads.
#pragma once

#include <chrono>

namespace rustorium::tools {

// Blocks SIGINT and SIGTERM in this thread and every thread it starts after, so that
// WaitForStop() receives them. Call before starting threads.
void BlockStopSignals();
// Waits for SIGINT or SIGTERM and returns which.
int WaitForStop();
// Waits up to `timeout` for SIGINT or SIGTERM (blocked by BlockStopSignals) and returns which;
// 0 when none came. Lets a supervisor watch its children between waits.
int WaitForStopFor(std::chrono::milliseconds timeout);

}  // namespace rustorium::tools
