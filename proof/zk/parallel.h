// ParallelFor: runs fn(begin, end) over [0, n) cut into one contiguous chunk per thread, the
// calling thread taking the first. Internal to proof/zk's setup and prover.
#pragma once

#include <algorithm>
#include <cstddef>
#include <thread>
#include <vector>

namespace rustorium::proof::zk {

// threads: 0 means std::thread::hardware_concurrency(); below `serial_below` items it runs
// on the calling thread alone.
template <typename Fn>
void ParallelFor(std::size_t n, int threads, Fn fn, std::size_t serial_below = 1024) {
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (n < serial_below || threads == 1) {
    fn(std::size_t{0}, n);
    return;
  }
  const std::size_t chunk = (n + threads - 1) / threads;
  std::vector<std::thread> workers;
  for (int t = 1; t < threads; ++t) {
    const std::size_t begin = std::min(n, t * chunk), end = std::min(n, (t + 1) * chunk);
    if (begin < end) workers.emplace_back(fn, begin, end);
  }
  fn(std::size_t{0}, std::min(n, chunk));
  for (std::thread& w : workers) w.join();
}

}  // namespace rustorium::proof::zk
