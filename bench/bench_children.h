// Child processes and small helpers of the benchmarks that start clusters (kv_bench): a group of
// children stopped on every return path, free loopback ports, files, programs on $PATH, and a
// readiness poll that notices a child exiting.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"

namespace rustorium::bench {

// The processes of one cluster; stopped (SIGTERM, then SIGKILL after 20 s) and reaped when
// StopAll runs or the object goes.
class Children {
 public:
  Children() = default;
  Children(const Children&) = delete;
  Children& operator=(const Children&) = delete;
  ~Children() { StopAll(); }

  // Starts `argv` (argv[0] a path) with stdout and stderr appended to `log`; the child stops
  // with this process, however it ends.
  Status Start(const std::vector<std::string>& argv, const std::string& log);
  // An error naming the first child that has exited, OK while all run.
  Status CheckRunning();
  // CPU seconds (user and system) the running children have used so far.
  double CpuSeconds() const;
  void StopAll();

 private:
  std::vector<std::pair<pid_t, std::string>> pids_;
};

// `n` distinct free loopback ports (held open together while choosing, so none repeats).
Result<std::vector<int>> FreePorts(int n);

Status WriteFile(const std::string& path, const std::string& text);

// `name` itself when it names a file, else the first executable `name` on $PATH; empty if none.
std::string FindProgram(const std::string& name);

// Polls `ready` every 250 ms until it succeeds, a child exits, or `limit` passes.
Status WaitUntil(Children& children, std::chrono::seconds limit, const std::string& what,
                 const std::function<Status()>& ready);

}  // namespace rustorium::bench
