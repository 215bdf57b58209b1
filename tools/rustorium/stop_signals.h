// Waiting for Ctrl-C or SIGTERM in a process that runs threads.
#pragma once

namespace rustorium::tools {

// Blocks SIGINT and SIGTERM in this thread and every thread it starts after, so that
// WaitForStop() receives them. Call before starting threads.
void BlockStopSignals();
// Waits for SIGINT or SIGTERM and returns which.
int WaitForStop();

}  // namespace rustorium::tools
