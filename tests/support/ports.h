// Loopback ports for tests and benchmarks (tests/support: benchmarks may include it).
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <mutex>
#include <random>
#include <set>

namespace rustorium::testing {

// A loopback port that was free a moment ago. Picked at random below Linux's ephemeral range
// (32768 and up), where the kernel's own picks for outgoing connections cannot take it between
// this call and the server's bind; above 22000, clear of `rustorium chain local`'s defaults.
// Never the same port twice in one process.
inline int PickPort() {
  static std::mutex mu;
  static std::set<int> given;
  static std::mt19937 rng(
      static_cast<uint32_t>(::getpid()) * 2654435761u ^
      static_cast<uint32_t>(std::chrono::steady_clock::now().time_since_epoch().count()));
  std::lock_guard<std::mutex> lock(mu);
  for (int attempt = 0; attempt < 1000; ++attempt) {
    const int port = 22000 + static_cast<int>(rng() % 10000);
    if (given.count(port)) continue;
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port));
    const bool free = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
    ::close(fd);
    if (free) {
      given.insert(port);
      return port;
    }
  }
  return 0;
}

}  // namespace rustorium::testing
