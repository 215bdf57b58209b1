#include "tools/rustorium/latency_histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace rustorium::tools {

namespace {

constexpr int kSubBits = 6;                                  // 64 buckets per power of two
constexpr uint64_t kLinear = uint64_t{1} << (kSubBits + 1);  // below this, one bucket per ns
constexpr int kFirstLogExponent = kSubBits + 1;              // 2^7 = kLinear
constexpr std::size_t kBuckets = kLinear + (64 - kFirstLogExponent) * (uint64_t{1} << kSubBits);

}  // namespace

LatencyHistogram::LatencyHistogram() : counts_(kBuckets, 0) {}

std::size_t LatencyHistogram::Bucket(uint64_t nanos) {
  if (nanos < kLinear) return static_cast<std::size_t>(nanos);
  const int exponent = 63 - std::countl_zero(nanos);         // >= kFirstLogExponent
  const uint64_t mantissa = nanos >> (exponent - kSubBits);  // in [64, 128)
  return kLinear +
         static_cast<std::size_t>(exponent - kFirstLogExponent) * (uint64_t{1} << kSubBits) +
         static_cast<std::size_t>(mantissa - (uint64_t{1} << kSubBits));
}

uint64_t LatencyHistogram::BucketLow(std::size_t bucket) {
  if (bucket < kLinear) return bucket;
  const std::size_t k = bucket - kLinear;
  const int exponent = static_cast<int>(k >> kSubBits) + kFirstLogExponent;
  const uint64_t mantissa = (k & ((uint64_t{1} << kSubBits) - 1)) + (uint64_t{1} << kSubBits);
  return mantissa << (exponent - kSubBits);
}

uint64_t LatencyHistogram::BucketWidth(std::size_t bucket) {
  if (bucket < kLinear) return 1;
  const int exponent = static_cast<int>((bucket - kLinear) >> kSubBits) + kFirstLogExponent;
  return uint64_t{1} << (exponent - kSubBits);
}

void LatencyHistogram::Record(uint64_t nanos) {
  ++counts_[Bucket(nanos)];
  ++count_;
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  for (std::size_t i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
}

double LatencyHistogram::Quantile(double q) const {
  if (count_ == 0) return 0;
  const uint64_t rank =
      std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_))));
  uint64_t seen = 0;
  for (std::size_t i = 0; i < kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      return static_cast<double>(BucketLow(i)) + static_cast<double>(BucketWidth(i) - 1) / 2;
    }
  }
  return static_cast<double>(BucketLow(kBuckets - 1));
}

}  // namespace rustorium::tools
