// Starting child processes: the playground's PD and stores, the benchmarks' clusters, the fault
// harness's cluster. One way to do it, safe from a process that already runs threads.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace rustorium::tools {

struct ChildOptions {
  std::string log;                // stdout and stderr are appended here (empty: inherited)
  std::vector<std::string> env;   // "NAME=value" added to (or replacing in) the environment
  bool stop_with_parent = false;  // SIGTERM when the parent dies, however it ends
  // In a process group of its own: a terminal's Ctrl-C reaches the parent only, which then
  // stops its children itself (all at once, with a bound; ChildGroup::StopAll).
  bool own_process_group = false;
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

// How a child ended, from waitpid's status: "exited with status 1", "was killed by signal 9
// (Killed)".
std::string DescribeExit(int wait_status);

// The last `lines` lines of the file at `path` (at most its last 64 KiB are read), each
// indented by two spaces; "  (PATH is empty)" or "  (cannot read PATH)" otherwise.
std::string LogTail(const std::string& path, int lines = 10);

// Children started together and stopped together: the playground's PD and stores, the local
// committee's validators. Each has a name for messages ("pd", "store 2", "validator 0") and a
// log. One thread owns the group; the destructor stops what still runs (StopAll).
class ChildGroup {
 public:
  // How long StopAll waits after SIGTERM before SIGKILL, by default: every child stops within
  // it (a store, PD and a validator take well under a second), the whole stop under 3 s.
  static constexpr std::chrono::milliseconds kStopGrace{2000};

  ChildGroup() = default;
  ChildGroup(const ChildGroup&) = delete;
  ChildGroup& operator=(const ChildGroup&) = delete;
  ~ChildGroup();

  // Starts a child as SpawnChild does, named `name`; its pid, or IOError when fork fails.
  Result<pid_t> Start(const std::string& name, const std::vector<std::string>& argv,
                      const ChildOptions& options);
  // A child that has exited (reaped here), described for the user: "store 2 (pid 123) exited
  // with status 1; the last lines of /d/store2.log:" and the tail of its log. nullopt while
  // every child runs.
  std::optional<std::string> ReapExited();
  // Sends SIGTERM to every running child at once, waits up to `grace` for all of them, then
  // SIGKILLs those still running and reaps them. Returns the names of the children it had to
  // kill (empty when all stopped by themselves).
  std::vector<std::string> StopAll(std::chrono::milliseconds grace = kStopGrace);
  // The pids of the children still running, in start order.
  std::vector<pid_t> running() const;

 private:
  struct Child {
    std::string name;
    std::string log;
    pid_t pid = -1;  // -1 once reaped
  };
  std::vector<Child> children_;
};

// The path of this process's executable (/proc/self/exe), to start more of itself; "rustorium"
// when it cannot be read.
std::string SelfPath();

}  // namespace rustorium::tools
