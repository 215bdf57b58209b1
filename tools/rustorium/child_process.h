// Starting child processes: the playground's PD and stores, the benchmarks' clusters, the fault
// harness's cluster. One way to do it, safe from a process that already runs threads.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace rustorium::tools {

struct ChildOptions {
  std::string log;                // stdout and stderr are appended here (empty: inherited)
  std::vector<std::string> env;   // "NAME=value" added to (or replacing in) the environment
  bool stop_with_parent = false;  // SIGTERM when the parent dies, however it ends
};

// Starts argv[0] (a path) with `argv`, every signal unblocked (the child stops on SIGTERM by
// itself, whatever the parent blocks). Returns the child's pid, or -1 when fork fails.
// Everything the child needs is prepared before fork: between fork and exec it makes only
// async-signal-safe calls.
pid_t SpawnChild(const std::vector<std::string>& argv, const ChildOptions& options = {});
// The same, with output appended to `log` and nothing else changed.
inline pid_t SpawnChild(const std::vector<std::string>& argv, const std::string& log) {
  ChildOptions o;
  o.log = log;
  return SpawnChild(argv, o);
}

// The path of this process's executable (/proc/self/exe), to start more of itself; "rustorium"
// when it cannot be read.
std::string SelfPath();

}  // namespace rustorium::tools
