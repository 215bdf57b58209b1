// LatencyHistogram: operation latencies in log-linear buckets (HdrHistogram's layout: 64 buckets
// per power of two above 128 ns, one per nanosecond below), so any quantile it reports lies
// within 1% of the recorded value it stands for. Fixed size (about 30 KiB), no allocation
// after construction. Not thread-safe: keep one per thread and Merge them.
#pragma once

#include <cstdint>
#include <vector>

namespace rustorium::tools {

class LatencyHistogram {
 public:
  LatencyHistogram();

  void Record(uint64_t nanos);
  void Merge(const LatencyHistogram& other);

  uint64_t count() const { return count_; }
  // The q-quantile (0 < q <= 1) in nanoseconds: the middle of the bucket holding the
  // ceil(q * count)-th smallest value; 0 when empty.
  double Quantile(double q) const;

 private:
  static std::size_t Bucket(uint64_t nanos);
  static uint64_t BucketLow(std::size_t bucket);
  static uint64_t BucketWidth(std::size_t bucket);

  std::vector<uint64_t> counts_;
  uint64_t count_ = 0;
};

}  // namespace rustorium::tools
