#include "tools/rustorium/instance_lock.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <thread>

#include "region/rpc/channel.h"

namespace rustorium::tools {
namespace {

// The pid text in an open lock file; empty when none was written yet.
std::string ReadPid(int fd) {
  char buf[32] = {};
  const ssize_t n = ::pread(fd, buf, sizeof(buf) - 1, 0);
  std::string text(buf, n > 0 ? static_cast<size_t>(n) : 0);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

struct AddrInfoDeleter {
  void operator()(addrinfo* a) const { ::freeaddrinfo(a); }
};
using AddrInfoPtr = std::unique_ptr<addrinfo, AddrInfoDeleter>;

Result<AddrInfoPtr> Resolve(const std::string& address, bool passive) {
  ASSIGN_OR_RETURN(rpc::HostPort hp, rpc::ParseAddress(address));
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
  addrinfo* found = nullptr;
  const std::string port = std::to_string(hp.port);
  const int rc = ::getaddrinfo(hp.host.c_str(), port.c_str(), &hints, &found);
  if (rc != 0 || found == nullptr) {
    return Status::InvalidArgument(address + " does not resolve: " + ::gai_strerror(rc));
  }
  return AddrInfoPtr(found);
}

}  // namespace

Result<InstanceLock> InstanceLock::Acquire(const std::string& dir) {
  const std::string path = dir + "/" + kInstanceLockFile;
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IOError("cannot open " + path + ": " + std::strerror(errno));
  InstanceLock lock(fd);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    if (err != EWOULDBLOCK) {
      return Status::IOError("cannot lock " + path + ": " + std::strerror(err));
    }
    // The holder writes its pid right after taking the lock: give it a moment (bounded).
    std::string pid = ReadPid(fd);
    for (int i = 0; i < 20 && pid.empty(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      pid = ReadPid(fd);
    }
    return Status::FailedPrecondition(
        dir + " is in use by pid " + (pid.empty() ? std::string("(unknown)") : pid) +
        " (another `rustorium playground` or `chain local`; stop it first, or use another "
        "--dir)");
  }
  const std::string text = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 ||
      ::pwrite(fd, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) {
    return Status::IOError("cannot write " + path + ": " + std::strerror(errno));
  }
  return lock;
}

InstanceLock::InstanceLock(InstanceLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }

InstanceLock& InstanceLock::operator=(InstanceLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

InstanceLock::~InstanceLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the last descriptor drops the flock
}

Status CheckPortsFree(const std::vector<std::string>& addresses) {
  for (size_t i = 0; i < addresses.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (addresses[i] == addresses[j])
        return Status::InvalidArgument(addresses[i] + " is given for two servers");
    }
  }
  for (const std::string& address : addresses) {
    ASSIGN_OR_RETURN(AddrInfoPtr ai, Resolve(address, true));
    const int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) return Status::IOError(std::string("socket: ") + std::strerror(errno));
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    const int rc = ::bind(fd, ai->ai_addr, ai->ai_addrlen);
    const int err = errno;
    ::close(fd);
    if (rc != 0) {
      return Status::FailedPrecondition(
          address + (err == EADDRINUSE ? std::string(" is in use (another process listens there)")
                                       : std::string(" cannot be bound: ") + std::strerror(err)));
    }
  }
  return Status::OK();
}

bool PortAnswers(const std::string& address, int timeout_ms) {
  Result<AddrInfoPtr> ai = Resolve(address, false);
  if (!ai.ok()) return false;
  const addrinfo* a = ai->get();
  const int fd =
      ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
  if (fd < 0) return false;
  bool connected = ::connect(fd, a->ai_addr, a->ai_addrlen) == 0;
  if (!connected && errno == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, timeout_ms) == 1) {
      int err = 0;
      socklen_t len = sizeof(err);
      connected = ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0;
    }
  }
  ::close(fd);
  return connected;
}

}  // namespace rustorium::tools
