// One `rustorium playground` or `chain local` per directory, and none on ports already taken:
// both are checked before any child starts, so a second instance is refused at once with the
// reason instead of starting children that die.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"

namespace rustorium::tools {

// The lock file's name inside the directory it guards.
inline constexpr char kInstanceLockFile[] = "LOCK";

// An exclusive flock(2) on DIR/LOCK, holding this process's pid as text. The kernel drops the
// lock when the process ends however it ends (the file stays, with a stale pid that nobody
// reads), so a crashed instance never blocks the next one. Children do not inherit it.
class InstanceLock {
 public:
  // Takes the lock on `dir`/LOCK (the directory must exist). FailedPrecondition
  // "DIR is in use by pid N" when another process holds it (the pid read from the file);
  // IOError when the file cannot be opened or written.
  static Result<InstanceLock> Acquire(const std::string& dir);
  InstanceLock(InstanceLock&& other) noexcept;
  InstanceLock& operator=(InstanceLock&& other) noexcept;
  InstanceLock(const InstanceLock&) = delete;
  InstanceLock& operator=(const InstanceLock&) = delete;
  ~InstanceLock();  // releases the lock

 private:
  explicit InstanceLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// OK when a TCP listener could bind every "host:port" in `addresses` now (each is bound with
// SO_REUSEADDR, as the servers do, and closed again). FailedPrecondition naming the first
// address that cannot be bound and why ("127.0.0.1:2479 is in use"); InvalidArgument for an
// address that does not parse or resolve, or that appears twice. A check, not a reservation:
// another process may still take a port between this call and the child's bind (the child then
// exits, and its parent reports it).
Status CheckPortsFree(const std::vector<std::string>& addresses);

// Whether a TCP connection to "host:port" is accepted within `timeout_ms` (loopback probes of
// children that should be listening).
bool PortAnswers(const std::string& address, int timeout_ms);

}  // namespace rustorium::tools
